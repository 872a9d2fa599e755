# METADATA
# title: GPU steps of a pipeline are admitted through a Kueue queue
# description: Fair sharing and cost control of scarce accelerators (FinOps, Kubernetes batch best practice) - a pipeline step that asks for GPUs outside Kueue takes them outside every team's quota, like a GPU job without a queue; through a LocalQueue it waits for quota and is metered.
# custom:
#   id: MLG-PIPE-003
#   severity: medium
#   remediation: Set training.queue for the train step, or pipeline.steps[].queue for another step with a GPU, to the team's Kueue LocalQueue.
package mlgitops.spec.gpu_pipeline_step_without_queue

import data.mlgitops.lib.safe
import data.mlgitops.lib.spec

deny contains spec.finding(msg, field) if {
	some i, step in spec.steps(input.system)
	spec.step_gpu(input.system, i) != null
	not _queue(step)
	field := _field(step, i)
	msg := sprintf("pipeline step '%v' asks for GPUs but goes through no Kueue queue (%v)", [step.name, field])
}

_queue(step) if {
	step.kind == "train"
	safe.get(input.system, ["training", "queue"], null) != null
}

_queue(step) if {
	step.kind != "train"
	safe.get(step, "queue", null) != null
}

_field(step, _) := "training.queue" if step.kind == "train"

_field(step, i) := sprintf("pipeline.steps[%d].queue", [i]) if step.kind != "train"
