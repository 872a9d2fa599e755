package mlgitops.manifests.seccomp_profile_unconfined

_job(pod) := {"kind": "Job", "metadata": {"name": "j"}, "spec": {"template": {"spec": pod}}}

test_pod_runtime_default_passes if {
	count(deny) == 0 with input as {"object": _job({"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}, "containers": [{"name": "c"}]})}
}

test_unset_fails if {
	deny == {{"msg": "container 'c' of Job j has seccomp profile unset, not RuntimeDefault"}} with input as {"object": _job({"containers": [{"name": "c"}]})}
}

test_container_unconfined_fails if {
	deny == {{"msg": "container 'c' of Job j has seccomp profile Unconfined, not RuntimeDefault"}} with input as {"object": _job({
		"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
		"containers": [{"name": "c", "securityContext": {"seccompProfile": {"type": "Unconfined"}}}],
	})}
}
