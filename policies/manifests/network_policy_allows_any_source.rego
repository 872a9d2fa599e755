# METADATA
# title: NetworkPolicy ingress rules must name their sources - no rule open to every pod, every namespace or the whole internet
# description: Network segmentation (CIS Kubernetes 5.3.2, NSA/CISA Kubernetes Hardening Guidance, zero trust per NIST SP 800-207) - an ingress rule without from, with an empty namespaceSelector or with 0.0.0.0/0 undoes the default deny for the selected pods, so anything can call the model and probe it for data.
# custom:
#   id: MLG-NET-002
#   severity: medium
#   remediation: List the namespaces (and pods) that may call the model in serving.allowedCallers; mlgitops renders one narrow ingress rule per caller.
package mlgitops.manifests.network_policy_allows_any_source

import data.mlgitops.lib.k8s
import data.mlgitops.lib.safe
import data.mlgitops.lib.spec

_any_ip := {"0.0.0.0/0", "::/0"}

deny contains spec.finding(sprintf("%v ingress rule %v %v", [k8s.describe(input.object), i, why]), "serving.allowedCallers") if {
	input.object.kind == "NetworkPolicy"
	some i, rule in safe.items(input.object, ["spec", "ingress"])
	some why in _open(rule)
}

_open(rule) := {"has no from, so it admits every source"} if {
	count(safe.list(rule, "from")) == 0
} else := {why |
	some peer in safe.items(rule, "from")
	some why in _open_peer(peer)
}

_open_peer(peer) := {"admits every namespace (namespaceSelector {})"} if {
	peer.namespaceSelector == {}
} else := {sprintf("admits %v", [peer.ipBlock.cidr])} if {
	peer.ipBlock.cidr in _any_ip
} else := set()
