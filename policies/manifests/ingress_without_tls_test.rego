package mlgitops.manifests.ingress_without_tls

_ingress(spec) := {"kind": "Ingress", "metadata": {"name": "i"}, "spec": spec}

test_tls_passes if {
	count(deny) == 0 with input as {"object": _ingress({"rules": [{"host": "a.example.com"}], "tls": [{"hosts": ["a.example.com"], "secretName": "a-tls"}]})}
}

test_no_tls_fails if {
	deny == {{"msg": "Ingress i serves host a.example.com without TLS", "field": "serving.ingress.tls"}} with input as {"object": _ingress({"rules": [{"host": "a.example.com"}]})}
}

test_uncovered_host_fails if {
	count(deny) == 1 with input as {"object": _ingress({
		"rules": [{"host": "a.example.com"}, {"host": "b.example.com"}],
		"tls": [{"hosts": ["a.example.com"]}],
	})}
}
