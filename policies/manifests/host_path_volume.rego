# METADATA
# title: Pods must not mount hostPath volumes
# description: Pod Security Standards baseline and restricted, CIS Kubernetes 5.2 / Checkov CKV_K8S_27, NSA/CISA Kubernetes Hardening Guidance - a hostPath mount exposes the node's filesystem (kubelet credentials, the container runtime socket, other pods' volumes) and is the most common container-escape path.
# custom:
#   id: MLG-POD-009
#   severity: high
#   remediation: Use an emptyDir for scratch space, a PersistentVolumeClaim or object storage (training.data) for datasets, and secrets for credentials; never a hostPath.
package mlgitops.manifests.host_path_volume

import data.mlgitops.lib.k8s
import data.mlgitops.lib.safe
import data.mlgitops.lib.spec

deny contains spec.finding(msg, "") if {
	some pod in k8s.pods(input.object)
	some volume in safe.items(pod.spec, "volumes")
	is_object(volume.hostPath)
	msg := sprintf("%v mounts hostPath %v as volume '%v'", [k8s.pod_subject(input.object, pod), safe.get(volume.hostPath, "path", "?"), safe.get(volume, "name", "?")])
}
