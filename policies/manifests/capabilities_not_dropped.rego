# METADATA
# title: Every container must drop ALL Linux capabilities and add back at most NET_BIND_SERVICE
# description: Pod Security Standard restricted, CIS Kubernetes 5.2.8-5.2.9, NSA/CISA Kubernetes Hardening Guidance - the default capability set (NET_RAW, CHOWN, SETUID, ...) enables ARP spoofing and privilege escalation inside the node; a model server needs none of it.
# custom:
#   id: MLG-POD-005
#   severity: medium
#   remediation: Keep the container security context mlgitops renders (capabilities.drop [ALL]) and add nothing back except NET_BIND_SERVICE; a model server should listen on a port above 1024 (serving.port).
package mlgitops.manifests.capabilities_not_dropped

import data.mlgitops.lib.k8s
import data.mlgitops.lib.safe
import data.mlgitops.lib.spec

deny contains spec.finding(sprintf("%v does not drop ALL capabilities", [k8s.subject(input.object, pod, container)]), "") if {
	some pod in k8s.pods(input.object)
	some container in pod.containers
	not "ALL" in safe.list(container, ["securityContext", "capabilities", "drop"])
}

deny contains spec.finding(sprintf("%v adds capability %v", [k8s.subject(input.object, pod, container), capability]), "") if {
	some pod in k8s.pods(input.object)
	some container in pod.containers
	some capability in safe.list(container, ["securityContext", "capabilities", "add"])
	capability != "NET_BIND_SERVICE"
}
