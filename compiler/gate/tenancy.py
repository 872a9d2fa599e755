"""Tenancy rules (`MLG-TEN-*`): a system reaches only what tenancy.yaml grants the team that owns its spec file.

Input: the `Tenancy` (None in a single-tenant repository), the merged systems to judge, every merged system of the
run (routes are compared across all of them, whatever the shard) and the day judged. Output: critical findings at
the spec line that asks too much. They are added after waivers are applied: a spec's own `waivers:` never waive
them — the remedy is a grant in tenancy.yaml, which the platform reviews. Without a tenancy file only the route
rule runs (two systems on one host and path), and the report carries `SINGLE_TENANT`.

They run in `check` only: they are policy verdicts, reported as findings (severity, `explain`, every report format)
with the rest of the gate, and they need the day judged (waiver expiry) and every system (routes); `validate` and
`compile` refuse a tenancy file that is itself broken (E2xx/E306), as any other input.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from ..cost import gpu_share
from ..load import FieldPath
from ..merge import MergedSystem
from ..model.mlsystem import Gpu
from ..model.pipeline import StepKind
from ..model.tenancy import Team, Tenancy
from ..tenancy import TENANCY_FILE, host_covered, model_covered, owners, paths_overlap, vault_path, within
from .finding import Finding, Rule

PREFIX = "MLG-TEN-"
SINGLE_TENANT = (f"single-tenant: there is no {TENANCY_FILE}, so the gate limits no team's reach (spec ownership, "
                 "Vault paths, data, models, hosts, budgets, priority classes, waiver approvers); add one before "
                 "teams share this repository")
_REMEDY = f"Ask the platform team for a grant in {TENANCY_FILE} (reviewed by them through CODEOWNERS), or remove it."


def _rule(number: int, name: str, title: str, rationale: str, remediation: str = _REMEDY) -> Rule:
    return Rule(f"{PREFIX}{number:03d}", "critical", title, rationale, remediation, "schema", name)


OWNERLESS, TEAM, SECRET, DATA, MODEL, HOST, PLATFORM_HOST, ROUTE, BUDGET, PRIORITY, APPROVER, EXPIRY = (
    f"{PREFIX}{n:03d}" for n in range(1, 13))
_ISOLATION = ("Multi-tenant isolation (ISO 27001 A.8.3 access restriction, SOC 2 CC6.1 logical access): in a shared "
              "platform repository a pull request of one team must not reach what belongs to another team or to "
              "the platform.")
RULES = {rule.id: rule for rule in (
    _rule(1, "spec-file-without-owner", "Exactly one team owns the spec file",
          f"Ownership decides whose grants apply. {_ISOLATION}",
          f"Add the file (or a glob of it) to one team's `specs` in {TENANCY_FILE}."),
    _rule(2, "team-is-not-the-file-owner", "metadata.team is the team that owns the spec file",
          "metadata.team names the Argo CD AppProject and the group bound to the namespace: writing another "
          f"team's name would deploy into that team's project and open the namespace to its people. {_ISOLATION}",
          f"Set metadata.team to the owner of the file in {TENANCY_FILE}."),
    _rule(3, "secret-outside-team-vault-paths", "A secret comes from the team's Vault paths",
          "The environment's secret store can read every team's secrets; only the Vault path decides whose "
          f"are read. {_ISOLATION}"),
    _rule(4, "data-outside-team-prefixes", "Data URIs are under the team's prefixes",
          "Training data, schemas and validation records of another team may be personal or confidential data "
          f"the system has no purpose to process (GDPR Art. 5(1)(b) purpose limitation). {_ISOLATION}"),
    _rule(5, "model-of-another-team", "The model is one the team may serve and train",
          "Serving or retraining another team's registered model bypasses its owners' validation and "
          f"model-risk sign-off. {_ISOLATION}"),
    _rule(6, "ingress-host-not-granted", "The ingress host is one of the team's hosts or domains",
          f"A host on the shared ingress controller receives its users' traffic and credentials. {_ISOLATION}"),
    _rule(7, "ingress-host-of-the-platform", "No system claims a host of the platform",
          "The platform's hosts (Argo CD, MLflow, Grafana, the API servers) serve every team; a system on one of "
          "them could capture logins and tokens of all of them.",
          f"Choose a host the team is granted in {TENANCY_FILE}."),
    _rule(8, "ingress-route-claimed-twice", "One host and path prefix has one system",
          "The ingress controller merges the rules of every Ingress: two systems on one host whose path prefixes "
          "overlap split or steal each other's traffic.",
          "Give the system its own host, or a path prefix no other system's path contains or lies under."),
    _rule(9, "over-team-budget", "The system stays within its team's budget",
          "Budgets keep one team from taking the shared GPUs and nodes of all (FinOps cost control, fair sharing); "
          "peak GPUs count serving at replicas.max (twice with a canary), every training worker, the drift check "
          "and the pipeline's other steps, in whole-GPU equivalents.",
          f"Ask less, or ask the platform team to raise the budget in {TENANCY_FILE}."),
    _rule(10, "priority-class-not-granted", "Training runs at a PriorityClass the team may use",
          "A PriorityClass is cluster-wide: a higher one preempts every other team's pods."),
    _rule(11, "waiver-not-allowed", "The waiver is approved by one of the team's approvers, for a rule that can be "
                                    "waived",
          "An exception is only as good as its approver: one the author names themselves is no review. Tenancy "
          "rules are never waived in a spec: the remedy is a grant.",
          f"Have one of the team's approvers in {TENANCY_FILE} approve it, or fix what the rule reports."),
    _rule(12, "waiver-too-long", "The waiver expires within the team's longest waiver",
          "Exceptions are temporary by design; one that runs for years is a permanent policy change that "
          "nobody reviewed as one.",
          f"Set `expires:` within the team's waivers.maxDays in {TENANCY_FILE}, and renew it when it runs out."),
)}


def judge(tenancy: Tenancy | None, systems: list[MergedSystem], every: list[MergedSystem],
          today: date) -> list[Finding]:
    findings = list(_routes(systems, every))
    if tenancy is None:
        return findings
    for system in systems:
        findings += [_finding(system, rule, path, message) for rule, path, message in _grants(tenancy, system, today)]
    return findings


def _finding(system: MergedSystem, rule: str, path: FieldPath, message: str) -> Finding:
    where = system.source.locate(path)
    return Finding(rule, RULES[rule].severity, "schema", message, system.name, system.env, where.file, where.line,
                   where.column)


Problem = tuple[str, FieldPath, str]


def _grants(tenancy: Tenancy, system: MergedSystem, today: date) -> Iterator[Problem]:
    spec, file = system.spec, system.spec_file
    claimed = owners(tenancy, file)
    if len(claimed) != 1:
        which = f"by teams {' and '.join(claimed)}" if claimed else "by no team"
        yield OWNERLESS, ("metadata", "team"), f"{file} is owned {which} in {TENANCY_FILE}"
        return
    (owner,) = claimed
    team, of_team = tenancy.teams[owner], f"of team {owner!r}"
    if spec.metadata.team != owner:
        yield TEAM, ("metadata", "team"), (f"team {spec.metadata.team!r} does not own {file}; its owner in "
                                           f"{TENANCY_FILE} is {owner!r}")
    for i, secret in enumerate(spec.secrets):
        if not any(within(vault_path(secret.source), vault_path(prefix)) for prefix in team.vault):
            yield SECRET, ("secrets", i, "from"), (f"{secret.source} is outside the Vault paths {of_team}"
                                                   f"{_granted(team.vault)}")
    for path, uri in _data_uris(system):
        if not any(within(uri, prefix) for prefix in team.data):
            yield DATA, path, f"{uri} is outside the data prefixes {of_team}{_granted(team.data)}"
    if spec.model is not None and not any(model_covered(spec.model.name, g) for g in team.models):
        yield MODEL, ("model", "name"), (f"model {spec.model.name!r} is not one of the models {of_team}"
                                         f"{_granted(team.models)}")
    ingress = spec.serving.ingress if spec.serving else None
    if ingress is not None:
        host = ("serving", "ingress", "host")
        platform = next((g for g in tenancy.platform.hosts if host_covered(ingress.host, g)), None)
        if platform:
            yield PLATFORM_HOST, host, f"host {ingress.host} is the platform's ({platform} in {TENANCY_FILE})"
        elif not any(host_covered(ingress.host, g) for g in team.hosts):
            yield HOST, host, f"host {ingress.host} is not one of the hosts {of_team}{_granted(team.hosts)}"
    yield from _budget(system, of_team, team)
    priority = spec.training.priority if spec.training else None
    if priority is not None and priority not in team.priority_classes:
        yield PRIORITY, ("training", "priority"), (f"PriorityClass {priority!r} is not one of the PriorityClasses "
                                                   f"{of_team}{_granted(team.priority_classes)}")
    yield from _waivers(system, of_team, team, today)


def _granted(grants: list[str]) -> str:
    return f" ({', '.join(grants)})" if grants else " (it has none)"


def _data_uris(system: MergedSystem) -> Iterator[tuple[FieldPath, str]]:
    spec = system.spec
    if spec.compliance.validation.record:
        yield ("compliance", "validation", "record"), spec.compliance.validation.record
    for i, ref in enumerate(spec.training.data if spec.training else []):
        yield ("training", "data", i, "uri"), ref.uri
    for i, step in enumerate(spec.pipeline.steps if spec.pipeline else []):
        if step.checks is not None and step.checks.schema_uri:
            yield ("pipeline", "steps", i, "checks", "schema"), step.checks.schema_uri


def peak_gpus(system: MergedSystem) -> list[tuple[FieldPath, str, float]]:
    """Where a system asks for GPUs, what, and how many whole-GPU equivalents at its peak."""
    spec = system.spec
    parts: list[tuple[FieldPath, str, float]] = []

    def add(path: FieldPath, pods: int, what: str, gpu: Gpu | None) -> None:
        if gpu is not None:
            parts.append((path, f"{what} {pods} × {gpu_share(gpu):g}", pods * gpu_share(gpu)))

    if spec.serving is not None:
        replicas = spec.serving.replicas.upper * (2 if spec.serving.in_canary else 1)
        add(("serving", "gpu"), replicas, "serving replicas" + (" (with the canary)" if spec.serving.in_canary else ""),
            spec.serving.gpu)
    if spec.training is not None:
        add(("training", "resources", "gpu"), spec.training.workers, "training workers", spec.training.resources.gpu)
    if spec.monitoring.drift is not None:
        add(("monitoring", "drift", "resources", "gpu"), 1, "drift check", spec.monitoring.drift.resources.gpu)
    for i, step in enumerate(spec.pipeline.steps if spec.pipeline else []):
        if step.kind is not StepKind.train and step.resources is not None:
            add(("pipeline", "steps", i, "resources", "gpu"), 1, f"step {step.name}", step.resources.gpu)
    return parts


def _budget(system: MergedSystem, of_team: str, team: Team) -> Iterator[Problem]:
    spec, budget = system.spec, team.budgets
    if spec.training is not None and spec.training.workers > budget.workers:
        yield BUDGET, ("training", "workers"), (f"{spec.training.workers} training workers exceed the budget "
                                                f"{of_team}: {budget.workers}")
    if spec.serving is not None and spec.serving.replicas.upper > budget.replicas:
        field = "max" if spec.serving.replicas.max is not None else "min"
        yield BUDGET, ("serving", "replicas", field), (f"{spec.serving.replicas.upper} serving replicas exceed the "
                                                       f"budget {of_team}: {budget.replicas}")
    parts = peak_gpus(system)
    total = sum(amount for _, _, amount in parts)
    if total > budget.gpus:
        largest = max(parts, key=lambda part: part[2])
        shown = " + ".join(what for _, what, _ in parts)
        yield BUDGET, largest[0], (f"{total:g} GPUs at peak ({shown}) exceed the budget {of_team}: "
                                   f"{budget.gpus:g} per system")


def _waivers(system: MergedSystem, of_team: str, team: Team, today: date) -> Iterator[Problem]:
    grant = team.waivers
    approvers = {a.lower() for a in grant.approvers} if grant else set()
    for i, waiver in enumerate(system.spec.waivers):
        if waiver.rule.startswith(PREFIX):
            yield APPROVER, ("waivers", i, "rule"), (f"{waiver.rule} cannot be waived in a spec; the remedy is a "
                                                     f"grant in {TENANCY_FILE}")
            continue
        if waiver.approved_by is not None and waiver.approved_by.lower() not in approvers:
            yield APPROVER, ("waivers", i, "approvedBy"), (f"{waiver.approved_by} may not approve the waivers "
                                                           f"{of_team}{_granted(grant.approvers if grant else [])}")
        days = (waiver.expires - today).days if waiver.expires is not None else 0
        if grant and days > grant.max_days:
            yield EXPIRY, ("waivers", i, "expires"), (f"waiver for {waiver.rule} runs until "
                                                      f"{waiver.expires.isoformat()}, in {days} days; the waivers "
                                                      f"{of_team} run at most {grant.max_days} days")


def _routes(systems: list[MergedSystem], every: list[MergedSystem]) -> Iterator[Finding]:
    """Every pair of systems of one environment on one host with overlapping path prefixes, each naming the other."""
    claims = [(s, s.spec.serving.ingress) for s in every if s.spec.serving and s.spec.serving.ingress]
    judged = {(s.env, s.name) for s in systems}
    for system, ingress in claims:
        if (system.env, system.name) not in judged:
            continue
        for other, theirs in claims:
            if other.env == system.env and other.name != system.name and theirs.host == ingress.host \
                    and paths_overlap(ingress.path, theirs.path):
                there = other.source.locate(("serving", "ingress", "host"))
                yield _finding(system, ROUTE, ("serving", "ingress", "host"),
                               f"{ingress.host}{ingress.path} overlaps {theirs.host}{theirs.path} of system "
                               f"{other.name!r} at {there}")
