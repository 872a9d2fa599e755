package mlgitops.spec.stale_model_validation_in_prod

_prod := {"name": "prod", "tier": "prod"}

_system := {"serving": {"runtime": "deployment"}, "compliance": {"validation": {"maxAgeDays": 30}}}

_input(date) := {"environment": _prod, "system": _system, "today": "2026-11-25", "model": {"name": "m", "version": 7, "tags": {"validation.date": date}}}

test_recent_validation_passes if {
	count(deny) == 0 with input as _input("2026-10-26")
}

test_outside_prod_passes if {
	count(deny) == 0 with input as object.union(_input("2020-01-01"), {"environment": {"name": "dev", "tier": "dev"}})
}

test_unpinned_model_left_to_mrm_001 if {
	count(deny) == 0 with input as {"environment": _prod, "system": _system, "today": "2026-11-25", "model": {"name": "m", "version": null, "tags": {}}}
}

test_stale_validation_fails if {
	deny == {{"msg": "model 'm' version 7 was validated on 2026-10-25, 31 days before 2026-11-25; compliance.validation.maxAgeDays is 30", "field": "model.version"}} with input as _input("2026-10-25")
}

test_missing_date_fails if {
	deny == {{"msg": "model 'm' version 7 has no validation.date tag in the registry", "field": "model.version"}} with input as {"environment": _prod, "system": _system, "today": "2026-11-25", "model": {"name": "m", "version": 7, "tags": {}}}
}

test_invalid_date_fails if {
	deny == {{"msg": "model 'm' version 7 has validation.date '2026-02-30', which is not a YYYY-MM-DD date", "field": "model.version"}} with input as _input("2026-02-30")
}

test_future_date_fails if {
	count(deny) == 1 with input as _input("2026-12-01")
}

test_default_max_age_is_180_days if {
	count(deny) == 0 with input as json.patch(_input("2026-06-01"), [{"op": "replace", "path": "/system/compliance", "value": {}}])
	count(deny) == 1 with input as json.patch(_input("2026-05-01"), [{"op": "replace", "path": "/system/compliance", "value": {}}])
}
