package mlgitops.lib.spec

test_finding_without_field if {
	finding("m", "") == {"msg": "m"}
	finding("m", "serving.image") == {"msg": "m", "field": "serving.image"}
}

test_images if {
	system := {"training": {"image": "a:1"}, "serving": null, "monitoring": {"drift": {"image": "b:2"}}}
	{x.field | some x in images(system)} == {"training.image", "monitoring.drift.image"}
}

test_sensitive if {
	sensitive({"compliance": {"pii": true, "dataClassification": "internal"}})
	sensitive({"compliance": {"pii": false, "dataClassification": "restricted"}})
	not sensitive({"compliance": {"pii": false, "dataClassification": "internal"}})
}

test_field_of if {
	field_of("monitoring", "resources") == "monitoring.drift.resources"
	field_of("", "resources") == ""
}

test_tier if {
	prod({"tier": "prod"})
	not prod({"tier": "staging"})
	tier({}) == "dev"
}
