package mlgitops.manifests.writable_root_filesystem

_deployment(container) := {"kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": {"containers": [container]}}}}

test_read_only_passes if {
	count(deny) == 0 with input as {"object": _deployment({"name": "c", "securityContext": {"readOnlyRootFilesystem": true}})}
}

test_writable_fails if {
	deny == {{"msg": "container 'c' of Deployment d does not set readOnlyRootFilesystem: true"}} with input as {"object": _deployment({"name": "c"})}
}
