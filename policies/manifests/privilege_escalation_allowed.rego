# METADATA
# title: Every container must set allowPrivilegeEscalation false
# description: Pod Security Standard restricted, CIS Kubernetes 5.2.5, NSA/CISA Kubernetes Hardening Guidance - without no_new_privs a process can gain privileges through setuid binaries or file capabilities, which is the usual first step of a container breakout.
# custom:
#   id: MLG-POD-003
#   severity: high
#   remediation: Keep the container security context mlgitops renders (allowPrivilegeEscalation false); an image that needs setuid to start must be rebuilt to run unprivileged.
package mlgitops.manifests.privilege_escalation_allowed

import data.mlgitops.lib.k8s
import data.mlgitops.lib.safe
import data.mlgitops.lib.spec

deny contains spec.finding(msg, "") if {
	some pod in k8s.pods(input.object)
	some container in pod.containers
	safe.get(container, ["securityContext", "allowPrivilegeEscalation"], null) != false
	msg := sprintf("%v does not set allowPrivilegeEscalation: false", [k8s.subject(input.object, pod, container)])
}
