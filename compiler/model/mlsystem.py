"""`MLSystem`: one ML system's spec (spec/<system>.yaml) — model, training, serving, monitoring, secrets, waivers."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator

from .base import RuleError, SpecModel
from .pipeline import Pipeline, StepKind
from .reserved import check_label_key
from .units import (
    CADENCES,
    AliasName,
    Cron,
    DnsLabel,
    DnsSubdomain,
    Duration,
    Email,
    HoursRange,
    Percent,
    PositiveInt,
    Schedule,
    TimeZone,
    Uri,
)
from .workload import EnvVars, Gpu, GpuSharing, Image, Resources  # noqa: F401  (re-exported: renderers use them)

LabelKey = Annotated[str, Field(pattern=r"^([a-z0-9.-]+/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")]
LabelValue = Annotated[str, Field(pattern=r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")]
LabelSelector = dict[LabelKey, LabelValue]
"""Labels matched: any key, the reserved ones included (another namespace's pods carry app.kubernetes.io/*)."""
LabelMap = dict[Annotated[LabelKey, AfterValidator(check_label_key)], LabelValue]
"""Labels set on objects: no key under a prefix that Kubernetes, the compiler or a controller owns."""


class DataClassification(StrEnum):
    public = "public"
    internal = "internal"
    confidential = "confidential"
    restricted = "restricted"


class RiskCategory(StrEnum):
    """EU AI Act risk class."""

    minimal = "minimal"
    limited = "limited"
    high = "high"


class ModelFormat(StrEnum):
    sklearn = "sklearn"
    xgboost = "xgboost"
    lightgbm = "lightgbm"
    pytorch = "pytorch"
    tensorflow = "tensorflow"
    onnx = "onnx"
    huggingface = "huggingface"
    custom = "custom"


class Runtime(StrEnum):
    kserve = "kserve"
    deployment = "deployment"


class ScaleMetric(StrEnum):
    cpu = "cpu"
    memory = "memory"
    concurrency = "concurrency"
    rps = "rps"
    kafka_lag = "kafka-lag"


class Metadata(SpecModel):
    name: DnsLabel
    """System name: becomes the namespace suffix and the name of its resources."""
    team: DnsLabel
    """Owning team; owns the Argo CD AppProject."""
    owner: Email
    """Contact e-mail of the owner (on-call alias preferred)."""
    cost_center: str | None = None
    labels: LabelMap = {}
    """Extra labels put on every rendered object."""


class Validation(SpecModel):
    max_age_days: PositiveInt = 180
    """The served model version must have been validated within this many days."""
    record: Uri | None = None
    """Where the validation record (model card, evaluation report) lives; EU AI Act high risk needs one."""


class Compliance(SpecModel):
    data_classification: DataClassification = DataClassification.internal
    pii: bool = False
    residency: list[Annotated[str, Field(pattern=r"^[a-z0-9-]+$")]] = []
    """Regions the data may be processed in; must contain the cluster's region."""
    risk_category: RiskCategory = RiskCategory.minimal
    validation: Validation = Validation()
    human_oversight: Email | None = None
    """Contact of the person or group who can oversee and override the system (EU AI Act, Art. 14)."""
    audit_logging: bool = False
    """Predictions and decisions are logged for audit (EU AI Act record-keeping, Art. 12)."""


class Model(SpecModel):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=256)]
    """Registered model name in the MLflow model registry."""
    alias: AliasName | None = None
    """Registry alias to resolve (e.g. champion); the default when no version is given."""
    version: PositiveInt | None = None
    """An exact registered version number, instead of an alias."""
    format: ModelFormat = ModelFormat.custom

    @model_validator(mode="after")
    def _alias_or_version(self) -> Model:
        if self.alias is not None and self.version is not None:
            raise RuleError("version", "set either model.alias or model.version, not both")
        return self

    @property
    def wanted_alias(self) -> str | None:
        """The alias to resolve: the one written, or `champion` when neither alias nor version is given."""
        return None if self.version is not None else (self.alias or "champion")


class DataRef(SpecModel):
    name: DnsLabel
    uri: Uri
    """Dataset location, e.g. s3://bucket/path."""


# Kubernetes' documented scalability limit is 5000 nodes per cluster; a distributed training worker wants a node.
MAX_WORKERS = 5000


class Training(SpecModel):
    image: Image
    command: list[str] = []
    args: list[str] = []
    env: EnvVars = {}
    schedule: Schedule | None = None
    """Retraining cadence: cron, or daily/weekly placed at the start of `window`; omit for a one-off run."""
    window: Literal["low-carbon", "off-peak"] | HoursRange | None = None
    """When scheduled runs may start: the environment's low-carbon or off-peak hours for the cluster's region, or
    hours written here (HH:MM-HH:MM)."""
    time_zone: TimeZone | None = None
    """The zone the schedule is read in; by default the region's (schedulingWindows), else UTC."""
    workers: Annotated[int, Field(ge=1, le=MAX_WORKERS)] = 1
    """More than 1 means distributed training (a TrainJob, or a PyTorchJob on training-operator v1: the environment's
    platform.trainer); at most 5000, a worker per node of the largest cluster Kubernetes supports."""
    resources: Resources = Resources()
    queue: DnsLabel | None = None
    """Kueue LocalQueue the job is admitted through (one of the environment's platform.kueue.queues)."""
    priority: DnsLabel | None = None
    """PriorityClass name for the training pods, and when queued the Kueue WorkloadPriorityClass (both must be in
    the environment's platform)."""
    data: list[DataRef] = []
    max_runtime: Duration | None = None
    retries: Annotated[int, Field(ge=0, le=100)] = 2

    @model_validator(mode="after")
    def _cadence_needs_a_window(self) -> Training:
        if self.schedule in CADENCES and self.window is None:
            raise RuleError("schedule", f"schedule: {self.schedule} is placed inside training.window; set a window "
                                        "(low-carbon, off-peak or HH:MM-HH:MM) or write a cron schedule")
        return self


class Replicas(SpecModel):
    min: Annotated[int, Field(ge=0, le=1000)] = 1
    max: Annotated[int, Field(ge=1, le=1000)] | None = None
    """Upper bound for autoscaling; defaults to min (a fixed size)."""

    @model_validator(mode="after")
    def _ordered(self) -> Replicas:
        if self.max is not None and self.min > self.max:
            raise RuleError("min", f"replicas.min ({self.min}) must be <= replicas.max ({self.max})", "max")
        return self

    @property
    def upper(self) -> int:
        return self.max if self.max is not None else max(self.min, 1)


# Kafka's own rule for topic names (legal characters, at most 249); consumer groups are held to it too.
KafkaName = Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]+$", max_length=249)]


class KafkaSasl(SpecModel):
    """SASL on the Kafka connection: the mechanism, and the system secret holding the user and password."""

    mechanism: Literal["plaintext", "scram_sha256", "scram_sha512"]
    """KEDA's `sasl` values that take a user and password (pkg/scalers/kafka_scaler.go)."""
    secret_name: DnsLabel
    """One of the system's `secrets`: KEDA reads the credentials from it, the container mounts it."""
    username_key: Annotated[str, Field(pattern=r"^[-._a-zA-Z0-9]+$")] = "sasl-username"
    password_key: Annotated[str, Field(pattern=r"^[-._a-zA-Z0-9]+$")] = "sasl-password"


class KafkaTrigger(SpecModel):
    bootstrap_servers: Annotated[str, Field(min_length=1)] | None = None
    """Comma-separated host:port, each one of the environment's kafka.brokers; by default all of them."""
    topic: KafkaName
    consumer_group: KafkaName
    lag_threshold: PositiveInt = 100
    """Target consumer lag per replica."""
    sasl: KafkaSasl | None = None
    tls: bool = False
    """Connect over TLS, trusting the system's CA bundle."""


DEFAULT_SCALE_TARGET = {ScaleMetric.cpu: 70, ScaleMetric.memory: 80, ScaleMetric.concurrency: 10,
                        ScaleMetric.rps: 100, ScaleMetric.kafka_lag: 100}


class Autoscaling(SpecModel):
    metric: ScaleMetric = ScaleMetric.cpu
    target: Annotated[float, Field(gt=0)] | None = None
    """Percent for cpu/memory, per-replica value otherwise; a per-metric default when omitted."""
    kafka: KafkaTrigger | None = None

    @model_validator(mode="after")
    def _kafka_rules(self) -> Autoscaling:
        if self.metric is ScaleMetric.kafka_lag and self.kafka is None:
            raise RuleError("metric", "metric: kafka-lag needs the kafka block "
                                      "(bootstrapServers, topic, consumerGroup)")
        if self.kafka is not None and self.metric is not ScaleMetric.kafka_lag:
            raise RuleError("kafka", "the kafka block is only used with metric: kafka-lag")
        if self.metric in (ScaleMetric.cpu, ScaleMetric.memory) and self.target is not None and self.target > 100:
            raise RuleError("target", f"a {self.metric.value} target is a percentage of the request (1-100)")
        return self

    @property
    def effective_target(self) -> float:
        if self.target is not None:
            return self.target
        if self.kafka is not None:
            return self.kafka.lag_threshold
        return DEFAULT_SCALE_TARGET[self.metric]


class Canary(SpecModel):
    """A rollout in progress: the new revision takes `trafficPercent` until `promote: true` gives it all traffic."""

    traffic_percent: Annotated[int, Field(ge=0, le=100)]
    promote: bool = False
    """Promote the canary: the latest revision takes 100 % and becomes the rolled-out one; remove the canary
    block with the next model change, and set it again to start the next rollout."""


class Slo(SpecModel):
    latency_p95: Duration | None = None
    error_rate: Percent | None = None
    availability: Percent | None = None


class Ingress(SpecModel):
    host: Annotated[str, Field(pattern=r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}$")]
    tls: bool = True
    path: Annotated[str, Field(pattern=r"^/\S*$")] = "/"
    class_name: DnsSubdomain | None = None


class Caller(SpecModel):
    namespace: DnsLabel
    pod_selector: LabelSelector = {}


class Probes(SpecModel):
    """HTTP paths probed on the serving port; defaults follow the KServe V2 inference protocol."""

    readiness: Annotated[str, Field(pattern=r"^/\S*$")] = "/v2/health/ready"
    liveness: Annotated[str, Field(pattern=r"^/\S*$")] = "/v2/health/live"


class Serving(SpecModel):
    runtime: Runtime = Runtime.kserve
    image: Image | None = None
    """Required for runtime: deployment and for custom model formats."""
    command: list[str] = []
    args: list[str] = []
    env: EnvVars = {}
    port: Annotated[int, Field(ge=1, le=65535)] = 8080
    replicas: Replicas = Replicas()
    autoscaling: Autoscaling = Autoscaling()
    resources: Resources = Resources()
    gpu: Gpu | None = None
    canary: Canary | None = None
    slo: Slo | None = None
    ingress: Ingress | None = None
    allowed_callers: list[Caller] = []
    """Namespaces (and pods) that may call the service; nothing else can."""
    probes: Probes = Probes()

    @property
    def in_canary(self) -> bool:
        """Two revisions serve (the canary and the rolled-out one) until the canary is promoted."""
        return self.canary is not None and not self.canary.promote

    @property
    def autoscaled_deployment(self) -> bool:
        """An HPA or a KEDA ScaledObject owns the Deployment's replica count (KServe scales its own pods)."""
        return self.runtime is Runtime.deployment and (
            self.replicas.upper > self.replicas.min or self.autoscaling.metric is ScaleMetric.kafka_lag)

    @model_validator(mode="after")
    def _runtime_rules(self) -> Serving:
        if self.resources.gpu is not None:
            raise RuleError("resources", "put the serving GPU request under serving.gpu, not serving.resources.gpu")
        if self.runtime is Runtime.deployment:
            if self.image is None:
                raise RuleError("runtime", "runtime: deployment needs serving.image")
            if self.canary is not None:
                raise RuleError("canary", "canary traffic splitting needs runtime: kserve")
            if self.replicas.min == 0 and self.autoscaling.metric is not ScaleMetric.kafka_lag:
                raise RuleError("replicas", "scale to zero (replicas.min: 0) with runtime: deployment "
                                            "needs autoscaling.metric: kafka-lag (KEDA)")
        elif self.autoscaling.metric is ScaleMetric.kafka_lag:
            raise RuleError("autoscaling", "metric: kafka-lag needs runtime: deployment (KEDA ScaledObject)")
        return self


class Drift(SpecModel):
    image: Image
    schedule: Cron = "0 * * * *"
    metric: Literal["psi", "ks", "kl", "js", "wasserstein", "chi2"] = "psi"
    threshold: Annotated[float, Field(gt=0)] = 0.2
    command: list[str] = []
    resources: Resources = Resources(cpu="500m", memory="1Gi")


MetricName = Annotated[str, Field(pattern=r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")]
MetricLabel = Annotated[str, Field(pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$")]
CLIENT_DEFAULT_BUCKETS = {
    # prometheus/client_python@d0b497ffe0 prometheus_client/metrics.py: Histogram.DEFAULT_BUCKETS (+Inf left out)
    "python": (.005, .01, .025, .05, .075, .1, .25, .5, .75, 1.0, 2.5, 5.0, 7.5, 10.0),
    # prometheus/client_golang@89c60c0554 prometheus/histogram.go: DefBuckets
    "go": (.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10),
}
"""A Prometheus client library's default histogram buckets, in seconds: what a histogram has when its code sets none."""


class ServingMetrics(SpecModel):
    """The Prometheus metrics the serving container exports on /metrics, which the SLIs are computed from. Needed for
    an SLO when the compiler does not know the runtime's own metrics (a team's image; a runtime it has no entry for)."""

    requests_total: MetricName | None = None
    """A counter of the requests answered; by default the latency histogram's `_count`."""
    code_label: MetricLabel | None = None
    """The counter's HTTP status label (`code`, `status`): `errorRate` counts its 5xx values."""
    handler_label: MetricLabel | None = None
    """The counter's and histogram's path or handler label: probes and /metrics scrapes are left out of the SLIs."""
    latency_histogram: MetricName | None = None
    """A request-duration histogram in seconds, its name without `_bucket`."""
    latency_buckets: Literal[tuple(CLIENT_DEFAULT_BUCKETS)] | Annotated[  # type: ignore[valid-type]
        list[Annotated[float, Field(gt=0)]], Field(min_length=1)] | None = None
    """The histogram's bucket bounds in seconds, or `python`/`go`: that client library's default buckets."""

    @model_validator(mode="after")
    def _a_counter_or_a_histogram(self) -> ServingMetrics:
        if self.requests_total is None and self.latency_histogram is None:
            raise RuleError("requestsTotal", "declare requestsTotal (a request counter), latencyHistogram, or both")
        if (self.latency_histogram is None) != (self.latency_buckets is None):
            raise RuleError("latencyBuckets", "latencyHistogram and latencyBuckets go together: the latencyP95 "
                                              "threshold must be one of the histogram's bucket bounds")
        return self

    @property
    def requests(self) -> str:
        return self.requests_total or f"{self.latency_histogram}_count"

    @property
    def buckets(self) -> tuple[float, ...]:
        if isinstance(self.latency_buckets, str):
            return CLIENT_DEFAULT_BUCKETS[self.latency_buckets]
        return tuple(self.latency_buckets or ())


class Monitoring(SpecModel):
    drift: Drift | None = None
    metrics: ServingMetrics | None = None
    """The serving container's metrics, when the compiler does not know its runtime's (monitoring.metrics)."""
    dashboards: bool = True
    alerts_to: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")] | None = None
    """Routing label put on generated alerts (an Alertmanager receiver)."""


def _check_vault_path(source: str) -> str:
    """Every segment names something: `..` or `.` would climb out of the path a team was given, and an empty one
    (`a//b`) is read differently by Vault and by the policies that grant prefixes."""
    mount, *path = source.removeprefix("vault://").split("/")
    if path[:1] == ["data"]:  # the KV v2 API spelling, vault://<mount>/data/<path>
        path = path[1:]
    bad = next((s for s in path if s in ("", ".", "..")), None)
    if bad is not None or not path:
        what = "no path below the mount" if bad is None else "an empty segment" if not bad else f"a {bad!r} segment"
        raise ValueError(f"{source!r} has {what}: write vault://<mount>/<path>, each segment a name")
    return source


class SecretRef(SpecModel):
    name: DnsLabel
    source: Annotated[str, Field(alias="from", pattern=r"^vault://[A-Za-z0-9_-]+/[A-Za-z0-9_./-]+$"),
                      AfterValidator(_check_vault_path)]
    """Where the secret lives: vault://<mount>/<path> (a KV v2 `data/` after the mount is allowed), the mount the
    environment's secretStore.vaultMount. Never a value."""

    @property
    def vault_mount(self) -> str:
        return self.source.removeprefix("vault://").split("/")[0]
    keys: Annotated[list[Annotated[str, Field(pattern=r"^[-._a-zA-Z0-9]+$")]], Field(min_length=1)]
    used_by: list[Literal["training", "serving", "monitoring"]] = ["training", "serving", "monitoring"]
    """Workloads that mount the secret (read-only, at /var/run/secrets/mlgitops/<name>)."""


class Waiver(SpecModel):
    rule: Annotated[str, Field(pattern=r"^(MLG-[A-Z]+-\d{3}|CKV2?_[A-Z0-9_]+)$")]
    reason: str | None = None
    expires: date | None = None
    approved_by: str | None = None


class MLSystem(SpecModel):
    """One ML system: what it serves, how it trains, how it is watched, under which rules."""

    api_version: Literal["mlgitops.io/v1alpha1"]
    kind: Literal["MLSystem"]
    metadata: Metadata
    compliance: Compliance = Compliance()
    model: Model | None = None
    training: Training | None = None
    serving: Serving | None = None
    monitoring: Monitoring = Monitoring()
    pipeline: Pipeline | None = None
    """Training as a DAG of steps (validate-data → train → evaluate → register) and its triggers."""
    secrets: list[SecretRef] = []
    environments: dict[DnsLabel, dict[str, Any] | None] = {}
    """Per-environment overrides of any field above (deep merge; null removes a field)."""
    waivers: list[Waiver] = []

    @model_validator(mode="after")
    def _system_rules(self) -> MLSystem:
        if self.training is None and self.serving is None:
            raise RuleError("serving", "a system needs a training or a serving section (or both)")
        if self.serving is not None and self.model is None and self.serving.image is None:
            raise RuleError("serving", "serving needs a model (from the registry) or serving.image")
        if (self.serving is not None and self.serving.runtime is Runtime.kserve and self.serving.image is None
                and self.model is not None and self.model.format is ModelFormat.custom):
            raise RuleError("serving", "a custom model format needs serving.image (the predictor container)")
        self._pipeline_rules()
        if self.training is not None and self.training.window is not None and not self.scheduled_by:
            raise RuleError(("training", "window"), "a window only places scheduled runs: set training.schedule "
                                                    "(or pipeline.triggers.schedule)")
        self._kafka_sasl_rules()
        names = [secret.name for secret in self.secrets]
        duplicate = next((n for n in names if names.count(n) > 1), None)
        if duplicate:
            raise RuleError("secrets", f"secret name {duplicate!r} is declared twice")
        return self

    @property
    def model_format_predictor(self) -> bool:
        """KServe serves the registered model with the runtime of its format (storageUri, no image of ours);
        with serving.image or a custom format the image is the predictor container."""
        return (self.serving is not None and self.serving.runtime is Runtime.kserve and self.serving.image is None
                and self.model is not None and self.model.format is not ModelFormat.custom)

    def _kafka_sasl_rules(self) -> None:
        kafka = self.serving.autoscaling.kafka if self.serving is not None else None
        if kafka is None or kafka.sasl is None:
            return
        sasl, path = kafka.sasl, ("serving", "autoscaling", "kafka", "sasl")
        secret = next((s for s in self.secrets if s.name == sasl.secret_name), None)
        if secret is None:
            raise RuleError(path + ("secretName",), f"the SASL credentials {sasl.secret_name!r} are not one of the "
                                                    "system's secrets: declare them under secrets")
        missing = [key for key in (sasl.username_key, sasl.password_key) if key not in secret.keys]
        if missing:
            raise RuleError(path + ("secretName",), f"secret {sasl.secret_name!r} has no key {', '.join(missing)} "
                                                    "(usernameKey, passwordKey): add it to its keys")

    @property
    def retraining(self) -> tuple[str | None, str | None]:
        """The schedule training runs on (the pipeline's trigger when a pipeline runs it) and its time zone."""
        if self.pipeline is not None and self.pipeline.of_kind(StepKind.train):
            return self.pipeline.triggers.schedule, self.pipeline.triggers.time_zone
        return (self.training.schedule, self.training.time_zone) if self.training else (None, None)

    @property
    def scheduled_by(self) -> tuple[str, ...]:
        """Where the retraining schedule is written: the pipeline's trigger, or training.schedule (empty: none)."""
        if self.pipeline is not None and self.pipeline.triggers.schedule is not None:
            return ("pipeline", "triggers", "schedule")
        if self.training is not None and self.training.schedule is not None:
            return ("training", "schedule")
        return ()

    def _pipeline_rules(self) -> None:
        training = self.training
        if self.pipeline is None:
            return
        if training is not None and training.schedule is not None:
            raise RuleError(("training", "schedule"), "with a pipeline, training runs as its train step: schedule "
                                                      "it with pipeline.triggers.schedule")
        if self.pipeline.of_kind(StepKind.train) and training is None:
            raise RuleError("pipeline", "a train step runs the training section: add one")
        for i, step in enumerate(self.pipeline.steps):
            if step.kind is StepKind.train and step.outputs and training.workers > 1:
                raise RuleError(("pipeline", "steps", i, "outputs"),
                                "a train step of several workers runs as a distributed job (TrainJob or PyTorchJob), "
                                "which hands back no outputs; "
                                "later steps find its run by the MLflow tag mlgitops.workflow")
        for kind in (StepKind.evaluate, StepKind.register):
            if self.pipeline.of_kind(kind) and self.model is None:
                raise RuleError("pipeline", f"a {kind.value} step works on the registered model: add model.name")
        if self.pipeline.triggers.on_drift and self.monitoring.drift is None:
            raise RuleError(("pipeline", "triggers", "onDrift"), "onDrift needs the drift check of monitoring.drift")
        schedule = self.pipeline.triggers.schedule
        if schedule in CADENCES and (training is None or training.window is None):
            raise RuleError(("pipeline", "triggers", "schedule"),
                            f"schedule: {schedule} is placed inside training.window; set a window (low-carbon, "
                            "off-peak or HH:MM-HH:MM) or write a cron schedule")
