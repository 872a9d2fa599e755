"""Serving on KServe: what the environment's KServe mode (and, under Knative, its pod-spec features) cannot honour.

Read at KServe v0.20.0 (1fb78105) and knative/serving 98e5ef90aa:
- Standard mode scales with an HPA on cpu or memory only (reconcilers/hpa/hpa_reconciler.go getHPAMetrics; any
  other metric leaves `metrics: []`, which autoscaling/v2 reads as 80 % CPU), raises `minReplicas` 0 to 1 (same
  file), and reads `canaryTrafficPercent` nowhere but the Knative reconciler (reconcilers/knative/ksvc_reconciler.go).
  KServe's KEDA autoscaler class would take rps, but only as a Prometheus query per runtime
  (inference_service_validation.go validateScalingKedaCompExtension refuses `scaleMetric` with it), which a spec
  does not have: so rps and concurrency are refused, not translated.
- Knative masks the pod fields whose `config-features` flag is off (pkg/apis/serving/fieldmask.go PodSpecMask) and
  its webhook refuses them; resourceClaims it has no flag for at all.
- The storage-initializer KServe injects for a `storageUri` has no securityContext (pkg/utils/storage.go
  CreateInitContainerWithConfig; storage_initializer_injector.go only sets runAsUser for Istio CNI), so restricted
  Pod Security rejects the pod unless the cluster's ClusterStorageContainer sets one (kserve/kserve#5855).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Environment, MLSystem
from ..model.mlsystem import GpuSharing, Runtime, ScaleMetric
from .misfit import Misfit

KNATIVE_FEATURE_FLAGS = {"node_selector": "kubernetes.podspec-nodeselector",
                         "tolerations": "kubernetes.podspec-tolerations",
                         "topology_spread_constraints": "kubernetes.podspec-topologyspreadconstraints",
                         "security_context": "kubernetes.podspec-securitycontext"}
"""Each `platform.kserve.knative.features` field and the `config-features` flag it stands for."""


def feature_flag(feature: str, environment_file: str) -> str:
    return f"{KNATIVE_FEATURE_FLAGS[feature]} in config-features (platform.kserve.knative.features in " \
           f"{environment_file})"


def serving_misfits(spec: MLSystem, environment: Environment, environment_file: str) -> Iterator[Misfit]:
    serving = spec.serving
    if serving is None or serving.runtime is not Runtime.kserve:
        return
    kserve = environment.platform.kserve
    if kserve.deployment_mode == "Standard":
        yield from _standard_misfits(spec, environment_file)
    else:
        yield from _knative_misfits(spec, environment, environment_file)
    if spec.model_format_predictor and not kserve.storage_initializer_hardened:
        yield Misfit(("model",), "KServe downloads this model with its storage-initializer init container, which a "
                                 "stock install injects without a securityContext, so Pod Security \"restricted\" "
                                 "rejects the predictor pod; give the cluster a ClusterStorageContainer whose "
                                 "container has a restricted securityContext (kserve/kserve#5855) and set "
                                 f"platform.kserve.storageInitializerHardened: true in {environment_file}, or serve "
                                 "the model from serving.image")


def _standard_misfits(spec: MLSystem, environment_file: str) -> Iterator[Misfit]:
    serving = spec.serving
    mode = f"KServe's Standard mode ({environment_file})"
    metric = serving.autoscaling.metric
    if metric in (ScaleMetric.rps, ScaleMetric.concurrency):
        yield Misfit(("serving", "autoscaling", "metric"),
                     f"{mode} scales predictors with a HorizontalPodAutoscaler on cpu or memory only: "
                     f"{metric.value} would silently become 80 % CPU; use metric: cpu or memory here, or an "
                     "environment whose KServe runs in Knative mode")
    if serving.canary is not None:
        yield Misfit(("serving", "canary"), f"{mode} has no traffic split: a canary rolls out as a plain rolling "
                                            "update to 100 %; remove the canary here, or use an environment whose "
                                            "KServe runs in Knative mode")
    if serving.replicas.min == 0:
        yield Misfit(("serving", "replicas", "min"), f"{mode} keeps at least one replica (its HPA raises 0 to 1); "
                                                     "scale to zero needs KServe in Knative mode")


def _knative_misfits(spec: MLSystem, environment: Environment, environment_file: str) -> Iterator[Misfit]:
    gpu, features = spec.serving.gpu, environment.platform.kserve.knative.features
    if not features.security_context:
        # Secret files are mounted 0440, readable through the pod's fsGroup only (render/pods.py).
        for i, secret in enumerate(spec.secrets):
            if "serving" in secret.used_by:
                yield Misfit(("secrets", i), f"the serving pod reads secret {secret.name!r} through the pod's "
                                             "fsGroup, which Knative refuses while "
                                             f"{feature_flag('security_context', environment_file)} is off; "
                                             "enable it, or leave serving out of this secret's usedBy")
    if gpu is None:
        return
    if environment.platform.gpu.uses_dra(gpu.type, gpu.dra):
        field = ("serving", "gpu", "dra") if gpu.dra is not None else ("serving", "gpu")
        yield Misfit(field, "Knative Serving has no pod-spec feature for resourceClaims, so a KServe predictor in "
                            "Knative mode cannot request a DRA device; use a GPU type the device plugin serves, or "
                            "an environment in Standard mode")
        return
    needs_selector = gpu.type is not None or gpu.sharing in (GpuSharing.time_slicing, GpuSharing.mps)
    if needs_selector and not features.node_selector:
        yield Misfit(("serving", "gpu"), "this GPU is placed by a nodeSelector, which Knative refuses while "
                                         f"{feature_flag('node_selector', environment_file)} is off; enable it")
    if environment.gpu.tolerations and not features.tolerations:
        yield Misfit(("serving", "gpu"), "GPU nodes are tainted (gpu.tolerations), and Knative refuses the "
                                         f"tolerations while {feature_flag('tolerations', environment_file)} is "
                                         "off; enable it")
