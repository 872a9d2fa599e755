package mlgitops.manifests.serving_deployment_without_probes

_deployment(container) := {"kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": {"containers": [object.union({"name": "c"}, container)]}}}}

_probe := {"httpGet": {"path": "/ready", "port": "http"}}

test_probed_passes if {
	count(deny) == 0 with input as {"component": "serving", "object": _deployment({"readinessProbe": _probe, "livenessProbe": _probe})}
}

test_other_component_passes if {
	count(deny) == 0 with input as {"component": "training", "object": _deployment({})}
}

test_missing_liveness_fails if {
	deny == {{"msg": "container 'c' of Deployment d has no livenessProbe", "field": "serving.probes"}} with input as {"component": "serving", "object": _deployment({"readinessProbe": _probe})}
}
