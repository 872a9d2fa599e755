# METADATA
# title: Every container must have a read-only root filesystem
# description: NSA/CISA Kubernetes Hardening Guidance (immutable container filesystems), CIS Kubernetes 5.7 / Checkov CKV_K8S_22 - a writable root filesystem lets an attacker drop tools or tamper with the model server's code and the loaded model; scratch space belongs on an emptyDir.
# custom:
#   id: MLG-POD-007
#   severity: medium
#   remediation: Keep readOnlyRootFilesystem true as mlgitops renders it and make the image write only to /tmp (an emptyDir) or to mounted volumes.
package mlgitops.manifests.writable_root_filesystem

import data.mlgitops.lib.k8s
import data.mlgitops.lib.safe
import data.mlgitops.lib.spec

deny contains spec.finding(msg, "") if {
	some pod in k8s.pods(input.object)
	some container in pod.containers
	safe.get(container, ["securityContext", "readOnlyRootFilesystem"], false) != true
	msg := sprintf("%v does not set readOnlyRootFilesystem: true", [k8s.subject(input.object, pod, container)])
}
