"""Pipeline chart: `pipeline` as Argo Workflows — one WorkflowTemplate, a CronWorkflow per trigger.

- WorkflowTemplate `<system>-pipeline`: a DAG of the steps (`dependencies` as the spec orders them), each a
  container template hardened like every pod (restricted security context, read-only root, /tmp scratch, the
  training secrets mounted as files), with GPU steps placed by the environment's GPU labels and tolerations and
  labelled for their Kueue queue (Kueue's pod integration admits Argo's step pods). Built-in kinds:
  - `validate-data` runs the platform's step image on every dataset of training.data (schema, freshness, rows);
  - `train` is the training section: its container for one worker, or for several the platform's distributed job
    (TrainJob or PyTorchJob) the step creates and waits for;
  - `evaluate` fails the run unless the candidate matches or beats the registry's champion by the gate;
  - `register` logs the model version with its lineage as tags: the spec hash and source, the environment, the Git
    repository and revision Argo CD syncs, the data URIs, and the training run (whose metrics MLflow keeps).
  Every step knows its Workflow's name (`MLGITOPS_WORKFLOW`): training tags its MLflow run `mlgitops.workflow`
  with it, and evaluate and register find the candidate by that tag. A container step's declared outputs reach
  later steps as `INPUT_<STEP>_<OUTPUT>` in their environment.
- CronWorkflow `<system>-pipeline` for `triggers.schedule` (placed in training.window and run in its zone).
- CronWorkflow `<system>-retrain-on-drift` for `triggers.onDrift`. The drift trigger is alert-driven, without Argo
  Events: every 15 minutes a step asks Prometheus whether this system's `ModelDriftHigh` alert fires (the alert of
  the monitoring chart), and if it does and no drift-triggered run started within `driftCooldown`, creates a Workflow
  from the template. Prometheus is the one source of truth for "drift"; the only CRDs it needs are Argo Workflows'.
- A ServiceAccount per role (`<system>-pipeline` runs the steps, `<system>-pipeline-trigger` the drift check), each
  with a Role that allows what Argo's executor writes and, for the trigger, creating and listing Workflows.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import cdk8s
from cdk8s_plus_34 import k8s

from ..labels import QUEUE_LABEL
from ..model.mlsystem import Training
from ..model.names import PIPELINE_SUFFIX
from ..model.pipeline import STEP_RESOURCES, Step, StepKind
from ..model.units import cron_expression, duration_seconds
from ..runs import busy_hours, check_hours, retraining_runs, run_hours
from ..yamltext import dump_yaml
from .argo import (
    ARGO_WAIT,
    QUEUE_SLACK_SECONDS,
    STEP_BOUND_SECONDS,
    WORKFLOW_SECURITY,
    cron_schedule,
    harden_executor,
    mutex,
    run_bounds,
)
from .context import PodDemand, RenderContext, SystemChart
from .custom import custom_resource
from .pods import ContainerSpec, needs_shared_memory, pod_spec, template, template_json
from .tenancy import object_store_annotations
from .training import COMPONENT as TRAINING
from .training import distributed_step, launcher_rule, training_container

COMPONENT = "pipeline"
ENTRYPOINT = "pipeline"
DRIFT_ALERT = "ModelDriftHigh"
WORKFLOW_ENV = "MLGITOPS_WORKFLOW"  # the run's Workflow name: the MLflow tag mlgitops.workflow that links the steps
DRIFT_POLL = "*/15 * * * *"
# Every step, training too, is told which workflow runs it: training tags its MLflow run with that, and the
# evaluate and register steps find the candidate by the tag (a PyTorchJob has no way to hand back outputs).
STEP_ENV = {WORKFLOW_ENV: "{{workflow.name}}"}
# A drift check ends before the next poll is due, so `Forbid` never skips one.
DRIFT_CHECK_DEADLINE_SECONDS = 14 * 60
EXECUTOR_RULE = k8s.PolicyRule(api_groups=["argoproj.io"], resources=["workflowtaskresults"],
                               verbs=["create", "patch"])


def step_deadline(step: Step, training: Training | None) -> str | None:
    """A step's `timeout`; the train step's is training's maxRuntime."""
    return step.timeout or (training.max_runtime if step.kind is StepKind.train else None)


class PipelineChart(SystemChart):
    """The train step is the training section's container or distributed job (render/training.py)."""

    WAVE = 0
    KINDS = (("argoproj.io", "WorkflowTemplate"), ("argoproj.io", "CronWorkflow"), ("", "ServiceAccount"),
             ("rbac.authorization.k8s.io", "Role"), ("rbac.authorization.k8s.io", "RoleBinding"),
             ("networking.k8s.io", "NetworkPolicy"))
    COMPONENT = COMPONENT

    @classmethod
    def applies(cls, ctx: RenderContext) -> bool:
        return ctx.system.spec.pipeline is not None

    @classmethod
    def pods(cls, ctx: RenderContext) -> list[PodDemand]:
        """Every step at once (a DAG's steps may overlap), each beside Argo's wait container but a distributed
        train step's (its job's pods are the operator's), for as long as its deadline in every run; and the drift
        trigger's check."""
        spec, month = ctx.system.spec, ctx.month_hours
        training, runs = spec.training, retraining_runs(spec, month)
        pods = []
        for step in spec.pipeline.steps:
            run = run_hours(step_deadline(step, training))
            if step.kind is StepKind.train and training.workers > 1:
                pods.append(PodDemand("training", training.workers, training.resources,
                                      needs_shared_memory(training.resources.gpu, distributed=True),
                                      hours=busy_hours(runs, run, month), run_hours=run))
                continue
            resources = step.resources or (training.resources if step.kind is StepKind.train else STEP_RESOURCES)
            pods.append(PodDemand("training", 1, resources, needs_shared_memory(resources.gpu), (ARGO_WAIT,),
                                  hours=busy_hours(runs, run, month), run_hours=run))
        if spec.pipeline.triggers.on_drift:
            pods.append(PodDemand("drift", 1, STEP_RESOURCES, sidecars=(ARGO_WAIT,),
                                  hours=check_hours(DRIFT_POLL, month)))
        return pods

    def __init__(self, scope: cdk8s.App, ctx: RenderContext):
        super().__init__(scope, "pipeline", ctx)
        spec = ctx.system.spec
        self.training = spec.training
        self.pipeline = spec.pipeline
        self.runner = self.ctx.name + PIPELINE_SUFFIX
        self.template_name = self.runner
        rules = [EXECUTOR_RULE]
        if self.training is not None and self.training.workers > 1 and self.pipeline.of_kind(StepKind.train):
            rules.append(launcher_rule(self.ctx))
        self._service_account(self.runner, rules, object_store_annotations(self.ctx))  # the steps read the data
        self._workflow_template()
        triggers = self.pipeline.triggers
        if triggers.schedule is not None:
            custom_resource(self, "cron", "argoproj.io/v1alpha1", "CronWorkflow", self.runner, {"spec": {
                **cron_schedule(self.ctx.platform, cron_expression(triggers.schedule), triggers.time_zone),
                "concurrencyPolicy": "Forbid",  # never two retrainings of one model at once
                "successfulJobsHistoryLimit": 3,
                "failedJobsHistoryLimit": 3,
                "workflowSpec": self._submission("schedule"),
            }}, self._labels_for(self.runner))
        if triggers.on_drift:
            self._drift_trigger()

    # --- the template ---------------------------------------------------------------------------------------------

    def _workflow_template(self) -> None:
        steps = self.pipeline.steps
        rendered = [self._step(step) for step in steps]
        volumes = {v["name"]: v for _, pod in rendered if pod for v in pod["spec"].get("volumes", [])}
        tasks = []
        for i, step in enumerate(steps):
            task = {"name": step.name, "template": step.name}
            if needs := self.pipeline.dependencies(i):
                task["dependencies"] = needs
            if step.inputs:
                task["arguments"] = {"parameters": [
                    {"name": _parameter(ref), "value": _argo("tasks.{}.outputs.parameters.{}".format(*ref.split(".")))}
                    for ref in step.inputs]}
            tasks.append(task)
        custom_resource(self, "template", "argoproj.io/v1alpha1", "WorkflowTemplate", self.template_name, {"spec": {
            "entrypoint": ENTRYPOINT,
            "serviceAccountName": self.runner,
            "securityContext": WORKFLOW_SECURITY,
            "podMetadata": {"labels": self._labels_for(self.runner)},
            "arguments": {"parameters": [{"name": "trigger", "value": "manual"}]},
            "volumes": [volumes[name] for name in sorted(volumes)],
            "templates": [{"name": ENTRYPOINT, "dag": {"tasks": tasks}}] + [body for body, _ in rendered],
            # One run of the system's pipeline at a time, whoever submits it (the schedule, the drift trigger, a
            # person): CronWorkflow's Forbid holds only for its own runs. Workflows made from the template inherit
            # this, its deadline, pod GC and TTL (their execution spec is the template's).
            "synchronization": mutex(self.ctx.platform, self.template_name),
            **run_bounds(self._run_deadline()),
            **self._executor_only_token(),
        }}, self._labels_for(self.runner))

    def _executor_only_token(self) -> dict:
        """Where the cluster provides the executor's token Secret, only Argo's containers get a token: the steps
        themselves talk to MLflow and the object store, never to the API. workflowpod.go setupServiceAccount mounts
        that Secret into the executor containers; were it missing, every step's pod would wait for its volume. The
        drift trigger keeps its token: its check lists Workflows (the cooldown)."""
        if not self.ctx.platform.argo_workflows.executor_token_secrets:
            return {}
        return {"automountServiceAccountToken": False, "executor": {"serviceAccountName": self.runner}}

    def _run_deadline(self) -> int:
        """The run's bound: its steps' deadlines one after another, as if none ran in parallel, and the time its
        GPU steps may wait in Kueue's queue."""
        return sum(self._step_deadline(step) or STEP_BOUND_SECONDS for step in self.pipeline.steps) + \
            QUEUE_SLACK_SECONDS

    def _step_deadline(self, step: Step) -> int | None:
        timeout = step_deadline(step, self.training)
        return int(duration_seconds(timeout)) if timeout else None

    def _step(self, step: Step) -> tuple[dict, dict | None]:
        """The step's template, and the pod spec its container came from (None for a resource step)."""
        train = step.kind is StepKind.train  # the training section exists then (the spec model checks)
        if train and self.training.workers > 1:
            return self._distributed_train(step), None
        spec = self._container_spec(step)
        labels = self._labels_for(self.runner)
        queue = (self.training.queue if train else step.queue) if spec.gpu else None
        if queue:
            labels[QUEUE_LABEL] = queue
        pod = template_json(self, template(labels, pod_spec(
            [spec], self.ctx.system.environment.spec, service_account=self.runner,
            priority_class=self.training.priority if train else None, workload=self.ctx.workload(TRAINING))))
        body = {"name": step.name, "metadata": {"labels": labels}, "container": pod["spec"]["containers"][0]}
        for key in ("nodeSelector", "tolerations", "priorityClassName"):
            if key in pod["spec"]:
                body[key] = pod["spec"][key]
        if "resourceClaims" in pod["spec"]:  # DRA: the template has no field of its own for it
            body["podSpecPatch"] = json.dumps({"resourceClaims": pod["spec"]["resourceClaims"]}, sort_keys=True)
        body.update(self._step_io(step))
        if deadline := self._step_deadline(step):
            body["activeDeadlineSeconds"] = deadline
        if train and self.training.retries:
            body["retryStrategy"] = {"limit": str(self.training.retries)}
        return harden_executor(self.ctx.platform, body), pod

    def _step_io(self, step: Step) -> dict:
        io: dict = {}
        if step.inputs:
            io["inputs"] = {"parameters": [{"name": _parameter(ref)} for ref in step.inputs]}
        if step.outputs:
            io["outputs"] = {"parameters": [{"name": o.name, "valueFrom": {"path": o.path}} for o in step.outputs]}
        return io

    def _container_spec(self, step: Step) -> ContainerSpec:
        inputs = {f"INPUT_{_env(ref)}": _argo(f"inputs.parameters.{_parameter(ref)}") for ref in step.inputs}
        env = {**STEP_ENV, **inputs, **step.env}
        secrets = self.ctx.secrets_for(TRAINING)
        if step.kind is StepKind.train:
            train = training_container(self.ctx, step.name, STEP_ENV)
            return ContainerSpec(name="main", image=step.image or train.image, resources=step.resources or
                                 train.resources, gpu=(step.resources or train.resources).gpu,
                                 command=step.command or train.command, args=step.args or train.args,
                                 env={**train.env, **env}, secrets=secrets)
        image = step.image or self.ctx.system.environment.spec.pipelines.step_image
        command = step.command or (["mlgitops-step", step.kind.value] if step.kind is not StepKind.custom else [])
        resources = step.resources or STEP_RESOURCES
        return ContainerSpec(name="main", image=image, resources=resources, gpu=resources.gpu, command=command,
                             args=step.args or self._builtin_args(step), env=env, secrets=secrets)

    def _builtin_args(self, step: Step) -> list[str]:
        spec, env = self.ctx.system.spec, self.ctx.system.env
        data = [f"--data={d.name}={d.uri}" for d in (self.training.data if self.training else [])]
        if step.kind is StepKind.validate_data:
            checks = step.checks
            return data + ([f"--schema={checks.schema_uri}"] if checks and checks.schema_uri else []) + (
                [f"--max-age={checks.max_age}"] if checks and checks.max_age else []) + (
                [f"--min-rows={checks.min_rows}"] if checks and checks.min_rows else [])
        if step.kind is StepKind.evaluate:
            gate = step.gate
            return [f"--model={spec.model.name}", f"--champion-alias={gate.champion_alias}", f"--metric={gate.metric}",
                    f"--min-improvement={gate.min_improvement:g}",
                    "--higher-is-better" if gate.higher_is_better else "--lower-is-better"]
        if step.kind is StepKind.register:
            argocd = self.ctx.system.environment.spec.argocd
            tags = {"spec-hash": {"mlgitops.spec-hash": self.ctx.system.spec_hash,
                                  "mlgitops.source": self.ctx.system.spec_file, "mlgitops.environment": env},
                    "git": {"git.repository": argocd.repo_url, "git.revision": argocd.target_revision},
                    "data-uris": {f"data.{d.name}": d.uri for d in (self.training.data if self.training else [])}}
            args = [f"--model={spec.model.name}", "--trigger={{workflow.parameters.trigger}}"]
            args += [f"--tag={k}={v}" for part in step.lineage if part in tags for k, v in tags[part].items()]
            args += [f"--lineage={part}" for part in step.lineage if part not in tags]  # read from the run itself
            return args
        return []

    def _distributed_train(self, step: Step) -> dict:
        return {**distributed_step(self, self.ctx, step.name, STEP_ENV), **self._step_io(step)}

    # --- triggers -------------------------------------------------------------------------------------------------

    def _submission(self, trigger: str) -> dict:
        return {"workflowTemplateRef": {"name": self.template_name},
                "arguments": {"parameters": [{"name": "trigger", "value": trigger}]}}

    def _drift_trigger(self) -> None:
        name = f"{self.ctx.name}-retrain-on-drift"
        trigger_sa = f"{self.runner}-trigger"
        self._service_account(trigger_sa, [EXECUTOR_RULE, k8s.PolicyRule(
            api_groups=["argoproj.io"], resources=["workflows"], verbs=["create", "list"])])
        environment = self.ctx.system.environment.spec
        check = ContainerSpec(name="main", image=environment.pipelines.step_image, resources=STEP_RESOURCES,
                              command=["mlgitops-step", "alert-firing"], args=[
                                  f"--prometheus={environment.monitoring.prometheus}", f"--alert={DRIFT_ALERT}",
                                  f"--label=system={self.ctx.name}", f"--label=env={self.ctx.system.env}",
                                  f"--cooldown={self.pipeline.triggers.drift_cooldown}",
                                  f"--workflows-from={self.template_name}", "--trigger=drift",
                                  "--output=/tmp/firing"])
        labels = self._labels_for(trigger_sa)
        pod = template_json(self, template(labels, pod_spec([check], environment, service_account=trigger_sa)))
        run = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
               "metadata": {"generateName": f"{self.template_name}-drift-", "labels": self._labels_for(self.runner)},
               "spec": self._submission("drift")}
        custom_resource(self, "drift-trigger", "argoproj.io/v1alpha1", "CronWorkflow", name, {"spec": {
            # The region's zone, as every schedule without one of its own (every 15 minutes is the same anywhere
            # but in the run's timestamps).
            **cron_schedule(self.ctx.platform, DRIFT_POLL, environment.region_time_zone()),
            "concurrencyPolicy": "Forbid",
            "successfulJobsHistoryLimit": 1,
            "failedJobsHistoryLimit": 3,
            "workflowSpec": {
                "entrypoint": "on-drift",
                "serviceAccountName": trigger_sa,
                "securityContext": WORKFLOW_SECURITY,
                "podMetadata": {"labels": labels},
                "volumes": pod["spec"]["volumes"],
                **run_bounds(DRIFT_CHECK_DEADLINE_SECONDS),
                "templates": [
                    {"name": "on-drift", "steps": [
                        [{"name": "check", "template": "alert-firing"}],
                        [{"name": "submit", "template": "submit",
                          "when": "{{steps.check.outputs.parameters.firing}} == true"}]]},
                    harden_executor(self.ctx.platform, {
                        "name": "alert-firing", "container": pod["spec"]["containers"][0],
                        "outputs": {"parameters": [{"name": "firing", "valueFrom": {"path": "/tmp/firing"}}]}}),
                    {"name": "submit", "resource": {"action": "create", "manifest": dump_yaml(run)}},
                ],
            },
        }}, labels)
        self._prometheus_egress(trigger_sa)

    # --- identity and network -------------------------------------------------------------------------------------

    def _labels_for(self, workload: str) -> dict[str, str]:
        return {**self.ctx.selector(workload), **self.ctx.workload_labels(workload, COMPONENT)}

    def _service_account(self, name: str, rules: list[k8s.PolicyRule],
                         annotations: dict[str, str] | None = None) -> None:
        labels = self.ctx.workload_labels(name, COMPONENT)
        # Argo's executor writes the step's results through the API: these pods need their token
        k8s.KubeServiceAccount(self, f"{name}-sa", metadata=k8s.ObjectMeta(name=name, labels=labels,
                                                                           annotations=annotations),
                               automount_service_account_token=True)
        k8s.KubeRole(self, f"{name}-role", metadata=k8s.ObjectMeta(name=name, labels=labels), rules=rules)
        k8s.KubeRoleBinding(self, f"{name}-binding", metadata=k8s.ObjectMeta(name=name, labels=labels),
                            role_ref=k8s.RoleRef(api_group="rbac.authorization.k8s.io", kind="Role", name=name),
                            subjects=[k8s.Subject(kind="ServiceAccount", name=name, namespace=self.ctx.namespace)])

    def _prometheus_egress(self, workload: str) -> None:
        environment = self.ctx.system.environment.spec
        url = urlsplit(environment.monitoring.prometheus)
        port = url.port or (443 if url.scheme == "https" else 80)
        k8s.KubeNetworkPolicy(self, "allow-prometheus", metadata=k8s.ObjectMeta(name=f"{workload}-allow-prometheus"),
                              spec=k8s.NetworkPolicySpec(
                                  pod_selector=k8s.LabelSelector(match_labels=self.ctx.selector(workload)),
                                  policy_types=["Egress"], egress=[k8s.NetworkPolicyEgressRule(
                                      to=[k8s.NetworkPolicyPeer(namespace_selector=k8s.LabelSelector(match_labels={
                                          "kubernetes.io/metadata.name": environment.monitoring.namespace}))],
                                      ports=[k8s.NetworkPolicyPort(port=k8s.IntOrString.from_number(port),
                                                                   protocol="TCP")])]))


def _argo(expression: str) -> str:
    """An Argo Workflows expression, filled in when the step runs."""
    return "{{" + expression + "}}"


def _parameter(reference: str) -> str:
    """`train.run-id` → `train-run-id`: the name an input has in Argo's parameters."""
    return reference.replace(".", "-")


def _env(reference: str) -> str:
    return reference.replace(".", "_").replace("-", "_").upper()

