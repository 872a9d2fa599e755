# METADATA
# title: Every container must run as a non-root user (runAsNonRoot true, runAsUser not 0)
# description: Pod Security Standard restricted, CIS Kubernetes 5.2.6, NSA/CISA Kubernetes Hardening Guidance - a process running as UID 0 turns any container escape or writable host mount into root on the node, and with it access to every other team's models, data and credentials.
# custom:
#   id: MLG-POD-002
#   severity: high
#   remediation: Keep the pod security context mlgitops renders (runAsNonRoot true, UID/GID 10001) and build the image to run as a non-root user (USER 10001 in the Dockerfile).
package mlgitops.manifests.container_may_run_as_root

import data.mlgitops.lib.k8s
import data.mlgitops.lib.spec

deny contains spec.finding(sprintf("%v does not set runAsNonRoot: true", [k8s.subject(input.object, pod, container)]), "") if {
	some pod in k8s.pods(input.object)
	some container in pod.containers
	k8s.effective(pod.spec, container, "runAsNonRoot", false) != true
}

deny contains spec.finding(sprintf("%v runs as runAsUser 0 (root)", [k8s.subject(input.object, pod, container)]), "") if {
	some pod in k8s.pods(input.object)
	some container in pod.containers
	k8s.effective(pod.spec, container, "runAsUser", null) == 0
}
