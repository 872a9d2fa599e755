"""Pass 5 — render: a merged, resolved system → Kubernetes objects, through cdk8s, one chart per concern.

Input: `MergedSystem` and its `ResolvedModel`. Output: `list[dict]` — plain manifests, in chart order, each
carrying the common labels and the `mlgitops.io/source` and `mlgitops.io/spec-hash` annotations. Pure: the same
input gives the same objects.
"""

from __future__ import annotations

from typing import Any

import cdk8s  # on the Node that runtime.configure() chose (JSII_NODE)

from ..labels import SYNC_WAVE
from ..merge import MergedSystem
from ..resolve import ResolvedModel
from . import monitoring  # noqa: E402
from .context import RenderContext  # noqa: E402
from .gpu import GpuChart, dra_requests  # noqa: E402
from .namespace import NamespaceChart  # noqa: E402
from .pipeline import PipelineChart  # noqa: E402
from .secrets import SecretsChart  # noqa: E402
from .serving import ServingChart  # noqa: E402
from .tenancy import TenancyChart  # noqa: E402
from .training import QueuesChart, TrainingChart, uses_queues  # noqa: E402

# (a KEDA TriggerAuthentication too: the ScaledObject that refers to it reads the lag from the first sync on)
BEFORE_WORKLOADS = {"ServiceAccount", "Role", "RoleBinding", "NetworkPolicy", "TriggerAuthentication"}
# The charts in the order their objects are emitted, each with the Argo CD sync wave of its objects (the namespace
# first, then identities, quotas, policies and secrets, then workloads) and when it applies.
CHARTS = (
    (NamespaceChart, -2, lambda ctx: True),
    (TenancyChart, -1, lambda ctx: True),
    (SecretsChart, -1, lambda ctx: bool(ctx.system.spec.secrets)),
    (GpuChart, -1, lambda ctx: bool(dra_requests(ctx))),
    (QueuesChart, -1, uses_queues),
    (PipelineChart, 0, lambda ctx: ctx.system.spec.pipeline is not None),
    (ServingChart, 0, lambda ctx: ctx.system.spec.serving is not None),
    # After the workloads: a cluster without the Prometheus Operator CRDs then fails only here, after they run.
    (monitoring.MonitoringChart, 1, lambda ctx: monitoring.applies(ctx.system.spec)),
    # Last: Argo CD waits for a wave to be healthy, and a training job is Progressing until it ends, so it must
    # not hold back serving and monitoring. With a pipeline, training runs as its train step instead.
    (TrainingChart, 2, lambda ctx: ctx.system.spec.training is not None and ctx.system.spec.pipeline is None),
)


def render(system: MergedSystem, model: ResolvedModel | None) -> list[dict[str, Any]]:
    ctx = RenderContext(system, model)
    app = cdk8s.App()
    objects = []
    for chart_class, wave, applies in CHARTS:
        if not applies(ctx):
            continue
        chart = chart_class(app, ctx)
        for api_object in chart.api_objects:
            # identities, network policies and trigger credentials go before any workload, whichever chart makes them
            object_wave = min(wave, -1) if api_object.kind in BEFORE_WORKLOADS else wave
            for key, value in {**ctx.annotations(), SYNC_WAVE: str(object_wave)}.items():
                api_object.metadata.add_annotation(key, value)
        objects += chart.to_json()
    return objects
