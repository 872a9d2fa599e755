package mlgitops.spec.image_from_unapproved_registry

_env := {"name": "prod", "imageRegistries": ["registry.example.com"]}

test_allowed_registry_passes if {
	count(deny) == 0 with input as {"environment": _env, "system": {
		"training": {"image": "registry.example.com/a/train:1.0.0"},
		"serving": {"image": "registry.example.com/a/serve:1.0.0"},
	}}
}

test_docker_hub_image_fails if {
	deny == {{
		"msg": "image 'python:3.11' comes from registry 'docker.io', which environment 'prod' does not allow (allowed: registry.example.com)",
		"field": "serving.image",
	}} with input as {"environment": _env, "system": {"serving": {"image": "python:3.11"}}}
}

test_lookalike_host_fails if {
	some f in deny with input as {"environment": _env, "system": {"training": {"image": "registry.example.com.evil.io/a:1"}}}
	f.field == "training.image"
}

test_no_allowlist_fails_closed if {
	count(deny) == 1 with input as {"environment": {"name": "dev"}, "system": {"training": {"image": "registry.example.com/a:1"}}}
}
