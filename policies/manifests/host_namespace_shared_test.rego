package mlgitops.manifests.host_namespace_shared

_deployment(pod) := {"kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": pod}}}

test_isolated_pod_passes if {
	count(deny) == 0 with input as {"object": _deployment({"hostNetwork": false, "containers": [{"name": "c"}]})}
}

test_host_network_fails if {
	deny == {{"msg": "the pod of Deployment d sets hostNetwork: true"}} with input as {"object": _deployment({"hostNetwork": true, "containers": []})}
}

test_host_pid_and_ipc_fail if {
	count(deny) == 2 with input as {"object": _deployment({"hostPID": true, "hostIPC": true, "containers": []})}
}
