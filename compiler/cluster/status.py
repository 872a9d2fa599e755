"""`mlgitops status`: what the cluster runs, per system of an environment, next to what generated/ and the lock say.

The objects asked about are the ones Argo CD syncs: read from the committed `generated/<env>/` (each system's
Application in `_argocd/`, its serving InferenceService or Deployment, its training CronJob, Job, TrainJob or
PyTorchJob and its pipeline CronWorkflows), then read live, one GET each, through the `kubernetes` client
(client.py: refusals and transport failures fail closed at the environment's `cluster.server`, E801). A 404 Status
(NotFound) is "not deployed"; a 404 that is no Status (`404 page not found`: the group or kind is not served, its CRD
is not installed) is "API not served". Both are shown, never errors. Any other answer fails closed.

`SystemStatus.attention` says what needs a person: an Application OutOfSync or Degraded, or a serving object that
does not carry the version mlgitops.lock.yaml pins (not deployed included). The CLI exits 1 when any has one.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import Code, Diagnostic, Location, SpecError
from ..labels import COMPONENT_LABEL, MODEL_VERSION_ANNOTATION, PART_OF_LABEL
from ..load import load
from ..resolve import ResolvedModel
from .client import Answer, Connection, request

FOUND, NOT_DEPLOYED, NOT_SERVED = "found", "not deployed", "API not served"
NOT_RECONCILED = "not reconciled"  # the object exists, but no controller has written its status yet
SERVING_KINDS = ("InferenceService", "Deployment")
TRAINING_KINDS = {"training": ("CronJob", "Job", "TrainJob", "PyTorchJob"), "pipeline": ("CronWorkflow",)}


@dataclass(frozen=True)
class Target:
    """A rendered object to read: where it lives on the cluster."""

    api_version: str
    kind: str
    namespace: str
    name: str

    @property
    def path(self) -> str:
        base = "/api/v1" if self.api_version == "v1" else f"/apis/{self.api_version}"
        return f"{base}/namespaces/{self.namespace}/{self.kind.lower()}s/{self.name}"  # every kind read here

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


@dataclass(frozen=True)
class Live:
    """A target as the cluster answered: FOUND with its body, NOT_DEPLOYED or NOT_SERVED."""

    target: Target
    found: str
    body: dict[str, Any] | None = None


@dataclass(frozen=True)
class Targets:
    """What one system of generated/<env>/ asks the cluster about."""

    system: str
    application: Target | None
    serving: Target | None
    training: tuple[Target, ...]


@dataclass(frozen=True)
class SystemStatus:
    system: str
    application: str  # "Application argocd/prod-x", or "" when generated/ renders none
    sync: str
    health: str
    revision: str
    serving: str
    ready: str
    url: str
    served_version: str
    locked_version: str
    training: tuple[str, ...]
    attention: tuple[str, ...] = field(default=())


def _objects(directory: Path, root: Path) -> list[dict[str, Any]]:
    objects = []
    for path in sorted(directory.glob("*.yaml")):
        data = load(path, _shown(path, root)).data
        metadata = data.get("metadata") if isinstance(data, dict) else None
        # what is not an object with a name and labels (a hand-edited file) names nothing to read
        if isinstance(metadata, dict) and isinstance(metadata.get("name"), str) and \
                isinstance(metadata.get("labels") or {}, dict):
            objects.append(data)
    return objects


def _target(obj: dict[str, Any]) -> Target:
    metadata = obj["metadata"]
    return Target(obj.get("apiVersion", ""), obj.get("kind", ""), metadata.get("namespace", ""), metadata["name"])


def _labels(obj: dict[str, Any]) -> dict[str, str]:
    return obj["metadata"].get("labels") or {}


def read_targets(root: Path, generated: Path, env: str) -> list[Targets]:
    """Every system of generated/<env>/ and the objects of it that status reads, sorted by system."""
    directory = generated / env
    if not directory.is_dir():
        raise SpecError([Diagnostic(Code.NO_INPUT, Location(_shown(directory, root)),
                                    f"no generated output for {env!r}; run `mlgitops compile --env {env}` first")])
    applications = {_labels(o).get(PART_OF_LABEL): _target(o) for o in _objects(directory / "_argocd", root)
                    if o.get("kind") == "Application" and _labels(o).get(PART_OF_LABEL)}
    systems = []
    for system_dir in sorted(p for p in directory.iterdir() if p.is_dir() and not p.name.startswith("_")):
        objects = _objects(system_dir, root)
        serving = [_target(o) for o in objects
                   if o.get("kind") in SERVING_KINDS and _labels(o).get(COMPONENT_LABEL) == "serving"]
        training = [_target(o) for o in objects
                    if o.get("kind") in TRAINING_KINDS.get(_labels(o).get(COMPONENT_LABEL), ())]
        systems.append(Targets(system_dir.name, applications.get(system_dir.name), min(serving, default=None, key=str),
                               tuple(sorted(training, key=str))))
    return systems


def _shown(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()


def read_live(connection: Connection, target: Target) -> Live:
    """One GET of the target, judged by `classify`."""
    return classify(connection, target, request(connection, "GET", target.path, action=f"read {target}"))


def classify(connection: Connection, target: Target, answer: Answer) -> Live:
    """404 NotFound → not deployed; a 404 that is no Status → the API is not served; others fail closed."""
    if answer.status == 200 and isinstance(answer.body, dict) and answer.body.get("kind") == target.kind:
        return Live(target, FOUND, answer.body)
    if answer.status == 404:
        if isinstance(answer.body, dict) and answer.body.get("kind") == "Status":
            return Live(target, NOT_DEPLOYED)
        return Live(target, NOT_SERVED)
    raise connection.fail(f"read {target}: {answer.status}, not the {target.kind} asked for")


def _condition(body: dict[str, Any], kind: str) -> dict[str, Any] | None:
    conditions = (body.get("status") or {}).get("conditions") or []
    return next((c for c in conditions if isinstance(c, dict) and c.get("type") == kind), None)


def _application(live: Live | None) -> tuple[str, str, str]:
    """(sync, health, revision) of the Application."""
    if live is None:
        return "no Application rendered", "", ""
    if live.found != FOUND:
        return live.found, "", ""
    status = live.body.get("status") or {}
    if not status.get("sync"):
        return NOT_RECONCILED, "", ""
    sync, health = status.get("sync") or {}, status.get("health") or {}
    return str(sync.get("status") or "Unknown"), str(health.get("status") or "Unknown"), str(sync.get("revision") or "")


def _served_version(live: Live) -> str:
    """The model version the live serving object carries; a Deployment's pods get it from their template."""
    body = live.body
    if live.target.kind == "Deployment":
        template = ((body.get("spec") or {}).get("template") or {}).get("metadata") or {}
        if MODEL_VERSION_ANNOTATION in (template.get("annotations") or {}):
            return str(template["annotations"][MODEL_VERSION_ANNOTATION])
    return str((body["metadata"].get("annotations") or {}).get(MODEL_VERSION_ANNOTATION, ""))


def _serving(live: Live | None) -> tuple[str, str, str]:
    """(readiness, URL, served version) of the serving object."""
    if live is None:
        return "no serving object rendered", "", ""
    if live.found != FOUND:
        return live.found, "", ""
    status = live.body.get("status") or {}
    ready_type = "Available" if live.target.kind == "Deployment" else "Ready"
    condition = _condition(live.body, ready_type)
    if condition is None:
        ready = NOT_RECONCILED
    elif condition.get("status") == "True":
        ready = "ready"
    else:
        ready = f"not ready ({condition.get('reason') or condition.get('message') or condition.get('status')})"
    return ready, str(status.get("url") or ""), _served_version(live)


def _training(live: Live) -> str:
    """One line: the training object's last run as its controller records it."""
    head = f"{live.target}: "
    if live.found != FOUND:
        return head + live.found
    status = live.body.get("status") or {}
    if live.target.kind == "CronJob":
        if not status.get("lastScheduleTime"):
            return head + "never scheduled"
        return head + f"last success {status.get('lastSuccessfulTime') or 'never'}, " \
                      f"last scheduled {status['lastScheduleTime']}"
    if live.target.kind == "CronWorkflow":
        last = status.get("lastScheduledTime")
        return head + (f"last scheduled {last}" if last else "never scheduled")
    for kind, word in (("Complete", "succeeded"), ("Succeeded", "succeeded"), ("Failed", "failed")):
        condition = _condition(live.body, kind)
        if condition and condition.get("status") == "True":
            return head + f"{word} {status.get('completionTime') or condition.get('lastTransitionTime') or ''}".rstrip()
    suspended = _condition(live.body, "Suspended")
    if suspended and suspended.get("status") == "True":
        return head + "suspended (waiting for its queue)"
    if status.get("startTime"):
        return head + f"running since {status['startTime']}"
    return head + ("not started" if status else NOT_RECONCILED)


def system_status(targets: Targets, application: Live | None, serving: Live | None, training: list[Live],
                  pin: ResolvedModel | None) -> SystemStatus:
    """The pure part: live objects (as the cluster sent them) and the lock's pin → what `status` shows."""
    sync, health, revision = _application(application)
    ready, url, served = _serving(serving)
    locked = str(pin.version) if pin else ""
    attention = []
    if sync == "OutOfSync":
        attention.append("OutOfSync")
    if health == "Degraded":
        attention.append("Degraded")
    if locked and served != locked:
        attention.append(f"serves {'version ' + served if served else 'no model version'}, the lock pins {locked}")
    return SystemStatus(targets.system, str(targets.application or ""), sync, health, revision,
                        str(targets.serving or ""), ready, url, served, locked,
                        tuple(_training(t) for t in training), tuple(attention))


def read_status(connection: Connection, systems: list[Targets], pins: dict[tuple[str, str], ResolvedModel],
                env: str) -> list[SystemStatus]:
    def live(target: Target | None) -> Live | None:
        return read_live(connection, target) if target else None

    return [system_status(t, live(t.application), live(t.serving), [read_live(connection, x) for x in t.training],
                          pins.get((env, t.system))) for t in systems]


# --- reports ---------------------------------------------------------------------------------------------------------

def _model(s: SystemStatus) -> str:
    if not s.locked_version:
        return f"version {s.served_version or '-'} (no pin)"
    return f"version {s.served_version or '-'} (locked {s.locked_version})"


def render_text(env: str, connection: Connection, statuses: list[SystemStatus]) -> str:
    lines = [f"{env}: context {connection.context}, {connection.server}"]
    for s in statuses:
        lines.append(f"  {s.system}{'  [' + '; '.join(s.attention) + ']' if s.attention else ''}")
        argo = ", ".join(x for x in (s.sync, s.health, f"revision {s.revision[:12]}" if s.revision else "") if x)
        lines.append(f"    argo cd   {s.application or '-'}: {argo}")
        url = f", {s.url}" if s.url else ""
        lines.append(f"    serving   {s.serving or '-'}: {s.ready}{url}, {_model(s)}")
        for run in s.training or ("-",):
            lines.append(f"    training  {run}")
    attention = sum(1 for s in statuses if s.attention)
    systems = f"{len(statuses)} system{'' if len(statuses) == 1 else 's'}"
    lines.append(f"{attention} of {systems} need{'s' if attention == 1 else ''} attention" if attention
                 else f"nothing needs attention ({systems})")
    return "\n".join(lines) + "\n"


def render_json(env: str, connection: Connection, statuses: list[SystemStatus]) -> str:
    document = {"environment": env, "context": connection.context, "server": connection.server,
                "systems": [asdict(s) for s in statuses], "attention": any(s.attention for s in statuses)}
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def _cell(text: str) -> str:
    return (text or "-").replace("|", "\\|").replace("\n", " ")


def render_markdown(env: str, connection: Connection, statuses: list[SystemStatus]) -> str:
    lines = [f"### Live status of `{env}` ({connection.context})", "",
             "| system | Argo CD | serving | model | training | attention |", "|---|---|---|---|---|---|"]
    for s in statuses:
        argo = " ".join(x for x in (s.sync, s.health, s.revision[:12]) if x)
        serving = f"{s.ready} {s.url}".strip()
        lines.append("| " + " | ".join(_cell(c) for c in (s.system, argo, serving, _model(s), "; ".join(s.training),
                                                           "; ".join(s.attention))) + " |")
    return "\n".join(lines) + "\n"


FORMATS = {"text": render_text, "json": render_json, "markdown": render_markdown}
