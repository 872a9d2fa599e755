"""The recommender's pipeline as Argo Workflows: the DAG, hardened and placed steps, lineage, the two triggers."""

from __future__ import annotations

import json
import lzma

import jsonschema
import pytest
import yaml

from compiler.model.platform import Platform
from compiler.render.argo import harden_executor
from helpers import ROOT, edit, require_shared_schemas, run_cli, schema_errors

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



@pytest.mark.parametrize(("version", "field", "mutex"), [
    ("4.1", "schedules", "mutexes"), ("4.0", "schedules", "mutexes"), ("3.7", "schedules", "mutexes"),
    ("3.6", "schedules", "mutexes"), ("3.5", "schedule", "mutex")])
def test_argo_objects_carry_the_fields_of_the_platforms_argo_version(repo, version, field, mutex):
    """Argo Workflows 4.0 removed `schedule` (such a CronWorkflow never runs) and the singular `mutex`; 3.6 added
    the lists `schedules` and `mutexes`, 3.5 knows only the singular ones."""
    edit(repo, "environments/prod.yaml", 'argoWorkflows: {version: "4.0"', f'argoWorkflows: {{version: "{version}"')
    assert run_cli(repo, "compile", "--env", "prod").exit_code == 0
    for name in ("pipeline", "retrain-on-drift"):
        spec = yaml.safe_load((repo / f"generated/prod/recommender/cronworkflow-recommender-{name}.yaml").read_text())
        schedule = spec["spec"].pop(field)
        assert isinstance(schedule, list if field == "schedules" else str) and len(schedule) >= 1
        assert {"schedule", "schedules"}.isdisjoint(spec["spec"])
    template = yaml.safe_load((repo / "generated" / WT).read_text())["spec"]
    one = {"name": "recommender-pipeline"}
    assert template["synchronization"] == ({"mutexes": [one]} if mutex == "mutexes" else {"mutex": one})


def _argo_crd(kind: str) -> jsonschema.Draft7Validator:
    """The v1alpha1 schema of Argo Workflows v4.1.2's full CRD (../shared/crds): what a current cluster serves."""
    path = ROOT.parent / "shared" / "crds" / f"argoproj.io_{kind.lower()}s.yaml.xz"
    if not path.exists():
        pytest.skip("../shared/crds is not beside the repository")
    crd = yaml.safe_load(lzma.decompress(path.read_bytes()))
    [version] = [v for v in crd["spec"]["versions"] if v["name"] == "v1alpha1"]
    return jsonschema.Draft7Validator(version["schema"]["openAPIV3Schema"])


def test_argo_objects_are_valid_against_the_current_crds(compiled):
    validators = {kind: _argo_crd(kind) for kind in ("WorkflowTemplate", "CronWorkflow")}
    argo = {p: o for p, o in compiled.items() if o["kind"] in validators}
    assert len(argo) == 9  # the template and two CronWorkflows, in each environment
    assert {p: [e.message for e in validators[o["kind"]].iter_errors(o)] for p, o in argo.items()
            if list(validators[o["kind"]].iter_errors(o))} == {}


RESTRICTED = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, "runAsNonRoot": True,
              "seccompProfile": {"type": "RuntimeDefault"}}


def test_a_stock_executor_gets_its_init_and_wait_containers_patched(compiled):
    """workflowpod.go newExecContainer: init and wait get executor.securityContext, nil on a stock install; only
    resource templates get MinimalCtrSC. dev has the stock executor, prod a hardened one."""
    for path in (WT, "prod/recommender/cronworkflow-recommender-retrain-on-drift.yaml"):
        obj = compiled[path.replace("prod/", "dev/")]
        steps = templates(obj["spec"].get("workflowSpec", obj["spec"]))
        for name, step in steps.items():
            if "container" not in step:
                assert "podSpecPatch" not in step, name  # steps, dag, resource: Argo's own pods are restricted
                continue
            assert json.loads(step["podSpecPatch"]) == {
                "initContainers": [{"name": "init", "securityContext": RESTRICTED}],
                "containers": [{"name": "wait", "securityContext": RESTRICTED}]}
        prod = compiled[path]
        prod_steps = templates(prod["spec"].get("workflowSpec", prod["spec"]))
        assert not [name for name, step in prod_steps.items() if "podSpecPatch" in step]


def test_an_init_less_executor_gets_its_supervisor_patched(repo):
    """v4.1's init-less layout (initlessPod.enabled): no init container, `supervisor` in place of `wait`."""
    edit(repo, "environments/dev.yaml", 'argoWorkflows: {version: "4.0"}',
         'argoWorkflows: {version: "4.1", initlessPod: true}')
    assert run_cli(repo, "compile", "--offline", "--env", "dev").exit_code == 0
    spec = yaml.safe_load((repo / "generated" / WT.replace("prod/", "dev/")).read_text())["spec"]
    assert json.loads(templates(spec)["evaluate"]["podSpecPatch"]) == {
        "containers": [{"name": "supervisor", "securityContext": RESTRICTED}]}


def test_pipeline_runs_are_serialised_bounded_and_cleaned_up(compiled):
    spec = compiled[WT]["spec"]
    # one run at a time, whoever submits it: Forbid holds only within one CronWorkflow
    assert spec["synchronization"] == {"mutexes": [{"name": "recommender-pipeline"}]}
    assert spec["podGC"] == {"strategy": "OnPodSuccess"}  # a failed step's pod stays, with its logs
    assert spec["ttlStrategy"] == {"secondsAfterSuccess": 86400, "secondsAfterFailure": 7 * 86400}
    # validate-data, evaluate and register have no timeout (1 h each), train its 6 h maxRuntime, 6 h for the queue
    assert spec["activeDeadlineSeconds"] == (3 + 6 + 6) * 3600
    drift = compiled["prod/recommender/cronworkflow-recommender-retrain-on-drift.yaml"]["spec"]
    # the Workflows its submit step creates run from the template, whose spec (and TTL) is theirs
    run = yaml.safe_load(templates(drift["workflowSpec"])["submit"]["resource"]["manifest"])
    assert run["spec"]["workflowTemplateRef"] == {"name": compiled[WT]["metadata"]["name"]}
    check = drift["workflowSpec"]
    assert (check["podGC"], check["ttlStrategy"]) == (spec["podGC"], spec["ttlStrategy"])
    assert check["activeDeadlineSeconds"] < 15 * 60  # over before the next poll, which Forbid would skip


def test_only_the_executor_gets_a_token_where_the_cluster_provides_its_secret(repo):
    """Argo mounts the executor's token from `<account>.service-account-token` alone (workflowpod.go
    setupServiceAccount, util/secrets TokenNameForServiceAccount), which Kubernetes no longer creates: only an
    environment that says its cluster has them turns the steps' own token off."""
    edit(repo, "environments/prod.yaml", 'argoWorkflows: {version: "4.0"',
         'argoWorkflows: {executorTokenSecrets: true, version: "4.0"')
    assert run_cli(repo, "compile", "--offline", "--env", "prod").exit_code == 0
    spec = yaml.safe_load((repo / "generated" / WT).read_text())["spec"]
    assert spec["automountServiceAccountToken"] is False
    assert spec["executor"] == {"serviceAccountName": "recommender-pipeline"}
    drift = yaml.safe_load((repo / "generated/prod/recommender/cronworkflow-recommender-retrain-on-drift.yaml")
                           .read_text())
    assert "automountServiceAccountToken" not in drift["spec"]["workflowSpec"]  # its check reads Workflows itself


def test_cron_workflows_run_in_the_regions_zone(compiled):
    """The README: a schedule without a zone of its own runs in the region's (eu-west-1: Europe/Dublin)."""
    for name in ("pipeline", "retrain-on-drift"):
        assert compiled[f"prod/recommender/cronworkflow-recommender-{name}.yaml"]["spec"]["timezone"] == "Europe/Dublin"


@pytest.mark.parametrize(("profile", "message"), [
    ('{version: "5.0"', "Argo Workflows 5.0 is not supported"),
    ('{version: "4.0", initlessPod: true', "Argo Workflows 4.0 has no init-less pod layout")])
def test_an_argo_workflows_profile_the_compiler_cannot_render_for_is_refused_at_its_line(repo, profile, message):
    edit(repo, "environments/prod.yaml", 'argoWorkflows: {version: "4.0"', f"argoWorkflows: {profile}")
    result = run_cli(repo, "compile", "--offline", "--env", "prod")
    assert result.exit_code == 2
    [line] = [line for line in result.stderr.splitlines() if message in line]
    field, column = ("version", 19) if "5.0" in profile else ("initlessPod", 35)  # the key's own column
    row = next(n for n, text in enumerate((repo / "environments/prod.yaml").read_text().splitlines(), 1)
               if text.startswith(f"  argoWorkflows: {profile}"))
    assert line.startswith(f"environments/prod.yaml:{row}:{column}: platform.argoWorkflows.{field}: "), line
    assert line.endswith("[E211]"), line


def test_the_executor_patch_keeps_what_the_template_patches_already():
    """A DRA step's template patches its pod's resourceClaims; the executor's containers join that patch."""
    claims = [{"name": "gpu", "resourceClaimTemplateName": "train-gpu"}]
    step = {"name": "train", "container": {"name": "main"}, "podSpecPatch": json.dumps({"resourceClaims": claims})}
    patch = json.loads(harden_executor(Platform(), step)["podSpecPatch"])
    assert patch["resourceClaims"] == claims
    assert [c["name"] for c in patch["initContainers"] + patch["containers"]] == ["init", "wait"]
    submit = {"name": "submit", "resource": {"action": "create", "manifest": "{}"}}
    assert harden_executor(Platform(), submit) == submit  # Argo gives a resource template's pod MinimalCtrSC
