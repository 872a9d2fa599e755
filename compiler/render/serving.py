"""Serving chart.

- `runtime: kserve` → a KServe InferenceService pinned to the platform's deployment mode: model format and storage
  URI from the resolved model version, or a custom predictor container for serving.image; min/max replicas, scale
  metric and target with the mode's autoscaler class, the canary's traffic percent until it is promoted,
  resources, GPU; under Knative only the pod fields its config-features allow.
- `runtime: deployment` → Deployment + Service, scaled by an autoscaling/v2 HorizontalPodAutoscaler (cpu and memory
  as resource utilisation, rps and concurrency as per-pod metrics from the Prometheus adapter), or by a KEDA
  ScaledObject on Kafka consumer lag (which can scale to zero), authenticated by a TriggerAuthentication.

Both get a PodDisruptionBudget when at least two replicas must stay up. Replica counts owned by an autoscaler are
left out of the Deployment, so Argo CD and the autoscaler don't fight over them.
"""

from __future__ import annotations

import math

import cdk8s
from cdk8s_plus_34 import k8s

from ..model.mlsystem import KafkaSasl, Runtime, ScaleMetric
from .context import PodDemand, RenderContext, SystemChart
from .custom import custom_resource
from .pods import ContainerSpec, needs_shared_memory, pod_spec, template, template_json

COMPONENT = "serving"
# The port KServe's model-format runtimes serve on (pkg/constants InferenceServiceDefaultHttpPort, KServe v0.20.0).
KSERVE_RUNTIME_PORT = 8080
KEDA_FALLBACK_FAILURES = 3  # failed reads of the lag before KEDA falls back (its docs' example)
CLUSTER_DOMAIN = "cluster.local"  # Knative's cluster-local hosts end in it (KServe's predictor URL too)
# Per-pod metrics served by the Prometheus adapter for rps and concurrency on plain Deployments.
POD_METRICS = {ScaleMetric.rps: "http_requests_per_second", ScaleMetric.concurrency: "http_requests_in_flight"}
SURGE_PERCENT = 25  # the Deployment's maxSurge
# What Knative's queue-proxy, injected beside the serving container, requests itself: CPU only
# (pkg/deployment/config.go defaultConfig, knative/serving 98e5ef90aa; its other defaults apply only with the
# queueproxy.resource-defaults feature, pkg/reconciler/revision/resources/queue.go); the LimitRange fills in the rest.
QUEUE_PROXY: dict[str, str] = {"cpu": "25m"}


def knative_serving(ctx: RenderContext) -> bool:
    """Whether the serving pods are Knative revisions (KServe in Knative mode), with queue-proxy beside them."""
    return ctx.system.spec.serving.runtime is Runtime.kserve and ctx.platform.kserve.deployment_mode == "Knative"


class ServingChart(SystemChart):
    WAVE = 0
    KINDS = (("serving.kserve.io", "InferenceService"), ("apps", "Deployment"), ("", "Service"),
             ("autoscaling", "HorizontalPodAutoscaler"), ("keda.sh", "ScaledObject"),
             ("keda.sh", "TriggerAuthentication"), ("policy", "PodDisruptionBudget"),
             ("networking.k8s.io", "Ingress"))
    COMPONENT = COMPONENT

    @classmethod
    def applies(cls, ctx: RenderContext) -> bool:
        return ctx.system.spec.serving is not None

    @classmethod
    def pods(cls, ctx: RenderContext) -> list[PodDemand]:
        """Max replicas all month (min at the quietest); and, only while a rollout lasts (so left out of the cost),
        the rolling update's surge and during a canary its second revision, as large."""
        s = ctx.system.spec.serving
        resources = s.resources.model_copy(update={"gpu": s.gpu})
        shared_memory, sidecars = needs_shared_memory(s.gpu), (QUEUE_PROXY,) if knative_serving(ctx) else ()
        rollout = s.replicas.upper * (1 if s.in_canary else 0) + math.ceil(s.replicas.upper * SURGE_PERCENT / 100)
        return [PodDemand("serving", s.replicas.upper, resources, shared_memory, sidecars, hours=ctx.month_hours,
                          fewest=s.replicas.min),
                PodDemand("serving", rollout, resources, shared_memory, sidecars)]

    def __init__(self, scope: cdk8s.App, ctx: RenderContext):
        super().__init__(scope, "serving", ctx)
        serving = ctx.system.spec.serving
        assert serving is not None
        self.serving, self.workload = serving, ctx.workload(COMPONENT)
        self.own_labels = ctx.workload_labels(self.workload, COMPONENT)
        if serving.runtime is Runtime.kserve:
            self._inference_service()
        else:
            self._deployment()
        if serving.replicas.min >= 2:
            k8s.KubePodDisruptionBudget(self, "pdb", metadata=self._metadata(), spec=k8s.PodDisruptionBudgetSpec(
                max_unavailable=k8s.IntOrString.from_number(1),
                selector=k8s.LabelSelector(match_labels=ctx.serving_selector())))
        if serving.ingress is not None:
            self._ingress()

    def _metadata(self, model: bool = False) -> k8s.ObjectMeta:
        return k8s.ObjectMeta(name=self.workload, labels=self.own_labels,
                              annotations=self.ctx.model_annotations() if model else None)

    def _container(self, name: str, serves_http: bool = True) -> ContainerSpec:
        """The serving container; a KServe model-format runtime owns its own port and probes."""
        s = self.serving
        return ContainerSpec(name=name, image=s.image, resources=s.resources, gpu=s.gpu, command=s.command,
                             args=s.args, env={**self.ctx.model_env(), **self._kafka_env(), **s.env},
                             port=s.port if serves_http else None, probes=s.probes if serves_http else None,
                             secrets=self.ctx.secrets_for(COMPONENT))

    def _pod_template(self, container: ContainerSpec, selector: dict[str, str],
                      labels: dict[str, str]) -> k8s.PodTemplateSpec:
        spec = pod_spec([container], self.ctx.system.environment.spec, service_account=self.workload,
                        spread=selector, workload=self.workload)
        return template(labels, spec, self.ctx.model_annotations() or None)

    # --- KServe -------------------------------------------------------------------------------------------------

    def _inference_service(self) -> None:
        s, spec, kserve = self.serving, self.ctx.system.spec, self.ctx.platform.kserve
        model_format = spec.model_format_predictor
        # KServe labels its predictor pods with serving.kserve.io/inferenceservice itself (components/predictor.go).
        pod = template_json(self, self._pod_template(self._container("kserve-container", not model_format),
                                                     self.ctx.serving_selector(), self.own_labels))
        pod_spec_json = pod["spec"]
        container = pod_spec_json.pop("containers")[0]
        if kserve.deployment_mode == "Knative":
            self._knative_pod_spec(pod_spec_json)
        predictor = {**pod_spec_json,
                     "labels": pod["metadata"]["labels"],
                     "minReplicas": s.replicas.min,
                     "maxReplicas": s.replicas.upper,
                     "scaleMetric": s.autoscaling.metric.value,
                     "scaleTarget": int(s.autoscaling.effective_target)}
        if s.in_canary:
            predictor["canaryTrafficPercent"] = s.canary.traffic_percent
        if model_format:
            # The runtime declares no port; the scrape (by port name) and the network policies need one.
            container.pop("name")
            predictor["model"] = {**container, "ports": [self._serving_port(KSERVE_RUNTIME_PORT)],
                                  "modelFormat": {"name": spec.model.format.value},
                                  "storageUri": self.ctx.model.source_uri}
        else:
            # A custom predictor: with a modelFormat, KServe would append the runtime's args to the image's
            # (inferenceservice/utils/utils.go MergeRuntimeContainers).
            self._name_serving_port(container)
            predictor["containers"] = [container]
        custom_resource(self, "inferenceservice", "serving.kserve.io/v1beta1", "InferenceService", self.workload,
                        {"spec": {"predictor": predictor}}, self.own_labels,
                        {**self.ctx.model_annotations(), **self._kserve_annotations()})

    def _kserve_annotations(self) -> dict[str, str]:
        """The deployment mode, pinned (KServe's own default differs between its code and its installs), and the
        autoscaler class the mode's validator expects for the metric (inference_service_validation.go
        validateAutoScalingCompExtension)."""
        mode = self.ctx.platform.kserve.deployment_mode
        annotations = {"serving.kserve.io/deploymentMode": mode}
        resource_metric = self.serving.autoscaling.metric in (ScaleMetric.cpu, ScaleMetric.memory)
        if mode == "Standard":
            annotations["serving.kserve.io/autoscalerClass"] = "hpa"
        else:  # KPA takes concurrency and rps only; cpu and memory need Knative's HPA class
            annotations["autoscaling.knative.dev/class"] = (
                "hpa.autoscaling.knative.dev" if resource_metric else "kpa.autoscaling.knative.dev")
        return annotations

    def _knative_pod_spec(self, pod_spec_json: dict) -> None:
        """Keep only the pod fields this Knative's config-features allow (fieldmask.go PodSpecMask). The GPU's
        nodeSelector and tolerations are checked before rendering (compiler/platform/serving.py); the spread is
        a preference, dropped; the pod securityContext is dropped too, as the container's carries every field
        restricted Pod Security needs (SecurityContextMask allows them)."""
        features = self.ctx.platform.kserve.knative.features
        for key, enabled in (("nodeSelector", features.node_selector), ("tolerations", features.tolerations),
                             ("topologySpreadConstraints", features.topology_spread_constraints),
                             ("securityContext", features.security_context)):
            if not enabled:
                pod_spec_json.pop(key, None)

    def _serving_port(self, number: int) -> dict:
        return {"name": self.ctx.serving_port_name(), "containerPort": number, "protocol": "TCP"}

    def _name_serving_port(self, container: dict) -> None:
        """Knative takes only http1 or h2c as the port's name, and probes must name that port."""
        container["ports"] = [self._serving_port(self.serving.port)]
        for probe in ("readinessProbe", "livenessProbe"):
            if probe in container:
                container[probe]["httpGet"]["port"] = self.ctx.serving_port_name()

    # --- Deployment ---------------------------------------------------------------------------------------------

    def _deployment(self) -> None:
        s = self.serving
        selector = self.ctx.selector(self.workload)
        autoscaled = s.autoscaled_deployment
        k8s.KubeDeployment(self, "deployment", metadata=self._metadata(model=True), spec=k8s.DeploymentSpec(
            replicas=None if autoscaled else s.replicas.min,
            selector=k8s.LabelSelector(match_labels=selector),
            strategy=k8s.DeploymentStrategy(type="RollingUpdate", rolling_update=k8s.RollingUpdateDeployment(
                max_surge=k8s.IntOrString.from_string(f"{SURGE_PERCENT}%"),
                max_unavailable=k8s.IntOrString.from_number(0))),
            template=self._pod_template(self._container("server"), selector, {**selector, **self.own_labels}),
        ))
        k8s.KubeService(self, "service", metadata=self._metadata(), spec=k8s.ServiceSpec(
            type="ClusterIP", selector=selector,
            ports=[k8s.ServicePort(name="http", port=80, target_port=k8s.IntOrString.from_string("http"),
                                   protocol="TCP")]))
        if s.autoscaling.metric is ScaleMetric.kafka_lag:
            self._scaled_object()
        elif autoscaled:
            self._hpa()

    def _hpa(self) -> None:
        s = self.serving
        metric = s.autoscaling.metric
        target = s.autoscaling.effective_target
        if metric in POD_METRICS:
            metric_spec = k8s.MetricSpecV2(type="Pods", pods=k8s.PodsMetricSourceV2(
                metric=k8s.MetricIdentifierV2(name=POD_METRICS[metric]),
                target=k8s.MetricTargetV2(type="AverageValue", average_value=k8s.Quantity.from_string(f"{target:g}"))))
        else:
            metric_spec = k8s.MetricSpecV2(type="Resource", resource=k8s.ResourceMetricSourceV2(
                name=metric.value, target=k8s.MetricTargetV2(type="Utilization", average_utilization=int(target))))
        hpa_spec = k8s.HorizontalPodAutoscalerSpecV2(
            scale_target_ref=k8s.CrossVersionObjectReferenceV2(api_version="apps/v1", kind="Deployment",
                                                               name=self.workload),
            min_replicas=max(s.replicas.min, 1), max_replicas=s.replicas.upper, metrics=[metric_spec])
        k8s.KubeHorizontalPodAutoscalerV2(self, "hpa", metadata=self._metadata(), spec=hpa_spec)

    def _scaled_object(self) -> None:
        """KEDA's Kafka trigger, with the SASL credentials from the system's secret (a TriggerAuthentication) and a
        fallback: while the lag cannot be read, KEDA holds the maximum rather than marking the ScaledObject not
        ready (pkg/scaling/executor/scale_scaledobjects.go, kedacore/keda 8b4f083ca)."""
        s = self.serving
        kafka = s.autoscaling.kafka
        metadata = {"bootstrapServers": kafka.bootstrap_servers, "topic": kafka.topic,
                    "consumerGroup": kafka.consumer_group, "lagThreshold": str(int(s.autoscaling.effective_target))}
        trigger = {"type": "kafka", "metadata": metadata}
        if kafka.tls:
            metadata["tls"] = "enable"
        if kafka.sasl is not None:
            metadata["sasl"] = kafka.sasl.mechanism
            trigger["authenticationRef"] = {"name": self.workload}
            self._trigger_authentication(kafka.sasl)
        custom_resource(self, "scaledobject", "keda.sh/v1alpha1", "ScaledObject", self.workload, {"spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": self.workload},
            "minReplicaCount": s.replicas.min,
            "maxReplicaCount": s.replicas.upper,
            "fallback": {"failureThreshold": KEDA_FALLBACK_FAILURES, "replicas": s.replicas.upper},
            "triggers": [trigger],
        }}, self.own_labels)

    def _trigger_authentication(self, sasl: KafkaSasl) -> None:
        """The scaler's `username` and `password` auth parameters (kafka_scaler.go), read from the secret the
        ExternalSecret keeps in sync."""
        custom_resource(self, "triggerauthentication", "keda.sh/v1alpha1", "TriggerAuthentication", self.workload,
                        {"spec": {"secretTargetRef": [
                            {"parameter": "username", "name": sasl.secret_name, "key": sasl.username_key},
                            {"parameter": "password", "name": sasl.secret_name, "key": sasl.password_key}]}},
                        self.own_labels)

    def _kafka_env(self) -> dict[str, str]:
        """The trigger's own brokers, topic and group, so the consumer group KEDA measures is the one consuming."""
        kafka = self.serving.autoscaling.kafka
        if kafka is None:
            return {}
        return {"KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers, "KAFKA_TOPIC": kafka.topic,
                "KAFKA_CONSUMER_GROUP": kafka.consumer_group}

    def _ingress(self) -> None:
        """TLS-terminating Ingress to the serving Service. KServe's Standard mode makes `<isvc>-predictor` a
        ClusterIP Service on the pods; in Knative mode that Service points at Knative's local gateway (an
        ExternalName, or the gateway's IP: knative/serving pkg/reconciler/route/resources/service.go), which
        routes by Host, so the request carries the predictor's cluster-local host."""
        ingress, environment = self.serving.ingress, self.ctx.system.environment.spec
        kserve = self.serving.runtime is Runtime.kserve
        service = f"{self.workload}-predictor" if kserve else self.workload
        annotations = {}
        if ingress.tls and environment.ingress.cluster_issuer:
            annotations["cert-manager.io/cluster-issuer"] = environment.ingress.cluster_issuer
        if kserve and self.ctx.platform.kserve.deployment_mode == "Knative":
            annotations["nginx.ingress.kubernetes.io/upstream-vhost"] = (
                f"{service}.{self.ctx.namespace}.svc.{CLUSTER_DOMAIN}")
        backend = k8s.IngressBackend(service=k8s.IngressServiceBackend(
            name=service, port=k8s.ServiceBackendPort(number=80)))
        k8s.KubeIngress(self, "ingress", metadata=k8s.ObjectMeta(
            name=self.workload, labels=self.own_labels, annotations=annotations or None), spec=k8s.IngressSpec(
            ingress_class_name=ingress.class_name or environment.ingress.class_name,
            tls=[k8s.IngressTls(hosts=[ingress.host], secret_name=f"{self.workload}-tls")] if ingress.tls else None,
            rules=[k8s.IngressRule(host=ingress.host, http=k8s.HttpIngressRuleValue(paths=[
                k8s.HttpIngressPath(path=ingress.path, path_type="Prefix", backend=backend)]))]))
