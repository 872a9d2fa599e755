package mlgitops.lib.k8s

_pod := {"containers": [{"name": "app", "image": "r.example.com/a:1"}], "initContainers": [{"name": "init"}]}

test_deployment_pod if {
	[p] := pods({"kind": "Deployment", "spec": {"template": {"spec": _pod}}})
	p.path == "spec.template.spec"
	[c.name | some c in p.containers] == ["init", "app"]
}

test_cronjob_pod if {
	[p] := pods({"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"spec": _pod}}}}})
	p.path == "spec.jobTemplate.spec.template.spec"
}

test_pytorchjob_pods if {
	obj := {"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "spec": {
		"pytorchReplicaSpecs": {"Master": {"template": {"spec": _pod}}, "Worker": {"template": {"spec": _pod}}},
		"runPolicy": {"suspend": true},
	}}
	{p.path | some p in pods(obj)} == {
		"spec.pytorchReplicaSpecs.Master.template.spec",
		"spec.pytorchReplicaSpecs.Worker.template.spec",
	}
}

test_trainjob_pod_is_its_runtime_patch_with_the_trainer_container if {
	patch := {"manager": "m", "trainingRuntimeSpec": {"template": {"spec": {"replicatedJobs": [{"name": "node", "template": {"spec": {"template": {"spec": {
		"serviceAccountName": "t",
		"containers": [{"name": "node", "securityContext": {"privileged": false}}],
	}}}}}]}}}}
	obj := {"apiVersion": "trainer.kubeflow.org/v1alpha1", "kind": "TrainJob", "spec": {
		"runtimeRef": {"name": "torch-distributed"},
		"trainer": {"image": "r.example.com/t:1", "resourcesPerNode": {"limits": {"cpu": "1"}}},
		"runtimePatches": [patch],
	}}
	[p] := pods(obj)
	p.path == "spec.runtimePatches[0].trainingRuntimeSpec.template.spec.replicatedJobs[0].template.spec.template.spec"
	p.containers == [{"name": "node", "securityContext": {"privileged": false}, "image": "r.example.com/t:1",
		"resources": {"limits": {"cpu": "1"}}}]
	p.spec.trainJob
}

test_inferenceservice_model_is_a_container if {
	obj := {"kind": "InferenceService", "spec": {"predictor": {"model": {"modelFormat": {"name": "sklearn"}}}}}
	[p] := pods(obj)
	p.path == "spec.predictor"
	count(p.containers) == 1
	container_name(p.containers[0]) == "the model container"
}

test_cronworkflow_embedded_manifest if {
	manifest := "apiVersion: batch/v1\nkind: Job\nspec:\n  template:\n    spec:\n      containers:\n      - name: train\n        image: r.example.com/t:1\n"
	obj := {"kind": "CronWorkflow", "spec": {"workflowSpec": {"templates": [{"name": "t", "resource": {"manifest": manifest}}]}}}
	[p] := pods(obj)
	p.path == "spec.workflowSpec.templates[0].resource.manifest: spec.template.spec"
	p.containers[0].name == "train"
}

test_other_kinds_have_no_pods if {
	pods({"kind": "ConfigMap", "data": {"a": "b"}}) == []
	pods({"kind": "Deployment", "spec": {}}) == []
}

test_effective_container_wins if {
	pod := {"securityContext": {"runAsNonRoot": true}}
	effective(pod, {"securityContext": {"runAsNonRoot": false}}, "runAsNonRoot", null) == false
	effective(pod, {}, "runAsNonRoot", null) == true
	effective({}, {}, "runAsNonRoot", null) == null
}

test_subject if {
	obj := {"kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": _pod}}}
	[p] := pods(obj)
	subject(obj, p, {"name": "app"}) == "container 'app' of Deployment d"
	pod_subject(obj, p) == "the pod of Deployment d"
}

test_subject_with_path if {
	obj := {"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "metadata": {"name": "j"}, "spec": {"pytorchReplicaSpecs": {"Master": {"template": {"spec": _pod}}, "Worker": {"template": {"spec": _pod}}}}}
	some p in pods(obj)
	p.path == "spec.pytorchReplicaSpecs.Worker.template.spec"
	subject(obj, p, {"name": "app"}) == "container 'app' at spec.pytorchReplicaSpecs.Worker.template.spec of PyTorchJob j"
}

test_an_argo_container_template_is_a_pod_with_the_workflow_security_context if {
	template := {"kind": "WorkflowTemplate", "spec": {
		"securityContext": {"runAsNonRoot": true},
		"volumes": [{"name": "tmp", "emptyDir": {}}],
		"templates": [
			{"name": "pipeline", "dag": {"tasks": []}},
			{"name": "train", "container": {"name": "main"}, "nodeSelector": {"gpu": "a100"}},
		],
	}}
	pods(template) == [{"path": "spec.templates[1]", "containers": [{"name": "main"}], "spec": {
		"securityContext": {"runAsNonRoot": true}, "volumes": [{"name": "tmp", "emptyDir": {}}],
		"containers": [{"name": "main"}], "nodeSelector": {"gpu": "a100"}, "argoStep": true,
	}}]
}
