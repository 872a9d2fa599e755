# METADATA
# title: Containers must not bind a hostPort
# description: Pod Security Standards baseline and restricted, CIS Kubernetes 5.2 / Checkov CKV_K8S_26, NSA/CISA Kubernetes Hardening Guidance - a hostPort publishes the container on the node's address, bypassing NetworkPolicies and the ingress controller, and pins the pod to nodes where the port is free.
# custom:
#   id: MLG-POD-010
#   severity: medium
#   remediation: Remove hostPort; reach the model through its Service, serving.ingress or serving.allowedCallers.
package mlgitops.manifests.host_port_exposed

import data.mlgitops.lib.k8s
import data.mlgitops.lib.safe
import data.mlgitops.lib.spec

deny contains spec.finding(msg, "") if {
	some pod in k8s.pods(input.object)
	some container in pod.containers
	some port in safe.items(container, "ports")
	safe.get(port, "hostPort", 0) != 0
	msg := sprintf("%v binds hostPort %v", [k8s.subject(input.object, pod, container), port.hostPort])
}
