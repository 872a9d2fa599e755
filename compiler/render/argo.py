"""What every Argo Workflows object the compiler writes shares, for the Argo Workflows version of the platform.

The pipeline's WorkflowTemplate and CronWorkflows and the scheduled-training launcher read these, so a version's
rules are written once: the schedule field, the restricted pod security the executor containers lack on a stock
install, and what cleans up after a run.
"""

from __future__ import annotations

from typing import Any

from ..model.platform import Platform, at_least
from .pods import RUN_AS

# The pod-level securityContext of every workflow pod (restricted Pod Security).
WORKFLOW_SECURITY = {"runAsNonRoot": True, "runAsUser": RUN_AS, "runAsGroup": RUN_AS, "fsGroup": RUN_AS,
                     "seccompProfile": {"type": "RuntimeDefault"}}


def cron_schedule(platform: Platform, cron: str) -> dict[str, Any]:
    """A CronWorkflow's schedule: `schedules` from v3.6, the only field v4.0 keeps (argo-workflows 801b82a,
    docs/upgrading.md "Upgrading to v4.0"); `schedule` before 3.6, which has no list."""
    if at_least(platform.argo_workflows.version, "3.6"):
        return {"schedules": [cron]}
    return {"schedule": cron}
