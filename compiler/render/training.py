"""Training chart: the training shape the spec implies, for the platform's trainer and Kueue.

- one-off, one worker → batch/v1 Job `<system>-train-<hash8>`
- scheduled, one worker → batch/v1 CronJob
- more than one worker → the platform's distributed kind (compiler/platform/training.py): Trainer v2's
  `trainer.kubeflow.org/v1alpha1` TrainJob on the profile's ClusterTrainingRuntime, or training-operator v1's
  `kubeflow.org/v1` PyTorchJob (one master, workers - 1 workers). One-off, it is named `<system>-train-<hash8>`;
  scheduled, an Argo Workflows CronWorkflow creates it on the schedule (a CronJob cannot create custom resources),
  run by a launcher ServiceAccount allowed to create that kind and nothing else.
- QueuesChart: a Kueue LocalQueue (wave -1) for each queue the system's workloads use, pointing at the ClusterQueue
  the environment names for it: the namespace is new, so nothing else creates them.

With a `queue`, the Kueue label is set and jobs start suspended so Kueue admits them. `maxRuntime` maps to
activeDeadlineSeconds. One-off jobs are named by a hash of their pod template: the template is immutable, so a
change makes a new job and Argo CD prunes the old one; they get no TTL, since Argo CD would recreate a job that
deleted itself and run the training again. The chart is the last sync wave: a running job must not hold back
serving and monitoring, which Argo CD applies only once the waves before are healthy.

Training's pods and distributed jobs are plain functions (`training_container`, `pytorch_job_body`,
`distributed_step`, ...) that this chart and the pipeline's train step (render/pipeline.py) both call.
"""

from __future__ import annotations

import hashlib
import json

import cdk8s
from cdk8s_plus_34 import k8s

from ..labels import COMPONENT_LABEL, PRIORITY_LABEL, QUEUE_LABEL
from ..model.mlsystem import Training
from ..model.units import cron_expression, duration_seconds
from ..platform.training import distributed_kind, queue_uses
from ..runs import busy_hours, retraining_runs, run_hours
from ..yamltext import dump_yaml
from .argo import POD_GC, QUEUE_SLACK_SECONDS, RUN_TTL, WORKFLOW_SECURITY, cron_schedule, run_bounds
from .context import PodDemand, RenderContext, SystemChart
from .custom import custom_resource
from .pods import ContainerSpec, needs_shared_memory, pod_spec, template, template_json

COMPONENT = "training"
KUEUE_API = "kueue.x-k8s.io/v1beta2"  # the storage version of Kueue v0.19.2's LocalQueue CRD
TRAINER_API = "trainer.kubeflow.org/v1alpha1"
PYTORCH_API = "kubeflow.org/v1"
API_VERSION = {"TrainJob": TRAINER_API, "PyTorchJob": PYTORCH_API}
RESOURCE = {"TrainJob": ("trainer.kubeflow.org", "trainjobs"), "PyTorchJob": ("kubeflow.org", "pytorchjobs")}
# The replicated job and container of a Trainer v2 runtime that run the training code (kubeflow/trainer 8c0f505,
# pkg/constants/constants.go `Node`; manifests/base/runtimes/torch_distributed.yaml).
TRAINER_NODE = "node"
PATCH_MANAGER = "mlgitops.io/compiler"  # who owns the TrainJob's runtime patch (runtimePatches are keyed by it)
# Pod fields a TrainJob's PodSpecPatch cannot carry at Trainer 8c0f505 (after v2.3.0): the runtime's template
# decides them. The ServiceAccount keeps the token off (automountServiceAccountToken: false), and the TrainJob's
# Kueue priority label stands in for the pod priority.
RUNTIME_DECIDES = {"restartPolicy", "priorityClassName", "enableServiceLinks", "automountServiceAccountToken"}
POD_PATCHABLE = {"serviceAccountName", "volumes", "securityContext", "nodeSelector", "affinity", "tolerations",
                 "imagePullSecrets"}
FINISHED_TTL = 24 * 3600  # a launched PyTorchJob's pods are kept this long after it finished, for their logs


def content_name(workload: str, pod_template: dict) -> str:
    """`<workload>-<hash8>`: what makes a job's (immutable) pod template decides its name."""
    digest = hashlib.sha256(json.dumps(pod_template, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    return f"{workload}-{digest[:8]}"


# --- training's pods and jobs, as the training chart and the pipeline's train step render them -------------------
# `env` adds to the training container's environment (the pipeline tells it which workflow runs it).

def training_labels(ctx: RenderContext) -> dict[str, str]:
    """Labels of training's jobs: its workload's, and Kueue's queue and priority."""
    training = ctx.system.spec.training
    labels = ctx.workload_labels(ctx.workload(COMPONENT), COMPONENT)
    if training.queue:
        labels[QUEUE_LABEL] = training.queue
        if training.priority:
            labels[PRIORITY_LABEL] = training.priority
    return labels


def training_container(ctx: RenderContext, name: str, env: dict[str, str] | None = None) -> ContainerSpec:
    t = ctx.system.spec.training
    data = {f"DATA_{d.name.upper().replace('-', '_')}_URI": d.uri for d in t.data}
    return ContainerSpec(name=name, image=t.image, resources=t.resources, gpu=t.resources.gpu, command=t.command,
                         args=t.args, env={**data, **t.env, **(env or {})}, secrets=ctx.secrets_for(COMPONENT))


def training_pod_template(ctx: RenderContext, container_name: str,
                          env: dict[str, str] | None = None) -> k8s.PodTemplateSpec:
    """A training pod; it restarts `Never`: a failed run is retried as a new pod (backoffLimit) or job."""
    training, workload = ctx.system.spec.training, ctx.workload(COMPONENT)
    labels = {**ctx.selector(workload), **ctx.workload_labels(workload, COMPONENT)}
    spec = pod_spec([training_container(ctx, container_name, env)], ctx.system.environment.spec,
                    service_account=workload, restart_policy="Never", priority_class=training.priority,
                    workload=workload, distributed=training.workers > 1)
    return template(labels, spec)


def max_runtime_seconds(training: Training) -> int | None:
    return int(duration_seconds(training.max_runtime)) if training.max_runtime else None


def distributed_body(scope: cdk8s.Chart, ctx: RenderContext, launched: bool = False,
                     env: dict[str, str] | None = None) -> tuple[str, dict]:
    """The platform's distributed-training kind and its body; `launched` when an Argo step creates it."""
    kind = distributed_kind(ctx.platform)
    return kind, train_job_body(scope, ctx, env) if kind == "TrainJob" else pytorch_job_body(scope, ctx, launched, env)


def pytorch_job_body(scope: cdk8s.Chart, ctx: RenderContext, launched: bool,
                     env: dict[str, str] | None = None) -> dict:
    """training-operator v1 (kubeflow/trainer release-1.9, 3a3a1da). Replicas restart `Never`: a crash then
    counts in replicaStatuses.<type>.failed and fails the job (pkg/controller.v1/pytorch/
    pytorchjob_controller.go UpdateJobStatus), where `OnFailure` restarts it in place, unseen; a retry is a
    new job (the Argo step's retryStrategy). `cleanPodPolicy: Running` deletes the pods still running when the
    job fails or times out (pkg/controller.v1/common/job.go): `None` kept them, and their GPUs."""
    t = ctx.system.spec.training
    pod = template_json(scope, training_pod_template(ctx, "pytorch", env))  # the operator wants "pytorch"
    run_policy: dict = {"cleanPodPolicy": "Running"}
    if launched:  # one that Argo CD applies must stay: it would be recreated and run again
        run_policy["ttlSecondsAfterFinished"] = FINISHED_TTL
    if t.max_runtime:
        run_policy["activeDeadlineSeconds"] = max_runtime_seconds(t)
    if t.queue:
        run_policy["suspend"] = True
    replicas = {"Master": {"replicas": 1, "restartPolicy": "Never", "template": pod},
                "Worker": {"replicas": t.workers - 1, "restartPolicy": "Never", "template": pod}}
    return {"spec": {"pytorchReplicaSpecs": replicas, "runPolicy": run_policy}}


def train_job_body(scope: cdk8s.Chart, ctx: RenderContext, env: dict[str, str] | None = None) -> dict:
    """Trainer v2 (kubeflow/trainer 8c0f505, after v2.3.0, pkg/apis/trainer/v1alpha1/trainjob_types.go): the
    trainer container's image, command, env and resources per node go in `trainer`; the rest of the pod
    (ServiceAccount, volumes, securityContext, placement, labels) in a runtime patch of the runtime's `node`
    job. At `activeDeadlineSeconds` (counted from admission) the controller deletes the JobSet and its pods
    and marks the TrainJob Failed (pkg/controller/trainjob_controller.go reconcileDeadline); a failed node Job
    fails the JobSet, and so the TrainJob (pkg/runtime/framework/plugins/jobset/jobset.go)."""
    t = ctx.system.spec.training
    pod = template_json(scope, training_pod_template(ctx, TRAINER_NODE, env))
    spec, [container] = pod["spec"], pod["spec"]["containers"]
    unplaced = set(spec) - POD_PATCHABLE - RUNTIME_DECIDES - {"containers"}
    if unplaced:  # the platform checks refuse what would get here (DRA claims)
        raise ValueError(f"a TrainJob cannot carry the pod's {', '.join(sorted(unplaced))}")
    trainer = {"image": container["image"], "numNodes": t.workers, "resourcesPerNode": container["resources"]}
    trainer.update({k: container[k] for k in ("command", "args", "env") if container.get(k)})
    node = {"name": TRAINER_NODE,
            **{k: container[k] for k in ("securityContext", "volumeMounts") if k in container}}
    pod_patch = {"metadata": {"labels": pod["metadata"]["labels"]},  # the network policies select these
                 "spec": {**{k: spec[k] for k in sorted(POD_PATCHABLE) if k in spec}, "containers": [node]}}
    node_job = {"name": TRAINER_NODE, "template": {"spec": {"template": pod_patch}}}
    body: dict = {"runtimeRef": {"name": ctx.platform.trainer.runtime}, "trainer": trainer,
                  "runtimePatches": [{"manager": PATCH_MANAGER, "trainingRuntimeSpec": {
                      "template": {"spec": {"replicatedJobs": [node_job]}}}}]}
    if t.max_runtime:
        body["activeDeadlineSeconds"] = max_runtime_seconds(t)
    if t.queue:
        body["suspend"] = True
    return {"spec": body}


def distributed_step(scope: cdk8s.Chart, ctx: RenderContext, name: str, env: dict[str, str] | None = None) -> dict:
    """An Argo resource template that creates the distributed job (the launcher's, the pipeline's train step),
    owned by the workflow (deleted with it), and waits for an outcome the job really reports. Argo's conditions
    are label selectors over gjson paths (argo-workflows f016ad8, workflow/executor/resource.go matchConditions):
    every success requirement must hold, any failure requirement fails the step, and a path cannot select a list
    item by its fields."""
    training = ctx.system.spec.training
    kind, body = distributed_body(scope, ctx, launched=True, env=env)
    manifest = {"apiVersion": API_VERSION[kind], "kind": kind,
                "metadata": {"generateName": f"{ctx.workload(COMPONENT)}-",
                             "labels": {**ctx.labels(), **training_labels(ctx)},
                             "annotations": ctx.annotations()}, **body}
    if kind == "TrainJob":
        # The TrainJob's conditions: Suspended first when it was created suspended, then Complete or Failed
        # (kubeflow/trainer 8c0f505 pkg/controller/trainjob_controller.go: setSuspendedCondition, and the
        # JobSet's outcome); a runtime it cannot run is Failed at once.
        outcome = 1 if training.queue else 0
        success = f"status.conditions.{outcome}.type == Complete"
        failure = "status.conditions.0.type == Failed,status.conditions.1.type == Failed"
    else:
        success = "status.replicaStatuses.Master.succeeded > 0"
        failure = "status.replicaStatuses.Master.failed > 0,status.replicaStatuses.Worker.failed > 0"
    step: dict = {"name": name, "resource": {
        "action": "create", "setOwnerReference": True, "manifest": dump_yaml(manifest),
        "successCondition": success, "failureCondition": failure}}
    if training.max_runtime:  # the job's own deadline counts from admission: allow for the queue
        step["activeDeadlineSeconds"] = max_runtime_seconds(training) + QUEUE_SLACK_SECONDS
    if training.retries:  # a failed job is not restarted in place: a retry creates a new one
        step["retryStrategy"] = {"limit": str(training.retries)}
    return step


class TrainingChart(SystemChart):
    # Last: Argo CD waits for a wave to be healthy, and a training job is Progressing until it ends, so it must not
    # hold back serving and monitoring.
    WAVE = 2
    KINDS = (("batch", "Job"), ("batch", "CronJob"), ("trainer.kubeflow.org", "TrainJob"),
             ("kubeflow.org", "PyTorchJob"), ("argoproj.io", "CronWorkflow"), ("", "ServiceAccount"),
             ("rbac.authorization.k8s.io", "Role"), ("rbac.authorization.k8s.io", "RoleBinding"))
    COMPONENT = COMPONENT

    @classmethod
    def applies(cls, ctx: RenderContext) -> bool:
        # with a pipeline, training runs as its train step instead
        return ctx.system.spec.training is not None and ctx.system.spec.pipeline is None

    @classmethod
    def pods(cls, ctx: RenderContext) -> list[PodDemand]:
        t, month = ctx.system.spec.training, ctx.month_hours
        run = run_hours(t.max_runtime)
        return [PodDemand("training", t.workers, t.resources, needs_shared_memory(t.resources.gpu, t.workers > 1),
                          hours=busy_hours(retraining_runs(ctx.system.spec, month), run, month), run_hours=run)]

    def __init__(self, scope: cdk8s.App, ctx: RenderContext):
        super().__init__(scope, "training", ctx)
        self.training = ctx.system.spec.training
        self.workload = ctx.workload(COMPONENT)
        training = self.training
        if training.workers > 1 and training.schedule:
            self._launcher()
        elif training.workers > 1:
            kind, body = distributed_body(self, ctx)
            name = content_name(self.workload, body)
            custom_resource(self, kind.lower(), API_VERSION[kind], kind, name, body, training_labels(ctx))
        elif training.schedule:
            self._cron_job()
        else:
            pod_template = training_pod_template(ctx, "train")
            name = content_name(self.workload, template_json(self, pod_template))
            k8s.KubeJob(self, "job", metadata=self._metadata(name), spec=self._job_spec(pod_template))

    def _metadata(self, name: str | None = None) -> k8s.ObjectMeta:
        return k8s.ObjectMeta(name=name or self.workload, labels=training_labels(self.ctx))

    def _job_spec(self, pod_template: k8s.PodTemplateSpec) -> k8s.JobSpec:
        return k8s.JobSpec(template=pod_template, backoff_limit=self.training.retries,
                           active_deadline_seconds=max_runtime_seconds(self.training),
                           suspend=True if self.training.queue else None)

    def _cron_job(self) -> None:
        k8s.KubeCronJob(self, "cronjob", metadata=self._metadata(), spec=k8s.CronJobSpec(
            schedule=cron_expression(self.training.schedule),
            time_zone=self.training.time_zone,  # the zone the schedule was checked against its window in
            concurrency_policy="Forbid",  # never two retrainings of the same model at once
            successful_jobs_history_limit=3,
            failed_jobs_history_limit=3,
            job_template=k8s.JobTemplateSpec(metadata=k8s.ObjectMeta(labels=training_labels(self.ctx)),
                                             spec=self._job_spec(training_pod_template(self.ctx, "train"))),
        ))

    def _launcher(self) -> None:
        launcher = f"{self.workload}-launcher"
        self._launcher_rbac(launcher)
        # One resource step: Argo gives its pod a restricted securityContext itself (no executor patch needed).
        train = distributed_step(self, self.ctx, "train")
        bounds = run_bounds(train["activeDeadlineSeconds"]) if "activeDeadlineSeconds" in train else {
            "podGC": POD_GC, "ttlStrategy": RUN_TTL}
        custom_resource(self, "cronworkflow", "argoproj.io/v1alpha1", "CronWorkflow", self.workload, {"spec": {
            **cron_schedule(self.ctx.platform, cron_expression(self.training.schedule)),
            **({"timezone": self.training.time_zone} if self.training.time_zone else {}),
            "concurrencyPolicy": "Forbid",
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "workflowSpec": {
                "entrypoint": "train",
                "serviceAccountName": launcher,
                "securityContext": WORKFLOW_SECURITY,
                **bounds,
                "templates": [train],
            },
        }}, self.ctx.workload_labels(self.workload, COMPONENT))  # Kueue admits the job it creates, not this

    def _launcher_rbac(self, name: str) -> None:
        """Least privilege for the workflow that submits scheduled distributed jobs."""
        labels = self.ctx.workload_labels(name, COMPONENT)
        k8s.KubeServiceAccount(self, "launcher-sa", metadata=k8s.ObjectMeta(name=name, labels=labels),
                               automount_service_account_token=True)
        k8s.KubeRole(self, "launcher-role", metadata=k8s.ObjectMeta(name=name, labels=labels), rules=[
            launcher_rule(self.ctx),
            k8s.PolicyRule(api_groups=["argoproj.io"], resources=["workflowtaskresults"],
                           verbs=["create", "patch"]),
        ])
        k8s.KubeRoleBinding(self, "launcher-binding", metadata=k8s.ObjectMeta(name=name, labels=labels),
                            role_ref=k8s.RoleRef(api_group="rbac.authorization.k8s.io", kind="Role", name=name),
                            subjects=[k8s.Subject(kind="ServiceAccount", name=name, namespace=self.ctx.namespace)])


def launcher_rule(ctx: RenderContext) -> k8s.PolicyRule:
    """What a workflow needs to create the platform's distributed job and watch it."""
    group, resource = RESOURCE[distributed_kind(ctx.platform)]
    return k8s.PolicyRule(api_groups=[group], resources=[resource], verbs=["create", "get", "list", "watch"])


class QueuesChart(SystemChart):
    """The namespace's Kueue LocalQueues: one per queue the system's workloads are admitted through."""

    WAVE = -1
    KINDS = (("kueue.x-k8s.io", "LocalQueue"),)

    @classmethod
    def applies(cls, ctx: RenderContext) -> bool:
        return bool(queue_uses(ctx.system.spec, ctx.platform))

    def __init__(self, scope: cdk8s.App, ctx: RenderContext):
        super().__init__(scope, "queues", ctx)
        queues = ctx.platform.kueue.queues  # the platform checks refused a queue not there
        for queue in sorted({use.queue for use in queue_uses(ctx.system.spec, ctx.platform)}):
            custom_resource(self, f"localqueue-{queue}", KUEUE_API, "LocalQueue", queue,
                            {"spec": {"clusterQueue": queues[queue].cluster_queue}},
                            {COMPONENT_LABEL: COMPONENT})
