# METADATA
# title: Every container must run under the RuntimeDefault (or a Localhost) seccomp profile
# description: Pod Security Standard restricted, CIS Kubernetes 5.7.2, NSA/CISA Kubernetes Hardening Guidance - without a seccomp profile every system call of the kernel is reachable from the container, including the rarely used ones most kernel exploits need.
# custom:
#   id: MLG-POD-006
#   severity: medium
#   remediation: Keep the pod security context mlgitops renders (seccompProfile type RuntimeDefault); never set Unconfined.
package mlgitops.manifests.seccomp_profile_unconfined

import data.mlgitops.lib.k8s
import data.mlgitops.lib.safe
import data.mlgitops.lib.spec

_confined := {"RuntimeDefault", "Localhost"}

deny contains spec.finding(msg, "") if {
	some pod in k8s.pods(input.object)
	some container in pod.containers
	profile := safe.get(k8s.effective(pod.spec, container, "seccompProfile", {}), "type", "unset")
	not profile in _confined
	msg := sprintf("%v has seccomp profile %v, not RuntimeDefault", [k8s.subject(input.object, pod, container), profile])
}
