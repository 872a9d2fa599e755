package mlgitops.manifests.secret_with_inline_data

test_external_secret_passes if {
	count(deny) == 0 with input as {"object": {"kind": "ExternalSecret", "metadata": {"name": "e"}, "spec": {"data": [{"secretKey": "password"}]}}}
}

test_empty_secret_passes if {
	count(deny) == 0 with input as {"object": {"kind": "Secret", "metadata": {"name": "tls"}, "type": "kubernetes.io/tls"}}
}

test_secret_with_data_fails if {
	deny == {{"msg": "Secret db carries data (keys password) in the manifests", "field": "secrets"}} with input as {"object": {"kind": "Secret", "metadata": {"name": "db"}, "data": {"password": "aHVudGVyMg=="}}}
}

test_secret_with_string_data_fails if {
	count(deny) == 1 with input as {"object": {"kind": "Secret", "metadata": {"name": "db"}, "stringData": {"password": "hunter2"}}}
}
