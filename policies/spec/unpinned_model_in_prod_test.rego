package mlgitops.spec.unpinned_model_in_prod

_prod := {"name": "prod", "tier": "prod"}

_system := {"serving": {"runtime": "kserve"}, "model": {"name": "m", "alias": "champion", "version": null}}

test_pinned_version_passes if {
	count(deny) == 0 with input as {"environment": _prod, "system": _system, "model": {"name": "m", "version": 7, "alias": null}}
}

test_alias_outside_prod_passes if {
	count(deny) == 0 with input as {"environment": {"name": "dev", "tier": "dev"}, "system": _system, "model": {"name": "m", "version": null, "alias": "champion"}}
}

test_training_only_passes if {
	count(deny) == 0 with input as {"environment": _prod, "system": {"serving": null, "model": {"name": "m"}}, "model": {"name": "m", "version": null, "alias": "champion"}}
}

test_alias_in_prod_fails if {
	deny == {{"msg": "prod serves model 'm' through alias 'champion', which is not pinned to a registered version", "field": "model.alias"}} with input as {
		"environment": _prod, "system": _system,
		"model": {"name": "m", "version": null, "alias": "champion", "sourceUri": "models:/m@champion", "tags": {}},
	}
}
