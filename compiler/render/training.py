"""Training chart: the training shape the spec implies.

- one-off, one worker → batch/v1 Job
- scheduled, one worker → batch/v1 CronJob
- more than one worker → kubeflow.org/v1 PyTorchJob (one master, workers - 1 workers); when also scheduled, an Argo
  Workflows CronWorkflow submits that PyTorchJob on the schedule (a CronJob cannot create custom resources), run
  by a launcher ServiceAccount allowed to create PyTorchJobs and nothing else.

With a `queue`, the Kueue label is set and jobs start suspended so Kueue admits them. `retries` maps to
backoffLimit, `maxRuntime` to activeDeadlineSeconds. One-off Jobs get no TTL: Argo CD would recreate a Job that
deleted itself, and run the training again.
"""

from __future__ import annotations

import cdk8s
from cdk8s_plus_34 import k8s

from ..model.units import cron_expression, duration_seconds
from ..yamltext import dump_yaml
from .argo import WORKFLOW_SECURITY, cron_schedule
from .context import RenderContext, SystemChart
from .custom import custom_resource
from .pods import ContainerSpec, pod_spec, template, template_json

QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
PRIORITY_LABEL = "kueue.x-k8s.io/priority-class"  # a Kueue WorkloadPriorityClass of the same name
COMPONENT = "training"


class TrainingChart(SystemChart):
    def __init__(self, scope: cdk8s.App, ctx: RenderContext, id: str = "training"):
        super().__init__(scope, id, ctx)
        self.training = ctx.system.spec.training
        self.workload = ctx.workload(COMPONENT)
        self.render()

    def render(self) -> None:
        training = self.training
        if training.workers > 1:
            self._pytorch_job(scheduled=training.schedule is not None)
        elif training.schedule:
            self._cron_job()
        else:
            k8s.KubeJob(self, "job", metadata=self._metadata(), spec=self._job_spec())

    def _metadata(self, name: str | None = None) -> k8s.ObjectMeta:
        return k8s.ObjectMeta(name=name or self.workload, labels=self._labels())

    def _labels(self) -> dict[str, str]:
        labels = self.ctx.workload_labels(self.workload, COMPONENT)
        if self.training.queue:
            labels[QUEUE_LABEL] = self.training.queue
            if self.training.priority:
                labels[PRIORITY_LABEL] = self.training.priority
        return labels

    def _containers(self, name: str) -> list[ContainerSpec]:
        t = self.training
        env = {**{f"DATA_{d.name.upper().replace('-', '_')}_URI": d.uri for d in t.data}, **t.env}
        return [ContainerSpec(name=name, image=t.image, resources=t.resources, gpu=t.resources.gpu,
                              command=t.command, args=t.args, env=env, secrets=self.ctx.secrets_for(COMPONENT))]

    def _pod_template(self, container_name: str, restart_policy: str) -> k8s.PodTemplateSpec:
        labels = {**self.ctx.selector(self.workload), **self.ctx.workload_labels(self.workload, COMPONENT)}
        spec = pod_spec(self._containers(container_name), self.ctx.system.environment.spec,
                        service_account=self.workload, restart_policy=restart_policy,
                        priority_class=self.training.priority, workload=self.workload,
                        distributed=self.training.workers > 1)
        return template(labels, spec)

    def _job_spec(self) -> k8s.JobSpec:
        t = self.training
        return k8s.JobSpec(
            template=self._pod_template("train", "Never"),
            backoff_limit=t.retries,
            active_deadline_seconds=int(duration_seconds(t.max_runtime)) if t.max_runtime else None,
            suspend=True if t.queue else None,
        )

    def _cron_job(self) -> None:
        k8s.KubeCronJob(self, "cronjob", metadata=self._metadata(), spec=k8s.CronJobSpec(
            schedule=cron_expression(self.training.schedule),
            time_zone=self.training.time_zone,  # the zone the schedule was checked against its window in
            concurrency_policy="Forbid",  # never two retrainings of the same model at once
            successful_jobs_history_limit=3,
            failed_jobs_history_limit=3,
            job_template=k8s.JobTemplateSpec(metadata=k8s.ObjectMeta(labels=self._labels()),
                                             spec=self._job_spec()),
        ))

    def _pytorch_job_body(self) -> dict:
        t = self.training
        pod = template_json(self, self._pod_template("pytorch", "OnFailure"))  # the operator wants "pytorch"
        run_policy = {"backoffLimit": t.retries, "cleanPodPolicy": "None"}
        if t.max_runtime:
            run_policy["activeDeadlineSeconds"] = int(duration_seconds(t.max_runtime))
        if t.queue:
            run_policy["suspend"] = True
        replicas = {"Master": {"replicas": 1, "restartPolicy": "OnFailure", "template": pod},
                    "Worker": {"replicas": t.workers - 1, "restartPolicy": "OnFailure", "template": pod}}
        return {"spec": {"pytorchReplicaSpecs": replicas, "runPolicy": run_policy}}

    def _pytorch_job(self, scheduled: bool) -> None:
        body = self._pytorch_job_body()
        if not scheduled:
            custom_resource(self, "pytorchjob", "kubeflow.org/v1", "PyTorchJob", self.workload, body, self._labels())
            return
        launcher = f"{self.workload}-launcher"
        self._launcher_rbac(launcher)
        manifest = {"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob",
                    "metadata": {"generateName": f"{self.workload}-", "labels": {**self.ctx.labels(), **self._labels()},
                                 "annotations": self.ctx.annotations()}, **body}
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
                "templates": [{"name": "train", "resource": {
                    "action": "create",
                    "manifest": dump_yaml(manifest),
                    "successCondition": "status.replicaStatuses.Master.succeeded > 0",
                    "failureCondition": "status.replicaStatuses.Master.failed > 0",
                }}],
            },
        }}, self.ctx.workload_labels(self.workload, COMPONENT))  # Kueue admits the PyTorchJob, not this

    def _launcher_rbac(self, name: str) -> None:
        """Least privilege for the workflow that submits scheduled PyTorchJobs."""
        labels = self.ctx.workload_labels(name, COMPONENT)
        k8s.KubeServiceAccount(self, "launcher-sa", metadata=k8s.ObjectMeta(name=name, labels=labels),
                               automount_service_account_token=True)
        k8s.KubeRole(self, "launcher-role", metadata=k8s.ObjectMeta(name=name, labels=labels), rules=[
            k8s.PolicyRule(api_groups=["kubeflow.org"], resources=["pytorchjobs"], verbs=["create", "get", "list",
                                                                                        "watch"]),
            k8s.PolicyRule(api_groups=["argoproj.io"], resources=["workflowtaskresults"],
                           verbs=["create", "patch"]),
        ])
        k8s.KubeRoleBinding(self, "launcher-binding", metadata=k8s.ObjectMeta(name=name, labels=labels),
                            role_ref=k8s.RoleRef(api_group="rbac.authorization.k8s.io", kind="Role", name=name),
                            subjects=[k8s.Subject(kind="ServiceAccount", name=name, namespace=self.ctx.namespace)])

