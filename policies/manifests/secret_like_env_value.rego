# METADATA
# title: No literal secret in a container's environment (secret-named variables with values, known token formats, keys, credentials in URLs)
# description: Secrets management (CIS Kubernetes 5.4.1 prefer secrets as files, NIST SP 800-53 IA-5(7) no embedded authenticators, OWASP Secrets Management, GDPR Art. 32) - a credential written into a manifest is committed to Git, shown by kubectl describe and copied into crash dumps; it must come from the secret store and be mounted as a file. The value is never printed.
# custom:
#   id: MLG-SEC-002
#   severity: critical
#   remediation: Remove the value from serving.env or training.env, store it in Vault and declare it under secrets (it is mounted read-only at /var/run/secrets/mlgitops/<name>); rotate the exposed credential.
package mlgitops.manifests.secret_like_env_value

import data.mlgitops.lib.k8s
import data.mlgitops.lib.safe
import data.mlgitops.lib.spec

# Variable names that hold credentials (whole words between underscores, any case).
_secret_name := `(?i)(^|_)(PASSWORD|PASSWD|PASSPHRASE|SECRET|SECRET_KEY|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CLIENT_SECRET|CREDENTIALS?)(_|$)`

# Known credential formats (as detect-secrets' detectors), whatever the variable is called.
_formats := {
	"an AWS access key id": `(^|[^A-Z0-9])(AKIA|ASIA)[0-9A-Z]{16}([^A-Z0-9]|$)`,
	"a GitHub token": `gh[pousr]_[A-Za-z0-9]{36}`,
	"a Slack token": `xox[abposr]-[A-Za-z0-9-]{10,}`,
	"a Stripe key": `[rs]k_live_[0-9A-Za-z]{20,}`,
	"a JSON Web Token": `eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`,
	"a private key": `-----BEGIN [A-Z ]*PRIVATE KEY`,
	"a URL with a password": `[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@`,
}

# A value that only points at a secret (a mounted file or a secret-store path) is not one.
_reference(value) if startswith(value, "/")

_reference(value) if regex.match(`^(vault|secretsmanager|gcpsm|azkv)://`, value)

_env_field(component) := sprintf("%v.env", [component]) if {
	component in {"serving", "training"}
} else := ""

deny contains spec.finding(msg, _env_field(input.component)) if {
	some pod in k8s.pods(input.object)
	some container in pod.containers
	some env in safe.items(container, "env")
	value := safe.get(env, "value", "")
	is_string(value)
	value != ""
	reasons := [kind | some kind, pattern in _formats; regex.match(pattern, value)]
	name := safe.get(env, "name", "?")
	why := _why(name, value, reasons)
	why != ""
	msg := sprintf("env var %v of %v has a literal value that looks like %v", [name, k8s.subject(input.object, pod, container), why])
}

_why(name, value, reasons) := concat(" and ", reasons) if {
	count(reasons) > 0
} else := "a credential (by its name)" if {
	is_string(name)
	regex.match(_secret_name, name)
	not _reference(value)
} else := ""
