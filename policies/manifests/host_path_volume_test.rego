package mlgitops.manifests.host_path_volume

_deployment(volumes) := {"kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": {"containers": [], "volumes": volumes}}}}

test_empty_dir_passes if {
	count(deny) == 0 with input as {"object": _deployment([{"name": "tmp", "emptyDir": {}}])}
}

test_host_path_fails if {
	deny == {{"msg": "the pod of Deployment d mounts hostPath /var/run/docker.sock as volume 'sock'"}} with input as {"object": _deployment([{"name": "tmp", "emptyDir": {}}, {"name": "sock", "hostPath": {"path": "/var/run/docker.sock"}}])}
}
