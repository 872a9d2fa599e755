# METADATA
# title: No Secret object with data or stringData in the rendered manifests
# description: Secrets management (CIS Kubernetes 5.4.2 external secret storage, NIST SP 800-53 IA-5(7) no embedded authenticators, OWASP Secrets Management, GDPR Art. 32) - a Secret with data in Git is a plaintext credential readable by everyone with repository access, forever in its history; credentials come from the secret store through an ExternalSecret.
# custom:
#   id: MLG-SEC-001
#   severity: critical
#   remediation: Store the credential in Vault and declare it under secrets (name, from vault://..., keys); mlgitops renders an ExternalSecret and never a Secret with data. Rotate any credential that reached Git.
package mlgitops.manifests.secret_with_inline_data

import data.mlgitops.lib.k8s
import data.mlgitops.lib.safe
import data.mlgitops.lib.spec

deny contains spec.finding(msg, "secrets") if {
	input.object.kind == "Secret"
	some key in ["data", "stringData"]
	values := safe.dict(input.object, key)
	count(values) > 0
	msg := sprintf("%v carries %v (keys %v) in the manifests", [k8s.describe(input.object), key, concat(", ", sort(object.keys(values)))])
}
