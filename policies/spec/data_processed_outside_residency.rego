# METADATA
# title: Personal, confidential or restricted data may only be processed in a cluster region listed in compliance.residency
# description: GDPR Chapter V (Art. 44-49) restricts transfers of personal data outside the EU/EEA, and confidential or restricted data is bound by contract and data-localisation law - deploying the system to a cluster in a region its data may not leave is an unlawful transfer, whatever the code does.
# custom:
#   id: MLG-GDPR-002
#   severity: high
#   remediation: Deploy to an environment whose cluster.region is listed in compliance.residency, or, if the region was approved by the data protection officer, add it to compliance.residency.
package mlgitops.spec.data_processed_outside_residency

import data.mlgitops.lib.safe
import data.mlgitops.lib.spec

deny contains spec.finding(msg, "compliance.residency") if {
	spec.sensitive(input.system)
	residency := safe.list(input.system, ["compliance", "residency"])
	not _reported_elsewhere(residency)
	region := input.environment.cluster.region
	not region in residency
	msg := sprintf("cluster region '%v' of environment '%v' is not in compliance.residency %v (%v data)", [region, input.environment.name, residency, _what(input.system.compliance)])
}

# pii without any residency is MLG-GDPR-001's finding.
_reported_elsewhere(residency) if {
	input.system.compliance.pii == true
	count(residency) == 0
}

_what(compliance) := "personal" if {
	compliance.pii == true
} else := compliance.dataClassification
