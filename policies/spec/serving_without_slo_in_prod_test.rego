package mlgitops.spec.serving_without_slo_in_prod

_prod := {"name": "prod", "tier": "prod"}

test_slo_passes if {
	count(deny) == 0 with input as {"environment": _prod, "system": {"metadata": {"name": "s"}, "serving": {"slo": {"availability": "99.9%", "errorRate": null, "latencyP95": null}}}}
}

test_dev_without_slo_passes if {
	count(deny) == 0 with input as {"environment": {"name": "dev", "tier": "dev"}, "system": {"metadata": {"name": "s"}, "serving": {"slo": null}}}
}

test_missing_slo_fails if {
	deny == {{"msg": "serving of 's' declares no SLO (availability, errorRate or latencyP95) in prod", "field": "serving.slo"}} with input as {"environment": _prod, "system": {"metadata": {"name": "s"}, "serving": {"slo": null}}}
}

test_empty_slo_fails if {
	count(deny) == 1 with input as {"environment": _prod, "system": {"metadata": {"name": "s"}, "serving": {"slo": {"availability": null, "errorRate": null, "latencyP95": null}}}}
}
