# Helpers shared by the rules: findings, environment tier, the spec's images, where a component lives in the spec.
package mlgitops.lib.spec

import data.mlgitops.lib.safe

# A finding; `field` (a dotted spec path) is left out when empty, and the gate then maps it by component.
finding(msg, field) := {"msg": msg, "field": field} if {
	field != ""
} else := {"msg": msg}

tier(environment) := safe.get(environment, "tier", "dev")

prod(environment) if tier(environment) == "prod"

# Sensitive data: personal data (GDPR) or a confidential/restricted classification.
sensitive(system) if system.compliance.pii == true

sensitive(system) if system.compliance.dataClassification in {"confidential", "restricted"}

# The images a spec names, each with the field that names it.
images(system) := [{"field": field, "image": image} |
	some field, path in {
		"training.image": ["training", "image"],
		"serving.image": ["serving", "image"],
		"monitoring.drift.image": ["monitoring", "drift", "image"],
	}
	image := safe.get(system, path, null)
	is_string(image)
]

# The spec section a rendered object's component label points at, for manifest findings ("" when none).
section(component) := "serving" if {
	component == "serving"
} else := "training" if {
	component == "training"
} else := "monitoring.drift" if {
	component == "monitoring"
} else := ""

# `section(component) + "." + leaf`, or "" when the component has no section.
field_of(component, leaf) := sprintf("%v.%v", [section(component), leaf]) if {
	section(component) != ""
} else := ""
