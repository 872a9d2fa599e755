package mlgitops.spec.pipeline_registers_unchecked_model_in_prod

_prod := {"name": "prod", "tier": "prod"}

_system(steps) := {"pipeline": {"steps": steps}}

test_validate_train_evaluate_register_in_order_passes if {
	count(deny) == 0 with input as {"environment": _prod, "system": _system([
		{"name": "check", "kind": "validate-data"}, {"name": "fit", "kind": "train"},
		{"name": "judge", "kind": "evaluate"}, {"name": "publish", "kind": "register"},
	])}
}

test_a_dag_with_both_checks_upstream_passes if {
	count(deny) == 0 with input as {"environment": _prod, "system": _system([
		{"name": "check", "kind": "validate-data", "dependsOn": []},
		{"name": "fit", "kind": "train", "dependsOn": ["check"]},
		{"name": "judge", "kind": "evaluate", "dependsOn": ["fit"]},
		{"name": "publish", "kind": "register", "dependsOn": ["judge"]},
	])}
}

test_an_evaluate_step_beside_register_is_not_before_it if {
	deny == {{"msg": "step 'publish' registers the model in prod without a evaluate step before it", "field": "pipeline.steps[3]"}} with input as {"environment": _prod, "system": _system([
		{"name": "check", "kind": "validate-data", "dependsOn": []},
		{"name": "fit", "kind": "train", "dependsOn": ["check"]},
		{"name": "judge", "kind": "evaluate", "dependsOn": ["fit"]},
		{"name": "publish", "kind": "register", "dependsOn": ["fit"]},
	])}
}

test_train_then_register_misses_both if {
	count(deny) == 2 with input as {"environment": _prod, "system": _system([
		{"name": "fit", "kind": "train"}, {"name": "publish", "kind": "register"},
	])}
}

test_dev_may_register_without_checks if {
	count(deny) == 0 with input as {"environment": {"name": "dev", "tier": "dev"}, "system": _system([
		{"name": "fit", "kind": "train"}, {"name": "publish", "kind": "register"},
	])}
}

test_no_pipeline_passes if {
	count(deny) == 0 with input as {"environment": _prod, "system": {"pipeline": null}}
}
