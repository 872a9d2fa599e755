package mlgitops.spec.missing_cost_center

test_cost_center_passes if {
	count(deny) == 0 with input as {"system": {"metadata": {"name": "s", "costCenter": "cc-1"}}}
}

test_missing_cost_center_fails if {
	deny == {{"msg": "system 's' names no metadata.costCenter to charge its compute to", "field": "metadata.costCenter"}} with input as {"system": {"metadata": {"name": "s", "costCenter": null}}}
}
