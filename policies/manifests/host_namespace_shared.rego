# METADATA
# title: Pods must not share the host's network, PID or IPC namespace
# description: Pod Security Standards baseline and restricted, CIS Kubernetes 5.2.3-5.2.5, NSA/CISA Kubernetes Hardening Guidance - hostNetwork bypasses every NetworkPolicy and exposes node-local services, hostPID and hostIPC let the pod see and signal the node's processes and read their memory.
# custom:
#   id: MLG-POD-008
#   severity: high
#   remediation: Remove hostNetwork, hostPID and hostIPC from the pod; expose the model through a Service and serving.ingress instead.
package mlgitops.manifests.host_namespace_shared

import data.mlgitops.lib.k8s
import data.mlgitops.lib.safe
import data.mlgitops.lib.spec

deny contains spec.finding(sprintf("%v sets %v: true", [k8s.pod_subject(input.object, pod), key]), "") if {
	some pod in k8s.pods(input.object)
	some key in ["hostNetwork", "hostPID", "hostIPC"]
	safe.get(pod.spec, key, false) == true
}
