package mlgitops.manifests.privileged_container

_deployment(container) := {"kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": {"containers": [container]}}}}

test_unprivileged_passes if {
	count(deny) == 0 with input as {"object": _deployment({"name": "c", "securityContext": {"privileged": false}})}
	count(deny) == 0 with input as {"object": _deployment({"name": "c"})}
}

test_privileged_fails if {
	deny == {{"msg": "container 'c' of Deployment d runs privileged"}} with input as {"object": _deployment({"name": "c", "securityContext": {"privileged": true}})}
}
