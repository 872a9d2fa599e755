"""A synthetic platform repository of N ML systems × the example environments, for `make bench` and scale tests.

The mix follows the examples: KServe on shared or sliced GPUs with distributed or one-off GPU training, plain
Deployments scaled on Kafka lag or CPU with nightly CPU training, scale-to-zero endpoints, a few secrets, SLOs and
drift checks. Each system is a variation of one of five shapes, so the same N always gives the same repository.
The lock pins every model, so the repository compiles and checks offline.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from compiler.pins import write_lock  # noqa: E402
from compiler.resolve import ResolvedModel  # noqa: E402

TEAMS = ("payments-risk", "personalization", "customer-ai", "search", "ads", "logistics", "pricing", "trust-safety")
WAIVERS = [{"rule": rule, "reason": "image digests are pinned by the release pipeline after compile",
            "expires": "2027-03-31", "approvedBy": "platform-security@example.com"}
           for rule in ("CKV_K8S_43", "MLG-SUP-003")]


def _metadata(name: str, i: int) -> dict:
    team = TEAMS[i % len(TEAMS)]
    return {"name": name, "team": team, "owner": f"{team}@example.com", "costCenter": f"cc-{1000 + i % 37}"}


def _slo(i: int) -> dict:
    return {"latencyP95": ("50ms", "100ms", "250ms", "500ms")[i % 4], "errorRate": "1%", "availability": "99.9%"}


# What the synthetic serving images export: latencyP95 must be one of the histogram's bounds (Go's defaults here).
METRICS = {"requestsTotal": "http_requests_total", "codeLabel": "code", "handlerLabel": "handler",
           "latencyHistogram": "http_request_duration_seconds", "latencyBuckets": "go"}


def kserve_gpu(name: str, i: int) -> dict:
    """Like recommender: KServe on time-sliced T4s, four-worker A100 training every week, a canary."""
    return {
        "metadata": _metadata(name, i),
        "compliance": {"dataClassification": "confidential", "pii": True, "residency": ["eu-west-1"],
                       "riskCategory": "limited", "validation": {"maxAgeDays": 90}},
        "model": {"name": f"{name}-model", "alias": "champion", "format": "pytorch"},
        "training": {"image": f"registry.example.com/{name}/train:1.{i}.0", "command": ["python", "-m", "train"],
                     "schedule": f"{i % 60} {i % 24} * * {i % 7}", "workers": 2 + i % 3,
                     "resources": {"cpu": "8", "memory": "32Gi", "gpu": {"count": 1, "type": "nvidia-a100-80gb"}},
                     "queue": "ml-training", "priority": "batch",
                     "data": [{"name": "features", "uri": f"s3://features/{name}/v{i % 5}"}],
                     "maxRuntime": "6h", "retries": 2},
        "serving": {"runtime": "kserve", "image": f"registry.example.com/{name}/serve:1.{i}.0", "port": 8080,
                    "replicas": {"min": 2, "max": 4 + i % 6}, "autoscaling": {"metric": "cpu", "target": 70},
                    "resources": {"cpu": "2", "memory": "4Gi"},
                    "gpu": {"count": 1, "type": "nvidia-t4", "sharing": "time-slicing"},
                    "canary": {"trafficPercent": 10}, "slo": _slo(i),
                    "ingress": {"host": f"{name}.example.com", "tls": True},
                    "allowedCallers": [{"namespace": "storefront"}]},
        "monitoring": {"metrics": METRICS,
                       "drift": {"image": f"registry.example.com/{name}/drift:1.{i}.0", "metric": "psi",
                                 "threshold": 0.2, "schedule": "0 */6 * * *"},
                       "dashboards": True, "alertsTo": f"{TEAMS[i % len(TEAMS)]}-oncall"},
        "secrets": [{"name": "feature-store", "from": f"vault://secret/data/{name}/feature-store",
                     "keys": ["token"]}],
    }


def deployment_kafka(name: str, i: int) -> dict:
    """Like fraud-scorer: a Deployment on Kafka lag (KEDA), nightly CPU training, high-risk compliance."""
    return {
        "metadata": _metadata(name, i),
        "compliance": {"dataClassification": "restricted", "pii": True, "residency": ["eu-west-1", "eu-central-1"],
                       "riskCategory": "high", "humanOversight": "review-lead@example.com", "auditLogging": True,
                       "validation": {"maxAgeDays": 90, "record": f"https://models.example.com/{name}/validation"}},
        "model": {"name": f"{name}-model", "version": 1 + i % 9, "format": "xgboost"},
        "training": {"image": f"registry.example.com/{name}/train:3.{i}.0", "command": ["python", "-m", "train"],
                     "schedule": f"{i % 60} 1 * * *", "resources": {"cpu": "16", "memory": "64Gi"},
                     "data": [{"name": "transactions", "uri": f"s3://lake/{name}/daily"}],
                     "maxRuntime": "2h", "retries": 1},
        "serving": {"runtime": "deployment", "image": f"registry.example.com/{name}/scorer:3.{i}.0", "port": 9000,
                    "replicas": {"min": 2, "max": 10 + i % 10},
                    "autoscaling": {"metric": "kafka-lag",
                                    "kafka": {"bootstrapServers": "kafka.streaming.svc:9092", "topic": f"{name}-in",
                                              "consumerGroup": name, "lagThreshold": 100 * (1 + i % 9)}},
                    "resources": {"cpu": "1", "memory": "2Gi"},
                    "probes": {"readiness": "/ready", "liveness": "/live"}, "slo": _slo(i),
                    "allowedCallers": [{"namespace": "payments"}]},
        "monitoring": {"metrics": METRICS,
                       "drift": {"image": f"registry.example.com/{name}/drift:3.{i}.0", "metric": "ks",
                                 "threshold": 0.1},
                       "alertsTo": f"{TEAMS[i % len(TEAMS)]}-oncall"},
        "secrets": [{"name": "kafka-credentials", "from": f"vault://secret/data/{name}/kafka",
                     "keys": ["sasl-username", "sasl-password"]}],
        "environments": {"dev": {"serving": {"replicas": {"min": 0, "max": 2}}}},
    }


def kserve_mig(name: str, i: int) -> dict:
    """Like support-assistant: KServe on a MIG slice, scaled on requests, one-off DRA fine-tuning."""
    return {
        "metadata": _metadata(name, i),
        "compliance": {"dataClassification": "internal", "residency": ["eu-west-1"], "riskCategory": "limited"},
        "model": {"name": f"{name}-model", "alias": "production", "format": "huggingface"},
        "training": {"image": f"registry.example.com/{name}/finetune:0.{i}.1", "command": ["python", "-m", "tune"],
                     "resources": {"cpu": "12", "memory": "96Gi",
                                   "gpu": {"count": 2, "type": "nvidia-a100-80gb", "dra": True}},
                     "queue": "gpu-finetune", "priority": "batch-low",
                     "data": [{"name": "corpus", "uri": f"s3://corpus/{name}/2026-10"}],
                     "maxRuntime": "12h", "retries": 0},
        "serving": {"runtime": "kserve", "replicas": {"min": 1, "max": 4},
                    "autoscaling": {"metric": "rps", "target": 10 + i % 30},
                    "resources": {"cpu": "4", "memory": "24Gi"},
                    "gpu": {"count": 1, "type": "nvidia-a100-80gb", "sharing": "mig", "migProfile": "3g.40gb"},
                    "slo": {"latencyP95": "800ms", "availability": "99.5%"},
                    "ingress": {"host": f"{name}.example.com"}},
        "monitoring": {"dashboards": True, "alertsTo": f"{TEAMS[i % len(TEAMS)]}-oncall"},
        "environments": {"prod": {"serving": {"replicas": {"min": 2, "max": 8}}}},
    }


def deployment_cpu(name: str, i: int) -> dict:
    """A small CPU service on the HPA, no training, no secrets."""
    return {
        "metadata": _metadata(name, i),
        "compliance": {"dataClassification": "internal", "residency": ["eu-west-1"], "riskCategory": "minimal"},
        "model": {"name": f"{name}-model", "version": 1 + i % 4, "format": "sklearn"},
        "serving": {"runtime": "deployment", "image": f"registry.example.com/{name}/api:2.{i}.0", "port": 8080,
                    "replicas": {"min": 2, "max": 6}, "autoscaling": {"metric": "cpu", "target": 70},
                    "resources": {"cpu": "500m", "memory": "1Gi"},
                    "probes": {"readiness": "/ready", "liveness": "/live"}, "slo": _slo(i)},
        "monitoring": {"metrics": METRICS, "alertsTo": f"{TEAMS[i % len(TEAMS)]}-oncall"},
    }


def kserve_zero(name: str, i: int) -> dict:
    """A KServe endpoint on an L4 that scales to zero, with a nightly L4 training run and two secrets."""
    return {
        "metadata": _metadata(name, i),
        "compliance": {"dataClassification": "internal", "residency": ["eu-west-1"], "riskCategory": "limited",
                       "validation": {"maxAgeDays": 180}},
        "model": {"name": f"{name}-model", "version": 1 + i % 3, "format": "onnx"},
        "training": {"image": f"registry.example.com/{name}/train:0.{i}.0", "command": ["python", "-m", "train"],
                     "schedule": f"{i % 60} 2 * * *",
                     "resources": {"cpu": "4", "memory": "16Gi", "gpu": {"count": 1, "type": "nvidia-l4"}},
                     "data": [{"name": "events", "uri": f"s3://events/{name}"}], "maxRuntime": "3h", "retries": 1},
        "serving": {"runtime": "kserve", "image": f"registry.example.com/{name}/serve:0.{i}.0", "port": 8080,
                    "replicas": {"min": 0, "max": 3}, "autoscaling": {"metric": "concurrency", "target": 4},
                    "resources": {"cpu": "2", "memory": "8Gi"}, "gpu": {"count": 1, "type": "nvidia-l4"},
                    "slo": _slo(i)},
        "monitoring": {"metrics": METRICS,
                       "drift": {"image": f"registry.example.com/{name}/drift:0.{i}.0", "metric": "psi",
                                 "threshold": 0.25}, "alertsTo": f"{TEAMS[i % len(TEAMS)]}-oncall"},
        "secrets": [{"name": "warehouse", "from": f"vault://secret/data/{name}/warehouse", "keys": ["password"]},
                    {"name": "api-keys", "from": f"vault://secret/data/{name}/api", "keys": ["key"]}],
    }


SHAPES = (kserve_gpu, deployment_kafka, kserve_mig, deployment_cpu, kserve_zero)


def system_spec(i: int) -> dict:
    shape = SHAPES[i % len(SHAPES)]
    name = f"{shape.__name__.replace('_', '-')}-{i:03d}"
    return {"apiVersion": "mlgitops.io/v1alpha1", "kind": "MLSystem", **shape(name, i), "waivers": WAIVERS}


def pin_for(spec: dict, env: str) -> ResolvedModel:
    model = spec["model"]
    version = model.get("version", 3)
    return ResolvedModel(model["name"], version, model.get("alias"), f"s3://ml-models/{model['name']}/{version}",
                         hashlib.sha256(model["name"].encode()).hexdigest()[:32],
                         {"validation.status": "approved", "validation.date": "2026-11-01"},
                         "https://mlflow.example.com", "2026-11-01T00:00:00Z")


def generate(target: Path, systems: int) -> list[str]:
    """Write a repository with `systems` specs, the example environments and policies, and a lock; its spec names."""
    for folder in ("environments", "policies"):
        shutil.copytree(ROOT / folder, target / folder, dirs_exist_ok=True)
    (target / "spec").mkdir(parents=True, exist_ok=True)
    envs = sorted(p.stem for p in (target / "environments").glob("*.yaml"))
    names, pins = [], {}
    for i in range(systems):
        spec = system_spec(i)
        name = spec["metadata"]["name"]
        (target / "spec" / f"{name}.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
        names.append(name)
        pins.update({(env, name): pin_for(spec, env) for env in envs})
    write_lock(target, pins)
    return names


if __name__ == "__main__":
    generate(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 100)
