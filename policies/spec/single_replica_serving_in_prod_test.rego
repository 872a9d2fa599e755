package mlgitops.spec.single_replica_serving_in_prod

test_two_replicas_pass if {
	count(deny) == 0 with input as {"environment": {"name": "prod", "tier": "prod"}, "system": {"serving": {"replicas": {"min": 2}}}}
}

test_one_replica_in_dev_passes if {
	count(deny) == 0 with input as {"environment": {"name": "dev", "tier": "dev"}, "system": {"serving": {"replicas": {"min": 1}}}}
}

test_no_serving_passes if {
	count(deny) == 0 with input as {"environment": {"name": "prod", "tier": "prod"}, "system": {"serving": null}}
}

test_one_replica_in_prod_fails if {
	deny == {{"msg": "serving.replicas.min is 1 in prod; prod needs at least 2", "field": "serving.replicas.min"}} with input as {"environment": {"name": "prod", "tier": "prod"}, "system": {"serving": {"replicas": {"min": 1}}}}
}
