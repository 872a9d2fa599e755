# METADATA
# title: Prod serving must keep at least two replicas (serving.replicas.min >= 2)
# description: Reliability (Google SRE, NIST SP 800-53 CP-10/SC-6 availability, EU AI Act Art. 15 robustness) - with one replica every node drain, rollout, eviction or crash is an outage of the model, and scale-to-zero adds a cold start to the first request; two replicas spread over zones survive a single failure.
# custom:
#   id: MLG-REL-001
#   severity: medium
#   remediation: Set serving.replicas.min to 2 or more for prod (environments.prod.serving.replicas.min, or rely on the prod environment default).
package mlgitops.spec.single_replica_serving_in_prod

import data.mlgitops.lib.spec

deny contains spec.finding(msg, "serving.replicas.min") if {
	spec.prod(input.environment)
	replicas := input.system.serving.replicas.min
	replicas < 2
	msg := sprintf("serving.replicas.min is %v in %v; prod needs at least 2", [replicas, input.environment.name])
}
