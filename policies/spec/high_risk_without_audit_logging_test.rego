package mlgitops.spec.high_risk_without_audit_logging

test_high_risk_with_audit_logging_passes if {
	count(deny) == 0 with input as {"system": {"metadata": {"name": "s"}, "compliance": {"riskCategory": "high", "auditLogging": true}}}
}

test_minimal_risk_passes if {
	count(deny) == 0 with input as {"system": {"metadata": {"name": "s"}, "compliance": {"riskCategory": "minimal", "auditLogging": false}}}
}

test_high_risk_without_audit_logging_fails if {
	deny == {{"msg": "system 's' is high-risk under the EU AI Act but compliance.auditLogging is not true", "field": "compliance.auditLogging"}} with input as {"system": {"metadata": {"name": "s"}, "compliance": {"riskCategory": "high", "auditLogging": false}}}
}
