package mlgitops.manifests.rbac_wildcard_or_sensitive_access

_role(rules) := {"kind": "Role", "metadata": {"name": "r"}, "rules": rules}

test_read_only_role_passes if {
	count(deny) == 0 with input as {"object": _role([{"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list", "watch"]}])}
}

test_wildcard_fails if {
	deny == {{"msg": "Role r rule 0 grants a wildcard in verbs"}} with input as {"object": _role([{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["*"]}])}
}

test_secrets_fail if {
	deny == {{"msg": "Role r rule 1 grants [\"get\"] on secrets"}} with input as {"object": _role([
		{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]},
		{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]},
	])}
}

test_exec_and_escalate_fail if {
	count(deny) == 2 with input as {"object": {"kind": "ClusterRole", "metadata": {"name": "c"}, "rules": [
		{"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]},
		{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles"], "verbs": ["escalate"]},
	]}}
}

test_other_kinds_pass if {
	count(deny) == 0 with input as {"object": {"kind": "ConfigMap", "metadata": {"name": "c"}, "rules": [{"verbs": ["*"]}]}}
}
