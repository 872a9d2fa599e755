# METADATA
# title: GPU training must set a maximum runtime (training.maxRuntime)
# description: Cost control and availability of shared accelerators (FinOps, NIST SP 800-53 SC-6 resource availability) - a hung or diverging GPU job without activeDeadlineSeconds holds its GPUs until someone notices, blocking every job queued behind it.
# custom:
#   id: MLG-GPU-002
#   severity: medium
#   remediation: Set training.maxRuntime to a bound on a healthy run (e.g. 6h); mlgitops renders it as activeDeadlineSeconds.
package mlgitops.spec.gpu_training_without_max_runtime

import data.mlgitops.lib.safe
import data.mlgitops.lib.spec

deny contains spec.finding(msg, "training.maxRuntime") if {
	gpu := input.system.training.resources.gpu
	gpu != null
	safe.get(input.system.training, "maxRuntime", null) == null
	msg := sprintf("GPU training of '%v' has no training.maxRuntime, so a hung run holds its GPUs indefinitely", [input.system.metadata.name])
}
