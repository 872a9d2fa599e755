# METADATA
# title: The system's namespace must have a default-deny NetworkPolicy (empty podSelector, Ingress and Egress, no rules)
# description: Network segmentation (CIS Kubernetes 5.3.2, NSA/CISA Kubernetes Hardening Guidance, zero trust per NIST SP 800-207) - without a default deny every pod accepts traffic from, and sends traffic to, anything in the cluster and beyond, so one compromised workload reaches the model, its data and its secrets; allow rules then open only what the system needs.
# custom:
#   id: MLG-NET-001
#   severity: high
#   remediation: Keep the default-deny NetworkPolicy mlgitops renders (podSelector {} with policyTypes Ingress and Egress and no rules); open only what is needed with serving.allowedCallers.
package mlgitops.spec.missing_default_deny_network_policy

import data.mlgitops.lib.safe
import data.mlgitops.lib.spec

deny contains spec.finding(msg, "metadata.name") if {
	not _default_deny
	msg := sprintf("no default-deny NetworkPolicy is rendered for '%v' in %v", [input.system.metadata.name, input.environment.name])
}

_default_deny if {
	some obj in safe.items(input, "objects")
	obj.kind == "NetworkPolicy"
	_selects_all(safe.dict(obj, ["spec", "podSelector"]))
	every policy_type in ["Ingress", "Egress"] {
		policy_type in safe.list(obj, ["spec", "policyTypes"])
	}
	count(safe.list(obj, ["spec", "ingress"])) == 0
	count(safe.list(obj, ["spec", "egress"])) == 0
}

_selects_all(selector) if {
	count(safe.dict(selector, "matchLabels")) == 0
	count(safe.list(selector, "matchExpressions")) == 0
}
