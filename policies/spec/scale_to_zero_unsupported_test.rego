package mlgitops.spec.scale_to_zero_unsupported

_serving(runtime, metric, replicas) := {"system": {"serving": {"runtime": runtime, "replicas": {"min": replicas}, "autoscaling": {"metric": metric}}}}

test_kserve_rps_to_zero_passes if {
	count(deny) == 0 with input as _serving("kserve", "rps", 0)
}

test_keda_kafka_to_zero_passes if {
	count(deny) == 0 with input as _serving("deployment", "kafka-lag", 0)
}

test_cpu_with_replicas_passes if {
	count(deny) == 0 with input as _serving("kserve", "cpu", 1)
}

test_kserve_cpu_to_zero_fails if {
	deny == {{"msg": "serving.replicas.min is 0, but runtime 'kserve' scaling on 'cpu' cannot scale up from zero", "field": "serving.replicas.min"}} with input as _serving("kserve", "cpu", 0)
}

test_deployment_memory_to_zero_fails if {
	count(deny) == 1 with input as _serving("deployment", "memory", 0)
}
