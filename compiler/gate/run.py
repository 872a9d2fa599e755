"""Pass 6 — gate: compile in memory, then judge every system × environment.

Input: a `Workspace` (and `--opa-url`, `today`). Output: a `GateResult` — findings from the Rego spec rules (once
per system × environment), the Rego manifest rules (once per rendered object), and Checkov (once over all the
rendered manifests), each mapped back to the spec `file:line:col` that produced it, with waivers applied.
Mapping: a rule's `field` names the spec path; otherwise an object's `app.kubernetes.io/component` names its spec
section (serving, training, monitoring, secrets), and objects of the system as a whole point at `metadata.name`.
Argo CD objects point at the environment file's `argocd` block. Errors: as the passes before it, plus
`SpecError`s from a broken policy library or a failing engine — the gate fails closed.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from ..emit import Unit, layout
from ..errors import Location
from ..load import FieldPath, parse_dotted
from ..lock import base_lock
from ..merge import MergedSystem
from ..pipeline import ARGOCD_DIR, Result, Workspace, compile_all
from . import checkov, waivers
from .finding import Finding, GateResult, ModelChange, Rule
from .inputs import COMPONENT_LABEL, environment_input, manifest_input, spec_input
from .policies import load_library
from .rego import Violation, make_engine

# Where a component's objects come from in the spec.
SECTIONS = {"serving": ("serving",), "training": ("training",), "monitoring": ("monitoring",),
            "secrets": ("secrets",)}
# Checkov checks that are about one field of the container the spec describes.
CHECKOV_FIELDS = {"CKV_K8S_43": "image", "CKV_K8S_14": "image", "CKV_K8S_10": "resources",
                  "CKV_K8S_11": "resources", "CKV_K8S_12": "resources", "CKV_K8S_13": "resources"}


def run_gate(ws: Workspace, opa_url: str | None = None, today: date | None = None) -> GateResult:
    today = today or date.today()
    library = load_library(ws.root / "policies", ws.root)  # before compiling: a broken policy fails fast
    config = checkov.load_config(ws.root / "policies" / "checkov.yaml", "policies/checkov.yaml")
    engine = make_engine(library, opa_url)
    compiled = compile_all(ws)
    system_units = [u for u in compiled.units if u.system != ARGOCD_DIR]
    rules: dict[str, Rule] = {**library.rules(), **waivers.RULES}

    findings: list[Finding] = []
    documents = [spec_input(*compiled.merged[(u.env, u.system)], u.objects, today) for u in system_units]
    for unit, violations in zip(system_units, engine.evaluate("spec", documents), strict=True):
        system = compiled.merged[(unit.env, unit.system)][0]
        for v in violations:
            location = system.source.locate(parse_dotted(v.field) if v.field else ("metadata", "name"))
            findings.append(_rego_finding(v, library.rule_of_package(v.package), unit.system, unit.env, location))

    objects = layout(compiled.units)  # generated/-relative path → (unit, object), as Checkov will name them
    environments = {env: environment_input(compiled.environments[env]) for env in compiled.envs}
    documents = [manifest_input(obj, _system_of(unit, obj), unit.env, environments[unit.env])
                 for unit, obj in objects.values()]
    for (unit, obj), violations in zip(objects.values(), engine.evaluate("manifests", documents), strict=True):
        for v in violations:
            location = _object_location(compiled, unit, obj, None, parse_dotted(v.field) if v.field else None)
            findings.append(_rego_finding(v, library.rule_of_package(v.package), _system_of(unit, obj), unit.env,
                                          location, _resource(obj)))

    for hit in checkov.scan(compiled.units, config):
        unit, obj = objects[hit.path]
        rules.setdefault(hit.check_id, checkov.rule_for(hit.check_id, hit.title, config))
        location = _object_location(compiled, unit, obj, CHECKOV_FIELDS.get(hit.check_id))
        findings.append(Finding(hit.check_id, config.severity_of(hit.check_id), "checkov", hit.title,
                                _system_of(unit, obj), unit.env, location.file, location.line, location.column,
                                _resource(obj)))

    systems = [system for system, _ in compiled.merged.values()]
    findings, on_record = waivers.apply_waivers(_unique(findings), systems, today)
    units = tuple(sorted((u.env, u.system) for u in system_units))
    fail_on = {env: doc.spec.policy.fail_on.value for env, doc in compiled.environments.items()}
    return GateResult(tuple(sorted(findings, key=_order)), rules, units, fail_on, tuple(on_record), today,
                      _model_changes(base_lock(ws.root), compiled))


def _model_changes(base: dict, compiled: Result) -> tuple[ModelChange, ...]:
    changes = []
    for key, (_, pin) in sorted(compiled.merged.items()):
        old = base.get(key)
        if pin is not None and (old is None or old.version != pin.version or old.name != pin.name):
            changes.append(ModelChange(key[0], key[1], pin.name, old.version if old else None, pin.version))
    return tuple(changes)


def _order(f: Finding) -> tuple:
    return (f.file, f.line, f.column, f.rule, f.env, f.resource, f.message)


def _unique(findings: list[Finding]) -> list[Finding]:
    """One finding per rule, place, environment, resource and message (a rule may match twice on one object)."""
    return list(dict.fromkeys(findings))


def _merged(compiled: Result, unit: Unit) -> MergedSystem | None:
    entry = compiled.merged.get((unit.env, unit.system))
    return entry[0] if entry else None


def _system_of(unit: Unit, obj: dict) -> str:
    """Argo CD objects belong to the system they deploy (`part-of`), projects to the environment's Argo CD."""
    if unit.system != ARGOCD_DIR:
        return unit.system
    return obj["metadata"].get("labels", {}).get("app.kubernetes.io/part-of", ARGOCD_DIR)


def _resource(obj: dict) -> str:
    meta = obj["metadata"]
    parts = [obj["apiVersion"], obj["kind"], meta.get("namespace", ""), meta["name"]]
    return "/".join(p for p in parts if p)


def _rego_finding(violation: Violation, rule: Rule, system: str, env: str, location: Location,
                  resource: str = "") -> Finding:
    severity = rule.severity if violation.kind == "deny" else "info"  # `warn` results never block
    return Finding(rule.id, severity, "rego", violation.message, system, env, location.file, location.line,
                   location.column, resource)


def _object_location(compiled: Result, unit: Unit, obj: dict, leaf: str | None,
                     field: FieldPath | None = None) -> Location:
    """The spec line behind a rendered object (or, for Argo CD's objects, the environment's `argocd` block)."""
    system = _merged(compiled, unit)
    if system is None:
        environment = compiled.environments[unit.env].document
        part_of = _system_of(unit, obj)
        owner = next((s for (e, n), (s, _) in compiled.merged.items() if e == unit.env and n == part_of), None)
        return owner.source.locate(field) if owner and field else environment.source.locate(("argocd",))
    if field:
        return system.source.locate(field)
    component = obj["metadata"].get("labels", {}).get(COMPONENT_LABEL, "")
    section = SECTIONS.get(component)
    if component == "monitoring":
        section = ("monitoring", "drift") if obj["kind"] == "CronJob" else section
    if component == "secrets":
        names = [s.name for s in system.spec.secrets]
        section = ("secrets", names.index(obj["metadata"]["name"])) if obj["metadata"]["name"] in names else section
    if section is None:
        return system.source.locate(("metadata", "name"))
    return system.source.locate(section + ((leaf,) if leaf else ()))


def explain_rule(rule_id: str, root: Path) -> Rule | None:
    """A rule's documentation: own rules from the library, waiver rules, or Checkov's registry."""
    rules = {**load_library(root / "policies", root).rules(), **waivers.RULES}
    if rule_id in rules:
        return rules[rule_id]
    if rule_id.startswith("CKV"):
        from checkov.kubernetes.checks.resource.registry import registry

        check = registry.get_check_by_id(rule_id)
        if check is not None:
            config = checkov.load_config(root / "policies" / "checkov.yaml", "policies/checkov.yaml")
            return checkov.rule_for(rule_id, check.name, config)
    return None
