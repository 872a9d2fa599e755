"""Pass 6 — gate: compile in memory, then judge every system × environment (one `gate.unit` per unit).

Input: a `Workspace` (and `--opa-url`, `today`, the cache, a shard, how many processes). Output: a `GateResult` —
the units' findings (see unit.py), waivers applied over each system's environments, the verdict's thresholds and
the model versions that moved. Units are judged in parallel, and only those whose objects changed since a cached
run (a trusted cache renders every unit first, see cache.py). Before judging, the lock's pins are checked against
the model registry (`verify.py`): a pin that differs is an error at its lock line; one that could not be checked is
a note, and in prod a finding (MLG-LOCK-001). After the waivers, the tenancy rules (`tenancy.py`): what a spec asks
beyond its team's grants is never waived. The model versions that moved are those against the lock at `base` (a
git revision, default HEAD). Errors: as the passes before it, plus `SpecError`s from a broken policy library, a
failing engine or a lock the registry contradicts — the gate fails closed.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from ..cache import Cache, tree_digest
from ..cluster.snapshot import CLUSTERS_DIR
from ..driver import Job, Pins, Workspace, cached_render, prepare
from ..errors import Code, Diagnostic, Location, SpecError
from ..parallel import run_all
from ..pins import base_lock, pin_changes
from ..shard import WHOLE, Shard
from ..unitkey import UnitKey
from ..verify import verify_lock
from . import checkov, cluster, crd_rules, lock_rules, tenancy, waivers
from .finding import Finding, GateResult, ModelChange, Rule
from .policies import load_library
from .rego import make_engine
from .unit import GateContext, UnitFindings, cached_findings, gate_unit

# Rules written in Python: what no single spec's Rego input can see (waivers, the registry, other teams' claims).
BUILT_IN_RULES: dict[str, Rule] = {**waivers.RULES, **lock_rules.RULES, **tenancy.RULES, **cluster.RULES,
                                   **crd_rules.RULES}


def run_gate(ws: Workspace, opa_url: str | None = None, today: date | None = None, *, cache: Cache | None = None,
             shard: Shard = WHOLE, jobs: int | None = None, offline: bool = False,
             base: str | None = None, crds: Path | None = None) -> GateResult:
    today = today or date.today()
    if crds is not None and not crds.is_dir():
        raise SpecError([Diagnostic(Code.USAGE, Location("--crds"), f"{crds} is not a directory of CRD files")])
    library = load_library(ws.root / "policies", ws.root)  # before compiling: a broken policy fails fast
    config = checkov.load_config(ws.root / "policies" / "checkov.yaml", "policies/checkov.yaml")
    if opa_url:
        make_engine(library, opa_url)  # an unreachable server fails fast, before any work
    cache = cache or Cache(enabled=False)
    prepared = prepare(ws, cache, offline=offline)
    mine = shard.systems(s.name for s in prepared.systems)
    systems = [s for s in prepared.systems if s.name in mine]
    pins = {key: pin for key, pin in prepared.pins.items() if key[1] in mine}
    verification = verify_lock(pins, systems, ws.root, offline=offline)  # before any work: a forged lock fails fast
    context = GateContext(ws.root, today, opa_url, cache, tree_digest(ws.root / "policies"),
                          tree_digest(ws.root / CLUSTERS_DIR), crds, tree_digest(crds) if crds else "")
    # A repository that keeps no snapshots does not use the cluster-aware rules; one that does hears of each gap.
    cluster_notes = tuple(_cluster_note(context, env, today) for env in sorted(prepared.environments)) \
        if (ws.root / CLUSTERS_DIR).is_dir() else ()
    # Argo CD units list every system: each shard judges them and keeps the findings of its own systems.
    chosen = [job for job in prepared.jobs if job.argocd or job.system in mine]
    outcomes = [_already_judged(job, context) for job in chosen]  # only the rest needs workers
    misses = [index for index, outcome in enumerate(outcomes) if outcome is None]
    for index, outcome in zip(misses, run_all(gate_unit, [(chosen[i], context) for i in misses], jobs), strict=True):
        outcomes[index] = outcome
    rules: dict[str, Rule] = {**library.rules(), **BUILT_IN_RULES}
    findings: list[Finding] = []
    for outcome in outcomes:
        findings += [f for f in outcome.findings if f.system in mine]
        for check_id, title in sorted(outcome.checkov_titles.items()):
            rules.setdefault(check_id, checkov.rule_for(check_id, title, config))

    findings, on_record = waivers.apply_waivers(_unique(findings), systems, today)
    findings += lock_rules.unverified_findings(systems, verification)  # after the waivers: none covers it
    findings += tenancy.judge(prepared.tenancy, systems, prepared.systems, today)  # after waivers: never waived
    notes = (() if prepared.tenancy else (tenancy.SINGLE_TENANT,)) + verification.notes + cluster_notes
    units = tuple(sorted(UnitKey(s.env, s.name) for s in systems))
    fail_on = {env: doc.spec.policy.fail_on.value for env, doc in prepared.environments.items()}
    changes = _model_changes(base_lock(ws.root, base or "HEAD", cache, required=base is not None), pins)
    cache.flush()
    if ws.whole and shard.whole:
        cache.prune()
    return GateResult(tuple(sorted(findings, key=Finding.sort_key)), rules, units, fail_on, tuple(on_record), today,
                      changes, None if shard.whole else (shard.index, shard.count), notes)


def _cluster_note(context: GateContext, env: str, today: date) -> str:
    """Which facts the cluster-aware rules judged an environment by (read here first: a broken snapshot fails
    fast, at its line), or that they did not run."""
    snapshot = context.snapshot(env)
    if snapshot is None:
        return (f"{env}: no {CLUSTERS_DIR}/{env}.yaml, so scheduling and admission on its cluster were not judged "
                f"(`mlgitops cluster snapshot --env {env}` writes it)")
    return f"{env}: {cluster.snapshot_note(snapshot, f'{CLUSTERS_DIR}/{env}.yaml', today)}"


def _already_judged(job: Job, context: GateContext) -> UnitFindings | None:
    """A unit whose cached objects have a gate entry bound to them, found without starting a worker (a trusted
    cache has no objects to offer: its units are rendered, and their entries looked up, by `gate_unit`)."""
    output = cached_render(job, context.cache)
    return cached_findings(job, context, output) if output is not None else None


def _model_changes(base: Pins, pins: Pins) -> tuple[ModelChange, ...]:
    """The pins whose model or version moved (the table of the PR comment; `diff` lists every field)."""
    moved = [(c.env, c.system) for c in pin_changes(base, pins)
             if (c.env, c.system) in pins and {"model", "version"} & {name for name, _, _ in c.fields}]
    return tuple(ModelChange(env, system, pins[(env, system)].name,
                             base[(env, system)].version if (env, system) in base else None,
                             pins[(env, system)].version) for env, system in moved)


def _unique(findings: list[Finding]) -> list[Finding]:
    """One finding per rule, place, environment, resource and message (a rule may match twice on one object)."""
    return list(dict.fromkeys(findings))


def explain_rule(rule_id: str, root: Path) -> Rule | None:
    """A rule's documentation: own rules from the library, the built-in rules, or Checkov's registry."""
    from ..cluster.dryrun import RULES as VERIFY_RULES

    rules = {**load_library(root / "policies", root).rules(), **BUILT_IN_RULES, **VERIFY_RULES}
    if rule_id in rules:
        return rules[rule_id]
    if rule_id.startswith("CKV"):
        from checkov.kubernetes.checks.resource.registry import registry

        check = registry.get_check_by_id(rule_id)
        if check is not None:
            config = checkov.load_config(root / "policies" / "checkov.yaml", "policies/checkov.yaml")
            return checkov.rule_for(rule_id, check.name, config)
    return None
