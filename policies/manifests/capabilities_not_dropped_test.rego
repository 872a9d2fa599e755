package mlgitops.manifests.capabilities_not_dropped

_deployment(caps) := {"kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": {"containers": [{"name": "c", "securityContext": {"capabilities": caps}}]}}}}

test_drop_all_passes if {
	count(deny) == 0 with input as {"object": _deployment({"drop": ["ALL"]})}
	count(deny) == 0 with input as {"object": _deployment({"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]})}
}

test_partial_drop_fails if {
	deny == {{"msg": "container 'c' of Deployment d does not drop ALL capabilities"}} with input as {"object": _deployment({"drop": ["NET_RAW"]})}
}

test_added_capability_fails if {
	deny == {{"msg": "container 'c' of Deployment d adds capability SYS_ADMIN"}} with input as {"object": _deployment({"drop": ["ALL"], "add": ["SYS_ADMIN"]})}
}
