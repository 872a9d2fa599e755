package mlgitops.spec.mutable_image_tag

test_release_tags_pass if {
	count(deny) == 0 with input as {"system": {
		"training": {"image": "registry.example.com/a/train:1.4.2"},
		"serving": {"image": "registry.example.com/a/serve@sha256:abc"},
		"monitoring": {"drift": null},
	}}
}

test_latest_fails if {
	deny == {{"msg": "image 'registry.example.com/a/serve:latest' uses the floating tag 'latest'", "field": "serving.image"}} with input as {"system": {
		"training": null,
		"serving": {"image": "registry.example.com/a/serve:latest"},
		"monitoring": {"drift": null},
	}}
}

test_missing_tag_fails if {
	some f in deny with input as {"system": {"training": {"image": "registry.example.com/a/train"}, "monitoring": {}}}
	f.field == "training.image"
}

test_drift_image_checked if {
	some f in deny with input as {"system": {"monitoring": {"drift": {"image": "registry.example.com/a/drift:main"}}}}
	f.field == "monitoring.drift.image"
}
