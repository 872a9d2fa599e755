# METADATA
# title: Training, serving and drift images must use an immutable tag or a digest, never latest or no tag
# description: Supply-chain integrity (SLSA provenance, NIST SSDF PS.2, CIS Kubernetes image hygiene) and model-risk reproducibility (SR 11-7) - a floating tag such as latest (or no tag, which means latest) can point at different content on every pull, so the code that trained or serves a model is neither reviewable nor reproducible, and a careless push or a registry compromise changes production without a pull request.
# custom:
#   id: MLG-SUP-001
#   severity: high
#   remediation: Set training.image, serving.image and monitoring.drift.image to a release tag (registry.example.com/team/app:1.4.2) or a digest (@sha256 followed by the digest), never latest or a bare repository name.
package mlgitops.spec.mutable_image_tag

import data.mlgitops.lib.images
import data.mlgitops.lib.spec

deny contains spec.finding(sprintf("image '%v' %v", [x.image, reason]), x.field) if {
	some x in spec.images(input.system)
	reason := images.mutable_reason(x.image)
	reason != ""
}
