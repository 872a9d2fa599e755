"""Namespace chart: the system's namespace in this environment."""

from __future__ import annotations

import cdk8s
from cdk8s_plus_34 import k8s

from .context import RenderContext, SystemChart


class NamespaceChart(SystemChart):
    WAVE = -2  # first: every other object lives in it
    KINDS = (("", "Namespace"),)

    def __init__(self, scope: cdk8s.App, ctx: RenderContext):
        super().__init__(scope, "namespace", ctx, namespaced=False)
        # Pod Security Admission enforces what the renderer promises: every pod meets "restricted".
        psa = {f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "audit", "warn")}
        k8s.KubeNamespace(self, "namespace", metadata=k8s.ObjectMeta(name=ctx.namespace, labels=psa))
