# METADATA
# title: Workload pods must not mount a service-account API token (automountServiceAccountToken false)
# description: CIS Kubernetes 5.1.6, NSA/CISA Kubernetes Hardening Guidance, least privilege - a model server or training job never calls the Kubernetes API, and a mounted token is the credential an attacker inside the container uses to move through the cluster. (Argo workflow pods, whose executor reports each step through the API, need their token - they run as an account of their own with a Role that allows only that. A TrainJob's pod patch cannot set the field, so its pods must run as a ServiceAccount of their own, which mlgitops renders with automountServiceAccountToken false.)
# custom:
#   id: MLG-POD-011
#   severity: medium
#   remediation: Keep automountServiceAccountToken false as mlgitops renders it on every workload pod; a component that must call the API gets its own ServiceAccount with a minimal Role.
package mlgitops.manifests.service_account_token_automounted

import data.mlgitops.lib.k8s
import data.mlgitops.lib.safe
import data.mlgitops.lib.spec

deny contains spec.finding(msg, "") if {
	some pod in k8s.pods(input.object)
	not pod.spec.argoStep # Argo's executor reports each step through the API, with the step account's token
	not pod.spec.trainJob
	safe.get(pod.spec, "automountServiceAccountToken", null) != false
	msg := sprintf("%v does not set automountServiceAccountToken: false", [k8s.pod_subject(input.object, pod)])
}

# A TrainJob's pod takes the token setting of its ServiceAccount: it must name one, not the namespace's default.
deny contains spec.finding(msg, "") if {
	some pod in k8s.pods(input.object)
	pod.spec.trainJob
	safe.text(pod.spec, "serviceAccountName") in {"", "default"}
	msg := sprintf("%v runs as the namespace's default ServiceAccount, whose token is mounted", [k8s.pod_subject(input.object, pod)])
}
