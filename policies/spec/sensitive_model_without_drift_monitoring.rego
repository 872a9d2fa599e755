# METADATA
# title: In prod, a served model that processes personal data or is EU AI Act high-risk must have drift monitoring (monitoring.drift)
# description: EU AI Act Art. 72 (post-market monitoring) and Art. 15 (accuracy over the lifecycle), model-risk management (SR 11-7 ongoing monitoring), GDPR Art. 5(1)(d) accuracy - a model whose input or output distribution drifts keeps deciding about people with degraded accuracy, and without a drift check nobody learns of it until the harm is done.
# custom:
#   id: MLG-OBS-002
#   severity: medium
#   remediation: Add monitoring.drift with an image that computes the drift score (e.g. metric psi, threshold 0.2); mlgitops schedules it and alerts on the threshold.
package mlgitops.spec.sensitive_model_without_drift_monitoring

import data.mlgitops.lib.safe
import data.mlgitops.lib.spec

deny contains spec.finding(msg, "monitoring.drift") if {
	spec.prod(input.environment)
	input.system.serving != null
	count(_why) > 0
	safe.get(input.system, ["monitoring", "drift"], null) == null
	msg := sprintf("serving of '%v' (%v) has no monitoring.drift in %v", [input.system.metadata.name, concat(", ", _why), input.environment.name])
}

_why := [reason |
	some reason, applies in {
		"EU AI Act high risk": safe.get(input.system, ["compliance", "riskCategory"], null) == "high",
		"personal data": safe.get(input.system, ["compliance", "pii"], false) == true,
	}
	applies
]
