package mlgitops.spec.missing_default_deny_network_policy

_base := {"system": {"metadata": {"name": "s"}}, "environment": {"name": "dev"}}

_deny_all := {"kind": "NetworkPolicy", "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"], "ingress": [], "egress": []}}

_allow_dns := {"kind": "NetworkPolicy", "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"ports": [{"port": 53}]}]}}

test_default_deny_passes if {
	count(deny) == 0 with input as object.union(_base, {"objects": [_allow_dns, _deny_all]})
}

test_only_allow_rules_fail if {
	deny == {{"msg": "no default-deny NetworkPolicy is rendered for 's' in dev", "field": "metadata.name"}} with input as object.union(_base, {"objects": [_allow_dns]})
}

test_ingress_only_deny_fails if {
	count(deny) == 1 with input as object.union(_base, {"objects": [{"kind": "NetworkPolicy", "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}]})
}

test_selective_pod_selector_fails if {
	count(deny) == 1 with input as object.union(_base, {"objects": [{"kind": "NetworkPolicy", "spec": {"podSelector": {"matchLabels": {"app": "x"}}, "policyTypes": ["Ingress", "Egress"]}}]})
}
