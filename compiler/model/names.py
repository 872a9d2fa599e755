"""The names a system gets in a cluster, checked before anything is rendered: what the renderers and the controllers
derive from `metadata.name` (and a secret's name) must fit the limits Kubernetes and those controllers enforce, and
the namespace must not be one the platform or Kubernetes owns.

Input: a validated `MLSystem` and its `Environment`. Output: `(field path, message, code)` problems for merge to
place at the spec line. A name that fits 63 characters can still make a namespace, a CronJob or a worker's Service
that the API server refuses at sync time, after review; here it is refused at `metadata.name`.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ..errors import Code
from .environment import Environment
from .mlsystem import MLSystem, Runtime
from .platform import TRAINER_V1, Platform
from .reserved import KUBERNETES_NAMESPACE_PREFIX, KUBERNETES_NAMESPACES

LABEL = 63  # a DNS-1123 label: namespaces, Service names, label values (app.kubernetes.io/name, job-name)
CRON = 52  # CronJob (kube-apiserver) and CronWorkflow (Argo) names leave 11 characters for `-<timestamp>`
GENERATED = "-xxxxx"  # generateName appends five random characters
CONTENT_HASH = "-xxxxxxxx"  # render/training.py names a one-off job by eight hex digits of its pod template
# The suffixes render/context.py gives each component's workload (its ServiceAccount, its pods' name label).
WORKLOAD_SUFFIX = {"serving": "", "training": "-train", "monitoring": "-drift"}
PIPELINE_SUFFIX = "-pipeline"  # render/pipeline.py: its WorkflowTemplate, CronWorkflow and runner account
SECRET_VOLUME_PREFIX = "secret-"  # render/pods.py: the volume a secret is mounted from (a DNS label)


def derived_names(spec: MLSystem, namespace: str, platform: Platform) -> list[tuple[tuple, str, int, str]]:
    """(field that decides it, derived name, its limit, what it is) for every name with a limit below 253."""
    name = spec.metadata.name
    here = ("metadata", "name")
    names = [(here, namespace, LABEL, "its namespace")]
    if spec.serving is not None and spec.serving.runtime is Runtime.kserve:
        names.append((here, f"{name}-predictor", LABEL, "the Service KServe makes for its predictor"))
    if spec.training is not None:
        train = name + WORKLOAD_SUFFIX["training"]
        scheduled = spec.training.schedule is not None
        names.append((here, train, CRON if scheduled and spec.training.workers == 1 else LABEL,
                      "the training CronJob" if scheduled else "the training pods' name label"))
        job = train + (GENERATED if scheduled or spec.pipeline is not None else CONTENT_HASH)
        if spec.training.workers == 1 and not scheduled and spec.pipeline is None:
            names.append((here, job, LABEL, "the training Job (its pods' job-name label)"))
        elif spec.training.workers > 1 and platform.trainer.api == TRAINER_V1:
            # the training operator names each replica's pod and Service <job>-<type>-<i>
            names.append((here, f"{job}-worker-{spec.training.workers - 2}", LABEL,
                          "the Service of the PyTorchJob's last worker"))
        elif spec.training.workers > 1:
            # Trainer v2's JobSet names the node pods' hosts <job>-node-<job index>-<pod index> (kubeflow/trainer
            # 8c0f505 pkg/runtime/framework/plugins/torch/torch.go: PET_MASTER_ADDR <job>-node-0-0.<job>)
            names.append((here, f"{job}-node-0-{spec.training.workers - 1}", LABEL,
                          "the host name of the TrainJob's last node"))
    if spec.monitoring.drift is not None:
        names.append((here, name + WORKLOAD_SUFFIX["monitoring"], CRON, "the drift-check CronJob"))
    if spec.monitoring.dashboards:
        names.append((here, f"{name}-dashboard", LABEL, "the dashboard's name label"))
    if spec.pipeline is not None:
        runner, triggers = name + PIPELINE_SUFFIX, spec.pipeline.triggers
        # Argo labels a Workflow's pods with its name (workflows.argoproj.io/workflow), so it must be a label value
        names.append((here, runner + GENERATED, LABEL, "the pipeline's Workflows"))
        if triggers.schedule is not None:
            names.append((here, runner, CRON, "the pipeline's CronWorkflow"))
        if triggers.on_drift:
            names.append((here, f"{name}-retrain-on-drift", CRON, "the drift trigger's CronWorkflow"))
            names.append((here, f"{runner}-drift{GENERATED}", LABEL, "the Workflows the drift trigger submits"))
            names.append((here, f"{runner}-trigger", LABEL, "the drift trigger's name label"))
    for i, secret in enumerate(spec.secrets):
        names.append((("secrets", i, "name"), SECRET_VOLUME_PREFIX + secret.name, LABEL,
                      "the volume the secret is mounted from"))
    return names


def name_problems(spec: MLSystem, environment: Environment, env: str) -> list[tuple[tuple, str, Code]]:
    """The tightest limit each name breaks (one problem per field), and a reserved namespace."""
    namespace = environment.namespace_prefix + spec.metadata.name
    tightest: dict[tuple, tuple[int, str, str, int]] = {}
    for field, derived, limit, what in derived_names(spec, namespace, environment.platform):
        over = len(derived) - limit
        if over > 0 and over > tightest.get(field, (0,))[0]:
            tightest[field] = (over, derived, what, limit)
    problems = []
    for field, (over, derived, what, limit) in tightest.items():
        own = spec.metadata.name if field[0] == "metadata" else spec.secrets[field[1]].name
        where = f" in environment {env!r}" if derived == namespace else ""
        problems.append((field, f"{own!r} is too long{where}: {what}, {derived!r}, would have {len(derived)} "
                                f"characters, over the {limit} allowed; shorten it to at most {len(own) - over}",
                         Code.NAME_TOO_LONG))
    why = reserved_namespaces(environment).get(namespace) or (
        "Kubernetes' own" if namespace.startswith(KUBERNETES_NAMESPACE_PREFIX) else None)
    if why:
        problems.append((("metadata", "name"), f"system {spec.metadata.name!r} would run in namespace {namespace!r} "
                                               f"in environment {env!r}, which is reserved ({why}); choose another "
                                               "name", Code.RESERVED_NAMESPACE))
    return problems


def reserved_namespaces(environment: Environment) -> dict[str, str]:
    """Namespace → whose it is: Kubernetes', and the platform's as the environment file names them."""
    reserved = {namespace: "Kubernetes' own" for namespace in KUBERNETES_NAMESPACES}
    reserved |= {namespace: "a platform controller's (platformNamespaces)"
                 for namespace in environment.platform_namespaces}
    urls = [environment.monitoring.pushgateway, environment.monitoring.prometheus]
    reserved |= {namespace: "a platform service's, from the environment's URLs"
                 for namespace in filter(None, (service_namespace(urlsplit(u).hostname or "") for u in urls))}
    reserved |= {namespace: "the Kafka brokers' (kafka.brokers)"
                 for namespace in filter(None, (service_namespace(b.rsplit(":", 1)[0])
                                                for b in environment.kafka.brokers))}
    reserved[environment.monitoring.namespace] = "the monitoring namespace (monitoring.namespace)"
    reserved[environment.ingress.controller_namespace] = "the ingress controller's (ingress.controllerNamespace)"
    reserved[environment.argocd.namespace] = "Argo CD's (argocd.namespace)"
    return reserved


def service_namespace(host: str) -> str | None:
    """`kafka.streaming.svc`, `kafka-0.kafka.streaming.svc.cluster.local` → `streaming`: the namespace of an
    in-cluster Service's (or its pods') DNS name; None for any other host."""
    parts = host.split(".")
    if "svc" not in parts[2:]:
        return None
    i = parts.index("svc", 2)
    return parts[i - 1] if parts[i + 1:] in ([], ["cluster", "local"]) else None
