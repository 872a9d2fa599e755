# METADATA
# title: Secrets must be mounted as files, not exposed as environment variables (secretKeyRef, envFrom secretRef)
# description: CIS Kubernetes 5.4.1 (prefer using secrets as files over secrets as environment variables), OWASP Secrets Management - environment variables are inherited by every child process, printed by debug endpoints and crash reporters and visible in the container runtime's metadata, so a secret in one leaks far more easily than a file with mode 0440.
# custom:
#   id: MLG-SEC-003
#   severity: medium
#   remediation: Declare the credential under secrets with usedBy for the workload; mlgitops mounts it read-only at /var/run/secrets/mlgitops/<name> and the application reads the file.
package mlgitops.manifests.secret_exposed_as_env_var

import data.mlgitops.lib.k8s
import data.mlgitops.lib.safe
import data.mlgitops.lib.spec

deny contains spec.finding(msg, "secrets") if {
	some pod in k8s.pods(input.object)
	some container in pod.containers
	some env in safe.items(container, "env")
	ref := env.valueFrom.secretKeyRef
	msg := sprintf("env var %v of %v comes from Secret %v (key %v)", [safe.get(env, "name", "?"), k8s.subject(input.object, pod, container), safe.get(ref, "name", "?"), safe.get(ref, "key", "?")])
}

deny contains spec.finding(msg, "secrets") if {
	some pod in k8s.pods(input.object)
	some container in pod.containers
	some source in safe.items(container, "envFrom")
	ref := source.secretRef
	msg := sprintf("%v takes its environment from Secret %v", [k8s.subject(input.object, pod, container), safe.get(ref, "name", "?")])
}
