package mlgitops.manifests.secret_exposed_as_env_var

_deployment(container) := {"kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": {"containers": [object.union({"name": "c"}, container)]}}}}

test_file_mount_passes if {
	count(deny) == 0 with input as {"object": _deployment({
		"env": [{"name": "MODEL_URI", "value": "models:/m/1"}, {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
		"volumeMounts": [{"name": "secret-db", "mountPath": "/var/run/secrets/mlgitops/db", "readOnly": true}],
	})}
}

test_secret_key_ref_fails if {
	deny == {{"msg": "env var DB_PASSWORD of container 'c' of Deployment d comes from Secret db (key password)", "field": "secrets"}} with input as {"object": _deployment({"env": [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}]})}
}

test_env_from_secret_fails if {
	deny == {{"msg": "container 'c' of Deployment d takes its environment from Secret db", "field": "secrets"}} with input as {"object": _deployment({"envFrom": [{"configMapRef": {"name": "cfg"}}, {"secretRef": {"name": "db"}}]})}
}
