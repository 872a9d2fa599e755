package mlgitops.spec.unapproved_model_version_in_prod

_prod := {"name": "prod", "tier": "prod"}

_system := {"serving": {"runtime": "kserve"}}

test_approved_passes if {
	count(deny) == 0 with input as {"environment": _prod, "system": _system, "model": {"name": "m", "version": 3, "tags": {"validation.status": "approved"}}}
}

test_staging_passes if {
	count(deny) == 0 with input as {"environment": {"name": "staging", "tier": "staging"}, "system": _system, "model": {"name": "m", "version": 3, "tags": {}}}
}

test_rejected_fails if {
	deny == {{"msg": "model 'm' version 3 has validation.status 'rejected'; prod serves only approved versions", "field": "model.version"}} with input as {"environment": _prod, "system": _system, "model": {"name": "m", "version": 3, "tags": {"validation.status": "rejected"}}}
}

test_missing_status_fails if {
	deny == {{"msg": "model 'm' version 3 has no validation.status tag; prod serves only approved versions", "field": "model.version"}} with input as {"environment": _prod, "system": _system, "model": {"name": "m", "version": 3, "tags": {}}}
}
