# METADATA
# title: GPU training must be admitted through a Kueue queue (training.queue)
# description: Fair sharing and cost control of scarce accelerators (FinOps, Kubernetes batch best practice) - a GPU job that bypasses Kueue grabs GPUs outside every team's quota, starves queued jobs and runs unaccounted; through a LocalQueue it waits for quota, can be preempted by priority and is metered.
# custom:
#   id: MLG-GPU-001
#   severity: medium
#   remediation: Set training.queue to the team's Kueue LocalQueue (e.g. ml-training), and training.priority if the job may be preempted.
package mlgitops.spec.gpu_training_without_queue

import data.mlgitops.lib.safe
import data.mlgitops.lib.spec

deny contains spec.finding(msg, "training.queue") if {
	gpu := input.system.training.resources.gpu
	gpu != null
	safe.get(input.system.training, "queue", null) == null
	msg := sprintf("training asks for %v GPU(s) of type '%v' per worker but names no training.queue", [gpu.count, safe.get(gpu, "type", "any")])
}
