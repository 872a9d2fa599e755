package mlgitops.manifests.privilege_escalation_allowed

_deployment(container) := {"kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": {"containers": [container]}}}}

test_false_passes if {
	count(deny) == 0 with input as {"object": _deployment({"name": "c", "securityContext": {"allowPrivilegeEscalation": false}})}
}

test_unset_fails if {
	deny == {{"msg": "container 'c' of Deployment d does not set allowPrivilegeEscalation: false"}} with input as {"object": _deployment({"name": "c"})}
}

test_true_fails if {
	count(deny) == 1 with input as {"object": _deployment({"name": "c", "securityContext": {"allowPrivilegeEscalation": true}})}
}
