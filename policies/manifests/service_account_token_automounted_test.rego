package mlgitops.manifests.service_account_token_automounted

test_no_token_passes if {
	count(deny) == 0 with input as {"object": {"kind": "InferenceService", "metadata": {"name": "i"}, "spec": {"predictor": {"automountServiceAccountToken": false, "model": {}}}}}
}

test_unset_fails if {
	deny == {{"msg": "the pod of InferenceService i does not set automountServiceAccountToken: false"}} with input as {"object": {"kind": "InferenceService", "metadata": {"name": "i"}, "spec": {"predictor": {"model": {}}}}}
}

test_non_workloads_pass if {
	count(deny) == 0 with input as {"object": {"kind": "ServiceAccount", "metadata": {"name": "launcher"}, "automountServiceAccountToken": true}}
}
