# METADATA
# title: EU AI Act high-risk systems must link a validation record (compliance.validation.record)
# description: EU AI Act Art. 11 and Annex IV (technical documentation), Art. 9 and 15 (testing for accuracy and robustness), and model-risk management (SR 11-7 validation) - the evaluation that shows the model is fit for purpose must exist and be findable before the system is deployed.
# custom:
#   id: MLG-AIA-003
#   severity: high
#   remediation: Set compliance.validation.record to the URL of the model card or validation report (e.g. https://models.example.com/fraud-xgb/validation-report).
package mlgitops.spec.high_risk_without_validation_record

import data.mlgitops.lib.safe
import data.mlgitops.lib.spec

deny contains spec.finding(msg, "compliance.validation.record") if {
	input.system.compliance.riskCategory == "high"
	safe.get(input.system, ["compliance", "validation", "record"], null) == null
	msg := sprintf("system '%v' is high-risk under the EU AI Act but has no compliance.validation.record", [input.system.metadata.name])
}
