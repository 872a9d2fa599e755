package mlgitops.spec.register_without_lineage

test_full_lineage_passes if {
	count(deny) == 0 with input as {"system": {"pipeline": {"steps": [{"name": "publish", "kind": "register", "lineage": ["git", "spec-hash", "data-uris", "metrics", "run-id"]}]}}}
}

test_missing_lineage_fails_and_names_it if {
	deny == {{"msg": "step 'publish' registers the model without recording its lineage: git, metrics", "field": "pipeline.steps[0].lineage"}} with input as {"system": {"pipeline": {"steps": [{"name": "publish", "kind": "register", "lineage": ["spec-hash", "data-uris", "run-id"]}]}}}
}

test_other_steps_are_not_judged if {
	count(deny) == 0 with input as {"system": {"pipeline": {"steps": [{"name": "fit", "kind": "train", "lineage": []}]}}}
}
