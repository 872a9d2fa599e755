"""The recommender's pipeline as Argo Workflows: the DAG, hardened and placed steps, lineage, the two triggers."""

from __future__ import annotations

import pytest
import yaml

from conftest import edit, require_shared_schemas, run_cli, schema_errors

WT = "prod/recommender/workflowtemplate-recommender-pipeline.yaml"


def templates(workflow_spec: dict) -> dict[str, dict]:
    return {t["name"]: t for t in workflow_spec["templates"]}


def test_every_pipeline_object_is_schema_valid(compiled):
    require_shared_schemas()
    argo = {p: o for p, o in compiled.items() if o["kind"] in ("WorkflowTemplate", "CronWorkflow")}
    assert {o["metadata"]["name"] for o in argo.values()} == {
        "recommender-pipeline", "recommender-retrain-on-drift"}
    assert {p: schema_errors(o) for p, o in argo.items() if schema_errors(o)} == {}


def test_the_steps_run_in_the_order_written(compiled):
    dag = templates(compiled[WT]["spec"])["pipeline"]["dag"]["tasks"]
    assert [(t["name"], t.get("dependencies")) for t in dag] == [
        ("validate-data", None), ("train", ["validate-data"]), ("evaluate", ["train"]), ("register", ["evaluate"])]


def test_built_in_steps_get_their_arguments_from_the_spec(compiled):
    steps = templates(compiled[WT]["spec"])
    check = steps["validate-data"]["container"]
    assert check["command"] == ["mlgitops-step", "validate-data"]
    assert check["args"] == ["--data=features=s3://features/recsys/v3", "--schema=s3://features/recsys/v3/_schema.json",
                             "--max-age=36h", "--min-rows=1000000"]
    assert steps["evaluate"]["container"]["args"] == [
        "--model=recsys-ranker", "--champion-alias=champion", "--metric=ndcg_at_10", "--min-improvement=0.002",
        "--higher-is-better"]
    register = steps["register"]["container"]["args"]
    spec_hash = compiled[WT]["metadata"]["annotations"]["mlgitops.io/spec-hash"]
    assert register == [
        "--model=recsys-ranker", "--trigger={{workflow.parameters.trigger}}",
        "--tag=git.repository=https://github.com/example/ml-platform.git", "--tag=git.revision=main",
        f"--tag=mlgitops.spec-hash={spec_hash}", "--tag=mlgitops.source=spec/recommender.yaml",
        "--tag=mlgitops.environment=prod", "--tag=data.features=s3://features/recsys/v3",
        "--lineage=metrics", "--lineage=run-id"]
    for name in ("validate-data", "evaluate", "register"):
        container = steps[name]["container"]
        assert {"name": "MLGITOPS_WORKFLOW", "value": "{{workflow.name}}"} in container["env"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True


def test_a_one_worker_gpu_train_step_is_placed_and_queued(repo):
    edit(repo, "spec/recommender.yaml", "  workers: 4\n", "")
    assert run_cli(repo, "compile", "--offline", "--env", "prod").exit_code == 0
    spec = yaml.safe_load((repo / "generated" / WT).read_text())["spec"]
    train = templates(spec)["train"]
    assert train["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "ml-training"
    assert train["nodeSelector"] == {"nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB"}
    assert train["priorityClassName"] == "batch"
    assert train["container"]["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert (train["activeDeadlineSeconds"], train["retryStrategy"]) == (6 * 3600, {"limit": "2"})


def test_the_drift_trigger_submits_the_template_when_the_alert_fires(compiled):
    cron = compiled["prod/recommender/cronworkflow-recommender-retrain-on-drift.yaml"]["spec"]
    assert (cron["schedules"], cron["concurrencyPolicy"]) == (["*/15 * * * *"], "Forbid")
    steps = templates(cron["workflowSpec"])
    assert steps["on-drift"]["steps"][1][0]["when"] == "{{steps.check.outputs.parameters.firing}} == true"
    args = steps["alert-firing"]["container"]["args"]
    assert "--alert=ModelDriftHigh" in args and "--label=system=recommender" in args and "--cooldown=24h" in args
    run = yaml.safe_load(steps["submit"]["resource"]["manifest"])
    assert run["spec"] == {"workflowTemplateRef": {"name": "recommender-pipeline"},
                           "arguments": {"parameters": [{"name": "trigger", "value": "drift"}]}}
    # the alert it asks about is the one the monitoring chart defines
    rules = compiled["prod/recommender/prometheusrule-recommender.yaml"]["spec"]["groups"]
    assert "ModelDriftHigh" in [r.get("alert") for group in rules for r in group["rules"]]
    role = compiled["prod/recommender/role-recommender-pipeline-trigger.yaml"]
    assert {"apiGroups": ["argoproj.io"], "resources": ["workflows"], "verbs": ["create", "list"]} in role["rules"]
    egress = compiled["prod/recommender/networkpolicy-recommender-pipeline-trigger-allow-prometheus.yaml"]["spec"]
    assert egress["egress"][0]["ports"] == [{"port": 9090, "protocol": "TCP"}]



@pytest.mark.parametrize(("version", "field"), [("4.0", "schedules"), ("3.6", "schedules"), ("3.5", "schedule")])
def test_cron_workflows_carry_the_schedule_field_of_the_platforms_argo_version(repo, version, field):
    """Argo Workflows 4.0 removed `schedule` (such a CronWorkflow never runs); 3.6 added the list `schedules`."""
    edit(repo, "environments/prod.yaml", 'argoWorkflows: {version: "4.0"', f'argoWorkflows: {{version: "{version}"')
    assert run_cli(repo, "compile", "--env", "prod").exit_code == 0
    for name in ("pipeline", "retrain-on-drift"):
        spec = yaml.safe_load((repo / f"generated/prod/recommender/cronworkflow-recommender-{name}.yaml").read_text())
        schedule = spec["spec"].pop(field)
        assert isinstance(schedule, list if field == "schedules" else str) and len(schedule) >= 1
        assert {"schedule", "schedules"}.isdisjoint(spec["spec"])
