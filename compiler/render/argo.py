"""What every Argo Workflows object the compiler writes shares, for the Argo Workflows version of the platform.

The pipeline's WorkflowTemplate and CronWorkflows and the scheduled-training launcher read these, so a version's
rules are written once: the schedule field, the restricted pod security the executor containers lack on a stock
install, and what cleans up after a run. Read against argo-workflows v3.5.15, v3.6.19, v4.0.10 and v4.1.2
(16a52d67da): the versions the profile accepts (ARGO_WORKFLOWS_VERSIONS in model/platform.py).
"""

from __future__ import annotations

import json
from typing import Any

from ..model.platform import ArgoWorkflows, Platform, at_least
from .pods import RUN_AS

# The pod-level securityContext of every workflow pod (restricted Pod Security).
WORKFLOW_SECURITY = {"runAsNonRoot": True, "runAsUser": RUN_AS, "runAsGroup": RUN_AS, "fsGroup": RUN_AS,
                     "seccompProfile": {"type": "RuntimeDefault"}}

# What restricted Pod Security asks of each container Argo injects. The root filesystem stays writable: the
# executor writes there, and Argo's own MinimalCtrSC leaves it so for init and wait too (argo-workflows #10787).
EXECUTOR_SECURITY = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, "runAsNonRoot": True,
                     "seccompProfile": {"type": "RuntimeDefault"}}

# Delete a step's pod once it succeeded; a failed one stays, with its logs, until its Workflow is deleted (pods
# are owned by their Workflow). Completed pods hold no CPU, memory or GPU, but they fill the namespace's pod count.
POD_GC = {"strategy": "OnPodSuccess"}
# Delete a finished Workflow (and its pods): a day after success, a week after failure for whoever investigates.
RUN_TTL = {"secondsAfterSuccess": 86400, "secondsAfterFailure": 7 * 86400}
# How long a run may wait for Kueue to admit its GPU steps and for the cluster to place its pods, on top of its
# steps' own deadlines: the bound of the whole run (`activeDeadlineSeconds`).
QUEUE_SLACK_SECONDS = 6 * 3600
# The bound a step without a `timeout` counts with in the run's deadline.
STEP_BOUND_SECONDS = 3600
# What Argo's wait container, beside every step's own, requests itself: nothing, without the controller's
# executor.resources (config/config.go GetExecutor, argo-workflows f016ad89eb); the LimitRange fills it in.
ARGO_WAIT: dict[str, str] = {}


def cron_schedule(platform: Platform, cron: str, time_zone: str | None = None) -> dict[str, Any]:
    """A CronWorkflow's schedule: `schedules` from v3.6, the only field v4.0 keeps (argo-workflows 801b82a,
    docs/upgrading.md "Upgrading to v4.0"); `schedule` before 3.6, which has no list. With the zone it is read in
    (`timezone`, every version), when there is one: without it the controller's zone, UTC."""
    schedule = {"schedules": [cron]} if at_least(platform.argo_workflows.version, "3.6") else {"schedule": cron}
    return {**schedule, **({"timezone": time_zone} if time_zone else {})}


def mutex(platform: Platform, name: str) -> dict[str, Any]:
    """`synchronization` holding one mutex: `mutexes` from v3.6 (which deprecated the singular), the only field
    v4.0 keeps (pkg/apis/workflow/v1alpha1/workflow_types.go, type Synchronization, at each version)."""
    if at_least(platform.argo_workflows.version, "3.6"):
        return {"mutexes": [{"name": name}]}
    return {"mutex": {"name": name}}


def executor_containers(argo: ArgoWorkflows, template: dict[str, Any]) -> dict[str, list[str]]:
    """The containers Argo adds to a template's pod (workflow/controller/workflowpod.go, build): `initContainers`
    and `containers` by name. A container template gets `init` and, beside its main container, `wait`; with
    v4.1's init-less layout (`initlessPod`) no init container and `supervisor` instead of `wait`. A resource
    template runs `argoexec resource` as its main container after `init`, without `wait`."""
    if "resource" in template:
        return {"initContainers": [] if argo.initless_pod else ["init"], "containers": ["main"]}
    if argo.initless_pod:
        return {"initContainers": [], "containers": ["supervisor"]}
    return {"initContainers": ["init"], "containers": ["wait"]}


def harden_executor(platform: Platform, template: dict[str, Any]) -> dict[str, Any]:
    """The template with a `podSpecPatch` giving Argo's executor containers restricted Pod Security, where the
    controller's `executor.securityContext` does not (`executorHardened: false`, a stock install).

    newExecContainer gives init, wait and supervisor that securityContext, nil by default; only a resource
    template's get `common.MinimalCtrSC()` then, which is already restricted, so those are left alone. The patch
    is a strategic merge by container name (util.ApplyPodSpecPatch) after the pod is built, so it names only the
    containers the template's pod has: a name it lacks would add a container without an image. It is per template
    (a workflow-level patch would reach resource templates' pods too) and keeps what the template patches already
    (DRA `resourceClaims`)."""
    if platform.argo_workflows.executor_hardened or "resource" in template:
        return template
    patch = json.loads(template.get("podSpecPatch", "{}"))
    for field, names in executor_containers(platform.argo_workflows, template).items():
        if names:
            patch[field] = [{"name": name, "securityContext": EXECUTOR_SECURITY} for name in names]
    return {**template, "podSpecPatch": json.dumps(patch, sort_keys=True)}


def run_bounds(deadline_seconds: int) -> dict[str, Any]:
    """What bounds a Workflow and cleans up after it: the run's deadline, pod GC, and the Workflow's TTL."""
    return {"activeDeadlineSeconds": deadline_seconds, "podGC": POD_GC, "ttlStrategy": RUN_TTL}
