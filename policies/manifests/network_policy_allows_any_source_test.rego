package mlgitops.manifests.network_policy_allows_any_source

_policy(ingress) := {"kind": "NetworkPolicy", "metadata": {"name": "n"}, "spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": ingress}}

test_named_namespace_passes if {
	count(deny) == 0 with input as {"object": _policy([{"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "storefront"}}}]}])}
}

test_default_deny_passes if {
	count(deny) == 0 with input as {"object": _policy([])}
}

test_rule_without_from_fails if {
	deny == {{"msg": "NetworkPolicy n ingress rule 0 has no from, so it admits every source", "field": "serving.allowedCallers"}} with input as {"object": _policy([{"ports": [{"port": 8080}]}])}
}

test_all_namespaces_fails if {
	deny == {{"msg": "NetworkPolicy n ingress rule 0 admits every namespace (namespaceSelector {})", "field": "serving.allowedCallers"}} with input as {"object": _policy([{"from": [{"namespaceSelector": {}}]}])}
}

test_internet_fails if {
	count(deny) == 1 with input as {"object": _policy([{"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}])}
}
