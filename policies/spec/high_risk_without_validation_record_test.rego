package mlgitops.spec.high_risk_without_validation_record

test_high_risk_with_record_passes if {
	count(deny) == 0 with input as {"system": {"metadata": {"name": "s"}, "compliance": {"riskCategory": "high", "validation": {"record": "https://m.example.com/r"}}}}
}

test_limited_risk_passes if {
	count(deny) == 0 with input as {"system": {"metadata": {"name": "s"}, "compliance": {"riskCategory": "limited", "validation": {"record": null}}}}
}

test_high_risk_without_record_fails if {
	deny == {{"msg": "system 's' is high-risk under the EU AI Act but has no compliance.validation.record", "field": "compliance.validation.record"}} with input as {"system": {"metadata": {"name": "s"}, "compliance": {"riskCategory": "high", "validation": {"maxAgeDays": 30, "record": null}}}}
}
