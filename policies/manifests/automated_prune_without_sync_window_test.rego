package mlgitops.manifests.automated_prune_without_sync_window

_app(sync_policy) := {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": "prod-s"}, "spec": {"syncPolicy": sync_policy}}

_prod := {"name": "prod", "tier": "prod", "argocd": {"autoSync": true}}

test_manual_sync_passes if {
	count(deny) == 0 with input as {"environment": _prod, "object": _app({"syncOptions": ["PruneLast=true"]})}
}

test_windowed_prune_passes if {
	count(deny) == 0 with input as {
		"environment": {"name": "prod", "tier": "prod", "argocd": {"syncWindows": [{"kind": "allow", "schedule": "0 8 * * 1-5", "duration": "10h"}]}},
		"object": _app({"automated": {"prune": true, "selfHeal": true}}),
	}
}

test_dev_prune_passes if {
	count(deny) == 0 with input as {"environment": {"name": "dev", "tier": "dev", "argocd": {}}, "object": _app({"automated": {"prune": true}})}
}

test_prod_prune_without_window_fails if {
	deny == {{"msg": "Application prod-s prunes automatically in prod, but the environment defines no argocd.syncWindows"}} with input as {"environment": _prod, "object": _app({"automated": {"prune": true, "selfHeal": true}})}
}
