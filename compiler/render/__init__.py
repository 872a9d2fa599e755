"""Pass 5 — render: a merged, resolved system → Kubernetes objects, through cdk8s, one chart per concern.

Input: `MergedSystem` and its `ResolvedModel`. Output: `list[dict]` — plain manifests, in chart order, each
carrying the common labels and the `mlgitops.io/source` and `mlgitops.io/spec-hash` annotations. Pure: the same
input gives the same objects.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..merge import MergedSystem
from ..resolve import ResolvedModel

# jsii runs cdk8s on Node; use the supported Node the set-up installs, unless the caller chose one.
_PROJECT_NODE = Path(__file__).resolve().parents[2] / "tools" / "node" / "node_modules" / "node" / "bin" / "node"
if "JSII_NODE" not in os.environ and _PROJECT_NODE.exists():
    os.environ["JSII_NODE"] = str(_PROJECT_NODE)

import cdk8s  # noqa: E402  (after JSII_NODE is settled)

from .context import RenderContext  # noqa: E402
from .namespace import NamespaceChart  # noqa: E402
from .serving import ServingChart  # noqa: E402
from .training import TrainingChart  # noqa: E402

# The charts, in the order their objects are emitted; each decides from the spec whether it applies.
CHARTS = (
    (NamespaceChart, lambda spec: True),
    (TrainingChart, lambda spec: spec.training is not None),
    (ServingChart, lambda spec: spec.serving is not None),
)


def render(system: MergedSystem, model: ResolvedModel | None) -> list[dict[str, Any]]:
    ctx = RenderContext(system, model)
    app = cdk8s.App()
    charts = [chart(app, ctx) for chart, applies in CHARTS if applies(system.spec)]
    objects = []
    for chart in charts:
        for api_object in chart.api_objects:
            for key, value in ctx.annotations().items():
                api_object.metadata.add_annotation(key, value)
        objects += chart.to_json()
    return objects
