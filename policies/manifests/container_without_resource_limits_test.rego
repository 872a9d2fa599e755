package mlgitops.manifests.container_without_resource_limits

_resources := {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}}

_deployment(container) := {"kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": {"containers": [container]}}}}

test_requests_and_limits_pass if {
	count(deny) == 0 with input as {"component": "serving", "object": _deployment({"name": "app", "resources": _resources})}
}

test_missing_memory_limit_fails if {
	deny == {{"msg": "container 'app' of Deployment d has no memory limit", "field": "serving.resources"}} with input as {
		"component": "serving",
		"object": _deployment({"name": "app", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1"}}}),
	}
}

test_no_resources_in_kserve_model_fails if {
	count(deny) == 4 with input as {"component": "serving", "object": {"kind": "InferenceService", "metadata": {"name": "i"}, "spec": {"predictor": {"model": {"modelFormat": {"name": "sklearn"}}}}}}
}

test_monitoring_maps_to_drift_resources if {
	some f in deny with input as {"component": "monitoring", "object": {"kind": "CronJob", "metadata": {"name": "c"}, "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "drift"}]}}}}}}}
	f.field == "monitoring.drift.resources"
}
