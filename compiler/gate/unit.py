"""The gate for one unit (a system in an environment, or an environment's Argo CD objects), as a worker runs it.

Input: a rendering `Job` and a `GateContext` (repository root, the day judged, the Rego engine, the cache).
Output: the unit's findings before waivers — the Rego spec rules once for the system, the Rego manifest rules once
per object, and one Checkov scan over the unit's objects — each mapped to the spec `file:line:col` that produced it,
plus the titles of the Checkov checks that failed. One Checkov scan per unit, not per repository: a unit is one
namespace, which is where Kubernetes selectors apply, while Checkov's graph links objects by labels across
namespaces and grows with the square of the object count.
A unit's result is cached under a key that adds the policy files, the day and the engine to its rendering key, and
the entry records the digest of the objects it judged: it counts only for those very objects (`objects_digest`),
which in a trusted run are the ones just rendered.
Mapping: a rule's `field` names the spec path; otherwise an object's `app.kubernetes.io/component` names its spec
section (the `COMPONENT` its chart declares: serving, training, pipeline, monitoring, secrets), and objects of the
system as a whole point at `metadata.name`.
Argo CD objects point at the environment file's `argocd` block.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from ..cache import Cache, canonical, digest
from ..cluster.snapshot import CLUSTERS_DIR, read_snapshot, snapshot_path
from ..driver import Job, Rendered, rendered
from ..emit import ARGOCD_DIR, Unit, layout
from ..errors import Location
from ..labels import COMPONENT_LABEL, PART_OF_LABEL
from ..load import FieldPath, parse_dotted
from ..merge import EnvironmentDoc, MergedSystem
from ..model.cluster import ClusterSnapshot
from . import checkov, cluster, crd_rules
from .finding import Finding, Rule
from .inputs import environment_input, manifest_input, spec_input
from .policies import load_library
from .rego import Violation, make_engine

# Checkov checks that are about one field of the container the spec describes.
CHECKOV_FIELDS = {"CKV_K8S_43": "image", "CKV_K8S_14": "image", "CKV_K8S_10": "resources",
                  "CKV_K8S_11": "resources", "CKV_K8S_12": "resources", "CKV_K8S_13": "resources"}


@dataclass(frozen=True, eq=False)
class GateContext:
    """What every unit is judged with; picklable, and each worker builds its engine from it once."""

    root: Path
    today: date
    opa_url: str | None
    cache: Cache
    policies: str  # digest of policies/: part of every gate key
    clusters: str = ""  # digest of clusters/, the snapshots the cluster-aware rules judge by
    crds: Path | None = None  # the CRDs custom resources are judged by (check --crds), with their digest
    crds_digest: str = ""

    @property
    def identity(self) -> tuple:
        return (self.root, self.today, self.opa_url, self.cache.identity, self.policies, self.clusters,
                self.crds, self.crds_digest)

    def key(self, job: Job) -> str:
        engine = f"opa-server {self.opa_url}" if self.opa_url else "in-process"
        return digest(job.key, self.policies, self.today.isoformat(), engine, self.clusters, self.crds_digest)

    def snapshot(self, env: str) -> ClusterSnapshot | None:
        """The environment's committed cluster snapshot, read once per process; None when there is none."""
        if env not in self._snapshots:
            path = snapshot_path(self.root, env)
            self._snapshots[env] = read_snapshot(path, f"{CLUSTERS_DIR}/{env}.yaml") if path.exists() else None
        return self._snapshots[env]

    @cached_property
    def _snapshots(self) -> dict[str, ClusterSnapshot | None]:
        return {}

    @cached_property
    def library(self):
        return load_library(self.root / "policies", self.root)

    @cached_property
    def engine(self):
        return make_engine(self.library, self.opa_url)

    @cached_property
    def checkov_config(self) -> checkov.CheckovConfig:
        return checkov.load_config(self.root / "policies" / "checkov.yaml", "policies/checkov.yaml")


@dataclass(frozen=True)
class UnitFindings:
    findings: list[Finding]
    checkov_titles: dict[str, str]  # check id → title, for the checks that failed


_contexts: dict[tuple, GateContext] = {}  # per process: engines are built once, not once per unit


def objects_digest(output: Rendered) -> str:
    """What a gate entry is bound to: the unit's objects and its objects for `_argocd/`, exactly."""
    objects, for_argocd = output
    return digest(canonical(objects), canonical(for_argocd))


def cached_findings(job: Job, context: GateContext, output: Rendered) -> UnitFindings | None:
    """The unit's findings from its gate entry, if that entry judged exactly these objects (else a miss)."""
    entry = context.cache.get("gate", context.key(job))
    if not isinstance(entry, dict) or entry.get("objects") != objects_digest(output):
        return None
    try:
        return UnitFindings([Finding(**f) for f in entry["findings"]], dict(entry["checkov"]))
    except (KeyError, TypeError, ValueError):
        return None  # not an entry this compiler wrote


def gate_unit(task: tuple[Job, GateContext]) -> UnitFindings:
    """A unit's findings: its objects (rendered, or from the cache unless it is trusted), then the gate entry bound
    to them, or else judged here and cached."""
    job, context = task
    context = _contexts.setdefault(context.identity, context)
    output = rendered(job, context.cache)
    found = cached_findings(job, context, output)
    if found is not None:
        return found
    result = judge(job, *output, context)
    context.cache.put("gate", context.key(job), {"objects": objects_digest(output),
                                                 "findings": [asdict(f) for f in result.findings],
                                                 "checkov": result.checkov_titles})
    return result


def judge(job: Job, objects: list[dict[str, Any]], for_argocd: list[dict[str, Any]],
          context: GateContext) -> UnitFindings:
    """A system's objects and its Argo CD Application, or an environment's Argo CD projects and root app."""
    units = [unit for unit in (Unit(job.env, job.system, job.source, objects),
                               Unit(job.env, ARGOCD_DIR, job.environment.document.file, for_argocd)) if unit.objects]
    systems = {s.name: s for s in job.systems}
    findings: list[Finding] = []
    if not job.argocd:
        system = job.systems[0]
        [violations] = context.engine.evaluate("spec", [spec_input(system, job.pin, objects, context.today)])
        for v in violations:
            location = system.source.locate(parse_dotted(v.field) if v.field else ("metadata", "name"))
            findings.append(_rego_finding(v, context.library.rule_of_package(v.package), job.system, job.env,
                                          location))

    by_path = layout(units)  # generated/-relative path → (unit, object), as Checkov names them
    environment = environment_input(job.environment)
    documents = [manifest_input(obj, _system_of(unit, obj), job.env, environment) for unit, obj in by_path.values()]
    for (unit, obj), violations in zip(by_path.values(), context.engine.evaluate("manifests", documents),
                                       strict=True):
        for v in violations:
            location = _object_location(job, systems, unit, obj, None, parse_dotted(v.field) if v.field else None)
            findings.append(_rego_finding(v, context.library.rule_of_package(v.package), _system_of(unit, obj),
                                          job.env, location, _resource(obj)))

    snapshot = None if job.argocd else context.snapshot(job.env)
    if snapshot is not None:
        system = job.systems[0]
        for f in cluster.judge(system, objects, snapshot, f"{CLUSTERS_DIR}/{job.env}.yaml"):
            location = _cluster_location(system, f.obj, f.field)
            findings.append(Finding(f.rule, cluster.RULES[f.rule].severity, cluster.ENGINE, f.message, job.system,
                                    job.env, location.file, location.line, location.column, _resource(f.obj)))

    for unit, obj in by_path.values() if context.crds else ():
        if message := crd_rules.refusal(obj, context.crds):
            location = _object_location(job, systems, unit, obj, None)
            findings.append(Finding(crd_rules.REFUSED, crd_rules.RULES[crd_rules.REFUSED].severity, crd_rules.ENGINE,
                                    message, _system_of(unit, obj), job.env, location.file, location.line,
                                    location.column, _resource(obj)))

    titles: dict[str, str] = {}
    for hit in checkov.scan(units, context.checkov_config, expect_checks=not job.argocd):
        unit, obj = by_path[hit.path]
        titles[hit.check_id] = hit.title
        location = _object_location(job, systems, unit, obj, CHECKOV_FIELDS.get(hit.check_id))
        findings.append(Finding(hit.check_id, context.checkov_config.severity_of(hit.check_id), "checkov",
                                hit.title, _system_of(unit, obj), job.env, location.file, location.line,
                                location.column, _resource(obj)))
    return UnitFindings(findings, titles)


def _system_of(unit: Unit, obj: dict) -> str:
    """Argo CD objects belong to the system they deploy (`part-of`), projects to the environment's Argo CD."""
    if unit.system != ARGOCD_DIR:
        return unit.system
    return obj["metadata"].get("labels", {}).get(PART_OF_LABEL, ARGOCD_DIR)


def _resource(obj: dict) -> str:
    meta = obj["metadata"]
    parts = [obj["apiVersion"], obj["kind"], meta.get("namespace", ""), meta["name"]]
    return "/".join(p for p in parts if p)


def _rego_finding(violation: Violation, rule: Rule, system: str, env: str, location: Location,
                  resource: str = "") -> Finding:
    severity = rule.severity if violation.kind == "deny" else "info"  # `warn` results never block
    return Finding(rule.id, severity, "rego", violation.message, system, env, location.file, location.line,
                   location.column, resource)


def _object_location(job: Job, systems: dict[str, MergedSystem], unit: Unit, obj: dict, leaf: str | None,
                     field: FieldPath | None = None) -> Location:
    argocd = unit.system == ARGOCD_DIR
    system = systems.get(_system_of(unit, obj)) if argocd else job.systems[0]
    return object_location(obj, system, job.environment, argocd, leaf, field)


def _cluster_location(system: MergedSystem, obj: dict, field: FieldPath | None) -> Location:
    """A cluster finding's field: a spec path when it starts at a top-level section, else a leaf of the object's
    own section (`gpu` is `serving.gpu` or `training.resources.gpu`, whichever the spec wrote)."""
    if field and field[0] in _sections():
        return system.source.locate(field)
    section = _section(obj, system)
    if field is None or section is None:
        return object_location(obj, system, system.environment, False)
    for path in (section + field, section + ("resources",) + field):
        if path in system.source.locations:
            return system.source.locations[path]
    return system.source.locate(section + field)


def object_location(obj: dict, system: MergedSystem | None, environment: EnvironmentDoc, argocd: bool,
                    leaf: str | None = None, field: FieldPath | None = None) -> Location:
    """The spec line behind a rendered object (or, for Argo CD's objects, the environment's `argocd` block); also
    where `verify` puts what the API server said about it."""
    if argocd:
        return system.source.locate(field) if system and field else environment.document.source.locate(("argocd",))
    if system is None:
        return environment.document.source.locate(())
    if field:
        return system.source.locate(field)
    section = _section(obj, system)
    if section is None:
        return system.source.locate(("metadata", "name"))
    return system.source.locate(section + ((leaf,) if leaf else ()))


@cache
def _sections() -> dict[str, FieldPath]:
    """Where a component's objects come from in the spec: the section each chart names as its `COMPONENT` (the
    registry is fixed, so once per process, not once per finding placed)."""
    from ..render import CHARTS  # cdk8s and Node start only when an object is placed

    return {chart.COMPONENT: (chart.COMPONENT,) for chart in CHARTS if chart.COMPONENT}


def _section(obj: dict, system: MergedSystem) -> FieldPath | None:
    """The spec section an object comes from, by its component label (a secret's own entry)."""
    component = obj["metadata"].get("labels", {}).get(COMPONENT_LABEL, "")
    section = _sections().get(component)
    if component == "monitoring":
        section = ("monitoring", "drift") if obj["kind"] == "CronJob" else section
    if component == "secrets":
        names = [s.name for s in system.spec.secrets]
        section = ("secrets", names.index(obj["metadata"]["name"])) if obj["metadata"]["name"] in names else section
    return section
