"""Pass 6 — gate: compile in memory, then judge every system × environment (one `gate.unit` per unit).

Input: a `Workspace` (and `--opa-url`, `today`, the cache, a shard, how many processes). Output: a `GateResult` —
the units' findings (see unit.py), waivers applied over each system's environments, the verdict's thresholds and
the model versions that moved. Units are judged in parallel, and only those whose inputs changed since a cached
run. Errors: as the passes before it, plus `SpecError`s from a broken policy library or a failing engine — the gate
fails closed.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from ..cache import Cache, tree_digest
from ..lock import base_lock
from ..parallel import run_all
from ..pipeline import Pins, Workspace, prepare
from ..shard import WHOLE, Shard
from . import checkov, tenancy, waivers
from .finding import Finding, GateResult, ModelChange, Rule
from .policies import load_library
from .rego import make_engine
from .unit import GateContext, cached_findings, gate_unit


def run_gate(ws: Workspace, opa_url: str | None = None, today: date | None = None, *, cache: Cache | None = None,
             shard: Shard = WHOLE, jobs: int | None = None) -> GateResult:
    today = today or date.today()
    library = load_library(ws.root / "policies", ws.root)  # before compiling: a broken policy fails fast
    config = checkov.load_config(ws.root / "policies" / "checkov.yaml", "policies/checkov.yaml")
    if opa_url:
        make_engine(library, opa_url)  # an unreachable server fails fast, before any work
    cache = cache or Cache(ws.root, enabled=False)
    prepared = prepare(ws, cache)
    mine = shard.systems(s.name for s in prepared.systems)
    context = GateContext(ws.root, today, opa_url, cache, tree_digest(ws.root / "policies"))
    # Argo CD units list every system: each shard judges them and keeps the findings of its own systems.
    chosen = [job for job in prepared.jobs if job.argocd or job.system in mine]
    outcomes = [cached_findings(job, context) for job in chosen]  # only the rest needs workers
    misses = [index for index, outcome in enumerate(outcomes) if outcome is None]
    for index, outcome in zip(misses, run_all(gate_unit, [(chosen[i], context) for i in misses], jobs), strict=True):
        outcomes[index] = outcome
    rules: dict[str, Rule] = {**library.rules(), **waivers.RULES, **tenancy.RULES}
    findings: list[Finding] = []
    for outcome in outcomes:
        findings += [f for f in outcome.findings if f.system in mine]
        for check_id, title in sorted(outcome.checkov_titles.items()):
            rules.setdefault(check_id, checkov.rule_for(check_id, title, config))

    systems = [s for s in prepared.systems if s.name in mine]
    findings, on_record = waivers.apply_waivers(_unique(findings), systems, today)
    findings += tenancy.judge(prepared.tenancy, systems, prepared.systems, today)  # after waivers: never waived
    notes = () if prepared.tenancy else (tenancy.SINGLE_TENANT,)
    units = tuple(sorted((s.env, s.name) for s in systems))
    fail_on = {env: doc.spec.policy.fail_on.value for env, doc in prepared.environments.items()}
    pins = {key: pin for key, pin in prepared.pins.items() if key[1] in mine}
    changes = _model_changes(base_lock(ws.root, cache=cache), pins)
    cache.flush()
    if ws.whole and shard.whole:
        cache.prune()
    return GateResult(tuple(sorted(findings, key=_order)), rules, units, fail_on, tuple(on_record), today, changes,
                      None if shard.whole else (shard.index, shard.count), notes)


def _model_changes(base: Pins, pins: Pins) -> tuple[ModelChange, ...]:
    changes = []
    for key, pin in sorted(pins.items()):
        old = base.get(key)
        if pin is not None and (old is None or old.version != pin.version or old.name != pin.name):
            changes.append(ModelChange(key[0], key[1], pin.name, old.version if old else None, pin.version))
    return tuple(changes)


def _order(f: Finding) -> tuple:
    return (f.file, f.line, f.column, f.rule, f.env, f.resource, f.message)


def _unique(findings: list[Finding]) -> list[Finding]:
    """One finding per rule, place, environment, resource and message (a rule may match twice on one object)."""
    return list(dict.fromkeys(findings))


def explain_rule(rule_id: str, root: Path) -> Rule | None:
    """A rule's documentation: own rules from the library, waiver and tenancy rules, or Checkov's registry."""
    rules = {**load_library(root / "policies", root).rules(), **waivers.RULES, **tenancy.RULES}
    if rule_id in rules:
        return rules[rule_id]
    if rule_id.startswith("CKV"):
        from checkov.kubernetes.checks.resource.registry import registry

        check = registry.get_check_by_id(rule_id)
        if check is not None:
            config = checkov.load_config(root / "policies" / "checkov.yaml", "policies/checkov.yaml")
            return checkov.rule_for(rule_id, check.name, config)
    return None
