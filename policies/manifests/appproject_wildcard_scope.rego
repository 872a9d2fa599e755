# METADATA
# title: Argo CD AppProjects must not use wildcards for source repositories, destinations or cluster-scoped kinds
# description: Least privilege and segregation of duties (CIS Kubernetes 5.1 principles, Argo CD security best practice, SOC 2 CC6.1) - a project that accepts any repository, deploys to any cluster or namespace, or may create any cluster-scoped kind lets one team's Application overwrite another team's namespace or the cluster's own configuration.
# custom:
#   id: MLG-ARGO-002
#   severity: high
#   remediation: List the exact repository (argocd.repoURL), the team's namespaces on the environment's cluster, and only the Namespace kind at cluster scope, as mlgitops renders them.
package mlgitops.manifests.appproject_wildcard_scope

import data.mlgitops.lib.k8s
import data.mlgitops.lib.safe
import data.mlgitops.lib.spec

_is_project if {
	input.object.kind == "AppProject"
	startswith(safe.text(input.object, "apiVersion"), "argoproj.io/")
}

deny contains spec.finding(sprintf("%v accepts any source repository (%v)", [k8s.describe(input.object), repo]), "") if {
	_is_project
	some repo in safe.list(input.object, ["spec", "sourceRepos"])
	_wild(repo)
}

deny contains spec.finding(sprintf("%v destination %v has %v %v", [k8s.describe(input.object), i, key, value]), "") if {
	_is_project
	some i, destination in safe.items(input.object, ["spec", "destinations"])
	some key in ["server", "name", "namespace"]
	value := safe.get(destination, key, "")
	_wild(value)
}

deny contains spec.finding(sprintf("%v whitelists cluster-scoped %v %v", [k8s.describe(input.object), key, value]), "") if {
	_is_project
	some entry in safe.items(input.object, ["spec", "clusterResourceWhitelist"])
	some key in ["group", "kind"]
	value := safe.get(entry, key, "")
	_wild(value)
}

_wild(value) if {
	is_string(value)
	contains(value, "*")
}
