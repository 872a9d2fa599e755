"""Tenancy chart: who runs as what, who may look, how much the namespace may use, and who may talk to whom.

- a ServiceAccount per workload (serving, training, drift check), with no API token mounted;
- a read-only Role for the owning team (pods, logs, events, workloads and their custom resources; never Secrets),
  bound to the Group named after the team (the identity provider's group for it);
- a ResourceQuota sized from the spec: every pod the system can run at its peak — serving at max replicas (twice
  during a canary) plus the rolling-update surge, every training worker, the drift check — plus an allowance for
  operator-injected pods (Argo, KServe, Kueue); and a LimitRange that gives such injected containers defaults;
- NetworkPolicies: deny all ingress and egress, then allow DNS, HTTPS egress (object storage, registries, the model
  registry, Vault), the environment's Kafka brokers (their ports, and their namespace or address) when scaling on
  Kafka, traffic between a distributed training job's pods, the drift check's
  push to the Pushgateway, and ingress to the serving pods from `allowedCallers`, from Prometheus, and from the
  ingress controller when there is an Ingress.
"""

from __future__ import annotations

import ipaddress
import math
from decimal import Decimal
from urllib.parse import urlsplit

import cdk8s
from cdk8s_plus_34 import k8s

from ..model.mlsystem import Resources, ScaleMetric
from ..model.names import service_namespace
from ..model.pipeline import STEP_RESOURCES, StepKind
from ..model.units import cpu_cores, memory_bytes
from .context import RenderContext, SystemChart
from .gpu import gpu_count, gpu_resource

# Room for pods that operators add beside ours: Argo's executor, KServe's storage initializer, Kueue's reservations.
ALLOWANCE_CPU, ALLOWANCE_MEMORY, ALLOWANCE_PODS = Decimal(1), 1 << 30, 4
INJECTED_DEFAULT_CPU, INJECTED_DEFAULT_MEMORY = "250m", "256Mi"
SURGE = 0.25  # the Deployment's maxSurge
TEAM_READABLE = (
    ("", ["pods", "pods/log", "events", "services", "configmaps", "serviceaccounts", "persistentvolumeclaims"]),
    ("apps", ["deployments", "replicasets"]),
    ("batch", ["jobs", "cronjobs"]),
    ("autoscaling", ["horizontalpodautoscalers"]),
    ("policy", ["poddisruptionbudgets"]),
    ("networking.k8s.io", ["ingresses", "networkpolicies"]),
    ("serving.kserve.io", ["inferenceservices"]),
    ("kubeflow.org", ["pytorchjobs"]),
    ("trainer.kubeflow.org", ["trainjobs"]),
    ("kueue.x-k8s.io", ["localqueues"]),
    ("argoproj.io", ["cronworkflows", "workflows"]),
    ("keda.sh", ["scaledobjects"]),
    ("monitoring.coreos.com", ["servicemonitors", "podmonitors", "prometheusrules"]),
    ("external-secrets.io", ["externalsecrets"]),
    ("resource.k8s.io", ["resourceclaims", "resourceclaimtemplates"]),
)


class TenancyChart(SystemChart):
    def __init__(self, scope: cdk8s.App, ctx: RenderContext):
        super().__init__(scope, "tenancy", ctx)
        spec = ctx.system.spec
        self.components = [c for c, present in (("serving", spec.serving), ("training", spec.training),
                                                ("monitoring", spec.monitoring.drift)) if present is not None]
        for component in self.components:
            workload = ctx.workload(component)
            k8s.KubeServiceAccount(self, f"sa-{component}", automount_service_account_token=False,
                                   metadata=k8s.ObjectMeta(name=workload,
                                                           labels=ctx.workload_labels(workload, component)))
        self._team_access()
        self._quota()
        self._network_policies()

    def _team_access(self) -> None:
        name = f"{self.ctx.name}-team-view"
        team = self.ctx.system.spec.metadata.team
        k8s.KubeRole(self, "team-role", metadata=k8s.ObjectMeta(name=name), rules=[
            k8s.PolicyRule(api_groups=[group], resources=resources, verbs=["get", "list", "watch"])
            for group, resources in TEAM_READABLE])
        k8s.KubeRoleBinding(self, "team-binding", metadata=k8s.ObjectMeta(name=name),
                            role_ref=k8s.RoleRef(api_group="rbac.authorization.k8s.io", kind="Role", name=name),
                            subjects=[k8s.Subject(kind="Group", name=team, api_group="rbac.authorization.k8s.io")])

    # --- quota ----------------------------------------------------------------------------------------------------

    def _peak_pods(self) -> list[tuple[int, Resources]]:
        """(how many pods at most, each pod's resources) for every workload of the system."""
        spec = self.ctx.system.spec
        pods = []
        if spec.serving is not None:
            s = spec.serving
            replicas = s.replicas.upper * (2 if s.canary else 1) + math.ceil(s.replicas.upper * SURGE)
            pods.append((replicas, s.resources.model_copy(update={"gpu": s.gpu})))
        if spec.training is not None:
            pods.append((spec.training.workers, spec.training.resources))
        if spec.monitoring.drift is not None:
            pods.append((1, spec.monitoring.drift.resources))
        if spec.pipeline is not None:  # its train step is training's pods; the other steps may overlap in a DAG
            pods += [(1, step.resources or STEP_RESOURCES) for step in spec.pipeline.steps
                     if step.kind is not StepKind.train]
            if spec.pipeline.triggers.on_drift:
                pods.append((1, STEP_RESOURCES))
        return pods

    def _quota(self) -> None:
        peak = self._peak_pods()
        cpu = sum((n * cpu_cores(r.cpu) for n, r in peak), ALLOWANCE_CPU)
        memory = sum((n * memory_bytes(r.memory) for n, r in peak), ALLOWANCE_MEMORY)
        hard = {f"{kind}.{resource}": k8s.Quantity.from_string(value)
                for kind in ("requests", "limits")
                for resource, value in (("cpu", _cores(cpu)), ("memory", _mebibytes(memory)))}
        gpus: dict[str, int] = {}
        for n, r in peak:
            if r.gpu is not None and not r.gpu.dra:  # DRA devices are not counted by quota on resource names
                gpus[gpu_resource(r.gpu)] = gpus.get(gpu_resource(r.gpu), 0) + n * gpu_count(r.gpu)
        hard.update({f"requests.{resource}": k8s.Quantity.from_number(n) for resource, n in sorted(gpus.items())})
        hard["pods"] = k8s.Quantity.from_number(sum(n for n, _ in peak) + ALLOWANCE_PODS)
        k8s.KubeResourceQuota(self, "quota", metadata=k8s.ObjectMeta(name=self.ctx.name),
                              spec=k8s.ResourceQuotaSpec(hard=hard))
        largest_cpu = max((cpu_cores(r.cpu) for _, r in peak), default=cpu_cores(INJECTED_DEFAULT_CPU))
        largest_memory = max((memory_bytes(r.memory) for _, r in peak), default=memory_bytes(INJECTED_DEFAULT_MEMORY))
        defaults = {"cpu": k8s.Quantity.from_string(INJECTED_DEFAULT_CPU),
                    "memory": k8s.Quantity.from_string(INJECTED_DEFAULT_MEMORY)}
        k8s.KubeLimitRange(self, "limits", metadata=k8s.ObjectMeta(name=self.ctx.name), spec=k8s.LimitRangeSpec(
            limits=[k8s.LimitRangeItem(type="Container", default=defaults, default_request=defaults, max={
                "cpu": k8s.Quantity.from_string(_cores(largest_cpu)),
                "memory": k8s.Quantity.from_string(_mebibytes(largest_memory))})]))

    # --- network --------------------------------------------------------------------------------------------------

    def _policy(self, id: str, pods: dict[str, str], ingress: list[k8s.NetworkPolicyIngressRule] | None = None,
                egress: list[k8s.NetworkPolicyEgressRule] | None = None) -> None:
        types = (["Ingress"] if ingress is not None else []) + (["Egress"] if egress is not None else [])
        k8s.KubeNetworkPolicy(self, id, metadata=k8s.ObjectMeta(name=f"{self.ctx.name}-{id}"),
                              spec=k8s.NetworkPolicySpec(pod_selector=k8s.LabelSelector(match_labels=pods or None),
                                                         policy_types=types, ingress=ingress, egress=egress))

    def _network_policies(self) -> None:
        spec, environment = self.ctx.system.spec, self.ctx.system.environment.spec
        everyone: dict[str, str] = {}
        self._policy("default-deny", everyone, ingress=[], egress=[])
        self._policy("allow-dns", everyone, egress=[k8s.NetworkPolicyEgressRule(
            to=[_peer_namespace("kube-system", {"k8s-app": "kube-dns"})],
            ports=[_port(53, "UDP"), _port(53, "TCP")])])
        self._policy("allow-https-egress", everyone, egress=[k8s.NetworkPolicyEgressRule(
            ports=[_port(443), _port(6443)])])  # 6443: API servers, for the training launcher
        if spec.training is not None and spec.training.workers > 1:
            peers = self.ctx.selector(self.ctx.workload("training"))
            peer = [k8s.NetworkPolicyPeer(pod_selector=k8s.LabelSelector(match_labels=peers))]
            self._policy("allow-training-peers", peers, ingress=[k8s.NetworkPolicyIngressRule(from_=peer)],
                         egress=[k8s.NetworkPolicyEgressRule(to=peer)])
        if spec.monitoring.drift is not None:  # the drift check pushes its score to the Pushgateway
            pushgateway = urlsplit(environment.monitoring.pushgateway)
            self._policy("allow-pushgateway", self.ctx.selector(self.ctx.workload("monitoring")), egress=[
                k8s.NetworkPolicyEgressRule(to=[_peer_namespace(environment.monitoring.namespace)],
                                            ports=[_port(pushgateway.port or 80)])])
        if spec.serving is None:
            return
        serving = self.ctx.serving_selector()
        port = [_port(spec.serving.port)]
        callers = [_peer_namespace(c.namespace, c.pod_selector) for c in spec.serving.allowed_callers]
        if callers:
            self._policy("allow-callers", serving, ingress=[k8s.NetworkPolicyIngressRule(from_=callers, ports=port)])
        self._policy("allow-prometheus", serving, ingress=[k8s.NetworkPolicyIngressRule(
            from_=[_peer_namespace(environment.monitoring.namespace)], ports=port)])
        if spec.serving.ingress is not None:
            self._policy("allow-ingress-controller", serving, ingress=[k8s.NetworkPolicyIngressRule(
                from_=[_peer_namespace(environment.ingress.controller_namespace)], ports=port)])
        kafka = spec.serving.autoscaling.kafka
        if spec.serving.autoscaling.metric is ScaleMetric.kafka_lag and kafka is not None:
            brokers = sorted(kafka.bootstrap_servers.split(","))  # the environment's, as merge checked
            self._policy("allow-kafka", serving, egress=[_broker_egress(broker) for broker in brokers])


def _broker_egress(broker: str) -> k8s.NetworkPolicyEgressRule:
    """Egress to one Kafka broker's port, and to its address where a NetworkPolicy can say it: an in-cluster
    Service by its namespace, an IP address as a /32 (/128). A DNS name outside the cluster cannot be written in a
    NetworkPolicy, so for it only the port is limited."""
    host, port = broker.rsplit(":", 1)
    namespace = service_namespace(host)
    if namespace is not None:
        to = [_peer_namespace(namespace)]
    elif _is_ip(host):
        to = [k8s.NetworkPolicyPeer(ip_block=k8s.IpBlock(cidr=str(ipaddress.ip_network(host))))]
    else:
        to = None
    return k8s.NetworkPolicyEgressRule(to=to, ports=[_port(int(port))])


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _peer_namespace(namespace: str, pods: dict[str, str] | None = None) -> k8s.NetworkPolicyPeer:
    return k8s.NetworkPolicyPeer(
        namespace_selector=k8s.LabelSelector(match_labels={"kubernetes.io/metadata.name": namespace}),
        pod_selector=k8s.LabelSelector(match_labels=pods) if pods else None)


def _port(number: int, protocol: str = "TCP") -> k8s.NetworkPolicyPort:
    return k8s.NetworkPolicyPort(port=k8s.IntOrString.from_number(number), protocol=protocol)


def _cores(cores: Decimal) -> str:
    return str(int(cores)) if cores == int(cores) else f"{math.ceil(cores * 1000)}m"


def _mebibytes(size: int) -> str:
    mebibytes = math.ceil(size / (1 << 20))
    return f"{mebibytes // 1024}Gi" if mebibytes % 1024 == 0 else f"{mebibytes}Mi"
