# METADATA
# title: Prod serving must render a PodDisruptionBudget
# description: Reliability (Kubernetes production best practice, CIS/NSA availability guidance, EU AI Act Art. 15 robustness) - without a PodDisruptionBudget a node drain or cluster upgrade may evict every serving replica at once; mlgitops renders one whenever serving.replicas.min is 2 or more.
# custom:
#   id: MLG-REL-002
#   severity: medium
#   remediation: Set serving.replicas.min to 2 or more for prod; mlgitops then renders a PodDisruptionBudget (maxUnavailable 1) for the serving pods.
package mlgitops.spec.serving_without_disruption_budget_in_prod

import data.mlgitops.lib.safe
import data.mlgitops.lib.spec

deny contains spec.finding(msg, "serving.replicas.min") if {
	spec.prod(input.environment)
	input.system.serving != null
	not _has_pdb
	msg := sprintf("no PodDisruptionBudget is rendered for the serving pods of '%v' in %v", [input.system.metadata.name, input.environment.name])
}

_has_pdb if {
	some obj in safe.items(input, "objects")
	obj.kind == "PodDisruptionBudget"
}
