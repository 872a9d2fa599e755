package mlgitops.spec.sensitive_data_over_plaintext_transport

test_s3_passes if {
	count(deny) == 0 with input as {"system": {"compliance": {"pii": true}, "training": {"data": [{"name": "a", "uri": "s3://b/a"}]}}}
}

test_public_data_over_http_passes if {
	count(deny) == 0 with input as {"system": {"compliance": {"pii": false, "dataClassification": "public"}, "training": {"data": [{"name": "a", "uri": "http://h/a"}]}}}
}

test_pii_over_http_fails if {
	deny == {{"msg": "dataset 'b' of sensitive data is read over unencrypted http (http://h/b)", "field": "training.data[1].uri"}} with input as {"system": {"compliance": {"pii": true}, "training": {"data": [{"name": "a", "uri": "s3://b/a"}, {"name": "b", "uri": "http://h/b"}]}}}
}

test_no_training_passes if {
	count(deny) == 0 with input as {"system": {"compliance": {"pii": true}, "training": null}}
}
