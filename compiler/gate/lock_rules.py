"""MLG-LOCK-001: in a prod-tier environment, a model pin the registry did not confirm blocks the gate.

Built in, like the waiver rules, not a Rego file: it judges whether the gate could trust its own input (the lock,
which a pull request can edit), so a pull request must not be able to remove it from `policies/`; and no waiver
covers it (a waiver cannot make the registry answer). Input: the merged systems and `verify.Verification`. Output:
one finding per unverified prod pin, at the spec's `model` line.
"""

from __future__ import annotations

from ..merge import MergedSystem
from ..model.environment import tier_of
from ..verify import Verification
from .finding import Finding, Rule

UNVERIFIED = "MLG-LOCK-001"
RULES = {
    UNVERIFIED: Rule(
        UNVERIFIED, "critical", "A prod model pin is confirmed by the model registry",
        "The prod model-risk rules (an approved validation, a recent validation date) judge the tags the lock "
        "records, and the lock is a file a pull request can edit: in prod they count only once the registry has "
        "confirmed them (model-risk management, SR 11-7; EU AI Act Art. 9 and 17: what is deployed is what was "
        "validated).",
        "Run `mlgitops check` where the model registry is reachable (the environment's `mlflow.trackingUri` or "
        "MLFLOW_TRACKING_URI, with its credentials in CI) and without --offline.",
        "schema", "unverified-model-pin-in-prod"),
}


def unverified_findings(systems: list[MergedSystem], verification: Verification) -> list[Finding]:
    found = []
    for system in systems:
        reason = verification.unverified.get((system.env, system.name))
        if reason is None or tier_of(system.environment.spec) != "prod":
            continue
        model = system.spec.model
        where = system.source.locate(("model",))
        found.append(Finding(UNVERIFIED, RULES[UNVERIFIED].severity, "schema",
                             f"the lock's pin of model {model.name!r} was not verified against the model registry "
                             f"({reason}), so the prod model-risk rules cannot trust its tags", system.name,
                             system.env, where.file, where.line, where.column))
    return found
