# METADATA
# title: The model version served in prod must carry the registry tag validation.status approved
# description: Model-risk management (SR 11-7 effective challenge - independent validation and approval before use) and EU AI Act Art. 17 (quality management, approval procedures) - a version that validation rejected, or never reviewed, must not reach production whatever its metrics.
# custom:
#   id: MLG-MRM-003
#   severity: high
#   remediation: Have model validation approve the version (registry tag validation.status approved) and pin an approved version in model.version.
package mlgitops.spec.unapproved_model_version_in_prod

import data.mlgitops.lib.safe
import data.mlgitops.lib.spec

deny contains spec.finding(msg, "model.version") if {
	spec.prod(input.environment)
	input.system.serving != null
	input.model != null
	safe.get(input.model, "version", null) != null
	status := safe.get(input.model, ["tags", "validation.status"], null)
	status != "approved"
	msg := sprintf("model '%v' version %v %v; prod serves only approved versions", [input.model.name, input.model.version, _status_text(status)])
}

_status_text(status) := "has no validation.status tag" if {
	status == null
} else := sprintf("has validation.status '%v'", [status])
