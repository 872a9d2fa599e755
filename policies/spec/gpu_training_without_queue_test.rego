package mlgitops.spec.gpu_training_without_queue

test_queued_gpu_training_passes if {
	count(deny) == 0 with input as {"system": {"training": {"queue": "ml-training", "resources": {"gpu": {"count": 1, "type": "nvidia-a100-80gb"}}}}}
}

test_cpu_training_without_queue_passes if {
	count(deny) == 0 with input as {"system": {"training": {"queue": null, "resources": {"gpu": null}}}}
}

test_gpu_training_without_queue_fails if {
	deny == {{"msg": "training asks for 2 GPU(s) of type 'nvidia-a100-80gb' per worker but names no training.queue", "field": "training.queue"}} with input as {"system": {"training": {"queue": null, "resources": {"gpu": {"count": 2, "type": "nvidia-a100-80gb"}}}}}
}
