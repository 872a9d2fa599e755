# METADATA
# title: GPU types must have a price in the environment (gpu.hourlyPrice) so their cost can be estimated
# description: Cost control (FinOps - cost visibility before deployment) - the environment may list a GPU product it does not price, and then the cost of the system's GPU hours is invisible in review, quota planning and chargeback.
# custom:
#   id: MLG-COST-002
#   severity: low
#   remediation: Use a GPU type the environment prices (its gpu.hourlyPrice, e.g. nvidia-t4 or nvidia-a100-80gb) in training.resources.gpu.type or serving.gpu.type, or ask the platform team to add the price.
package mlgitops.spec.unpriced_gpu_type

import data.mlgitops.lib.safe
import data.mlgitops.lib.spec

deny contains spec.finding(msg, field) if {
	prices := safe.dict(input.environment, ["gpu", "hourlyPrice"])
	some field, path in {
		"training.resources.gpu.type": ["training", "resources", "gpu", "type"],
		"serving.gpu.type": ["serving", "gpu", "type"],
	}
	gpu_type := safe.get(input.system, path, null)
	is_string(gpu_type)
	not gpu_type in object.keys(prices)
	msg := sprintf("GPU type '%v' has no hourly price in environment '%v' (gpu.hourlyPrice)", [gpu_type, input.environment.name])
}
