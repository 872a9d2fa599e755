package mlgitops.spec.personal_data_without_residency

test_pii_with_residency_passes if {
	count(deny) == 0 with input as {"system": {"metadata": {"name": "s"}, "compliance": {"pii": true, "residency": ["eu-west-1"]}}}
}

test_no_pii_passes if {
	count(deny) == 0 with input as {"system": {"metadata": {"name": "s"}, "compliance": {"pii": false, "residency": []}}}
}

test_pii_without_residency_fails if {
	deny == {{"msg": "system 's' processes personal data (pii: true) but declares no compliance.residency", "field": "compliance.residency"}} with input as {"system": {"metadata": {"name": "s"}, "compliance": {"pii": true, "residency": []}}}
}
