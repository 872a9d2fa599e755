# METADATA
# title: Systems processing personal data (pii true) must declare compliance.residency
# description: GDPR Chapter V (Art. 44-49, transfers to third countries) and Art. 30 records of processing - where personal data may be processed must be decided and recorded before it is processed; without a declared residency no gate can stop a deployment to a region outside the EU/EEA or an adequacy decision.
# custom:
#   id: MLG-GDPR-001
#   severity: high
#   remediation: Add compliance.residency with the regions the data protection officer approved for this data (e.g. [eu-west-1, eu-central-1]).
package mlgitops.spec.personal_data_without_residency

import data.mlgitops.lib.safe
import data.mlgitops.lib.spec

deny contains spec.finding(msg, "compliance.residency") if {
	input.system.compliance.pii == true
	count(safe.list(input.system, ["compliance", "residency"])) == 0
	msg := sprintf("system '%v' processes personal data (pii: true) but declares no compliance.residency", [input.system.metadata.name])
}
