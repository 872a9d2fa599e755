"""Pass 5 — render: a merged, resolved system → Kubernetes objects, through cdk8s, one chart per concern.

Input: `MergedSystem` and its `ResolvedModel`. Output: `list[dict]` — plain manifests, in chart order, each
carrying the common labels and the `mlgitops.io/source` and `mlgitops.io/spec-hash` annotations. Pure: the same
input gives the same objects.

`CHARTS` is the chart registry: a new chart is its own module and one line there. What the charts declare
(render/context.py `SystemChart`) is all the rest of the compiler reads of them: the Argo CD projects' kind whitelist
(`kinds()`), the ResourceQuota and the cost estimate (`peak_pods()`), and the spec section of a finding (`COMPONENT`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import cdk8s  # on the Node that runtime.configure() chose (JSII_NODE)

from ..labels import SYNC_WAVE
from ..merge import MergedSystem
from ..resolve import ResolvedModel
from .context import PodDemand, RenderContext, SystemChart
from .gpu import GpuChart
from .monitoring import MonitoringChart
from .namespace import NamespaceChart
from .pipeline import PipelineChart
from .secrets import SecretsChart
from .serving import ServingChart
from .tenancy import TenancyChart
from .training import QueuesChart, TrainingChart

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
    ctx = dataclasses.replace(ctx, peak_pods=tuple(peak_pods(ctx)))
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
