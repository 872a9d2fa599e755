"""SLOs need metrics the serving container really exports: which ones each runtime has, and what an SLO refuses.

`serving_metrics(spec)` is the one answer to "which series does this system's serving export?": the spec's
`monitoring.metrics` when written, else the runtime's entry in `RUNTIME_METRICS`, else None (unknown). The check
refuses, at the field's line (E211), an SLO objective those metrics cannot measure:
- `latencyP95` or `errorRate` when the metrics are unknown (a team's image, a runtime without an entry);
- `errorRate` without a request counter that has a status-code label;
- `latencyP95` without a latency histogram, or at a threshold that is not one of its bucket bounds: the bucket
  series at that `le` does not exist, so the SLI would record nothing and never alert.
`availability` needs none of them: it is measured from the scrape's `up` (compiler/render/monitoring.py).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Environment, MLSystem
from ..model.mlsystem import ModelFormat, Runtime, ServingMetrics, Slo
from ..model.units import duration_seconds
from .misfit import Misfit

# KServe's own Python model servers (kserve/kserve@aaac4e294d python/kserve/kserve/metrics.py, model.py): one
# `request_predict_seconds{model_name}` histogram around predict() with the client's default buckets; no HTTP
# request counter and no status label, and the probes are not observed.
_KSERVE_MODEL_SERVER = ServingMetrics(latencyHistogram="request_predict_seconds", latencyBuckets="python")
# The huggingface runtime runs generative models on vLLM, whose engine metrics land in the same registry
# (vllm-project/vllm@005a810 vllm/v1/metrics/loggers.py): `vllm:e2e_request_latency_seconds` with its own
# buckets; `vllm:request_success_total` counts finished requests by finish reason, not by status.
_VLLM_E2E_BUCKETS = (0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0,
                     480.0, 960.0, 1920.0, 7680.0)
_VLLM = ServingMetrics(latencyHistogram="vllm:e2e_request_latency_seconds", latencyBuckets=list(_VLLM_E2E_BUCKETS))

RUNTIME_METRICS: dict[ModelFormat, tuple[str, ServingMetrics]] = {
    # model format → (the KServe ClusterServingRuntime serving it: config/runtimes/kserve-*.yaml, its metrics)
    ModelFormat.sklearn: ("kserve-sklearnserver", _KSERVE_MODEL_SERVER),
    ModelFormat.xgboost: ("kserve-xgbserver", _KSERVE_MODEL_SERVER),
    ModelFormat.lightgbm: ("kserve-lgbserver", _KSERVE_MODEL_SERVER),
    ModelFormat.huggingface: ("kserve-huggingfaceserver (vLLM)", _VLLM),
}
"""What KServe's runtimes export on the serving port's /metrics. Not listed: TorchServe, TF Serving and Triton
serve their metrics on a port of their own, and a team's image exports what its code does."""

_DECLARE = "declare them in monitoring.metrics (requestsTotal, codeLabel, latencyHistogram, latencyBuckets)"


def serving_metrics(spec: MLSystem) -> tuple[str, ServingMetrics] | None:
    """(what exports them, the metrics) of the serving container, or None when nothing says."""
    if spec.monitoring.metrics is not None:
        return "monitoring.metrics", spec.monitoring.metrics
    serving = spec.serving
    if serving is None or serving.runtime is not Runtime.kserve or serving.image is not None or spec.model is None:
        return None
    return RUNTIME_METRICS.get(spec.model.format)


def latency_threshold(slo: Slo) -> float:
    """latencyP95 in seconds as a bucket bound is written: rounded, so 150ms is 0.15 (not 0.15000000000000002)."""
    return round(duration_seconds(slo.latency_p95), 9)


def _exporter(spec: MLSystem) -> str:
    serving = spec.serving
    if serving.image is not None:
        return f"the image {serving.image}"
    return f"the {spec.model.format.value} runtime"


def _bounds(buckets: tuple[float, ...]) -> str:
    return ", ".join(f"{b:g}s" for b in buckets)


def slo_metrics(spec: MLSystem, environment: Environment, environment_file: str) -> Iterator[Misfit]:
    slo = spec.serving.slo if spec.serving else None
    if slo is None:
        return
    found = serving_metrics(spec)
    if found is None:
        needs = [f for f, v in (("latencyP95", slo.latency_p95), ("errorRate", slo.error_rate)) if v]
        if needs:
            yield Misfit(("serving", "slo"), f"{' and '.join(needs)} need request metrics, and which ones "
                                             f"{_exporter(spec)} exports is unknown: {_DECLARE}")
        return
    source, metrics = found
    if slo.error_rate and metrics.code_label is None:
        yield Misfit(("serving", "slo", "errorRate"),
                     f"errorRate needs a request counter with a status-code label; {source} has {metrics.requests} "
                     "without one: declare monitoring.metrics.codeLabel, or leave errorRate out (availability is "
                     "measured from the scrape's up)")
    if slo.latency_p95:
        if metrics.latency_histogram is None:
            yield Misfit(("serving", "slo", "latencyP95"),
                         f"latencyP95 needs a latency histogram; {source} declares none: "
                         "declare monitoring.metrics.latencyHistogram and latencyBuckets")
        elif latency_threshold(slo) not in metrics.buckets:
            yield Misfit(("serving", "slo", "latencyP95"),
                         f"latencyP95 {slo.latency_p95} is not a bucket bound of {metrics.latency_histogram} "
                         f"({source}: {_bounds(metrics.buckets)}), so no series counts the requests within it: "
                         "pick one of those bounds, or declare the histogram's monitoring.metrics.latencyBuckets")

