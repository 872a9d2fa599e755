# METADATA
# title: Roles must not grant wildcards, access to Secrets, pod exec/attach, or escalate/bind/impersonate
# description: Least privilege (CIS Kubernetes 5.1.1-5.1.4 and 5.1.8, NSA/CISA Kubernetes Hardening Guidance) - a wildcard grows with every new resource type, read access to Secrets discloses every credential of the namespace, exec/attach runs code in the model's pods, and escalate, bind or impersonate let the holder grant itself anything.
# custom:
#   id: MLG-RBAC-001
#   severity: high
#   remediation: List the exact apiGroups, resources and verbs needed; grant no access to secrets (mlgitops mounts them as files), no pods/exec or pods/attach, and never escalate, bind or impersonate.
package mlgitops.manifests.rbac_wildcard_or_sensitive_access

import data.mlgitops.lib.k8s
import data.mlgitops.lib.safe
import data.mlgitops.lib.spec

_kinds := {"Role", "ClusterRole"}

_dangerous_verbs := {"escalate", "bind", "impersonate"}

_exec := {"pods/exec", "pods/attach", "pods/portforward"}

deny contains spec.finding(sprintf("%v rule %v grants a wildcard in %v", [k8s.describe(input.object), i, key]), "") if {
	input.object.kind in _kinds
	some i, rule in safe.items(input.object, "rules")
	some key in ["apiGroups", "resources", "verbs"]
	"*" in safe.list(rule, key)
}

deny contains spec.finding(sprintf("%v rule %v grants %v on secrets", [k8s.describe(input.object), i, safe.list(rule, "verbs")]), "") if {
	input.object.kind in _kinds
	some i, rule in safe.items(input.object, "rules")
	"secrets" in safe.list(rule, "resources")
}

deny contains spec.finding(sprintf("%v rule %v grants %v", [k8s.describe(input.object), i, resource]), "") if {
	input.object.kind in _kinds
	some i, rule in safe.items(input.object, "rules")
	some resource in safe.list(rule, "resources")
	resource in _exec
}

deny contains spec.finding(sprintf("%v rule %v grants the verb %v", [k8s.describe(input.object), i, verb]), "") if {
	input.object.kind in _kinds
	some i, rule in safe.items(input.object, "rules")
	some verb in safe.list(rule, "verbs")
	verb in _dangerous_verbs
}
