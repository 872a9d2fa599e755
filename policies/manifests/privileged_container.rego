# METADATA
# title: No container may run privileged
# description: Pod Security Standards baseline and restricted, CIS Kubernetes 5.2.2, NSA/CISA Kubernetes Hardening Guidance - a privileged container has every capability and all host devices, so it is root on the node; GPU access goes through the device plugin or DRA, never privileged mode.
# custom:
#   id: MLG-POD-004
#   severity: critical
#   remediation: Remove privileged true; request GPUs through serving.gpu or training.resources.gpu (device plugin or DRA) instead.
package mlgitops.manifests.privileged_container

import data.mlgitops.lib.k8s
import data.mlgitops.lib.safe
import data.mlgitops.lib.spec

deny contains spec.finding(sprintf("%v runs privileged", [k8s.subject(input.object, pod, container)]), "") if {
	some pod in k8s.pods(input.object)
	some container in pod.containers
	safe.get(container, ["securityContext", "privileged"], false) == true
}
