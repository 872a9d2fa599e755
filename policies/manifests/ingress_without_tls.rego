# METADATA
# title: Every host of an Ingress must be served over TLS
# description: Encryption in transit (GDPR Art. 32, PCI DSS 4.0 req. 4.2, NIST SP 800-52, CIS/NSA hardening guidance) - requests to a model carry personal and business data and its answers are decisions; over plain HTTP both can be read and altered on the way, and credentials sent to the endpoint are exposed.
# custom:
#   id: MLG-SEC-004
#   severity: high
#   remediation: Set serving.ingress.tls to true (the default); mlgitops renders the TLS section and the cert-manager issuer of the environment.
package mlgitops.manifests.ingress_without_tls

import data.mlgitops.lib.k8s
import data.mlgitops.lib.safe
import data.mlgitops.lib.spec

deny contains spec.finding(msg, "serving.ingress.tls") if {
	input.object.kind == "Ingress"
	some rule in safe.items(input.object, ["spec", "rules"])
	host := safe.get(rule, "host", "*")
	not host in _tls_hosts
	msg := sprintf("%v serves host %v without TLS", [k8s.describe(input.object), host])
}

_tls_hosts contains host if {
	input.object.kind == "Ingress"
	some tls in safe.items(input.object, ["spec", "tls"])
	some host in safe.list(tls, "hosts")
}
