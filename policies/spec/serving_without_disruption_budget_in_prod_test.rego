package mlgitops.spec.serving_without_disruption_budget_in_prod

_prod := {"name": "prod", "tier": "prod"}

test_pdb_passes if {
	count(deny) == 0 with input as {"environment": _prod, "system": {"metadata": {"name": "s"}, "serving": {}}, "objects": [{"kind": "Deployment"}, {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget"}]}
}

test_training_only_passes if {
	count(deny) == 0 with input as {"environment": _prod, "system": {"metadata": {"name": "s"}, "serving": null}, "objects": []}
}

test_missing_pdb_fails if {
	deny == {{"msg": "no PodDisruptionBudget is rendered for the serving pods of 's' in prod", "field": "serving.replicas.min"}} with input as {"environment": _prod, "system": {"metadata": {"name": "s"}, "serving": {}}, "objects": [{"kind": "Deployment"}]}
}
