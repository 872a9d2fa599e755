# METADATA
# title: Scale to zero only where the runtime can wake from zero (KServe on concurrency or rps, a Deployment on kafka-lag)
# description: Reliability - the Kubernetes HPA cannot scale from zero (a CPU or memory metric needs a running pod to measure), so with any other runtime and metric a system set to zero replicas never starts again and silently serves nothing; Knative's activator and KEDA's event source are what wake a scaled-to-zero workload.
# custom:
#   id: MLG-SCALE-001
#   severity: medium
#   remediation: Either set serving.replicas.min to 1 or more, or use runtime kserve with autoscaling.metric concurrency or rps, or runtime deployment with autoscaling.metric kafka-lag.
package mlgitops.spec.scale_to_zero_unsupported

import data.mlgitops.lib.spec

deny contains spec.finding(msg, "serving.replicas.min") if {
	serving := input.system.serving
	serving.replicas.min == 0
	not _wakes_from_zero(serving.runtime, serving.autoscaling.metric)
	msg := sprintf("serving.replicas.min is 0, but runtime '%v' scaling on '%v' cannot scale up from zero", [serving.runtime, serving.autoscaling.metric])
}

_wakes_from_zero(runtime, metric) if {
	runtime == "kserve"
	metric in {"concurrency", "rps"}
}

_wakes_from_zero(runtime, metric) if {
	runtime == "deployment"
	metric == "kafka-lag"
}
