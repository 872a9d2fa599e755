"""Argo CD chart: the AppProjects and Applications that make Argo CD sync one environment's `generated/` tree.

Input: one `EnvironmentDoc` and every system merged for it; per system, `autoscaled` (True when an HPA or KEDA
ScaledObject owns the serving Deployment's replica count). Output: `list[dict]`, all in `argocd.namespace`, in two
parts rendered apart so that editing one spec re-renders one Application — `render_projects` (the environment's)
and `render_application` (a system's); `emit.assemble_argocd` joins them into `generated/<env>/_argocd/`:

- an AppProject `<env>-<team>` per team: the repository, the team's namespaces on this cluster, and the kinds
  mlgitops renders;
- an Application `<env>-<system>` per system, syncing `generated/<env>/<system>`;
- the root Application `mlgitops-<env>` (app of apps), syncing `generated/<env>/_argocd` — these objects,
  itself included — into Argo CD's own cluster, in its own AppProject `mlgitops-<env>`.

Decisions:
- Projects are named `<env>-<team>`, not `<team>`: one Argo CD may serve several environments' clusters (hence
  `<env>-<system>` for Applications), and a bare team name would be one object owned by every environment's root
  app, each rewriting its destinations to its own cluster.
- Automated sync (prune + selfHeal, retry with backoff) only where `argocd.autoSync` is true; elsewhere (prod) a
  human syncs. `allowEmpty` stays false, so an automated sync never prunes an Application down to nothing.
- The cascade-delete finalizer is set only with autoSync: in dev/staging, deleting a spec removes the system's
  workloads (and GPU spend) with it. In prod, deleting an Application (by `kubectl`, or by pruning the root app)
  leaves the workloads running; `argocd app delete --cascade` remains the deliberate way to remove them.
  The root app never has it: deleting it must not take every system down.
- No `CreateNamespace=true`: each system's output contains its Namespace (with the Pod Security labels), which
  Argo CD applies before the namespaced objects; letting Argo CD create it too would be a second, label-less owner.
- The root app is in a project of its own, never `default` (which Argo CD creates permitting any repository,
  destination and kind): Argo CD's docs call an app of apps admin-level, since "projects with access to the
  namespace in which Argo CD is installed effectively have admin-level privileges" (cluster-bootstrapping.md).
  Its project permits the environment's repository only, Argo CD's own namespace on Argo CD's own cluster only,
  and there only `Application` and `AppProject` — the objects of `_argocd/` — so a change to `_argocd/` cannot
  create a Secret (cluster or repository credentials), a ConfigMap (`argocd-cm`, `argocd-rbac-cm`) or any
  workload there; its cluster-scoped whitelist is empty, which Argo CD reads as none
  (`AppProject.IsGroupKindNamePermitted`). No `sourceNamespaces`: the Applications live in Argo CD's own
  namespace, which every project permits (`IsAppNamespacePermitted`). It is named like the root app: `<env>-root`
  would be the project of a team called `root`. The environment's sync windows apply to it as to the teams'.
- Sync windows are read in the region's zone (`timeZone`; Argo CD reads a window without one in UTC), and each
  says in its `description` what it lets through: with `manualSync` a person's sync passes whatever the window
  says, so on a manual-only environment the window waits for automated sync to be turned on.
- Argo CD 3.3 or later (model/platform.py refuses older): `clusterResourceWhitelist[].name` is new in v3.3.0.
- The project whitelist is explicit rather than `*`: a team's Application may create only its own Namespaces and
  the kinds mlgitops renders — in particular no `Secret` (secrets come from ExternalSecrets), no Argo CD objects,
  and no cluster-scoped RBAC: the kinds the charts declare they may emit (their `KINDS`; a test holds every chart
  to its declaration).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import cdk8s

from ..labels import ENV_LABEL, MANAGED_BY_LABEL, PART_OF_LABEL, SOURCE_ANNOTATION, SYNC_WAVE, TEAM_LABEL
from ..merge import EnvironmentDoc, MergedSystem
from ..model.environment import SyncWindow
from . import kinds
from .context import MANAGED_BY
from .custom import custom_resource

API_VERSION = "argoproj.io/v1alpha1"
IN_CLUSTER = "https://kubernetes.default.svc"  # the cluster Argo CD itself runs in
CASCADE_FINALIZER = "resources-finalizer.argocd.argoproj.io"

NAMESPACE = ("", "Namespace")  # cluster-scoped: granted by name, each team its own

# (API group, kind) of what the root app syncs: the objects of `_argocd/`, in Argo CD's namespace.
ROOT_KINDS = (("argoproj.io", "AppProject"), ("argoproj.io", "Application"))

# PruneLast: delete what left git only after everything else is applied and healthy.
# ApplyOutOfSyncOnly: apply only what changed (less API load, fewer webhook calls on large trees).
# FailOnSharedResource: refuse to adopt an object another Application already manages.
SYNC_OPTIONS = ["PruneLast=true", "ApplyOutOfSyncOnly=true", "FailOnSharedResource=true"]
RETRY = {"limit": 5, "backoff": {"duration": "10s", "factor": 2, "maxDuration": "5m"}}


def project_name(env: str, team: str) -> str:
    return f"{env}-{team}"


def root_name(env: str) -> str:
    """The root Application and its AppProject."""
    return f"mlgitops-{env}"


def render_projects(environment: EnvironmentDoc, systems: list[MergedSystem]) -> list[dict[str, Any]]:
    """The AppProjects and the root Application: what depends on the environment's systems as a set (their names
    and teams), so that editing one spec re-renders only that system's Application."""
    stray = sorted({s.env for s in systems} - {environment.name})
    if stray:
        raise ValueError(f"systems merged for {stray} passed to the Argo CD chart of {environment.name!r}")
    env, argocd = environment.name, environment.spec.argocd
    chart = _chart(environment)
    env_source = {SOURCE_ANNOTATION: environment.document.file}
    systems = sorted(systems, key=lambda s: s.name)
    for team in sorted({s.spec.metadata.team for s in systems}):
        _project(chart, environment, team, [s for s in systems if s.spec.metadata.team == team], env_source)
    custom_resource(chart, "root-project", API_VERSION, "AppProject", root_name(env), {"spec": {
        "description": f"mlgitops: the root app of {env}, which syncs the projects and applications of "
                       f"generated/{env}/_argocd into Argo CD's namespace",
        "sourceRepos": [argocd.repo_url],
        "destinations": [{"server": IN_CLUSTER, "namespace": argocd.namespace}],
        "clusterResourceWhitelist": [],
        "namespaceResourceWhitelist": [{"group": g, "kind": k} for g, k in ROOT_KINDS],
        **_sync_windows(environment),
    }}, annotations={**env_source, SYNC_WAVE: "-1"})
    custom_resource(chart, "root", API_VERSION, "Application", root_name(env), {"spec": {
        "project": root_name(env),
        "source": _source(environment, f"generated/{env}/_argocd"),
        "destination": {"server": IN_CLUSTER, "namespace": argocd.namespace},
        "syncPolicy": _sync_policy(argocd.auto_sync),
    }}, annotations=env_source)
    return chart.to_json()


def render_application(environment: EnvironmentDoc, system: MergedSystem, autoscaled: bool) -> dict[str, Any]:
    """The Application of one system, which depends on that system (and its environment) alone."""
    if system.env != environment.name:
        raise ValueError(f"system merged for {system.env!r} passed to the Argo CD chart of {environment.name!r}")
    chart = _chart(environment)
    _application(chart, environment, system, autoscaled)
    [application] = chart.to_json()
    return application


def _chart(environment: EnvironmentDoc) -> cdk8s.Chart:
    return cdk8s.Chart(cdk8s.App(), "argocd", namespace=environment.spec.argocd.namespace,
                       disable_resource_name_hashes=True,
                       labels={MANAGED_BY_LABEL: MANAGED_BY, ENV_LABEL: environment.name})


def _project(chart: cdk8s.Chart, environment: EnvironmentDoc, team: str, systems: Iterable[MergedSystem],
             env_source: dict[str, str]) -> None:
    env, spec = environment.name, environment.spec
    namespaces = [s.namespace for s in systems]
    custom_resource(chart, f"project-{team}", API_VERSION, "AppProject", project_name(env, team), {"spec": {
        "description": f"mlgitops: ML systems of team {team} in {env} ({spec.cluster.name})",
        "sourceRepos": [spec.argocd.repo_url],
        "destinations": [{"server": spec.cluster.server, "namespace": ns} for ns in namespaces],
        # `name` limits the cluster-scoped grant to the team's own Namespaces: without it, the project could
        # create, relabel or prune any Namespace of the cluster (kube-system included).
        "clusterResourceWhitelist": [{"group": NAMESPACE[0], "kind": NAMESPACE[1], "name": ns} for ns in namespaces],
        "namespaceResourceWhitelist": [{"group": g, "kind": k} for g, k in sorted(kinds() - {NAMESPACE})],
        **_sync_windows(environment),
    }}, labels={TEAM_LABEL: team},
        # Before the Applications: Argo CD refuses an Application whose project does not exist yet.
        annotations={**env_source, SYNC_WAVE: "-1"})


def _application(chart: cdk8s.Chart, environment: EnvironmentDoc, system: MergedSystem, autoscaled: bool) -> None:
    env, spec = environment.name, environment.spec
    team = system.spec.metadata.team
    body: dict[str, Any] = {
        "project": project_name(env, team),
        "source": _source(environment, f"generated/{env}/{system.name}"),
        "destination": {"server": spec.cluster.server, "namespace": system.namespace},
        "syncPolicy": _sync_policy(spec.argocd.auto_sync),
    }
    if autoscaled:
        # The HPA or ScaledObject owns the replica count; the Deployment leaves it out, and this keeps Argo CD
        # from calling the autoscaler's value drift. RespectIgnoreDifferences keeps a sync from resetting it.
        body["ignoreDifferences"] = [{"group": "apps", "kind": "Deployment", "jsonPointers": ["/spec/replicas"]}]
        body["syncPolicy"]["syncOptions"].append("RespectIgnoreDifferences=true")
    obj = custom_resource(chart, f"app-{system.name}", API_VERSION, "Application", f"{env}-{system.name}",
                          {"spec": body},
                          labels={PART_OF_LABEL: system.name, TEAM_LABEL: team},
                          annotations={SOURCE_ANNOTATION: system.spec_file, SYNC_WAVE: "0"})
    if spec.argocd.auto_sync:
        obj.metadata.add_finalizers(CASCADE_FINALIZER)


def _sync_windows(environment: EnvironmentDoc) -> dict[str, Any]:
    """The environment's sync windows, read in its region's zone (`timeZone`; without it Argo CD reads the schedule
    in UTC), each described as Argo CD applies it (docs/user-guide/sync_windows.md, argo-cd v3.3.0 fd6b7d5b)."""
    spec = environment.spec
    zone = spec.region_time_zone()
    return {"syncWindows": [{
        "kind": w.kind, "schedule": w.schedule, "duration": w.duration, "applications": ["*"],
        "manualSync": w.manual_sync, **({"timeZone": zone} if zone else {}),
        "description": _window_description(w, zone or "UTC", spec.argocd.auto_sync),
    } for w in spec.argocd.sync_windows]} if spec.argocd.sync_windows else {}


def _window_description(window: SyncWindow, zone: str, auto_sync: bool) -> str:
    """What the window does: an allow window lets automated syncs run only inside it, a deny window stops them
    inside it; `manualSync` lets a person's sync through regardless, so on a manual-only environment the window
    changes nothing until automated sync is turned on."""
    when = f"{window.schedule} for {window.duration} ({zone})"
    text = (f"automated syncs only {when}" if window.kind == "allow" else f"no automated syncs {when}")
    text += "; manual syncs at any time (manualSync)" if window.manual_sync else \
        ("; manual syncs only inside it too" if window.kind == "allow" else "; no manual syncs either")
    if not auto_sync and window.manual_sync:
        text += "; automated sync is off here, so this window applies only once it is turned on"
    return text


def _source(environment: EnvironmentDoc, path: str) -> dict[str, str]:
    argocd = environment.spec.argocd
    return {"repoURL": argocd.repo_url, "targetRevision": argocd.target_revision, "path": path}


def _sync_policy(auto_sync: bool) -> dict[str, Any]:
    policy: dict[str, Any] = {"syncOptions": list(SYNC_OPTIONS)}
    if auto_sync:
        policy["automated"] = {"prune": True, "selfHeal": True}
        policy["retry"] = RETRY
    return policy
