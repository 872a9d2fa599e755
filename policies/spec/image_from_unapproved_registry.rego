# METADATA
# title: Images must come from a registry on the environment's imageRegistries allowlist
# description: Supply-chain security (SLSA, NIST SSDF PW.4, NSA/CISA Kubernetes Hardening Guidance on trusted registries) - only the allowlisted registries are scanned, signed and mirrored by the platform; an image pulled from anywhere else has unknown provenance and can carry malware or exfiltrate the training data and model. An environment without an allowlist admits nothing (fail closed).
# custom:
#   id: MLG-SUP-002
#   severity: high
#   remediation: Push the image to an allowed registry (the environment's imageRegistries, e.g. registry.example.com) and reference it there in training.image, serving.image or monitoring.drift.image.
package mlgitops.spec.image_from_unapproved_registry

import data.mlgitops.lib.images
import data.mlgitops.lib.safe
import data.mlgitops.lib.spec

deny contains spec.finding(msg, x.field) if {
	registries := [r | some r in safe.list(input.environment, "imageRegistries"); is_string(r)]
	some x in spec.images(input.system)
	not images.allowed(x.image, registries)
	msg := sprintf("image '%v' comes from registry '%v', which environment '%v' does not allow (allowed: %v)", [x.image, images.registry(x.image), input.environment.name, _allowed_text(registries)])
}

_allowed_text(registries) := concat(", ", registries) if {
	count(registries) > 0
} else := "none declared"
