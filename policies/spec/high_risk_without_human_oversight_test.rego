package mlgitops.spec.high_risk_without_human_oversight

test_high_risk_with_contact_passes if {
	count(deny) == 0 with input as {"system": {"metadata": {"name": "s"}, "compliance": {"riskCategory": "high", "humanOversight": "lead@example.com"}}}
}

test_limited_risk_passes if {
	count(deny) == 0 with input as {"system": {"metadata": {"name": "s"}, "compliance": {"riskCategory": "limited", "humanOversight": null}}}
}

test_high_risk_without_contact_fails if {
	deny == {{"msg": "system 's' is high-risk under the EU AI Act but names no compliance.humanOversight contact", "field": "compliance.humanOversight"}} with input as {"system": {"metadata": {"name": "s"}, "compliance": {"riskCategory": "high", "humanOversight": null}}}
}
