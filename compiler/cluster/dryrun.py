"""`mlgitops verify`: a server-side dry run of generated/<env>/ against the environment's cluster, as Argo CD syncs it.

Order: Argo CD's (gitops-engine pkg/sync/sync_tasks.go, argo-cd 2c6e46a: wave, then its kind order, then name; a
Namespace before anything in it). Each object is sent as it is committed, byte for byte, as a server-side apply
(`PATCH …?dryRun=All&fieldManager=mlgitops&force=true`, `application/apply-patch+yaml`): the API server runs its
decoding, defaulting, schema and CEL validation and every admission plugin, and stores nothing. Argo CD's own
pre-sync dry run is client-side (sync_context.go applyObject: "running dry-run in server mode breaks the auto create
namespace feature", argo-cd#13874); here an object whose namespace does not exist yet, but is created by this very
sync, is not sent (the server could only answer "namespace not found") and is counted in a note instead.

What the server says becomes a finding at the spec line that produced the object, in `check`'s formats:
MLG-VER-001 refused (4xx, or the 500 `failed to create typed patch object` that server-side apply answers for an
undeclared field, kubernetes/kubernetes#122480), MLG-VER-002 a kind or version the cluster does not serve,
MLG-VER-003 a namespace that does not exist and that nothing here creates, MLG-VER-004 admitted with warnings (Pod
Security `restricted` violations of pod templates travel only in `Warning` headers: the pods would be refused).
Any other server error, 401, 403 or no answer fails closed (client.py): nothing is judged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from ..emit import ARGOCD_DIR
from ..errors import Code, Diagnostic, Location, SpecError
from ..gate.finding import Finding, GateResult, Rule
from ..gate.unit import object_location
from ..labels import PART_OF_LABEL, SYNC_WAVE
from ..merge import EnvironmentDoc, MergedSystem
from .client import Connection, get_json, request

# gitops-engine pkg/sync/sync_tasks.go kindOrder (after Helm's kind_sorter); other kinds come after these.
KIND_ORDER = ("Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy", "PodDisruptionBudget",
              "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass", "PersistentVolume",
              "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole", "ClusterRoleList",
              "ClusterRoleBinding", "ClusterRoleBindingList", "Role", "RoleList", "RoleBinding", "RoleBindingList",
              "Service", "DaemonSet", "Pod", "ReplicationController", "ReplicaSet", "Deployment",
              "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService")
DRY_RUN = {"dryRun": "All", "fieldManager": "mlgitops", "force": "true"}
APPLY = "application/apply-patch+yaml"
TYPED_PATCH = "failed to create typed patch object"
ENGINE = "apiserver"

REFUSED, NOT_SERVED, NO_NAMESPACE, WARNED = "MLG-VER-001", "MLG-VER-002", "MLG-VER-003", "MLG-VER-004"
RULES = {
    REFUSED: Rule(REFUSED, "high", "The API server refuses the object", engine=ENGINE, name="refused-by-apiserver",
                  rationale="A server-side dry run runs the cluster's own decoding, schemas, CEL rules and admission; "
                            "what it refuses, Argo CD's sync would fail on.",
                  remediation="Read the server's message: fix the spec field it points at (or the renderer), "
                              "compile, and verify again."),
    NOT_SERVED: Rule(NOT_SERVED, "high", "The cluster does not serve this kind in this API version", engine=ENGINE,
                     name="api-not-served",
                     rationale="An object of an API the cluster does not serve (no CRD, or the version is not "
                               "served) cannot be created; Argo CD reports the whole sync as failed.",
                     remediation="Install the controller (its CRDs) or set the platform profile's version to the "
                                 "one the cluster runs."),
    NO_NAMESPACE: Rule(NO_NAMESPACE, "high", "The object's namespace does not exist and nothing creates it",
                       engine=ENGINE, name="namespace-missing",
                       rationale="A namespaced object cannot be created before its namespace; Argo CD's own "
                                 "namespace comes from its install, not from generated/.",
                       remediation="Install what owns the namespace (e.g. Argo CD in argocd.namespace) or fix the "
                                   "environment's namespace settings."),
    WARNED: Rule(WARNED, "medium", "The API server admits the object with a warning", engine=ENGINE,
                 name="admitted-with-warning",
                 rationale="Pod Security violations of a pod template and dropped fields come back only as "
                           "warnings: the object is stored, but its pods are refused or it is not what Git says.",
                 remediation="Fix what the warning names; Pod Security `restricted` is what the namespace enforces."),
}


@dataclass(frozen=True)
class Manifest:
    path: str  # as shown: generated/<env>/<dir>/<file>
    directory: str  # a system, or _argocd
    text: str
    obj: dict[str, Any]

    @property
    def namespace(self) -> str:
        return self.obj["metadata"].get("namespace", "")

    @property
    def name(self) -> str:
        return self.obj["metadata"]["name"]

    def resource(self) -> str:
        return "/".join(p for p in (self.obj["apiVersion"], self.obj["kind"], self.namespace, self.name) if p)


def read_manifests(root: Path, env: str) -> list[Manifest]:
    """Every object committed under generated/<env>/ (one per file, as `compile` writes them)."""
    base = root / "generated" / env
    if not base.is_dir():
        raise SpecError([Diagnostic(Code.NO_INPUT, Location(f"generated/{env}"),
                                    f"nothing to verify: run `mlgitops compile --env {env}` first")])
    found = []
    for path in sorted(base.glob("*/*.yaml")):
        shown = f"generated/{env}/{path.relative_to(base)}"
        text = path.read_text(encoding="utf-8")
        try:
            obj = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = Location(shown, mark.line + 1, mark.column + 1) if mark else Location(shown)
            raise SpecError([Diagnostic(Code.YAML_SYNTAX, where, f"not YAML: {exc}")]) from None
        if not isinstance(obj, dict) or not {"apiVersion", "kind", "metadata"} <= obj.keys():
            raise SpecError([Diagnostic(Code.NOT_A_MAPPING, Location(shown), "not a Kubernetes object")])
        found.append(Manifest(shown, path.parent.name, text, obj))
    return found


def sync_order(manifests: Iterable[Manifest]) -> list[Manifest]:
    """Argo CD's order: wave, kind, name — with each Namespace moved to the wave of the first object in it."""
    items = list(manifests)
    waves = {id(m): _wave(m) for m in items}
    for namespace in (m for m in items if _is_namespace(m)):
        inside = [waves[id(m)] for m in items if m.namespace == namespace.name]
        waves[id(namespace)] = min([waves[id(namespace)], *inside])
    return sorted(items, key=lambda m: (waves[id(m)], _kind_rank(m.obj["kind"]), m.name, m.path))


def _wave(manifest: Manifest) -> int:
    try:
        return int(manifest.obj["metadata"].get("annotations", {}).get(SYNC_WAVE, 0))
    except ValueError:
        return 0


def _kind_rank(kind: str) -> int:
    return KIND_ORDER.index(kind) - len(KIND_ORDER) if kind in KIND_ORDER else 0


def _is_namespace(manifest: Manifest) -> bool:
    return manifest.obj["apiVersion"] == "v1" and manifest.obj["kind"] == "Namespace"


@dataclass
class _Discovery:
    """What the server serves, as a client discovers it: `/apis` names the group versions, and each one used is read
    once: (apiVersion, kind) → (plural, namespaced)."""

    connection: Connection
    served: dict[str, dict[str, tuple[str, bool]] | None] | None = None

    def resource(self, api_version: str, kind: str) -> tuple[str, bool] | None:
        if self.served is None:
            groups = get_json(self.connection, "/apis", action="read the API groups") or {}
            self.served = {"v1": None} | {v["groupVersion"]: None for g in groups.get("groups", [])
                                          for v in g.get("versions", [])}
        if api_version not in self.served:
            return None
        if self.served[api_version] is None:
            path = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
            body = get_json(self.connection, path, action=f"read the resources of {api_version}") or {}
            self.served[api_version] = {r["kind"]: (r["name"], r["namespaced"])
                                        for r in body.get("resources", []) if "/" not in r["name"]}
        return self.served[api_version].get(kind)


def verify(connection: Connection, environment: EnvironmentDoc, systems: list[MergedSystem],
           manifests: list[Manifest], today: date) -> GateResult:
    """Dry-run every manifest in sync order; the findings and notes as a `GateResult` for `check`'s reports."""
    env = environment.name
    by_name = {s.name: s for s in systems if s.env == env}
    listed = get_json(connection, "/api/v1/namespaces", action="list namespaces") or {}  # first: may I read at all
    discovery = _Discovery(connection)
    existing = {n["metadata"]["name"] for n in listed.get("items", [])}
    created = {m.name for m in manifests if _is_namespace(m)}
    findings: list[Finding] = []
    deferred: dict[str, int] = {}
    admitted = 0

    def finding(rule: str, manifest: Manifest, message: str) -> None:
        system_name = manifest.directory if manifest.directory != ARGOCD_DIR else \
            manifest.obj["metadata"].get("labels", {}).get(PART_OF_LABEL, ARGOCD_DIR)
        where = object_location(manifest.obj, by_name.get(system_name), environment,
                                manifest.directory == ARGOCD_DIR)
        if manifest.directory == ARGOCD_DIR and rule == NO_NAMESPACE:
            where = environment.document.source.locate(("argocd", "namespace"))
        findings.append(Finding(rule, RULES[rule].severity, ENGINE, message, system_name, env, where.file,
                                where.line, where.column, manifest.resource()))

    for manifest in sync_order(manifests):
        api_version, kind = manifest.obj["apiVersion"], manifest.obj["kind"]
        resource = discovery.resource(api_version, kind)
        if resource is None:
            finding(NOT_SERVED, manifest, f"{manifest.path}: the cluster does not serve {kind} in {api_version}")
            continue
        plural, namespaced = resource
        if namespaced and manifest.namespace not in existing:
            if manifest.namespace in created:
                deferred[manifest.namespace] = deferred.get(manifest.namespace, 0) + 1
            else:
                finding(NO_NAMESPACE, manifest, f"{manifest.path}: namespace {manifest.namespace} does not exist "
                                                f"and nothing in generated/{env}/ creates it")
            continue
        prefix = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
        scope = f"/namespaces/{manifest.namespace}" if namespaced else ""
        answer = request(connection, "PATCH", f"{prefix}{scope}/{plural}/{manifest.name}",
                         action=f"dry-run {manifest.resource()}", query=DRY_RUN, body=manifest.text,
                         content_type=APPLY)
        message = _message(answer.body) or answer.text.strip()
        if answer.status in (200, 201):
            admitted += 1
            for warning in answer.warnings:
                finding(WARNED, manifest, f"{manifest.path}: admitted with a warning: {_warning_text(warning)}")
        elif answer.status == 404 and not isinstance(answer.body, dict):
            finding(NOT_SERVED, manifest, f"{manifest.path}: the cluster does not serve {kind} in {api_version}")
        elif answer.status < 500 or message.startswith(TYPED_PATCH):
            finding(REFUSED, manifest, f"{manifest.path}: {answer.status} {message}")
        else:
            raise connection.fail(f"dry-run {manifest.resource()}: {answer.status} {message or 'server error'}")

    notes = [f"verified against {connection.context} ({connection.server}): {admitted} of {len(manifests)} objects "
             f"admitted by a server-side dry run"]
    notes += [f"{count} object{'' if count == 1 else 's'} in namespace {namespace} not sent: it does not exist yet "
              "and this sync creates it (the server can judge them only once it exists)"
              for namespace, count in sorted(deferred.items())]
    units = tuple(sorted({(env, s) for s in by_name}))
    return GateResult(tuple(sorted(findings, key=lambda f: (f.file, f.line, f.column, f.rule, f.resource))),
                      dict(RULES), units, {env: environment.spec.policy.fail_on.value}, today=today,
                      notes=tuple(notes))


def _message(body: object) -> str:
    return str(body.get("message", "")) if isinstance(body, dict) else ""


def _warning_text(header: str) -> str:
    """`299 - "text"` (RFC 7234 warn-code, agent, quoted text) → the text."""
    parts = header.split(" ", 2)
    if len(parts) < 3 or not parts[0].isdigit():
        return header.strip()
    quoted = parts[2].strip()
    return re.sub(r'\\(.)', r"\1", quoted[1:-1]) if quoted[:1] == quoted[-1:] == '"' else quoted
