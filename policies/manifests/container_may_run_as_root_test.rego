package mlgitops.manifests.container_may_run_as_root

_job(pod) := {"kind": "Job", "metadata": {"name": "j"}, "spec": {"template": {"spec": pod}}}

test_pod_level_non_root_passes if {
	count(deny) == 0 with input as {"object": _job({"securityContext": {"runAsNonRoot": true, "runAsUser": 10001}, "containers": [{"name": "c"}]})}
}

test_container_level_non_root_passes if {
	count(deny) == 0 with input as {"object": _job({"containers": [{"name": "c", "securityContext": {"runAsNonRoot": true}}]})}
}

test_unset_fails if {
	deny == {{"msg": "container 'c' of Job j does not set runAsNonRoot: true"}} with input as {"object": _job({"containers": [{"name": "c"}]})}
}

test_container_overrides_pod_fails if {
	count(deny) == 1 with input as {"object": _job({"securityContext": {"runAsNonRoot": true}, "containers": [{"name": "c", "securityContext": {"runAsNonRoot": false}}]})}
}

test_uid_zero_fails if {
	deny == {{"msg": "container 'c' of Job j runs as runAsUser 0 (root)"}} with input as {"object": _job({"securityContext": {"runAsNonRoot": true}, "containers": [{"name": "c", "securityContext": {"runAsUser": 0}}]})}
}
