# Container image references (distribution's grammar): [registry/]path[:tag][@digest].
package mlgitops.lib.images

_name_tag(image) := split(image, "@")[0]

_last(parts) := parts[count(parts) - 1]

digest(image) := d if {
	parts := split(image, "@")
	count(parts) == 2
	d := parts[1]
} else := ""

pinned(image) if startswith(digest(image), "sha256:")

tag(image) := t if {
	last := _last(split(_name_tag(image), "/"))
	contains(last, ":")
	t := _last(split(last, ":"))
} else := ""

_host(s) if contains(s, ".")

_host(s) if contains(s, ":")

_host(s) if s == "localhost"

# The registry host; Docker Hub ("docker.io") when the first component is not a host.
registry(image) := first if {
	parts := split(_name_tag(image), "/")
	count(parts) > 1
	first := parts[0]
	_host(first)
} else := "docker.io"

# registry/path without tag or digest; Docker Hub's official images get their implied "library/".
repository(image) := repo if {
	name := split(_name_tag(image), "/")
	count(name) > 1
	_host(name[0])
	last := split(_last(name), ":")[0]
	repo := concat("/", array.concat(array.slice(name, 0, count(name) - 1), [last]))
} else := repo if {
	name := split(_name_tag(image), "/")
	last := split(_last(name), ":")[0]
	path := array.concat(array.slice(name, 0, count(name) - 1), [last])
	repo := concat("/", array.concat(_hub_prefix(path), path))
}

_hub_prefix(path) := ["docker.io", "library"] if {
	count(path) == 1
} else := ["docker.io"]

# True when the image comes from one of the allowed registries; an entry may be a host or host/path prefix.
allowed(image, registries) if {
	some entry in registries
	is_string(entry)
	prefix := trim_suffix(entry, "/")
	repo := repository(image)
	_under(repo, prefix)
}

_under(repo, prefix) if repo == prefix

_under(repo, prefix) if startswith(repo, concat("", [prefix, "/"]))

# Tags that are moved to new content by convention.
floating_tags := {"latest", "stable", "main", "master", "edge", "nightly", "dev", "head"}

# Why the reference is mutable ("" when it is not): no tag and no digest, or a floating tag without a digest.
mutable_reason(image) := "has no tag (it means :latest)" if {
	digest(image) == ""
	tag(image) == ""
} else := sprintf("uses the floating tag '%v'", [tag(image)]) if {
	digest(image) == ""
	lower(tag(image)) in floating_tags
} else := ""
