# METADATA
# title: A pipeline's register step records the model version's full lineage
# description: Audit trails and reproducibility (EU AI Act Art. 12 record-keeping and Annex IV technical documentation; ML lineage practice) - a registered version must say where it came from - the Git repository and revision, the spec that defined it (its hash), the data it was trained on, the training run and its metrics. Without them nobody can reproduce, audit or roll back a model with confidence.
# custom:
#   id: MLG-PIPE-002
#   severity: high
#   remediation: Leave pipeline.steps[].lineage at its default, or list every one of git, spec-hash, data-uris, metrics and run-id.
package mlgitops.spec.register_without_lineage

import data.mlgitops.lib.safe
import data.mlgitops.lib.spec

_required := ["git", "spec-hash", "data-uris", "metrics", "run-id"]

deny contains spec.finding(msg, sprintf("pipeline.steps[%d].lineage", [i])) if {
	some i, step in spec.steps(input.system)
	step.kind == "register"
	recorded := {x | some x in safe.list(step, "lineage")}
	missing := [x | some x in _required; not x in recorded]
	count(missing) > 0
	msg := sprintf("step '%v' registers the model without recording its lineage: %v", [step.name, concat(", ", missing)])
}
