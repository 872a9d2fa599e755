# METADATA
# title: The model version served in prod must have been validated within compliance.validation.maxAgeDays
# description: Model-risk management (SR 11-7 ongoing monitoring and periodic revalidation, EU AI Act Art. 9 and 15 accuracy over the lifecycle) - data and behaviour drift, so a model whose validation is older than the system's revalidation period, or that carries no validation date at all, is served without evidence that it is still fit for purpose.
# custom:
#   id: MLG-MRM-002
#   severity: high
#   remediation: Revalidate the model, record the date as the registry tag validation.date (YYYY-MM-DD) on the version and pin that version in model.version; compliance.validation.maxAgeDays sets the period.
package mlgitops.spec.stale_model_validation_in_prod

import data.mlgitops.lib.dates
import data.mlgitops.lib.safe
import data.mlgitops.lib.spec

_model_ready if {
	spec.prod(input.environment)
	input.system.serving != null
	input.model != null
	safe.get(input.model, "version", null) != null
}

_date := safe.get(input, ["model", "tags", "validation.date"], null)

_max_age := safe.get(input, ["system", "compliance", "validation", "maxAgeDays"], 180)

_what := sprintf("model '%v' version %v", [input.model.name, input.model.version])

deny contains spec.finding(sprintf("%v has no validation.date tag in the registry", [_what]), "model.version") if {
	_model_ready
	_date == null
}

deny contains spec.finding(sprintf("%v has validation.date '%v', which is not a YYYY-MM-DD date", [_what, _date]), "model.version") if {
	_model_ready
	_date != null
	not dates.valid(_date)
}

deny contains spec.finding(msg, "model.version") if {
	_model_ready
	dates.valid(_date)
	dates.valid(input.today)
	age := dates.days_between(_date, input.today)
	age > _max_age
	msg := sprintf("%v was validated on %v, %v days before %v; compliance.validation.maxAgeDays is %v", [_what, _date, age, input.today, _max_age])
}

deny contains spec.finding(sprintf("%v has validation.date %v, after today (%v)", [_what, _date, input.today]), "model.version") if {
	_model_ready
	dates.valid(_date)
	dates.valid(input.today)
	dates.days_between(_date, input.today) < 0
}
