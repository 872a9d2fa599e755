package mlgitops.spec.unpriced_gpu_type

_env := {"name": "dev", "gpu": {"hourlyPrice": {"nvidia-t4": 0.53}}}

test_priced_gpu_passes if {
	count(deny) == 0 with input as {"environment": _env, "system": {"training": {"resources": {"gpu": {"type": "nvidia-t4"}}}, "serving": {"gpu": null}}}
}

test_gpu_without_type_passes if {
	count(deny) == 0 with input as {"environment": _env, "system": {"training": {"resources": {"gpu": {"type": null}}}, "serving": null}}
}

test_unpriced_gpu_fails if {
	deny == {{"msg": "GPU type 'nvidia-h100' has no hourly price in environment 'dev' (gpu.hourlyPrice)", "field": "serving.gpu.type"}} with input as {"environment": _env, "system": {"training": null, "serving": {"gpu": {"type": "nvidia-h100"}}}}
}
