package mlgitops.spec.gpu_pipeline_step_without_queue

_gpu := {"count": 1, "type": "nvidia-a100-80gb"}

test_a_queued_gpu_train_step_passes if {
	count(deny) == 0 with input as {"system": {"training": {"queue": "ml-training", "resources": {"gpu": _gpu}}, "pipeline": {"steps": [{"name": "fit", "kind": "train", "resources": null}]}}}
}

test_a_gpu_train_step_without_training_queue_fails if {
	deny == {{"msg": "pipeline step 'fit' asks for GPUs but goes through no Kueue queue (training.queue)", "field": "training.queue"}} with input as {"system": {"training": {"queue": null, "resources": {"gpu": _gpu}}, "pipeline": {"steps": [{"name": "fit", "kind": "train", "resources": null}]}}}
}

test_a_custom_gpu_step_without_its_queue_fails if {
	deny == {{"msg": "pipeline step 'embed' asks for GPUs but goes through no Kueue queue (pipeline.steps[0].queue)", "field": "pipeline.steps[0].queue"}} with input as {"system": {"training": null, "pipeline": {"steps": [{"name": "embed", "kind": "custom", "queue": null, "resources": {"gpu": _gpu}}]}}}
}

test_cpu_steps_pass if {
	count(deny) == 0 with input as {"system": {"training": {"queue": null, "resources": {"gpu": null}}, "pipeline": {"steps": [{"name": "fit", "kind": "train", "resources": null}, {"name": "check", "kind": "validate-data", "resources": null}]}}}
}
