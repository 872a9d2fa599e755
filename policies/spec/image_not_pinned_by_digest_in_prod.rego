# METADATA
# title: In prod, images should be pinned by digest (@sha256)
# description: Supply-chain integrity (SLSA build provenance, CIS Kubernetes image hygiene, the counterpart of Checkov CKV_K8S_43) - even a release tag can be re-pushed; only a digest guarantees that prod runs exactly the bytes that were scanned, signed and validated. Low severity because the release pipeline may pin digests after compile.
# custom:
#   id: MLG-SUP-003
#   severity: low
#   remediation: Reference the image by digest in the prod override (environments.prod.training.image / serving.image / monitoring.drift.image, e.g. registry.example.com/team/app:1.4.2@sha256 plus the digest), or waive MLG-SUP-003 on the record if the release pipeline pins digests.
package mlgitops.spec.image_not_pinned_by_digest_in_prod

import data.mlgitops.lib.images
import data.mlgitops.lib.spec

deny contains spec.finding(sprintf("image '%v' is not pinned by digest in %v", [x.image, input.environment.name]), x.field) if {
	spec.prod(input.environment)
	some x in spec.images(input.system)
	not images.pinned(x.image)
}
