"""The chart registry (compiler/render/__init__.py `CHARTS`): each chart emits only the kinds it declares, and a new
chart is one module and one registry line — its kinds reach the Argo CD whitelist, its pods the ResourceQuota and the
cost estimate, with nothing else edited."""

from __future__ import annotations

import cdk8s
import pytest
from cdk8s_plus_34 import k8s

import compiler.render as registry  # first: settles JSII_NODE before cdk8s starts
from compiler.cost import estimate
from compiler.driver import Workspace, validate_all
from compiler.merge import MergedSystem
from compiler.model.mlsystem import Gpu, Resources
from compiler.model.units import cpu_cores
from compiler.pins import read_lock
from compiler.render.argocd import render_projects
from compiler.render.context import PodDemand, RenderContext, SystemChart
from compiler.render.gpu import gpu_quota
from compiler.render.pods import ContainerSpec, needs_shared_memory, pod_spec, template
from helpers import ROOT

WAVE = "argocd.argoproj.io/sync-wave"


@pytest.fixture(scope="module")
def systems() -> dict[tuple[str, str], MergedSystem]:
    _, merged = validate_all(Workspace(ROOT))
    return {(s.env, s.name): s for s in merged}


def _kinds(objects: list[dict]) -> set[tuple[str, str]]:
    return {(o["apiVersion"].rpartition("/")[0], o["kind"]) for o in objects}


def test_every_chart_emits_only_the_kinds_it_declares(systems: dict[tuple[str, str], MergedSystem]) -> None:
    lock = read_lock(ROOT)
    emitted_anywhere = set()
    for key, system in systems.items():
        ctx = RenderContext(system, lock.get(key))
        app = cdk8s.App()
        for chart in registry.CHARTS:
            if chart.applies(ctx):
                emitted = _kinds(chart(app, ctx).to_json())
                assert emitted - set(chart.KINDS) == set(), (key, chart.__name__)
                emitted_anywhere |= emitted
    assert len(emitted_anywhere) > 20  # the examples render most of what the charts may


class EmbedderChart(SystemChart):
    """What a new chart's module holds: a StatefulSet of GPU pods, and what it declares about them."""

    WAVE = 0
    KINDS = (("apps", "StatefulSet"),)
    REPLICAS = 3
    RESOURCES = Resources(cpu="4", memory="16Gi", gpu=Gpu(count=1, type="nvidia-l4"))

    @classmethod
    def pods(cls, ctx: RenderContext) -> list[PodDemand]:
        return [PodDemand("serving", cls.REPLICAS, cls.RESOURCES, needs_shared_memory(cls.RESOURCES.gpu),
                          hours=ctx.month_hours)]

    def __init__(self, scope: cdk8s.App, ctx: RenderContext):
        super().__init__(scope, "embedder", ctx)
        name = f"{ctx.name}-embedder"
        container = ContainerSpec(name="embedder", image="registry.example.com/embedder:1.0",
                                  resources=self.RESOURCES, gpu=self.RESOURCES.gpu)
        spec = pod_spec([container], ctx.system.environment.spec, service_account=name, workload=name)
        k8s.KubeStatefulSet(self, "statefulset", metadata=k8s.ObjectMeta(name=name), spec=k8s.StatefulSetSpec(
            replicas=self.REPLICAS, service_name=name, selector=k8s.LabelSelector(match_labels=ctx.selector(name)),
            template=template(ctx.selector(name), spec)))


def _quota(objects: list[dict]) -> dict[str, str]:
    [quota] = [o for o in objects if o["kind"] == "ResourceQuota"]
    return quota["spec"]["hard"]


def _whitelist(system: MergedSystem) -> set[tuple[str, str]]:
    [project] = [o for o in render_projects(system.environment, [system]) if o["metadata"]["name"].endswith(
        system.spec.metadata.team)]
    return {(r["group"], r["kind"]) for r in project["spec"]["namespaceResourceWhitelist"]}


def test_a_new_chart_is_one_module_and_one_registry_line(systems: dict[tuple[str, str], MergedSystem],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    system = systems[("prod", "fraud-scorer")]  # no GPU of its own
    model = read_lock(ROOT).get(("prod", "fraud-scorer"))
    before = registry.render(system, model), _whitelist(system), estimate(system)
    monkeypatch.setattr(registry, "CHARTS", (*registry.CHARTS, EmbedderChart))
    objects, whitelist, cost = registry.render(system, model), _whitelist(system), estimate(system)

    [statefulset] = [o for o in objects if o["kind"] == "StatefulSet"]
    assert statefulset["metadata"]["annotations"][WAVE] == "0"
    assert whitelist - before[1] == {("apps", "StatefulSet")}
    # the quota: 3 more pods, each 4 CPUs and one L4
    quota, quota_before = _quota(objects), _quota(before[0])
    assert int(quota["pods"]) - int(quota_before["pods"]) == 3
    assert cpu_cores(quota["requests.cpu"]) - cpu_cores(quota_before["requests.cpu"]) == 12
    [(gpus, per_pod)] = gpu_quota(EmbedderChart.RESOURCES.gpu, system.environment.spec).items()
    assert int(quota[gpus]) - int(quota_before.get(gpus, 0)) == 3 * per_pod
    # the cost: 3 pods × 730 h = 2,190 L4-h × 0.81 $/h = $1,773.90 a month, at min and at max
    for now, then in ((cost.serving_min, before[2].serving_min), (cost.serving_max, before[2].serving_max)):
        assert now.gpu_hours - then.gpu_hours == pytest.approx(2190)
        assert now.gpu_cost - then.gpu_cost == pytest.approx(1773.90)
