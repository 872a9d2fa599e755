package mlgitops.spec.gpu_training_without_max_runtime

test_bounded_gpu_training_passes if {
	count(deny) == 0 with input as {"system": {"metadata": {"name": "s"}, "training": {"maxRuntime": "6h", "resources": {"gpu": {"count": 1}}}}}
}

test_unbounded_cpu_training_passes if {
	count(deny) == 0 with input as {"system": {"metadata": {"name": "s"}, "training": {"maxRuntime": null, "resources": {"gpu": null}}}}
}

test_unbounded_gpu_training_fails if {
	deny == {{"msg": "GPU training of 's' has no training.maxRuntime, so a hung run holds its GPUs indefinitely", "field": "training.maxRuntime"}} with input as {"system": {"metadata": {"name": "s"}, "training": {"maxRuntime": null, "resources": {"gpu": {"count": 1}}}}}
}
