package mlgitops.manifests.secret_like_env_value

_deployment(env) := {"kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": {"containers": [{"name": "c", "env": env}]}}}}

test_ordinary_env_passes if {
	count(deny) == 0 with input as {"component": "serving", "object": _deployment([
		{"name": "MODEL_URI", "value": "models:/m/3"},
		{"name": "DATA_TOKENIZER_URI", "value": "s3://b/tokenizer"},
		{"name": "PUSH_URL", "value": "http://prometheus-pushgateway.monitoring.svc:9091/metrics"},
		{"name": "API_TOKEN_FILE", "value": "/var/run/secrets/mlgitops/api/token"},
		{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
	])}
}

test_secret_named_variable_fails if {
	deny == {{"msg": "env var DB_PASSWORD of container 'c' of Deployment d has a literal value that looks like a credential (by its name)", "field": "serving.env"}} with input as {"component": "serving", "object": _deployment([{"name": "DB_PASSWORD", "value": "hunter2"}])}
}

test_aws_key_fails_whatever_its_name if {
	deny == {{"msg": "env var BOOT of container 'c' of Deployment d has a literal value that looks like an AWS access key id", "field": "training.env"}} with input as {"component": "training", "object": _deployment([{"name": "BOOT", "value": "AKIAIOSFODNN7EXAMPLE"}])}
}

test_url_with_password_fails if {
	some f in deny with input as {"component": "monitoring", "object": _deployment([{"name": "DSN", "value": "postgres://app:s3cret@db:5432/x"}])}
	f == {"msg": "env var DSN of container 'c' of Deployment d has a literal value that looks like a URL with a password"}
}

test_private_key_fails if {
	count(deny) == 1 with input as {"component": "serving", "object": _deployment([{"name": "TLS_KEY", "value": "-----BEGIN RSA PRIVATE KEY-----\nMIIE"}])}
}
