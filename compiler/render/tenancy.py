"""Tenancy chart: who runs as what, who may look, how much the namespace may use, and who may talk to whom.

- a ServiceAccount per workload (serving, training, drift check), with no API token mounted, annotated with the
  environment's object-store role (`platform.objectStore`: IRSA or GKE Workload Identity) since each reads data or
  models;
- a read-only Role for the owning team (pods, logs, events, workloads and their custom resources; never Secrets),
  bound to the Group named after the team (the identity provider's group for it);
- a ResourceQuota sized from every pod the system can run at its peak, as its charts declare them (`pods()`, the
  pods the cost estimate prices): serving at max replicas (twice during a canary) plus the rolling-update surge,
  every training worker, every pipeline step at once, the drift checks — each with what pods.py gives it (/dev/shm's
  memory, its /tmp and cache on disk) and the sidecars injected beside it (Knative's queue-proxy in KServe's Knative
  mode, Argo's wait container in a workflow's pods), plus an allowance for operator-injected pods (Argo, KServe,
  Kueue); and a LimitRange that gives injected containers defaults for what their controllers leave unset;
- NetworkPolicies: deny all ingress and egress, then allow DNS (and NodeLocal DNSCache where the environment has
  it); the API server for Argo's workflow pods only, the only pods with a token; the environment's
  `network.egressAllowList` (object store, the model registry), nothing beyond it; the EKS Pod Identity agent when
  that is the object-store identity; the environment's Kafka brokers (their ports, and their namespace or address)
  when scaling on Kafka; traffic between a distributed training job's pods; the drift check's push to the
  Pushgateway; and ingress to the serving pods from `allowedCallers`, from the Prometheus pods, from the ingress
  controller when there is an Ingress, and, under Knative, from the activator, the gateway and the autoscaler. The
  callers, the ingress controller and Knative reach a Knative revision's pod on queue-proxy's ports, any other
  serving pod on its serving port; Prometheus scrapes the serving port in both.
"""

from __future__ import annotations

import ipaddress
import math
from decimal import Decimal
from urllib.parse import urlsplit

import cdk8s
from cdk8s_plus_34 import k8s

from ..model.mlsystem import ScaleMetric
from ..model.names import service_namespace
from ..model.platform import ROLE_ANNOTATIONS
from ..model.units import cpu_cores, memory_bytes
from .context import RenderContext, SystemChart
from .gpu import gpu_quota
from .pods import container_resources, mebibytes
from .serving import knative_serving

# Room for pods that operators add beside ours (Argo's executor, KServe's storage initializer, Kueue's
# reservations): this many, each with one container of the LimitRange's defaults.
ALLOWANCE_PODS = 4
INJECTED_DEFAULT_CPU, INJECTED_DEFAULT_MEMORY, INJECTED_DEFAULT_EPHEMERAL = "250m", "256Mi", "1Gi"
# Knative's queue-proxy: requests arrive on 8012 (HTTP/1) or 8013 (h2c), the autoscaler scrapes 9090
# (pkg/networking/constants.go BackendHTTPPort, BackendHTTP2Port, AutoscalingQueueMetricsPort; knative/serving
# 98e5ef90aa).
QUEUE_PROXY_HTTP, QUEUE_PROXY_H2C, QUEUE_PROXY_AUTOSCALER_METRICS = 8012, 8013, 9090
NODE_LOCAL_DNS = "169.254.20.10/32"  # NodeLocal DNSCache's link-local address (its documented default)
# The EKS Pod Identity agent on every node, on port 80 (AWS EKS user guide, "Set up the Amazon EKS Pod Identity Agent")
POD_IDENTITY_AGENT = ("169.254.170.23/32", "fd00:ec2::23/128")
WORKFLOW_PODS = k8s.LabelSelector(match_expressions=[k8s.LabelSelectorRequirement(
    key="workflows.argoproj.io/workflow", operator="Exists")])
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
    WAVE = -1
    KINDS = (("", "ServiceAccount"), ("rbac.authorization.k8s.io", "Role"),
             ("rbac.authorization.k8s.io", "RoleBinding"), ("", "ResourceQuota"), ("", "LimitRange"),
             ("networking.k8s.io", "NetworkPolicy"))

    def __init__(self, scope: cdk8s.App, ctx: RenderContext):
        super().__init__(scope, "tenancy", ctx)
        spec = ctx.system.spec
        self.components = [c for c, present in (("serving", spec.serving), ("training", spec.training),
                                                ("monitoring", spec.monitoring.drift)) if present is not None]
        for component in self.components:
            workload = ctx.workload(component)
            k8s.KubeServiceAccount(self, f"sa-{component}", automount_service_account_token=False,
                                   metadata=k8s.ObjectMeta(name=workload, annotations=object_store_annotations(ctx),
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

    def _quota(self) -> None:
        peak = [(p.count, container_resources(p.resources, p.shared_memory), p.resources.gpu, p.sidecars)
                for p in self.ctx.peak_pods]
        injected = {"cpu": INJECTED_DEFAULT_CPU, "memory": INJECTED_DEFAULT_MEMORY,
                    "ephemeral-storage": INJECTED_DEFAULT_EPHEMERAL}
        allowance = {resource: ALLOWANCE_PODS * _amount(resource, value) for resource, value in injected.items()}
        hard = {}
        for resource, default in injected.items():
            for kind in ("requests", "limits"):
                # an injected container gets the LimitRange's default for whatever its controller leaves unset
                total = sum((n * (_amount(resource, q[resource]) + sum(
                    _amount(resource, sidecar.get(resource, default) if kind == "requests" else default)
                    for sidecar in sidecars)) for n, q, _, sidecars in peak), allowance[resource])
                hard[f"{kind}.{resource}"] = _quantity(resource, total)
        gpus: dict[str, int] = {}
        for n, _, gpu, _ in peak:
            for key, count in gpu_quota(gpu, self.ctx.system.environment.spec).items():
                gpus[key] = gpus.get(key, 0) + n * count
        hard.update({key: k8s.Quantity.from_number(n) for key, n in sorted(gpus.items())})
        hard["pods"] = k8s.Quantity.from_number(sum(n for n, *_ in peak) + ALLOWANCE_PODS)
        k8s.KubeResourceQuota(self, "quota", metadata=k8s.ObjectMeta(name=self.ctx.name),
                              spec=k8s.ResourceQuotaSpec(hard=dict(sorted(hard.items()))))
        largest = {resource: _quantity(resource, max((_amount(resource, q[resource]) for _, q, *_ in peak),
                                                      default=_amount(resource, value)))
                   for resource, value in injected.items()}
        defaults = {resource: k8s.Quantity.from_string(value) for resource, value in injected.items()}
        k8s.KubeLimitRange(self, "limits", metadata=k8s.ObjectMeta(name=self.ctx.name), spec=k8s.LimitRangeSpec(
            limits=[k8s.LimitRangeItem(type="Container", default=defaults, default_request=defaults, max=largest)]))

    # --- network --------------------------------------------------------------------------------------------------

    def _policy(self, id: str, pods: dict[str, str] | k8s.LabelSelector,
                ingress: list[k8s.NetworkPolicyIngressRule] | None = None,
                egress: list[k8s.NetworkPolicyEgressRule] | None = None) -> None:
        types = (["Ingress"] if ingress is not None else []) + (["Egress"] if egress is not None else [])
        k8s.KubeNetworkPolicy(self, id, metadata=k8s.ObjectMeta(name=f"{self.ctx.name}-{id}"),
                              spec=k8s.NetworkPolicySpec(pod_selector=pods if isinstance(pods, k8s.LabelSelector)
                                                         else k8s.LabelSelector(match_labels=pods or None),
                                                         policy_types=types, ingress=ingress, egress=egress))

    def _network_policies(self) -> None:
        spec, environment = self.ctx.system.spec, self.ctx.system.environment.spec
        network = environment.network
        everyone: dict[str, str] = {}
        self._policy("default-deny", everyone, ingress=[], egress=[])
        dns = [_peer_namespace("kube-system", {"k8s-app": "kube-dns"})]
        if network.node_local_dns:  # the node's cache answers on its own address, outside any namespace
            dns.append(_peer_cidr(NODE_LOCAL_DNS))
        self._policy("allow-dns", everyone, egress=[k8s.NetworkPolicyEgressRule(
            to=dns, ports=[_port(53, "UDP"), _port(53, "TCP")])])
        # Only Argo Workflows' pods mount a token (their executor reports results through the API); the controller
        # labels every pod it creates with the workflow's name (workflow/controller/workflowpod.go, argo-workflows
        # f016ad89eb), which no other pod carries.
        api_server = [_peer_cidr(cidr) for cidr in network.api_server] or None
        self._policy("allow-api-server", WORKFLOW_PODS, egress=[k8s.NetworkPolicyEgressRule(
            to=api_server, ports=[_port(443), _port(6443)])])
        if network.egress_allow_list:
            self._policy("allow-egress", everyone, egress=[
                k8s.NetworkPolicyEgressRule(to=[_peer_cidr(d.cidr)], ports=[_port(p) for p in d.ports])
                for d in network.egress_allow_list])
        if self.ctx.platform.object_store.identity == "pod-identity":
            self._policy("allow-pod-identity-agent", everyone, egress=[k8s.NetworkPolicyEgressRule(
                to=[_peer_cidr(cidr) for cidr in POD_IDENTITY_AGENT], ports=[_port(80)])])
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
        # Under Knative every request enters the pod through queue-proxy; elsewhere through the serving port.
        data = ([_port(QUEUE_PROXY_HTTP), _port(QUEUE_PROXY_H2C)] if knative_serving(self.ctx)
                else [_port(spec.serving.port)])
        callers = [_peer_namespace(c.namespace, c.pod_selector) for c in spec.serving.allowed_callers]
        if callers:
            self._policy("allow-callers", serving, ingress=[k8s.NetworkPolicyIngressRule(from_=callers, ports=data)])
        # Prometheus scrapes the model server's own port (the PodMonitor's or ServiceMonitor's), past queue-proxy.
        prometheus = _peer_namespace(environment.monitoring.namespace, self.ctx.platform.prometheus.pod_selector)
        self._policy("allow-prometheus", serving, ingress=[k8s.NetworkPolicyIngressRule(
            from_=[prometheus], ports=[_port(spec.serving.port)])])
        if spec.serving.ingress is not None:
            self._policy("allow-ingress-controller", serving, ingress=[k8s.NetworkPolicyIngressRule(
                from_=[_peer_namespace(environment.ingress.controller_namespace)], ports=data)])
        if knative_serving(self.ctx):
            knative = self.ctx.platform.kserve.knative
            system = _peer_namespace(knative.system_namespace)
            self._policy("allow-knative", serving, ingress=[
                # the activator (system namespace) and the gateway proxy requests to queue-proxy
                k8s.NetworkPolicyIngressRule(from_=[system, _peer_namespace(knative.gateway_namespace)], ports=data),
                # the autoscaler scrapes queue-proxy's request metrics
                k8s.NetworkPolicyIngressRule(from_=[system], ports=[_port(QUEUE_PROXY_AUTOSCALER_METRICS)])])
        kafka = spec.serving.autoscaling.kafka
        if spec.serving.autoscaling.metric is ScaleMetric.kafka_lag and kafka is not None:
            brokers = sorted(kafka.bootstrap_servers.split(","))  # the environment's, as merge checked
            self._policy("allow-kafka", serving, egress=[_broker_egress(broker) for broker in brokers])


def object_store_annotations(ctx: RenderContext) -> dict[str, str] | None:
    """The annotation that gives a ServiceAccount's pods their object-store role (IRSA, GKE Workload Identity), for
    the pods that read data or models; EKS Pod Identity needs none (its associations live outside the cluster)."""
    store = ctx.platform.object_store
    key = ROLE_ANNOTATIONS.get(store.identity)
    return {key: store.role.replace("{system}", ctx.name)} if key else None


def _broker_egress(broker: str) -> k8s.NetworkPolicyEgressRule:
    """Egress to one Kafka broker's port, and to its address where a NetworkPolicy can say it: an in-cluster
    Service by its namespace, an IP address as a /32 (/128). A DNS name outside the cluster cannot be written in a
    NetworkPolicy, so for it only the port is limited."""
    host, port = broker.rsplit(":", 1)
    namespace = service_namespace(host)
    if namespace is not None:
        to = [_peer_namespace(namespace)]
    elif _is_ip(host):
        to = [_peer_cidr(str(ipaddress.ip_network(host)))]
    else:
        to = None
    return k8s.NetworkPolicyEgressRule(to=to, ports=[_port(int(port))])


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _peer_cidr(cidr: str) -> k8s.NetworkPolicyPeer:
    return k8s.NetworkPolicyPeer(ip_block=k8s.IpBlock(cidr=cidr))


def _peer_namespace(namespace: str, pods: dict[str, str] | None = None) -> k8s.NetworkPolicyPeer:
    return k8s.NetworkPolicyPeer(
        namespace_selector=k8s.LabelSelector(match_labels={"kubernetes.io/metadata.name": namespace}),
        pod_selector=k8s.LabelSelector(match_labels=pods) if pods else None)


def _port(number: int, protocol: str = "TCP") -> k8s.NetworkPolicyPort:
    return k8s.NetworkPolicyPort(port=k8s.IntOrString.from_number(number), protocol=protocol)


def _amount(resource: str, value: str) -> Decimal | int:
    return cpu_cores(value) if resource == "cpu" else memory_bytes(value)


def _quantity(resource: str, amount: Decimal | int) -> k8s.Quantity:
    return k8s.Quantity.from_string(_cores(amount) if resource == "cpu" else mebibytes(amount))


def _cores(cores: Decimal) -> str:
    return str(int(cores)) if cores == int(cores) else f"{math.ceil(cores * 1000)}m"
