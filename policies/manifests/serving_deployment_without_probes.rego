# METADATA
# title: A serving Deployment's containers must have readiness and liveness probes
# description: Reliability (Kubernetes production best practice, Checkov CKV_K8S_8/CKV_K8S_9, EU AI Act Art. 15 robustness) - without a readiness probe a replica receives traffic before the model is loaded and answers with errors; without a liveness probe a hung model server keeps its share of the traffic until someone restarts it.
# custom:
#   id: MLG-REL-004
#   severity: medium
#   remediation: Set serving.probes.readiness and serving.probes.liveness to the model server's health endpoints (default /v2/health/ready and /v2/health/live, the KServe V2 protocol).
package mlgitops.manifests.serving_deployment_without_probes

import data.mlgitops.lib.k8s
import data.mlgitops.lib.safe
import data.mlgitops.lib.spec

deny contains spec.finding(msg, "serving.probes") if {
	input.object.kind == "Deployment"
	input.component == "serving"
	some pod in k8s.pods(input.object)
	some container in safe.items(pod.spec, "containers")
	some probe in ["readinessProbe", "livenessProbe"]
	safe.get(container, probe, null) == null
	msg := sprintf("%v has no %v", [k8s.subject(input.object, pod, container), probe])
}
