# METADATA
# title: Prod serving must pin a registered model version, not an alias or an unresolved reference
# description: Model-risk management (SR 11-7 / OCC 2011-12 model inventory and change control, EU AI Act Art. 12 and 17 traceability) - an alias can be moved to another version in the registry without a pull request, so what prod serves would change without review, validation or a record of which version answered which request.
# custom:
#   id: MLG-MRM-001
#   severity: high
#   remediation: Let the registry resolve model.alias to a version (mlgitops.lock.yaml) or set model.version to the validated version for prod (environments.prod.model.version).
package mlgitops.spec.unpinned_model_in_prod

import data.mlgitops.lib.safe
import data.mlgitops.lib.spec

deny contains spec.finding(msg, _field(input.system.model)) if {
	spec.prod(input.environment)
	input.system.serving != null
	input.model != null
	safe.get(input.model, "version", null) == null
	msg := sprintf("prod serves model '%v' through %v, which is not pinned to a registered version", [input.model.name, _reference(input.model)])
}

_reference(model) := sprintf("alias '%v'", [model.alias]) if {
	is_string(model.alias)
} else := sprintf("'%v'", [safe.get(model, "sourceUri", "an unresolved reference")])

_field(model) := "model.alias" if {
	is_string(model.alias)
} else := "model.version"
