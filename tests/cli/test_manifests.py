"""Rendered manifests: valid against ../shared/schemas (strict), deterministic, and carrying the right fields."""

from __future__ import annotations

import re
from pathlib import Path

from ruamel.yaml import YAML

from helpers import pod_specs, require_shared_schemas, run_cli, schema_errors, tree

yaml = YAML(typ="safe")


def _objects(compiled: dict[str, dict], env: str, system: str, kind: str) -> list[dict]:
    return [o for p, o in compiled.items() if p.startswith(f"{env}/{system}/") and o["kind"] == kind]


def _one(compiled: dict[str, dict], env: str, system: str, kind: str) -> dict:
    found = _objects(compiled, env, system, kind)
    assert len(found) == 1, f"expected one {kind} in {env}/{system}, found {len(found)}"
    return found[0]


def test_every_object_validates_strictly_against_its_schema(compiled: dict[str, dict]) -> None:
    require_shared_schemas()
    failures = {path: schema_errors(obj) for path, obj in compiled.items()}
    assert not {p: e for p, e in failures.items() if e}
    assert len(compiled) >= 200


def test_manifests_embedded_in_workflows_validate_too(compiled: dict[str, dict]) -> None:
    require_shared_schemas()
    specs = [o["spec"] for o in compiled.values() if o["kind"] == "WorkflowTemplate"]
    specs += [o["spec"]["workflowSpec"] for o in compiled.values() if o["kind"] == "CronWorkflow"]
    embedded = [yaml.load(t["resource"]["manifest"]) for spec in specs for t in spec.get("templates", [])
                if "resource" in t]
    assert {e["kind"] for e in embedded} == {"TrainJob", "Workflow"}  # the train step; the drift trigger's run
    for manifest in embedded:  # by their CRDs (../shared/crds has Workflow), named from generateName as the server does
        assert schema_errors(manifest) == []


def test_compiling_twice_gives_byte_identical_output(repo: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    assert run_cli(repo, "compile", "--out", str(first)).exit_code == 0
    assert run_cli(repo, "compile", "--out", str(second)).exit_code == 0
    assert tree(first) == tree(second)
    assert run_cli(repo, "compile", "--out", str(first), "--check").exit_code == 0


def test_every_object_carries_the_contract_labels_and_annotations(compiled: dict[str, dict]) -> None:
    for path, obj in compiled.items():
        env, system = path.split("/")[:2]
        if system == "_argocd":  # Argo CD's own objects: see test_render_argocd.py
            continue
        meta = obj["metadata"]
        assert meta["labels"]["app.kubernetes.io/part-of"] == system, path
        assert meta["labels"]["app.kubernetes.io/managed-by"] == "mlgitops", path
        assert meta["labels"]["mlgitops.io/team"], path
        assert meta["annotations"]["mlgitops.io/source"] == f"spec/{system}.yaml", path
        assert len(meta["annotations"]["mlgitops.io/spec-hash"]) == 16, path
        if obj["kind"] != "Namespace":
            assert meta["namespace"] == f"ml-{system}", path


def test_every_pod_is_hardened(compiled: dict[str, dict]) -> None:
    pods = [(path, pod) for path, obj in compiled.items() for pod in pod_specs(obj)]
    assert len(pods) >= 12
    for path, pod in pods:
        assert pod["securityContext"]["runAsNonRoot"] is True, path
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, path
        # Argo's executor reports each step through the API: workflow pods get the token of their own account
        argo = pod.get("serviceAccountName", "").endswith(("-pipeline", "-pipeline-trigger"))
        if "automountServiceAccountToken" not in pod:  # a TrainJob's pod: its ServiceAccount decides
            account = compiled[f"{path.rsplit('/', 1)[0]}/serviceaccount-{pod['serviceAccountName']}.yaml"]
            pod = {**pod, "automountServiceAccountToken": account["automountServiceAccountToken"]}
        assert pod["automountServiceAccountToken"] is argo, path
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, path
            assert context["readOnlyRootFilesystem"] is True, path
            assert context["capabilities"] == {"drop": ["ALL"]}, path
            assert container["resources"]["requests"] and container["resources"]["limits"], path


def test_kserve_serving(compiled: dict[str, dict]) -> None:
    isvc = _one(compiled, "prod", "recommender", "InferenceService")
    predictor = isvc["spec"]["predictor"]
    assert (predictor["minReplicas"], predictor["maxReplicas"]) == (2, 5)
    assert (predictor["scaleMetric"], predictor["scaleTarget"]) == ("cpu", 70)
    assert predictor["canaryTrafficPercent"] == 10
    # serving.image: a custom predictor, told the version the alias pinned
    container = predictor["containers"][0]
    assert {"name": "MODEL_URI", "value": "s3://ml-models/recsys-ranker/2"} in container["env"]
    assert container["resources"]["limits"] == {  # 4Gi + 2Gi /dev/shm; 1Gi /tmp + 4Gi cache
        "cpu": "2", "memory": "6Gi", "ephemeral-storage": "5Gi", "nvidia.com/gpu": 1}
    # the environment's product table gives the GPU Feature Discovery label, which GFD suffixes with -SHARED on
    # time-sliced nodes (without renameByDefault)
    assert predictor["nodeSelector"] == {"nvidia.com/gpu.product": "Tesla-T4-SHARED",
                                         "nvidia.com/gpu.sharing-strategy": "time-slicing"}
    annotations = isvc["metadata"]["annotations"]
    assert annotations["mlgitops.io/model-version"] == "2"
    assert annotations["mlgitops.io/model-alias"] == "champion"
    assert re.fullmatch(r"[0-9a-f]{32}", annotations["mlgitops.io/model-run-id"])
    # dev overrides: one replica, no GPU, no canary
    dev = _one(compiled, "dev", "recommender", "InferenceService")["spec"]["predictor"]
    assert (dev["minReplicas"], dev["maxReplicas"]) == (1, 1)
    assert "canaryTrafficPercent" not in dev and "nodeSelector" not in dev
    assert "nvidia.com/gpu" not in dev["containers"][0]["resources"]["limits"]
    # MIG slices request the MIG resource, and rps scales per replica
    assistant = _one(compiled, "prod", "support-assistant", "InferenceService")["spec"]["predictor"]
    assert assistant["model"]["modelFormat"] == {"name": "huggingface"}
    assert assistant["model"]["storageUri"] == "s3://ml-models/support-llm/2"
    assert assistant["model"]["resources"]["limits"]["nvidia.com/mig-3g.40gb"] == 1
    assert (assistant["scaleMetric"], assistant["scaleTarget"]) == ("rps", 20)
    assert (assistant["minReplicas"], assistant["maxReplicas"]) == (2, 8)


def test_deployment_serving_with_kafka_lag(compiled: dict[str, dict]) -> None:
    deployment = _one(compiled, "prod", "fraud-scorer", "Deployment")
    assert "replicas" not in deployment["spec"], "an autoscaler owns the replica count"
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["ports"] == [{"containerPort": 9000, "name": "http", "protocol": "TCP"}]
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/live"
    assert {"name": "MODEL_VERSION", "value": "7"} in container["env"]
    assert deployment["metadata"]["annotations"]["mlgitops.io/model-version"] == "7"
    spread = deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]
    assert [c["topologyKey"] for c in spread] == ["topology.kubernetes.io/zone", "kubernetes.io/hostname"]
    service = _one(compiled, "prod", "fraud-scorer", "Service")
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    scaled = _one(compiled, "prod", "fraud-scorer", "ScaledObject")["spec"]
    assert scaled["scaleTargetRef"]["name"] == "fraud-scorer"
    assert (scaled["minReplicaCount"], scaled["maxReplicaCount"]) == (2, 20)
    assert scaled["triggers"][0]["metadata"] == {"bootstrapServers": "kafka.streaming.svc:9092",
                                                 "consumerGroup": "fraud-scorer", "lagThreshold": "500",
                                                 "topic": "card-authorizations", "sasl": "scram_sha512"}
    assert not _objects(compiled, "prod", "fraud-scorer", "HorizontalPodAutoscaler")
    pdb = _one(compiled, "prod", "fraud-scorer", "PodDisruptionBudget")["spec"]
    assert pdb["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]
    # dev scales to zero through KEDA and needs no disruption budget
    assert _one(compiled, "dev", "fraud-scorer", "ScaledObject")["spec"]["minReplicaCount"] == 0
    assert not _objects(compiled, "dev", "fraud-scorer", "PodDisruptionBudget")


def test_training_shapes(compiled: dict[str, dict]) -> None:
    cron = compiled["prod/fraud-scorer/cronjob-fraud-scorer-train.yaml"]["spec"]
    assert cron["schedule"] == "30 1 * * *" and cron["concurrencyPolicy"] == "Forbid"
    job = cron["jobTemplate"]["spec"]
    assert (job["backoffLimit"], job["activeDeadlineSeconds"]) == (1, 7200)
    env = job["template"]["spec"]["containers"][0]["env"]
    assert {"name": "DATA_TRANSACTIONS_URI", "value": "s3://payments-lake/transactions/daily"} in env

    one_off = _one(compiled, "prod", "support-assistant", "Job")
    assert one_off["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "gpu-finetune"
    assert one_off["spec"]["suspend"] is True and one_off["spec"]["backoffLimit"] == 0
    assert one_off["spec"]["activeDeadlineSeconds"] == 12 * 3600
    assert one_off["metadata"]["labels"]["kueue.x-k8s.io/priority-class"] == "batch-low"
    pod = one_off["spec"]["template"]["spec"]
    assert pod["priorityClassName"] == "batch-low" and pod["restartPolicy"] == "Never"
    assert pod["tolerations"] == [{"effect": "NoSchedule", "key": "nvidia.com/gpu", "operator": "Exists"}]
    # the fine-tuning job asks for its two A100s through DRA, not a device-plugin limit
    assert "nvidia.com/gpu" not in pod["containers"][0]["resources"]["limits"]
    assert pod["containers"][0]["resources"]["claims"] == [{"name": "gpu"}]
    assert pod["resourceClaims"] == [{"name": "gpu", "resourceClaimTemplateName": "support-assistant-train-gpu"}]
    claim = _one(compiled, "prod", "support-assistant", "ResourceClaimTemplate")
    assert claim["metadata"]["name"] == "support-assistant-train-gpu"
    request = claim["spec"]["spec"]["devices"]["requests"][0]["exactly"]
    assert (request["deviceClassName"], request["count"]) == ("gpu.nvidia.com", 2)
    assert "nvidia-a100-sxm4-80gb" in request["selectors"][0]["cel"]["expression"]

    # the recommender trains in its pipeline: the train step creates the TrainJob and waits for it
    pipeline = compiled["prod/recommender/workflowtemplate-recommender-pipeline.yaml"]["spec"]
    [train] = [t for t in pipeline["templates"] if t["name"] == "train"]
    trainjob = yaml.load(train["resource"]["manifest"])
    assert trainjob["spec"]["trainer"]["numNodes"] == 4
    assert (trainjob["spec"]["activeDeadlineSeconds"], trainjob["spec"]["suspend"]) == (21600, True)
    assert trainjob["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "ml-training"
    assert {"name": "MLGITOPS_WORKFLOW", "value": "{{workflow.name}}"} in trainjob["spec"]["trainer"]["env"]
    role = compiled["prod/recommender/role-recommender-pipeline.yaml"]
    assert {"apiGroups": ["trainer.kubeflow.org"], "resources": ["trainjobs"],
            "verbs": ["create", "get", "list", "watch"]} in role["rules"]
    # dev: two workers, no GPU
    dev = compiled["dev/recommender/workflowtemplate-recommender-pipeline.yaml"]["spec"]
    [dev_train] = [t for t in dev["templates"] if t["name"] == "train"]
    dev_job = yaml.load(dev_train["resource"]["manifest"])
    assert dev_job["spec"]["trainer"]["numNodes"] == 2
    assert "nvidia.com/gpu" not in str(dev_job)


def without_pipeline(spec_text: str, schedule: str | None) -> str:
    """The recommender as it was before its pipeline: training on its own schedule (or one-off)."""
    text = spec_text[:spec_text.index("\npipeline:")] + spec_text[spec_text.index("\nmonitoring:"):]
    start = text.index("  window: low-carbon")
    return text[:start] + (f'  schedule: "{schedule}"\n' if schedule else "") + text[text.index("\n", start) + 1:]


def test_scheduled_distributed_training_without_a_pipeline_is_a_cron_workflow(repo: Path) -> None:
    spec = repo / "spec" / "recommender.yaml"
    spec.write_text(without_pipeline(spec.read_text(), "0 3 * * 0"))
    assert run_cli(repo, "compile", "--env", "prod").exit_code == 0
    workflow = yaml.load((repo / "generated/prod/recommender/cronworkflow-recommender-train.yaml").read_text())
    assert (workflow["spec"]["schedules"], workflow["spec"]["timezone"]) == (["0 3 * * 0"], "Europe/Dublin")
    trainjob = yaml.load(workflow["spec"]["workflowSpec"]["templates"][0]["resource"]["manifest"])
    assert trainjob["spec"]["trainer"]["numNodes"] == 4
    role = yaml.load((repo / "generated/prod/recommender/role-recommender-train-launcher.yaml").read_text())
    assert {"apiGroups": ["trainer.kubeflow.org"], "resources": ["trainjobs"],
            "verbs": ["create", "get", "list", "watch"]} in role["rules"]


def test_one_off_distributed_training_is_a_trainjob(repo: Path) -> None:
    spec = repo / "spec" / "recommender.yaml"
    spec.write_text(without_pipeline(spec.read_text(), None))
    assert run_cli(repo, "compile", "--env", "prod").exit_code == 0
    [path] = (repo / "generated/prod/recommender").glob("trainjob-recommender-train-*.yaml")
    job = yaml.load(path.read_text())
    assert job["spec"]["trainer"]["numNodes"] == 4
    assert not (repo / "generated/prod/recommender/cronworkflow-recommender-train.yaml").exists()
    require_shared_schemas()
    assert schema_errors(job) == []


def test_deployment_with_cpu_autoscaling_gets_an_hpa(repo: Path) -> None:
    spec = repo / "spec" / "fraud-scorer.yaml"
    text = spec.read_text()
    start, end = text.index("  autoscaling:\n"), text.index("  resources: {cpu: \"1\"")
    spec.write_text(text[:start] + "  autoscaling: {metric: cpu, target: 65}\n" + text[end:])
    assert run_cli(repo, "compile", "--env", "prod").exit_code == 0
    hpa = yaml.load((repo / "generated/prod/fraud-scorer/horizontalpodautoscaler-fraud-scorer.yaml").read_text())
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 20)
    assert hpa["spec"]["metrics"] == [{"type": "Resource", "resource": {
        "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 65}}}]
    require_shared_schemas()
    assert schema_errors(hpa) == []
