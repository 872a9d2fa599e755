package mlgitops.manifests.appproject_wildcard_scope

_project(spec) := {"apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject", "metadata": {"name": "prod-team"}, "spec": spec}

_narrow := {
	"sourceRepos": ["https://github.com/example/ml-platform.git"],
	"destinations": [{"namespace": "ml-s", "server": "https://prod.example.com"}],
	"clusterResourceWhitelist": [{"group": "", "kind": "Namespace", "name": "ml-s"}],
}

test_narrow_project_passes if {
	count(deny) == 0 with input as {"object": _project(_narrow)}
}

test_any_repo_fails if {
	deny == {{"msg": "AppProject prod-team accepts any source repository (*)"}} with input as {"object": _project(object.union(_narrow, {"sourceRepos": ["*"]}))}
}

test_any_namespace_fails if {
	deny == {{"msg": "AppProject prod-team destination 0 has namespace ml-*"}} with input as {"object": _project(object.union(_narrow, {"destinations": [{"namespace": "ml-*", "server": "https://prod.example.com"}]}))}
}

test_any_cluster_kind_fails if {
	count(deny) == 2 with input as {"object": _project(object.union(_narrow, {"clusterResourceWhitelist": [{"group": "*", "kind": "*"}]}))}
}
