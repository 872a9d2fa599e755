# METADATA
# title: EU AI Act high-risk systems must log predictions and decisions for audit (compliance.auditLogging true)
# description: EU AI Act Art. 12 (record-keeping) and Art. 19/26(6) (keeping the automatically generated logs) - a high-risk AI system must record events over its lifetime so that its outputs can be traced and investigated after an incident or a complaint.
# custom:
#   id: MLG-AIA-002
#   severity: high
#   remediation: Log every prediction and decision with its inputs, model version and time, keep the logs for the retention period, and set compliance.auditLogging to true.
package mlgitops.spec.high_risk_without_audit_logging

import data.mlgitops.lib.safe
import data.mlgitops.lib.spec

deny contains spec.finding(msg, "compliance.auditLogging") if {
	input.system.compliance.riskCategory == "high"
	safe.get(input.system, ["compliance", "auditLogging"], false) != true
	msg := sprintf("system '%v' is high-risk under the EU AI Act but compliance.auditLogging is not true", [input.system.metadata.name])
}
