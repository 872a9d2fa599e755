package mlgitops.manifests.host_port_exposed

_deployment(ports) := {"kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": {"containers": [{"name": "c", "ports": ports}]}}}}

test_container_port_passes if {
	count(deny) == 0 with input as {"object": _deployment([{"name": "http", "containerPort": 8080}])}
}

test_host_port_fails if {
	deny == {{"msg": "container 'c' of Deployment d binds hostPort 80"}} with input as {"object": _deployment([{"containerPort": 8080, "hostPort": 80}])}
}
