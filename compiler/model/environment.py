"""`Environment`: one cluster's settings (environments/<env>.yaml) — Argo CD, MLflow, secret store, policy, defaults."""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field

from .base import SpecModel
from .platform import Platform
from .reserved import CONTROLLER_NAMESPACES
from .units import Cron, DnsLabel, DnsSubdomain, Duration, HoursRange, TimeZone


class Metadata(SpecModel):
    name: DnsLabel


class Cluster(SpecModel):
    name: Annotated[str, Field(min_length=1)]
    server: Annotated[str, Field(pattern=r"^https://\S+$")]
    """API server URL; the Argo CD destination."""
    region: Annotated[str, Field(pattern=r"^[a-z0-9-]+$")]


class SyncWindow(SpecModel):
    """An Argo CD sync window: when automated syncs may (allow) or may not (deny) run."""

    kind: Literal["allow", "deny"]
    schedule: Cron
    duration: Duration
    manual_sync: bool = True
    """Whether a person may still sync by hand when the window stops automated syncs (outside an allow window,
    inside a deny one)."""


class ArgoCd(SpecModel):
    namespace: DnsLabel = "argocd"
    repo_url: Annotated[str, Field(alias="repoURL", pattern=r"^(https://|ssh://|git@)[^\s*]+$")]
    """The one repository Argo CD syncs from (no wildcards: every Application's source is this URL)."""
    target_revision: Annotated[str, Field(min_length=1)] = "main"
    auto_sync: bool = False
    """Automated sync (with self-heal) for this environment's applications."""
    sync_windows: list[SyncWindow] = []
    """Sync windows put on every AppProject of the environment."""


class Mlflow(SpecModel):
    tracking_uri: Annotated[str, Field(pattern=r"^(https?://|sqlite:///|file:|databricks)\S*$")] | None = None
    """Registry to resolve models in; MLFLOW_TRACKING_URI overrides it."""


class SecretStore(SpecModel):
    kind: Literal["SecretStore", "ClusterSecretStore"] = "ClusterSecretStore"
    name: DnsLabel
    vault_mount: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]+$")] = "secret"
    """The Vault KV mount the store reads (its provider.vault.path); a spec's vault://<mount>/... must name it."""


class Toleration(SpecModel):
    key: Annotated[str, Field(min_length=1)]
    operator: Literal["Exists", "Equal"] = "Equal"
    value: str | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None


class Gpu(SpecModel):
    node_selector_key: Annotated[str, Field(min_length=1)] = "nvidia.com/gpu.product"
    """Node label that carries the GPU product (set by GPU Feature Discovery)."""
    tolerations: list[Toleration] = [Toleration(key="nvidia.com/gpu", operator="Exists", effect="NoSchedule")]
    hourly_price: dict[str, Annotated[float, Field(ge=0)]] = {}
    """Price per GPU-hour by product, for cost estimates; a spec may only ask for a type priced or listed here."""
    products: dict[str, Annotated[str, Field(min_length=1)]] = {}
    """GPU type → the node label value GPU Feature Discovery sets (e.g. nvidia-t4: Tesla-T4); default: the type."""
    device_class: DnsSubdomain = "gpu.nvidia.com"
    """DRA DeviceClass of whole GPUs (the NVIDIA DRA driver's)."""
    mig_device_class: DnsSubdomain = "mig.nvidia.com"
    """DRA DeviceClass of MIG slices (the NVIDIA DRA driver's)."""

    def claim_device_class(self, mig: bool) -> str:
        """The DeviceClass a DRA claim for a whole GPU, or for a MIG slice, asks."""
        return self.mig_device_class if mig else self.device_class


class Ingress(SpecModel):
    class_name: DnsSubdomain | None = None
    """IngressClass for serving.ingress, unless a spec names one."""
    cluster_issuer: DnsSubdomain | None = None
    """cert-manager ClusterIssuer that issues the TLS certificates of ingresses."""
    controller_namespace: DnsLabel = "ingress-nginx"
    """Namespace of the ingress controller, allowed through the network policies."""


def _check_port(broker: str) -> str:
    if not 1 <= int(broker.rsplit(":", 1)[1]) <= 65535:
        raise ValueError(f"{broker!r} has no port between 1 and 65535")
    return broker


KafkaBroker = Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?:[0-9]{1,5}$"),
                        AfterValidator(_check_port)]


class Kafka(SpecModel):
    brokers: list[KafkaBroker] = []
    """The Kafka bootstrap servers (host:port) of the cluster; a spec's autoscaling.kafka may name only these, and
    its serving pods may reach only these (in-cluster `<svc>.<namespace>.svc` hosts by namespace, IPs by address)."""


def _check_cidr(cidr: str) -> str:
    ipaddress.ip_network(cidr)  # strict: host bits must be zero, as a NetworkPolicy's ipBlock requires
    return cidr


Cidr = Annotated[str, Field(min_length=1), AfterValidator(_check_cidr)]
Port = Annotated[int, Field(ge=1, le=65535)]


class EgressDestination(SpecModel):
    cidr: Cidr
    """Addresses the pods may reach, e.g. the object store's or an egress proxy's."""
    ports: Annotated[list[Port], Field(min_length=1)]
    """TCP ports at those addresses."""


class Network(SpecModel):
    """What the pods may reach beyond DNS: egress is denied unless listed here or needed by a named exception."""

    api_server: list[Cidr] = []
    """Addresses of the Kubernetes API server (the `kubernetes` Service's ClusterIP and its endpoints): the only
    destination of the API-server egress of pods that mount a token. Empty: that egress is limited by port only."""
    egress_allow_list: list[EgressDestination] = []
    """Egress every pod of a system may use (object store, registries, the model registry). Empty by default: a
    cluster that reaches those through other means (an egress gateway, private endpoints) lists nothing."""
    node_local_dns: bool = False
    """Whether NodeLocal DNSCache answers on its link-local address (169.254.20.10) on every node."""


class Monitoring(SpecModel):
    namespace: DnsLabel = "monitoring"
    """Namespace Prometheus scrapes from, allowed through the network policies."""
    pushgateway: Annotated[str, Field(pattern=r"^https?://[^/\s]+(:\d+)?$")] = (
        "http://prometheus-pushgateway.monitoring.svc:9091")
    """Prometheus Pushgateway the drift checks push their scores to."""
    prometheus: Annotated[str, Field(pattern=r"^https?://[^/\s]+(:\d+)?$")] = (
        "http://prometheus-operated.monitoring.svc:9090")
    """Prometheus whose firing alerts start pipelines (pipeline.triggers.onDrift)."""


class Pipelines(SpecModel):
    step_image: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._/:@-]*$", max_length=512)] = (
        "registry.example.com/platform/mlgitops-steps:1.0.0")
    """The platform's image of the built-in steps (validate-data, evaluate, register) and of the drift trigger; its
    `mlgitops-step <kind>` command takes the arguments the compiler writes."""


class Severity(StrEnum):
    info = "info"
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


class Policy(SpecModel):
    fail_on: Severity = Severity.high
    """Findings at or above this severity fail the gate."""


class Pricing(SpecModel):
    """Prices for the cost estimate in the pull-request summary, besides the GPUs' gpu.hourlyPrice."""

    cpu_core_hour: Annotated[float, Field(ge=0)] | None = None
    """Price of one requested CPU core for an hour; without it CPU is counted in core-hours but not priced."""
    memory_gib_hour: Annotated[Annotated[float, Field(ge=0)] | None, Field(alias="memoryGiBHour")] = None
    """Price of one requested GiB of memory for an hour; without it memory is counted but not priced."""
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "USD"
    """ISO 4217 code of every price of the environment (gpu.hourlyPrice too)."""
    hours_per_month: Annotated[float, Field(gt=0, le=744)] = 730
    """Hours in the month that monthly estimates are for (730 = 8760 / 12)."""


class RegionWindows(SpecModel):
    """When a region's grid is low-carbon and its prices off-peak, for `training.window`."""

    time_zone: TimeZone
    """The zone the hours below (and the schedules placed in them) are read in."""
    low_carbon: list[HoursRange] = []
    """Hours of low grid carbon intensity, e.g. [01:00-05:00, 12:00-15:00]."""
    off_peak: list[HoursRange] = []
    """Hours of off-peak prices, e.g. [22:00-06:00]."""


class Environment(SpecModel):
    """One target cluster and the platform settings every system compiled for it shares."""

    api_version: Literal["mlgitops.io/v1alpha1"]
    kind: Literal["Environment"]
    metadata: Metadata
    tier: Literal["dev", "staging", "prod"] | None = None
    """How strictly policies treat the environment; by default from its name (prod…, stag…, else dev)."""
    cluster: Cluster
    namespace_prefix: Annotated[str, Field(pattern=r"^([a-z0-9][-a-z0-9]*)?$", max_length=20)] = ""
    """namespace = <prefix><system name>"""
    argocd: ArgoCd
    mlflow: Mlflow = Mlflow()
    secret_store: SecretStore | None = None
    image_registries: list[Annotated[str, Field(min_length=1)]] = []
    """Registries images may come from; anything else is refused by policy."""
    gpu: Gpu = Gpu()
    ingress: Ingress = Ingress()
    monitoring: Monitoring = Monitoring()
    policy: Policy = Policy()
    pricing: Pricing = Pricing()
    pipelines: Pipelines = Pipelines()
    kafka: Kafka = Kafka()
    network: Network = Network()
    platform_namespaces: list[DnsLabel] = list(CONTROLLER_NAMESPACES)
    """Namespaces of the platform's controllers, which no system may get (besides every kube-*, default, and the
    Argo CD, monitoring and ingress-controller namespaces named above); by default their upstream install ones."""
    scheduling_windows: dict[Annotated[str, Field(pattern=r"^[a-z0-9-]+$")], RegionWindows] = {}
    """Per region (cluster.region): its time zone and its low-carbon and off-peak hours."""
    platform: Platform = Platform()
    """How the cluster's controllers are installed and configured, and what it provides; by default each project's
    stock install (model/platform.py)."""
    defaults: dict[str, Any] = {}
    """Values applied to every system before its own (deep merge)."""

    def region_time_zone(self) -> str | None:
        """The zone of the cluster's region (`schedulingWindows`), which schedules without a zone of their own run
        in; None where the environment declares none (UTC)."""
        table = self.scheduling_windows.get(self.cluster.region)
        return table.time_zone if table else None


def tier_of(environment: Environment) -> str:
    if environment.tier is not None:
        return environment.tier
    name = environment.metadata.name
    return "prod" if name.startswith("prod") else "staging" if name.startswith("stag") else "dev"
