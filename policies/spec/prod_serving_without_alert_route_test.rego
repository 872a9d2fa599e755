package mlgitops.spec.prod_serving_without_alert_route

_prod := {"name": "prod", "tier": "prod"}

test_routed_alerts_pass if {
	count(deny) == 0 with input as {"environment": _prod, "system": {"metadata": {"name": "s"}, "serving": {}, "monitoring": {"alertsTo": "team-oncall"}}}
}

test_staging_passes if {
	count(deny) == 0 with input as {"environment": {"name": "staging", "tier": "staging"}, "system": {"metadata": {"name": "s"}, "serving": {}, "monitoring": {"alertsTo": null}}}
}

test_unrouted_alerts_fail if {
	deny == {{"msg": "serving of 's' runs in prod but monitoring.alertsTo routes its alerts to no receiver", "field": "monitoring.alertsTo"}} with input as {"environment": _prod, "system": {"metadata": {"name": "s"}, "serving": {}, "monitoring": {"alertsTo": null}}}
}
