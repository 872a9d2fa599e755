"""Pass 3 — merge: environment defaults → the system's values → the system's `environments.<env>` overrides.

Input: a system `Document` and an environment (`EnvironmentDoc`). Output: `MergedSystem` — the validated
`MLSystem` for that environment, its plain data, and a source map in which every field points at the file and line
of the layer that set it. Merging follows JSON Merge Patch (RFC 7386): mappings merge key by key, lists and
scalars replace, `null` removes. Defaults for `model`, `training` and `serving` only fill in sections the system
has: an environment default never creates a workload. Errors (`SpecError`): an override for an unknown
environment, an override or default of a field that identifies the system, anything invalid after merging, and
what only the environment can judge: a name whose namespace or derived names break a limit, a reserved namespace
(model/names.py), a Vault mount or Kafka broker the environment does not offer, and what the environment's platform
cannot honour or does not provide (compiler/platform).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .errors import Code, Diagnostic, SpecError
from .load import Document, FieldPath, SourceMap, dotted
from .model import Environment, MLSystem
from .model.mlsystem import ScaleMetric
from .model.names import name_problems
from .model.units import CADENCES, Hours
from .platform import misfits
from .validate import suggest, validate
from .windows import first_outside, place

# Sections a default may only refine, never create.
WORKLOAD_SECTIONS = ("model", "training", "serving")
FIXED_FIELDS = (("apiVersion",), ("kind",), ("metadata", "name"), ("metadata", "team"), ("environments",))
NOT_DEFAULTABLE = FIXED_FIELDS + (("metadata",), ("waivers",))


@dataclass(frozen=True)
class EnvironmentDoc:
    """A validated environment with the document it came from."""

    name: str
    spec: Environment
    document: Document


@dataclass(frozen=True)
class MergedSystem:
    """One system as it will run in one environment."""

    name: str
    spec: MLSystem
    environment: EnvironmentDoc
    data: dict[str, Any]
    source: SourceMap
    spec_hash: str
    spec_sha256: str = ""  # of the spec file's bytes (spec_hash is of the merged data)

    @property
    def env(self) -> str:
        return self.environment.name

    @property
    def namespace(self) -> str:
        return f"{self.environment.spec.namespace_prefix}{self.name}"

    @property
    def spec_file(self) -> str:
        return self.source.file


@dataclass(frozen=True)
class _Layer:
    data: dict[str, Any]
    source: SourceMap
    root: FieldPath  # where this layer's data sits inside its own document


def check_overrides(document: Document, known_environments: list[str]) -> None:
    """Overrides must name an existing environment and leave the system's identity alone."""
    problems = []
    for env, override in (document.data.get("environments") or {}).items():
        where = ("environments", env)
        if env not in known_environments:
            guess = suggest(env, known_environments)
            hint = f"; did you mean {guess!r}?" if guess else f"; environments are: {', '.join(known_environments)}"
            problems.append(Diagnostic(Code.UNKNOWN_ENVIRONMENT, document.source.locate(where),
                                       f"no environment named {env!r}{hint}", dotted(where)))
        problems += _fixed_field_problems(override or {}, document.source, where, FIXED_FIELDS, "per environment")
    if problems:
        raise SpecError(problems)


def merge(document: Document, environment: EnvironmentDoc) -> MergedSystem:
    env_doc = environment.document
    defaults = env_doc.data.get("defaults") or {}
    problems = _fixed_field_problems(defaults, env_doc.source, ("defaults",), NOT_DEFAULTABLE,
                                     "as an environment default")
    if problems:
        raise SpecError(problems)

    base = {k: v for k, v in document.data.items() if k != "environments"}
    override = (document.data.get("environments") or {}).get(environment.name) or {}
    system = _merge_patch(base, override)
    defaults = {k: v for k, v in defaults.items() if k not in WORKLOAD_SECTIONS or system.get(k) is not None}
    merged = _merge_patch(defaults, system)

    layers = [_Layer(defaults, env_doc.source, ("defaults",)), _Layer(base, document.source, ()),
              _Layer(override, document.source, ("environments", environment.name))]
    source = SourceMap(document.file, _provenance(merged, layers))
    try:
        spec = validate(MLSystem, merged, source)
    except SpecError as exc:  # name the system and environment where the problem is not in the spec itself
        context = f"system {Path(document.file).stem}, environment {environment.name}"
        raise SpecError([replace(d, message=f"{d.message} ({context})") if d.location.file != document.file else d
                         for d in exc.diagnostics]) from None
    problems = _environment_rules(spec, environment, source) + [
        Diagnostic(code, source.locate(field), message, dotted(field))
        for field, message, code in name_problems(spec, environment.spec, environment.name)] + [
        Diagnostic(m.code, source.locate(m.field), m.message, dotted(m.field))
        for m in misfits(spec, environment.spec, environment.document.file)]
    spec, kafka_problems = _kafka_brokers(spec, environment, source)
    problems += kafka_problems
    spec, window_problems = _scheduled_in_window(spec, environment, source)
    if problems or window_problems:
        raise SpecError(problems + window_problems)
    return MergedSystem(spec.metadata.name, spec, environment, merged, source, _hash(merged, env_doc.data),
                        document.sha256)


def _environment_rules(spec: MLSystem, environment: EnvironmentDoc, source: SourceMap) -> list[Diagnostic]:
    """What a spec may only ask of an environment that offers it: known GPU types, a secret store."""
    problems = []
    gpu = environment.spec.gpu
    known = sorted(gpu.hourly_price.keys() | gpu.products.keys())
    requests = [(("serving", "gpu"), spec.serving.gpu if spec.serving else None),
                (("training", "resources", "gpu"), spec.training.resources.gpu if spec.training else None)]
    for path, request in requests:
        if request is not None and request.type is not None and request.type not in known:
            guess = suggest(request.type, known)
            hint = f"did you mean {guess!r}?" if guess else f"it knows: {', '.join(known) or 'none'}"
            problems.append(Diagnostic(Code.RULE_VIOLATION, source.locate(path + ("type",)),
                                       f"environment {environment.name!r} has no GPU type {request.type!r} "
                                       f"(neither priced in gpu.hourlyPrice nor listed in gpu.products); {hint}",
                                       dotted(path + ("type",))))
    store = environment.spec.secret_store
    if spec.secrets and store is None:
        problems.append(Diagnostic(Code.RULE_VIOLATION, source.locate(("secrets",)),
                                   f"environment {environment.name!r} has no secretStore to fetch secrets from "
                                   f"(set secretStore in {environment.document.file})", "secrets"))
    for i, secret in enumerate(spec.secrets if store is not None else []):
        if secret.vault_mount != store.vault_mount:
            path = ("secrets", i, "from")
            problems.append(Diagnostic(Code.NOT_OFFERED, source.locate(path),
                                       f"{secret.source!r} reads the Vault mount {secret.vault_mount!r}; the secret "
                                       f"store of environment {environment.name!r} reads {store.vault_mount!r} "
                                       f"(secretStore.vaultMount)", dotted(path)))
    return problems


def _kafka_brokers(spec: MLSystem, environment: EnvironmentDoc,
                   source: SourceMap) -> tuple[MLSystem, list[Diagnostic]]:
    """A kafka-lag trigger reads only the environment's brokers (kafka.brokers), all of them unless it names some;
    the egress policy then opens only their ports (render/tenancy.py)."""
    autoscaling = spec.serving.autoscaling if spec.serving else None
    if autoscaling is None or autoscaling.metric is not ScaleMetric.kafka_lag or autoscaling.kafka is None:
        return spec, []
    offered, kafka = environment.spec.kafka.brokers, autoscaling.kafka
    path = ("serving", "autoscaling", "kafka", "bootstrapServers")
    named = [server.strip() for server in kafka.bootstrap_servers.split(",")] if kafka.bootstrap_servers else offered
    unknown = [server for server in named if server not in offered]
    if unknown or not named:
        listed = ", ".join(offered) or f"none (set kafka.brokers in {environment.document.file})"
        return spec, [Diagnostic(Code.NOT_OFFERED, source.locate(path if kafka.bootstrap_servers else path[:-1]),
                                 f"{', '.join(unknown) or 'no broker'} is not a Kafka broker of environment "
                                 f"{environment.name!r}; its brokers (kafka.brokers): {listed}", dotted(path))]
    kafka = kafka.model_copy(update={"bootstrap_servers": ",".join(named)})
    serving = spec.serving.model_copy(update={"autoscaling": autoscaling.model_copy(update={"kafka": kafka})})
    return spec.model_copy(update={"serving": serving}), []


def _scheduled_in_window(spec: MLSystem, environment: EnvironmentDoc,
                         source: SourceMap) -> tuple[MLSystem, list[Diagnostic]]:
    """`training.window` against the region's hours, for the retraining schedule wherever it is written (training,
    or the pipeline's trigger): a cadence (daily, weekly) is placed at the window's start, a cron schedule must start
    every run inside it. The zone the schedule is read in is written into the spec, for the CronJob or CronWorkflow
    to run it in the zone it was checked in."""
    where = spec.scheduled_by
    if not where:
        return spec, []
    training, triggers = spec.training, spec.pipeline.triggers if spec.pipeline else None
    schedule = triggers.schedule if where[0] == "pipeline" else training.schedule
    region = environment.spec.cluster.region
    table = environment.spec.scheduling_windows.get(region)
    zone = ((triggers.time_zone if where[0] == "pipeline" else None) or (training and training.time_zone)
            or (table.time_zone if table else None))
    window, problems = training.window if training else None, []
    if window is not None:
        named = window in ("low-carbon", "off-peak")
        written = ((table.low_carbon if window == "low-carbon" else table.off_peak) if table else []) if named \
            else [window]
        window_zone = table.time_zone if named and table else zone or "UTC"
        field = "lowCarbon" if window == "low-carbon" else "offPeak"
        if not written:
            problems.append(Diagnostic(Code.RULE_VIOLATION, source.locate(("training", "window")),
                                       f"environment {environment.name!r} declares no {window} hours for region "
                                       f"{region!r} (schedulingWindows.{region}.{field} in "
                                       f"{environment.document.file})", "training.window"))
        elif schedule in CADENCES:
            schedule, zone = place(schedule, [Hours.parse(h) for h in written]), window_zone
        elif outside := first_outside(schedule, zone or "UTC", [Hours.parse(h) for h in written], window_zone):
            problems.append(Diagnostic(Code.RULE_VIOLATION, source.locate(where),
                                       f"the run of {outside:%a %d %b %Y %H:%M} {outside.tzname()} starts outside "
                                       f"the {window if named else 'window'} hours {', '.join(written)} "
                                       f"({window_zone}) in environment {environment.name!r}", dotted(where)))
    if where[0] == "pipeline":
        placed = triggers.model_copy(update={"schedule": schedule, "time_zone": zone})
        return spec.model_copy(update={"pipeline": spec.pipeline.model_copy(update={"triggers": placed})}), problems
    placed = training.model_copy(update={"schedule": schedule, "time_zone": zone})
    return spec.model_copy(update={"training": placed}), problems


def _fixed_field_problems(data: dict[str, Any], source: SourceMap, root: FieldPath,
                          fixed: tuple[FieldPath, ...], how: str) -> list[Diagnostic]:
    problems = []
    for path in fixed:
        if _lookup(data, path) is not _MISSING:
            problems.append(Diagnostic(Code.RULE_VIOLATION, source.locate(root + path),
                                       f"{dotted(path)} cannot be set {how}", dotted(root + path)))
    return problems


def _merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: mappings merge, `null` deletes, everything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merge_patch(result.get(key), value)
    return result


_MISSING = object()


def _lookup(data: Any, path: FieldPath) -> Any:
    for part in path:
        in_mapping = isinstance(data, dict) and part in data
        if in_mapping or (isinstance(data, list) and isinstance(part, int) and part < len(data)):
            data = data[part]
        else:
            return _MISSING
    return data


def _paths(data: Any, prefix: FieldPath = ()) -> list[FieldPath]:
    paths = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            paths += _paths(value, prefix + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            paths += _paths(value, prefix + (index,))
    return paths


def _provenance(merged: dict[str, Any], layers: list[_Layer]) -> dict:
    """Each merged field's location is that of the last layer holding it (a replaced list is wholly the new one's)."""
    locations = {}
    for path in _paths(merged):
        for layer in reversed(layers):
            if path and _lookup(layer.data, path) is not _MISSING:
                locations[path] = layer.source.locate(layer.root + path)
                break
    locations[()] = layers[1].source.locate(())
    return locations


def _hash(system: dict[str, Any], environment: dict[str, Any]) -> str:
    """Content hash of everything that shapes this system's manifests in this environment."""
    canonical = json.dumps({"system": system, "environment": environment}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
