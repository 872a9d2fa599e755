# METADATA
# title: Prod serving must declare a service-level objective (serving.slo)
# description: Reliability and model-risk monitoring (Google SRE workbook, SR 11-7 ongoing monitoring, EU AI Act Art. 15 and 72 post-market monitoring) - without an SLO mlgitops renders no burn-rate alerts, so a degraded or failing model in production pages nobody.
# custom:
#   id: MLG-REL-003
#   severity: medium
#   remediation: Add serving.slo with at least one objective (availability 99.9%, errorRate 1%, latencyP95 150ms).
package mlgitops.spec.serving_without_slo_in_prod

import data.mlgitops.lib.safe
import data.mlgitops.lib.spec

deny contains spec.finding(msg, "serving.slo") if {
	spec.prod(input.environment)
	input.system.serving != null
	not _has_objective
	msg := sprintf("serving of '%v' declares no SLO (availability, errorRate or latencyP95) in %v", [input.system.metadata.name, input.environment.name])
}

_has_objective if {
	some key in ["availability", "errorRate", "latencyP95"]
	safe.get(input.system, ["serving", "slo", key], null) != null
}
