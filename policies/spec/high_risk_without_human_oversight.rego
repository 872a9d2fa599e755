# METADATA
# title: EU AI Act high-risk systems must name a human-oversight contact (compliance.humanOversight)
# description: EU AI Act Art. 14 (human oversight) and Art. 26 (deployer obligations) - a high-risk AI system must be overseen by natural persons with the competence and authority to understand, override or stop it; the contact must be on record before the system is deployed.
# custom:
#   id: MLG-AIA-001
#   severity: high
#   remediation: Set compliance.humanOversight to the e-mail of the person or group who can override or stop the system (e.g. fraud-review-lead@example.com).
package mlgitops.spec.high_risk_without_human_oversight

import data.mlgitops.lib.safe
import data.mlgitops.lib.spec

deny contains spec.finding(msg, "compliance.humanOversight") if {
	input.system.compliance.riskCategory == "high"
	safe.get(input.system, ["compliance", "humanOversight"], null) == null
	msg := sprintf("system '%v' is high-risk under the EU AI Act but names no compliance.humanOversight contact", [input.system.metadata.name])
}
