"""Training on the platform: the distributed kind Kueue admits, LocalQueues, bounded jobs that release their GPUs,
one-off jobs named by their pod template, and the refusals at the spec's line."""

from __future__ import annotations

import re
from pathlib import Path

from ruamel.yaml import YAML

from compiler.render.argo import POD_GC, QUEUE_SLACK_SECONDS, RUN_TTL
from helpers import edit, require_shared_schemas, run_cli, schema_errors, tree

yaml = YAML(typ="safe")
REC, SUP, FRAUD = "spec/recommender.yaml", "spec/support-assistant.yaml", "spec/fraud-scorer.yaml"
PLATFORM_END = '  argocd: {version: "3.3"}\n'
V1_PROFILE = ('  trainer: {api: kubeflow.org/v1, initContainerHardened: true}\n'
              '  kueue:\n    integrations: [batch/job, trainer.kubeflow.org/trainjob, kubeflow.org/pytorchjob, pod]\n')
WAVE = "argocd.argoproj.io/sync-wave"


def _train_step(compiled: dict[str, dict], env: str) -> dict:
    template = compiled[f"{env}/recommender/workflowtemplate-recommender-pipeline.yaml"]
    [train] = [t for t in template["spec"]["templates"] if t["name"] == "train"]
    return train


def _compile(repo: Path) -> dict[str, dict]:
    result = run_cli(repo, "compile", "--offline")
    assert result.exit_code == 0, result.stderr
    return {path: yaml.load(content) for path, content in tree(repo / "generated").items()}


def _refusal(repo: Path, relative: str, line_text: str) -> list[str]:
    """The compile's one-line diagnostics (exit 2), each checked to point at the line that holds `line_text`."""
    result = run_cli(repo, "compile", "--offline")
    assert result.exit_code == 2, (result.stdout, result.stderr)
    diagnostics = [line for line in result.stderr.splitlines() if re.match(r"^\S+:\d+:\d+: ", line)]
    [number] = [n for n, line in enumerate((repo / relative).read_text().splitlines(), 1) if line_text in line]
    assert diagnostics and all(d.startswith(f"{relative}:{number}:") for d in diagnostics), diagnostics
    return diagnostics


def _use_profile(repo: Path, env: str, profile: str) -> None:
    """Add lines to an environment's platform: section, with a kueue: section replacing the environment's."""
    path = repo / f"environments/{env}.yaml"
    text = path.read_text()
    if "  kueue:\n" in profile:
        kueue = re.search(r"  kueue: .*\n(    .*\n)*", text).group(0)
        queues = "".join(line + "\n" for line in kueue.splitlines()[1:] if "version" not in line)
        profile = profile.replace("  kueue:\n", "  kueue:\n" + queues)
        text = text.replace(kueue, "")
    path.write_text(text.replace(PLATFORM_END, PLATFORM_END + profile))


# --- O7: the distributed shape Kueue admits -----------------------------------------------------------------------

def test_distributed_training_is_a_trainjob_on_the_profiles_runtime(compiled: dict[str, dict]) -> None:
    require_shared_schemas()
    train = _train_step(compiled, "prod")
    job = yaml.load(train["resource"]["manifest"])
    assert (job["apiVersion"], job["kind"]) == ("trainer.kubeflow.org/v1alpha1", "TrainJob")
    assert job["metadata"]["generateName"] == "recommender-train-"
    labels = job["metadata"]["labels"]
    assert labels["kueue.x-k8s.io/queue-name"] == "ml-training"
    assert labels["kueue.x-k8s.io/priority-class"] == "batch"
    spec = job["spec"]
    assert spec["runtimeRef"] == {"name": "torch-distributed"}
    assert spec["suspend"] is True and spec["activeDeadlineSeconds"] == 6 * 3600
    trainer = spec["trainer"]
    assert trainer["numNodes"] == 4
    assert trainer["image"] == "registry.example.com/recsys/train:1.4.2"
    assert trainer["command"] == ["python", "-m", "recsys.train"]
    assert trainer["resourcesPerNode"]["limits"]["nvidia.com/gpu"] == 1
    assert {"name": "MLGITOPS_WORKFLOW", "value": "{{workflow.name}}"} in trainer["env"]
    [patch] = spec["runtimePatches"]
    [node] = patch["trainingRuntimeSpec"]["template"]["spec"]["replicatedJobs"]
    assert node["name"] == "node"
    pod = node["template"]["spec"]["template"]
    assert pod["metadata"]["labels"]["app.kubernetes.io/name"] == "recommender-train"  # the peers' policy selects it
    assert pod["spec"]["serviceAccountName"] == "recommender-train"
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert pod["spec"]["nodeSelector"] == {"nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB"}
    assert pod["spec"]["tolerations"][0]["key"] == "nvidia.com/gpu"
    [container] = pod["spec"]["containers"]
    assert container["name"] == "node" and container["securityContext"]["readOnlyRootFilesystem"] is True
    assert {m["name"] for m in container["volumeMounts"]} <= {v["name"] for v in pod["spec"]["volumes"]}
    assert schema_errors(job) == []
    dev = yaml.load(_train_step(compiled, "dev")["resource"]["manifest"])  # two CPU workers in dev
    assert dev["spec"]["trainer"]["numNodes"] == 2 and schema_errors(dev) == []


def test_the_pipeline_may_create_the_trainjob_and_nothing_else_of_the_kind(compiled: dict[str, dict]) -> None:
    role = compiled["prod/recommender/role-recommender-pipeline.yaml"]
    assert {"apiGroups": ["trainer.kubeflow.org"], "resources": ["trainjobs"],
            "verbs": ["create", "get", "list", "watch"]} in role["rules"]
    assert not any("kubeflow.org" in r["apiGroups"] for r in role["rules"])


def test_a_pytorchjob_kueue_does_not_manage_is_refused_at_the_queue(repo: Path) -> None:
    _use_profile(repo, "prod", "  trainer: {api: kubeflow.org/v1, initContainerHardened: true}\n")
    [diagnostic] = _refusal(repo, REC, "queue: ml-training")
    assert diagnostic.startswith(f"{REC}:{34}:3: training.queue: ")
    assert "kubeflow.org/pytorchjob" in diagnostic and "platform.kueue.integrations" in diagnostic
    assert diagnostic.endswith("[E211]")


def test_a_trainjob_kueue_does_not_manage_is_refused_at_the_queue(repo: Path) -> None:
    _use_profile(repo, "prod", "  kueue:\n    integrations: [batch/job, pod]\n")
    [diagnostic] = _refusal(repo, REC, "queue: ml-training")
    assert "trainer.kubeflow.org/trainjob" in diagnostic and diagnostic.endswith("[E211]")


def test_a_trainjob_cannot_take_dra_gpus(repo: Path) -> None:
    edit(repo, REC, "gpu: {count: 1, type: nvidia-a100-80gb}\n  queue",
         "gpu: {count: 1, type: nvidia-a100-80gb, dra: true}\n  queue")
    diagnostics = _refusal(repo, REC, "dra: true")
    assert all("training.resources.gpu.dra: " in d and d.endswith("[E211]") for d in diagnostics)


# --- O5: training-operator v1's init container --------------------------------------------------------------------

def test_training_operator_v1_without_a_hardened_init_container_is_refused_at_workers(repo: Path) -> None:
    _use_profile(repo, "prod", V1_PROFILE.replace(", initContainerHardened: true", ""))
    [diagnostic] = _refusal(repo, REC, "workers: 4")
    assert diagnostic.startswith(f"{REC}:29:3: training.workers: ")
    assert "/etc/config/initContainer.yaml" in diagnostic and "initContainerHardened" in diagnostic
    assert diagnostic.endswith("[E211]")


# --- O8/H6: LocalQueues and the scheduling prerequisites ----------------------------------------------------------

def test_each_queue_the_system_uses_is_a_localqueue_in_wave_minus_one(compiled: dict[str, dict]) -> None:
    require_shared_schemas()
    queues = {p: o for p, o in compiled.items() if o["kind"] == "LocalQueue"}
    assert sorted(p.split("/", 1)[1] for p in queues if p.startswith("prod/")) == [
        "recommender/localqueue-ml-training.yaml", "support-assistant/localqueue-gpu-finetune.yaml"]
    for path, queue in queues.items():
        assert queue["apiVersion"] == "kueue.x-k8s.io/v1beta2"
        env = path.split("/", 1)[0]  # the ClusterQueue each environment's profile names for it
        assert queue["spec"] == {"clusterQueue": "gpu-cluster-queue" if env == "prod" else "gpu-training"}
        assert queue["metadata"]["annotations"][WAVE] == "-1"
        assert schema_errors(queue) == [], path
    assert not any(p.startswith("prod/fraud-scorer/") for p in queues)  # it queues nothing


def test_every_rendered_kind_is_in_the_team_projects_whitelist(compiled: dict[str, dict]) -> None:
    """(tests/unit/test_charts.py holds each chart to the kinds it declares, which the whitelist is made of)"""
    rendered = {(o["apiVersion"].rpartition("/")[0], o["kind"]) for p, o in compiled.items()
                if "/_argocd/" not in f"/{p}" and o["kind"] != "Namespace"}
    assert ("kueue.x-k8s.io", "LocalQueue") in rendered
    project = compiled["prod/_argocd/appproject-prod-personalization.yaml"]
    allowed = {(r["group"], r["kind"]) for r in project["spec"]["namespaceResourceWhitelist"]}
    assert rendered - allowed == set()
    assert {("kueue.x-k8s.io", "LocalQueue"), ("trainer.kubeflow.org", "TrainJob")} <= allowed


def test_the_team_may_read_its_trainjobs_and_localqueues(compiled: dict[str, dict]) -> None:
    rules = compiled["prod/recommender/role-recommender-team-view.yaml"]["rules"]
    readable = {(group, resource) for r in rules for group in r["apiGroups"] for resource in r["resources"]}
    assert {("trainer.kubeflow.org", "trainjobs"), ("kueue.x-k8s.io", "localqueues")} <= readable


def test_a_queue_the_environment_does_not_have_is_refused_at_its_line(repo: Path) -> None:
    edit(repo, SUP, "queue: gpu-finetune", "queue: gpu-hyperscale")
    diagnostics = _refusal(repo, SUP, "queue: gpu-hyperscale")  # one for each environment
    assert [d.split("platform.kueue.queues in ")[1] for d in diagnostics] == [
        f"environments/{env}.yaml: gpu-finetune, ml-training) [E210]" for env in ("dev", "prod", "staging")]
    assert all("training.queue: queue gpu-hyperscale is not a queue of this environment" in d for d in diagnostics)


def test_a_queue_named_default_is_refused_it_would_queue_every_pod(repo: Path) -> None:
    for env, cluster_queue in (("dev", "gpu-training"), ("staging", "gpu-training"), ("prod", "gpu-cluster-queue")):
        edit(repo, f"environments/{env}.yaml", f"gpu-finetune: {{clusterQueue: {cluster_queue}}}",
             f"default: {{clusterQueue: {cluster_queue}}}")
    edit(repo, SUP, "queue: gpu-finetune", "queue: default")
    [diagnostic] = _refusal(repo, SUP, "queue: default")  # the same for every environment: reported once
    assert "training.queue: a LocalQueue named default" in diagnostic and diagnostic.endswith("[E211]")


def test_a_pipeline_steps_queue_the_environment_does_not_have_is_refused_at_its_line(repo: Path) -> None:
    edit(repo, REC, "      kind: evaluate\n", "      kind: evaluate\n      queue: eval-gpus\n"
         "      resources: {cpu: '2', memory: 8Gi, gpu: {count: 1, type: nvidia-a100-80gb}}\n")
    diagnostics = _refusal(repo, REC, "queue: eval-gpus")
    assert len(diagnostics) == 3 and all(": queue eval-gpus is not a queue" in d for d in diagnostics)
    assert all(d.endswith("[E210]") for d in diagnostics)


def test_a_priority_the_environment_does_not_have_is_refused_at_its_line(repo: Path) -> None:
    edit(repo, SUP, "priority: batch-low", "priority: urgent")
    diagnostics = [d for d in _refusal(repo, SUP, "priority: urgent") if "environments/prod.yaml" in d]
    assert len(diagnostics) == 2 and all(d.endswith("[E210]") for d in diagnostics)
    assert sorted(d.split(": ", 2)[2].split(" is ")[0] for d in diagnostics) == [
        "Kueue WorkloadPriorityClass urgent", "PriorityClass urgent"]
    assert any("not in platform.priorityClasses" in d for d in diagnostics)


def test_a_workload_priority_is_needed_only_when_queued(repo: Path) -> None:
    edit(repo, "environments/prod.yaml", "    workloadPriorityClasses: [batch, batch-low]\n",
         "    workloadPriorityClasses: [batch]\n")
    [diagnostic] = _refusal(repo, SUP, "priority: batch-low")
    assert "platform.kueue.workloadPriorityClasses" in diagnostic and diagnostic.endswith("[E210]")
    edit(repo, SUP, "  queue: gpu-finetune\n", "")
    assert run_cli(repo, "compile", "--offline").exit_code == 0


# --- W5: failed or timed-out jobs release their GPUs, and the step sees the outcome --------------------------------

def test_the_train_step_owns_its_trainjob_sees_its_outcome_and_is_bounded(compiled: dict[str, dict]) -> None:
    train = _train_step(compiled, "prod")
    resource = train["resource"]
    assert resource["action"] == "create" and resource["setOwnerReference"] is True
    # created suspended, the TrainJob's conditions are Suspended, then Complete or Failed
    assert resource["successCondition"] == "status.conditions.1.type == Complete"
    assert resource["failureCondition"] == "status.conditions.0.type == Failed,status.conditions.1.type == Failed"
    assert train["activeDeadlineSeconds"] == 6 * 3600 + QUEUE_SLACK_SECONDS
    assert train["retryStrategy"] == {"limit": "2"}


def test_a_pytorchjob_on_training_operator_v1_releases_its_pods_and_fails_where_the_step_sees_it(
        repo: Path) -> None:
    require_shared_schemas()
    _use_profile(repo, "prod", V1_PROFILE)  # v1, Kueue's PyTorchJob integration on, the init container hardened
    train = _train_step(_compile(repo), "prod")
    job = yaml.load(train["resource"]["manifest"])
    assert (job["apiVersion"], job["kind"]) == ("kubeflow.org/v1", "PyTorchJob")
    assert job["spec"]["runPolicy"]["suspend"] is True and schema_errors(job) == []
    run_policy = job["spec"]["runPolicy"]
    assert run_policy["cleanPodPolicy"] == "Running"
    assert run_policy["ttlSecondsAfterFinished"] > 0
    assert run_policy["activeDeadlineSeconds"] == 6 * 3600
    assert {r["restartPolicy"] for r in job["spec"]["pytorchReplicaSpecs"].values()} == {"Never"}
    assert train["resource"]["setOwnerReference"] is True
    assert train["resource"]["failureCondition"] == (
        "status.replicaStatuses.Master.failed > 0,status.replicaStatuses.Worker.failed > 0")
    assert train["activeDeadlineSeconds"] == 6 * 3600 + QUEUE_SLACK_SECONDS


# --- W7: one-off jobs named by their pod template, in the last wave -----------------------------------------------

def _one_off(compiled: dict[str, dict], env: str = "prod") -> tuple[str, dict]:
    [(path, job)] = [(p, o) for p, o in compiled.items()
                     if p.startswith(f"{env}/support-assistant/") and o["kind"] == "Job"]
    return path, job


def test_a_one_off_job_is_named_by_its_pod_template_and_synced_last(compiled: dict[str, dict]) -> None:
    _, job = _one_off(compiled)
    assert re.fullmatch(r"support-assistant-train-[0-9a-f]{8}", job["metadata"]["name"])
    waves = {o["kind"]: int(o["metadata"]["annotations"][WAVE]) for p, o in compiled.items()
             if p.startswith("prod/support-assistant/")}
    assert waves["Job"] > max(waves["InferenceService"], waves["PodMonitor"], waves["PrometheusRule"])


def test_a_changed_pod_template_makes_a_new_job(repo: Path) -> None:
    before = _one_off(_compile(repo))[1]["metadata"]["name"]
    edit(repo, SUP, "maxRuntime: 12h", "maxRuntime: 10h")  # not in the pod template: the Job is updated in place
    assert _one_off(_compile(repo))[1]["metadata"]["name"] == before
    edit(repo, SUP, "finetune:0.9.1", "finetune:0.9.2")
    after = _one_off(_compile(repo))[1]["metadata"]["name"]
    assert after != before and after.startswith("support-assistant-train-")


# --- the scheduled launcher ---------------------------------------------------------------------------------------

def test_scheduled_distributed_training_launches_the_platforms_kind(repo: Path) -> None:
    require_shared_schemas()
    edit(repo, FRAUD, "  maxRuntime: 2h\n", "  maxRuntime: 2h\n  workers: 3\n")
    compiled = _compile(repo)
    cron = compiled["prod/fraud-scorer/cronworkflow-fraud-scorer-train.yaml"]
    [train] = cron["spec"]["workflowSpec"]["templates"]
    job = yaml.load(train["resource"]["manifest"])
    assert job["kind"] == "TrainJob" and job["spec"]["trainer"]["numNodes"] == 3 and "suspend" not in job["spec"]
    assert train["resource"]["setOwnerReference"] is True
    assert train["resource"]["successCondition"] == "status.conditions.0.type == Complete"  # never suspended
    assert cron["spec"]["schedules"] == ["30 1 * * *"]
    run = cron["spec"]["workflowSpec"]  # bounded by the step, and cleaned up like the pipeline's runs
    assert (run["activeDeadlineSeconds"], run["podGC"], run["ttlStrategy"]) == (
        train["activeDeadlineSeconds"], POD_GC, RUN_TTL)
    role = compiled["prod/fraud-scorer/role-fraud-scorer-train-launcher.yaml"]
    assert role["rules"][0] == {"apiGroups": ["trainer.kubeflow.org"], "resources": ["trainjobs"],
                                "verbs": ["create", "get", "list", "watch"]}
    assert schema_errors(cron) == [] and schema_errors(job) == []


def test_a_one_off_distributed_job_is_named_by_its_content(repo: Path) -> None:
    require_shared_schemas()
    edit(repo, SUP, "  retries: 0\n", "  retries: 0\n  workers: 2\n")
    # on the device plugin's A100s: a TrainJob's runtime patch cannot carry a ResourceClaim
    edit(repo, SUP, "type: nvidia-a100-80gb-dra}", "type: nvidia-a100-80gb}")
    compiled = _compile(repo)
    [job] = [o for p, o in compiled.items() if p.startswith("prod/support-assistant/") and o["kind"] == "TrainJob"]
    assert re.fullmatch(r"support-assistant-train-[0-9a-f]{8}", job["metadata"]["name"])
    assert job["metadata"]["annotations"][WAVE] == "2"
    assert schema_errors(job) == []
