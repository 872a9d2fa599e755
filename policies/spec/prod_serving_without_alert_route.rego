# METADATA
# title: Prod serving must route its alerts to an on-call receiver (monitoring.alertsTo)
# description: Incident response (ISO/IEC 27001 A.5.24-5.26, Google SRE, EU AI Act Art. 72-73 post-market monitoring and serious-incident reporting) - SLO burn-rate and drift alerts that reach no Alertmanager receiver are not seen by anyone, so an outage or a misbehaving model in production goes unanswered.
# custom:
#   id: MLG-OBS-001
#   severity: medium
#   remediation: Set monitoring.alertsTo to the Alertmanager receiver of the owning team's on-call (e.g. payments-risk-oncall).
package mlgitops.spec.prod_serving_without_alert_route

import data.mlgitops.lib.safe
import data.mlgitops.lib.spec

deny contains spec.finding(msg, "monitoring.alertsTo") if {
	spec.prod(input.environment)
	input.system.serving != null
	safe.get(input.system, ["monitoring", "alertsTo"], null) == null
	msg := sprintf("serving of '%v' runs in %v but monitoring.alertsTo routes its alerts to no receiver", [input.system.metadata.name, input.environment.name])
}
