package mlgitops.spec.sensitive_model_without_drift_monitoring

_prod := {"name": "prod", "tier": "prod"}

test_monitored_pii_model_passes if {
	count(deny) == 0 with input as {"environment": _prod, "system": {
		"metadata": {"name": "s"}, "serving": {}, "compliance": {"pii": true, "riskCategory": "high"},
		"monitoring": {"drift": {"image": "r.example.com/d:1"}},
	}}
}

test_unmonitored_minimal_risk_model_passes if {
	count(deny) == 0 with input as {"environment": _prod, "system": {"metadata": {"name": "s"}, "serving": {}, "compliance": {"pii": false, "riskCategory": "limited"}, "monitoring": {"drift": null}}}
}

test_unmonitored_pii_model_fails if {
	deny == {{"msg": "serving of 's' (personal data) has no monitoring.drift in prod", "field": "monitoring.drift"}} with input as {"environment": _prod, "system": {"metadata": {"name": "s"}, "serving": {}, "compliance": {"pii": true, "riskCategory": "minimal"}, "monitoring": {"drift": null}}}
}

test_unmonitored_high_risk_model_fails if {
	count(deny) == 1 with input as {"environment": _prod, "system": {"metadata": {"name": "s"}, "serving": {}, "compliance": {"pii": false, "riskCategory": "high"}, "monitoring": {"drift": null}}}
}

test_both_reasons_in_one_finding if {
	deny == {{"msg": "serving of 's' (EU AI Act high risk, personal data) has no monitoring.drift in prod", "field": "monitoring.drift"}} with input as {"environment": _prod, "system": {"metadata": {"name": "s"}, "serving": {}, "compliance": {"pii": true, "riskCategory": "high"}, "monitoring": {"drift": null}}}
}
