# METADATA
# title: In prod, a pipeline registers a model only after validating its data and evaluating it
# description: Models validated before use (EU AI Act Art. 10 and 15 on data governance and accuracy; ML Test Score) - a retraining pipeline that registers whatever training produced puts a model trained on stale or broken data, or one worse than the champion, one alias move away from production. A validate-data step and an evaluate step must both finish before register starts.
# custom:
#   id: MLG-PIPE-001
#   severity: high
#   remediation: Add a validate-data step before train and an evaluate step (with its gate) after it, and make register depend on evaluate (pipeline.steps[].dependsOn).
package mlgitops.spec.pipeline_registers_unchecked_model_in_prod

import data.mlgitops.lib.spec

deny contains spec.finding(msg, sprintf("pipeline.steps[%d]", [i])) if {
	spec.prod(input.environment)
	some i, step in spec.steps(input.system)
	step.kind == "register"
	some kind in ["validate-data", "evaluate"]
	not _before(i, kind)
	msg := sprintf("step '%v' registers the model in %v without a %v step before it", [step.name, input.environment.name, kind])
}

_before(i, kind) if {
	some name in spec.upstream(input.system, i)
	some step in spec.steps(input.system)
	step.name == name
	step.kind == kind
}
