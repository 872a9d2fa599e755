package mlgitops.spec.image_not_pinned_by_digest_in_prod

test_digest_passes_in_prod if {
	count(deny) == 0 with input as {"environment": {"name": "prod", "tier": "prod"}, "system": {"serving": {"image": "registry.example.com/a:1@sha256:0a1b"}}}
}

test_tag_passes_outside_prod if {
	count(deny) == 0 with input as {"environment": {"name": "dev", "tier": "dev"}, "system": {"serving": {"image": "registry.example.com/a:1"}}}
}

test_tag_fails_in_prod if {
	deny == {{"msg": "image 'registry.example.com/a:1' is not pinned by digest in prod", "field": "serving.image"}} with input as {
		"environment": {"name": "prod", "tier": "prod"},
		"system": {"serving": {"image": "registry.example.com/a:1"}},
	}
}
