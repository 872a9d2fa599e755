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

_trainjob(account) := {"apiVersion": "trainer.kubeflow.org/v1alpha1", "kind": "TrainJob", "metadata": {"name": "t"}, "spec": {
	"trainer": {"image": "r.example.com/t:1"},
	"runtimePatches": [{"manager": "m", "trainingRuntimeSpec": {"template": {"spec": {"replicatedJobs": [{"name": "node", "template": {"spec": {"template": {"spec": object.union({"containers": [{"name": "node"}]}, account)}}}}]}}}}],
}}

test_a_trainjob_pod_of_its_own_account_passes if {
	count(deny) == 0 with input as {"object": _trainjob({"serviceAccountName": "t-train"})}
}

test_a_trainjob_pod_of_the_default_account_fails if {
	count(deny) == 1 with input as {"object": _trainjob({})}
}
