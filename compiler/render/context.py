"""What every chart needs about the system it renders (names, labels, annotations, the resolved model), and what
every chart declares about itself: its sync wave, the kinds it may emit, its spec section, when it applies and the
pods it runs (`PodDemand`), from which the chart registry (render/__init__.py) derives the Argo CD whitelist, the
ResourceQuota, the cost estimate and where findings point."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import cdk8s

from ..labels import (
    COMPONENT_LABEL,
    ENV_LABEL,
    MANAGED_BY_LABEL,
    MODEL_ALIAS_ANNOTATION,
    MODEL_NAME_ANNOTATION,
    MODEL_RUN_ID_ANNOTATION,
    MODEL_URI_ANNOTATION,
    MODEL_VERSION_ANNOTATION,
    NAME_LABEL,
    PART_OF_LABEL,
    SOURCE_ANNOTATION,
    SPEC_HASH_ANNOTATION,
    TEAM_LABEL,
)
from ..merge import MergedSystem
from ..model.mlsystem import Resources, Runtime
from ..model.names import WORKLOAD_SUFFIX
from ..model.platform import Platform
from ..resolve import ResolvedModel

MANAGED_BY = "mlgitops"
KSERVE_POD_LABEL = "serving.kserve.io/inferenceservice"


@dataclass(frozen=True)
class RenderContext:
    system: MergedSystem
    model: ResolvedModel | None
    # Every pod the system runs at its peak, summed over the charts that apply (render.peak_pods) before any chart
    # renders: the tenancy chart's quota counts them without importing the registry that imports it.
    peak_pods: tuple[PodDemand, ...] = ()

    @property
    def name(self) -> str:
        return self.system.name

    @property
    def namespace(self) -> str:
        return self.system.namespace

    @property
    def month_hours(self) -> float:
        """The month the pods' hours are counted in (`pricing.hoursPerMonth`)."""
        return float(self.system.environment.spec.pricing.hours_per_month)

    @property
    def platform(self) -> Platform:
        """How the environment's controllers are installed: every renderer reads this, none assumes it."""
        return self.system.environment.spec.platform

    def serving_port_name(self) -> str:
        """The name of the port the serving container declares, which Services and monitors refer to.

        Knative accepts only `http1` or `h2c` as a container port's name (pkg/apis/serving/k8s_validation.go,
        validateContainerPorts, knative/serving 98e5ef90aa); KServe's Standard mode and a Deployment take any."""
        return "http1"

    def labels(self) -> dict[str, str]:
        """Labels on every object of the system (chart-wide)."""
        meta = self.system.spec.metadata
        return {**meta.labels,
                PART_OF_LABEL: self.name,
                MANAGED_BY_LABEL: MANAGED_BY,
                TEAM_LABEL: meta.team,
                ENV_LABEL: self.system.env}

    def workload(self, component: str) -> str:
        """Name of a component's workload, its ServiceAccount and its pods' `app.kubernetes.io/name`."""
        return self.name + WORKLOAD_SUFFIX[component]

    def secrets_for(self, component: str) -> tuple[str, ...]:
        """The secrets a component's pods mount (`secrets[].usedBy`)."""
        return tuple(s.name for s in self.system.spec.secrets if component in s.used_by)

    def workload_labels(self, workload: str, component: str) -> dict[str, str]:
        return {NAME_LABEL: workload, COMPONENT_LABEL: component}

    def selector(self, workload: str) -> dict[str, str]:
        """Pod selector of a workload: stable across spec changes (selectors are immutable)."""
        return {NAME_LABEL: workload, PART_OF_LABEL: self.name}

    def serving_selector(self) -> dict[str, str]:
        """The serving pods: KServe labels its predictor pods itself; a Deployment's carry our selector."""
        if self.system.spec.serving.runtime is Runtime.kserve:
            return {KSERVE_POD_LABEL: self.name}
        return self.selector(self.workload("serving"))

    def annotations(self) -> dict[str, str]:
        return {SOURCE_ANNOTATION: self.system.spec_file, SPEC_HASH_ANNOTATION: self.system.spec_hash}

    def model_annotations(self) -> dict[str, str]:
        """Lineage of the model a serving object runs (empty for image-only serving)."""
        if self.model is None:
            return {}
        annotations = {MODEL_NAME_ANNOTATION: self.model.name,
                       MODEL_VERSION_ANNOTATION: self.model.version_label,
                       MODEL_URI_ANNOTATION: self.model.source_uri}
        if self.model.alias:
            annotations[MODEL_ALIAS_ANNOTATION] = self.model.alias
        if self.model.run_id:
            annotations[MODEL_RUN_ID_ANNOTATION] = self.model.run_id
        return annotations

    def model_env(self) -> dict[str, str]:
        """How a plain container learns which model to load."""
        if self.model is None:
            return {}
        return {"MODEL_NAME": self.model.name, "MODEL_VERSION": self.model.version_label,
                "MODEL_URI": self.model.source_uri}


@dataclass(frozen=True)
class PodDemand:
    """Pods a chart runs at its peak: the namespace's ResourceQuota counts them, the cost estimate prices them."""

    line: Literal["serving", "training", "drift"]  # the figure of the cost estimate they are priced in
    count: int  # pods at once at the peak
    resources: Resources  # each pod's own container, `resources.gpu` its GPUs
    shared_memory: bool = False  # a /dev/shm, whose memory its container requests on top
    sidecars: tuple[dict[str, str], ...] = ()  # what the containers injected beside it request themselves
    hours: float = 0.0  # hours a month each pod runs (0: only during a rollout, or only in a one-off run)
    fewest: int | None = None  # pods of `count` still running at the quietest (serving's replicas.min); None: all
    run_hours: float = 0.0  # hours each pod runs in one run of its job


class SystemChart(cdk8s.Chart):
    """A chart of one system's objects: in its namespace, with the common labels and names as written.

    Each chart declares what the registry derives from: `WAVE`, its Argo CD sync wave; `KINDS`, every (API group,
    kind) it may emit (a test holds it to that); `COMPONENT`, the spec section its objects come from, if any;
    `applies`, whether the system has it; `pods`, what it runs at its peak."""

    WAVE: ClassVar[int]
    KINDS: ClassVar[tuple[tuple[str, str], ...]] = ()
    COMPONENT: ClassVar[str | None] = None

    @classmethod
    def applies(cls, ctx: RenderContext) -> bool:
        return True

    @classmethod
    def pods(cls, ctx: RenderContext) -> list[PodDemand]:
        return []

    def __init__(self, scope: cdk8s.App, id: str, ctx: RenderContext, namespaced: bool = True):
        super().__init__(scope, id, namespace=ctx.namespace if namespaced else None, labels=ctx.labels(),
                         disable_resource_name_hashes=True)
        self.ctx = ctx
