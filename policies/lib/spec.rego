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

# The images a spec names, each with the field that names it (pipeline steps that bring their own too).
images(system) := array.concat(_section_images(system), _step_images(system))

_section_images(system) := [{"field": field, "image": image} |
	some field, path in {
		"training.image": ["training", "image"],
		"serving.image": ["serving", "image"],
		"monitoring.drift.image": ["monitoring", "drift", "image"],
	}
	image := safe.get(system, path, null)
	is_string(image)
]

_step_images(system) := [{"field": sprintf("pipeline.steps[%d].image", [i]), "image": image} |
	some i, step in safe.items(system, ["pipeline", "steps"])
	image := safe.get(step, "image", null)
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

# The steps of a spec's pipeline (empty without one).
steps(system) := safe.items(system, ["pipeline", "steps"])

# Names of the steps a step waits for: its dependsOn, or (when no step writes one) the step written before it.
needs(system, i) := [name | some name in safe.list(steps(system)[i], "dependsOn")] if {
	_dag(system)
} else := [steps(system)[i - 1].name] if {
	i > 0
} else := []

_dag(system) if {
	some step in steps(system)
	safe.get(step, "dependsOn", null) != null
}

# Every step that has finished before step i starts.
upstream(system, i) := graph.reachable({step.name: needs(system, j) | some j, step in steps(system)}, needs(system, i))

# The GPU request of step i: its own resources', or for a train step without its own, training's.
step_gpu(system, i) := gpu if {
	gpu := safe.get(steps(system)[i], ["resources", "gpu"], null)
	gpu != null
} else := safe.get(system, ["training", "resources", "gpu"], null) if {
	steps(system)[i].kind == "train"
	safe.get(steps(system)[i], "resources", null) == null
} else := null
