package mlgitops.spec.data_processed_outside_residency

_env := {"name": "prod-us", "cluster": {"region": "us-east-1"}}

test_region_in_residency_passes if {
	count(deny) == 0 with input as {"environment": {"name": "prod", "cluster": {"region": "eu-west-1"}}, "system": {"compliance": {"pii": true, "dataClassification": "confidential", "residency": ["eu-west-1"]}}}
}

test_internal_data_passes_anywhere if {
	count(deny) == 0 with input as {"environment": _env, "system": {"compliance": {"pii": false, "dataClassification": "internal", "residency": ["eu-west-1"]}}}
}

test_pii_outside_residency_fails if {
	deny == {{
		"msg": "cluster region 'us-east-1' of environment 'prod-us' is not in compliance.residency [\"eu-west-1\"] (personal data)",
		"field": "compliance.residency",
	}} with input as {"environment": _env, "system": {"compliance": {"pii": true, "dataClassification": "internal", "residency": ["eu-west-1"]}}}
}

test_restricted_without_residency_fails if {
	count(deny) == 1 with input as {"environment": _env, "system": {"compliance": {"pii": false, "dataClassification": "restricted", "residency": []}}}
}

test_pii_without_residency_left_to_gdpr_001 if {
	count(deny) == 0 with input as {"environment": _env, "system": {"compliance": {"pii": true, "dataClassification": "internal", "residency": []}}}
}
