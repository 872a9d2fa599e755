"""Serving chart.

- `runtime: kserve` → a KServe InferenceService: model format and storage URI from the resolved model version (or a
  custom predictor container), min/max replicas, scale metric and target, canary traffic percent, resources, GPU.
- `runtime: deployment` → Deployment + Service, scaled by an autoscaling/v2 HorizontalPodAutoscaler (cpu and memory
  as resource utilisation, rps and concurrency as per-pod metrics from the Prometheus adapter), or by a KEDA
  ScaledObject on Kafka consumer lag (which can scale to zero).

Both get a PodDisruptionBudget when at least two replicas must stay up. Replica counts owned by an autoscaler are
left out of the Deployment, so Argo CD and the autoscaler don't fight over them.
"""

from __future__ import annotations

import cdk8s
from cdk8s_plus_34 import k8s

from ..model.mlsystem import ModelFormat, Runtime, ScaleMetric
from .context import RenderContext, SystemChart
from .custom import custom_resource
from .pods import ContainerSpec, pod_spec, template, template_json

COMPONENT = "serving"
# Per-pod metrics served by the Prometheus adapter for rps and concurrency on plain Deployments.
POD_METRICS = {ScaleMetric.rps: "http_requests_per_second", ScaleMetric.concurrency: "http_requests_in_flight"}


class ServingChart(SystemChart):
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
                             args=s.args, env={**self.ctx.model_env(), **s.env},
                             port=s.port if serves_http else None, probes=s.probes if serves_http else None,
                             secrets=self.ctx.secrets_for(COMPONENT))

    def _pod_template(self, container: ContainerSpec, selector: dict[str, str]) -> k8s.PodTemplateSpec:
        spec = pod_spec([container], self.ctx.system.environment.spec, service_account=self.workload,
                        spread=selector, workload=self.workload)
        return template({**selector, **self.own_labels}, spec, self.ctx.model_annotations() or None)

    # --- KServe -------------------------------------------------------------------------------------------------

    def _inference_service(self) -> None:
        s, model = self.serving, self.ctx.model
        custom_format = model is None or self.ctx.system.spec.model.format is ModelFormat.custom
        selector = self.ctx.serving_selector()
        pod = template_json(self, self._pod_template(self._container("kserve-container", custom_format), selector))
        pod_spec_json = pod["spec"]
        container = pod_spec_json.pop("containers")[0]
        predictor = {**pod_spec_json,
                     "labels": pod["metadata"]["labels"],
                     "minReplicas": s.replicas.min,
                     "maxReplicas": s.replicas.upper,
                     "scaleMetric": s.autoscaling.metric.value,
                     "scaleTarget": int(s.autoscaling.effective_target)}
        if s.canary is not None:
            predictor["canaryTrafficPercent"] = s.canary.traffic_percent
        if custom_format:
            predictor["containers"] = [container]
        else:
            container.pop("name")
            predictor["model"] = {**container, "modelFormat": {"name": self.ctx.system.spec.model.format.value},
                                  "storageUri": model.source_uri}
        custom_resource(self, "inferenceservice", "serving.kserve.io/v1beta1", "InferenceService", self.workload,
                        {"spec": {"predictor": predictor}}, self.own_labels, self.ctx.model_annotations())

    # --- Deployment ---------------------------------------------------------------------------------------------

    def _deployment(self) -> None:
        s = self.serving
        selector = self.ctx.selector(self.workload)
        autoscaled = s.autoscaled_deployment
        k8s.KubeDeployment(self, "deployment", metadata=self._metadata(model=True), spec=k8s.DeploymentSpec(
            replicas=None if autoscaled else s.replicas.min,
            selector=k8s.LabelSelector(match_labels=selector),
            strategy=k8s.DeploymentStrategy(type="RollingUpdate", rolling_update=k8s.RollingUpdateDeployment(
                max_surge=k8s.IntOrString.from_string("25%"), max_unavailable=k8s.IntOrString.from_number(0))),
            template=self._pod_template(self._container("server"), selector),
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
        s = self.serving
        kafka = s.autoscaling.kafka
        custom_resource(self, "scaledobject", "keda.sh/v1alpha1", "ScaledObject", self.workload, {"spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": self.workload},
            "minReplicaCount": s.replicas.min,
            "maxReplicaCount": s.replicas.upper,
            "triggers": [{"type": "kafka", "metadata": {
                "bootstrapServers": kafka.bootstrap_servers, "topic": kafka.topic,
                "consumerGroup": kafka.consumer_group, "lagThreshold": str(int(s.autoscaling.effective_target))}}],
        }}, self.own_labels)

    def _ingress(self) -> None:
        """TLS-terminating Ingress to the serving Service (KServe's raw-deployment predictor Service for KServe)."""
        ingress, environment = self.serving.ingress, self.ctx.system.environment.spec
        service = f"{self.workload}-predictor" if self.serving.runtime is Runtime.kserve else self.workload
        annotations = {}
        if ingress.tls and environment.ingress.cluster_issuer:
            annotations["cert-manager.io/cluster-issuer"] = environment.ingress.cluster_issuer
        backend = k8s.IngressBackend(service=k8s.IngressServiceBackend(
            name=service, port=k8s.ServiceBackendPort(number=80)))
        k8s.KubeIngress(self, "ingress", metadata=k8s.ObjectMeta(
            name=self.workload, labels=self.own_labels, annotations=annotations or None), spec=k8s.IngressSpec(
            ingress_class_name=ingress.class_name or environment.ingress.class_name,
            tls=[k8s.IngressTls(hosts=[ingress.host], secret_name=f"{self.workload}-tls")] if ingress.tls else None,
            rules=[k8s.IngressRule(host=ingress.host, http=k8s.HttpIngressRuleValue(paths=[
                k8s.HttpIngressPath(path=ingress.path, path_type="Prefix", backend=backend)]))]))
