package mlgitops.lib.images

test_parse_tag_and_registry if {
	tag("registry.example.com/recsys/train:1.4.2") == "1.4.2"
	registry("registry.example.com/recsys/train:1.4.2") == "registry.example.com"
	repository("registry.example.com/recsys/train:1.4.2") == "registry.example.com/recsys/train"
}

test_registry_with_port if {
	registry("localhost:5000/a/b:1") == "localhost:5000"
	tag("localhost:5000/a/b") == ""
	repository("localhost:5000/a/b") == "localhost:5000/a/b"
}

test_docker_hub if {
	registry("python:3.11") == "docker.io"
	repository("python:3.11") == "docker.io/library/python"
	repository("bitnami/redis:7") == "docker.io/bitnami/redis"
}

test_digest if {
	pinned("r.example.com/a@sha256:0123")
	digest("r.example.com/a:1@sha256:0123") == "sha256:0123"
	not pinned("r.example.com/a:1")
}

test_allowed if {
	allowed("registry.example.com/recsys/train:1.4.2", ["registry.example.com"])
	allowed("registry.example.com/recsys/train:1.4.2", ["registry.example.com/recsys/"])
	not allowed("registry.example.com.evil.io/x:1", ["registry.example.com"])
	not allowed("python:3.11", ["registry.example.com"])
}

test_mutable_reason if {
	mutable_reason("r.example.com/a") == "has no tag (it means :latest)"
	mutable_reason("r.example.com/a:latest") == "uses the floating tag 'latest'"
	mutable_reason("r.example.com/a:1.2.3") == ""
	mutable_reason("r.example.com/a:latest@sha256:00") == ""
}
