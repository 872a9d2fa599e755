"""`mlgitops verify` against the recorded answers of a real kube-apiserver v1.36.2, replayed over loopback HTTP
(tests/replay.py): every dry run sends the committed file and gets the status, body and Warning headers the real
server gave for exactly that body. generated/prod here is the project's prod output the recordings were made from
(their README: commit 4c50f64), so the two CronWorkflows with the `spec.schedule` that Argo Workflows 4 removed are
refused; today's renderer writes `spec.schedules` (tests/unit/test_crds.py holds it to the current CRD)."""

from __future__ import annotations

import json
import shutil

import pytest

from helpers import line_of, run_cli
from replay import ANONYMOUS, BAD_TOKEN, RECORDINGS, write_kubeconfig

NO_REGISTRY = {"MLFLOW_TRACKING_URI": "unused://"}  # verify never asks the registry
FAILURES = RECORDINGS / "dryrun" / "failures"


def _recorded_prod(repo):
    """generated/prod as it was recorded: each dry run's request body, as the file `compile` had written."""
    for request in sorted((RECORDINGS / "dryrun" / "prod").glob("*/*.request.yaml")):
        if request.parent.name != "_setup":
            target = repo / "generated" / "prod" / request.parent.name
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy(request, target / request.name.replace(".request.yaml", ".yaml"))
    return repo


def _verify(repo, url, tmp_path, *args: str, identity=None):
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", url, *((identity,) if identity else ()))
    return run_cli(repo, "verify", "--env", "prod", "--kubeconfig", str(kubeconfig), *args, env=NO_REGISTRY)


def test_the_recorded_prod_output_is_admitted_but_its_two_cronworkflows(repo, apiserver, tmp_path) -> None:
    result = _verify(_recorded_prod(repo), apiserver.url, tmp_path, "--format", "json")
    assert result.exit_code == 1, result.stderr
    report = json.loads(result.stdout)
    pipeline = line_of(repo, "spec/recommender.yaml", "pipeline:")
    assert [(f["rule"], f["file"], f["line"], f["resource"]) for f in report["findings"]] == [
        ("MLG-VER-001", "spec/recommender.yaml", pipeline, f"argoproj.io/v1alpha1/CronWorkflow/ml-recommender/{name}")
        for name in ("recommender-pipeline", "recommender-retrain-on-drift")]
    assert all(f["message"].endswith("): .spec.schedule: field not declared in schema") and f["engine"] == "apiserver"
               and f["severity"] == "high" for f in report["findings"])
    assert any("84 of 86 objects admitted by a server-side dry run" in note for note in report["notes"])
    sent = [line for line in apiserver.requests if line.startswith("PATCH")]
    assert len(sent) == 86 and all("dryRun=All" in line and "fieldManager=mlgitops" in line for line in sent)
    # Argo CD's order: the projects and Applications of wave -1 … each Namespace before anything in it
    first_in = {}
    for index, line in enumerate(sent):
        namespace = line.split("/namespaces/")[1].split("/")[0].split("?")[0] if "/namespaces/" in line else ""
        first_in.setdefault(namespace, index)
    for system in ("fraud-scorer", "recommender", "support-assistant"):
        namespace_patch = next(i for i, line in enumerate(sent) if f"/api/v1/namespaces/ml-{system}?" in line)
        assert namespace_patch == first_in[f"ml-{system}"]


def test_a_text_report_names_the_field_and_the_spec_line(repo, apiserver, tmp_path) -> None:
    result = _verify(_recorded_prod(repo), apiserver.url, tmp_path)
    assert result.exit_code == 1
    pipeline = line_of(repo, "spec/recommender.yaml", "pipeline:")
    assert f"spec/recommender.yaml:{pipeline}:1: MLG-VER-001 [high] generated/prod/recommender/" \
           "cronworkflow-recommender-pipeline.yaml: 500 failed to create typed patch object" in result.stdout


def _failures(repo, names: dict[str, str]):
    """Recorded refusals as committed files of a system's directory (name → directory)."""
    for name, directory in names.items():
        source = FAILURES / f"{name}.request.yaml"
        if not source.exists():
            source = RECORDINGS / "errors" / f"{name}.request.yaml"
        target = repo / "generated" / "prod" / directory
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, target / f"{name}.yaml")
    return repo


def test_every_kind_of_refusal_is_a_finding(repo, apiserver, tmp_path) -> None:
    _failures(repo, {"deployment-invalid-name.apply": "fraud-scorer", "service-invalid-name.apply": "fraud-scorer",
                     "deployment-name-too-long-label.apply": "fraud-scorer",
                     "namespace-invalid-name.apply": "fraud-scorer",
                     "inferenceservice-unknown-field.apply-default": "recommender",
                     "resourceclaimtemplate-cel-syntax.apply": "support-assistant",
                     "deployment-psa-restricted.apply": "support-assistant",
                     "deployment-namespace-missing.apply": "fraud-scorer",
                     "404-unserved-version.apply-dryrun": "fraud-scorer"})
    result = _verify(repo, apiserver.url, tmp_path, "--format", "json")
    assert result.exit_code == 1, result.stderr
    found = {f["resource"]: (f["rule"], f["message"]) for f in json.loads(result.stdout)["findings"]}
    assert found["apps/v1/Deployment/ml-fraud-scorer/Fraud-Scorer"][0] == "MLG-VER-001"
    assert "422 Deployment.apps \"Fraud-Scorer\" is invalid: metadata.name: Invalid value: \"Fraud-Scorer\"" in \
        found["apps/v1/Deployment/ml-fraud-scorer/Fraud-Scorer"][1]
    assert "must be no more than 63 bytes" in found["apps/v1/Deployment/ml-fraud-scorer/scorer"][1]
    assert found["v1/Service/ml-fraud-scorer/fraud.scorer"][0] == "MLG-VER-001"
    assert found["v1/Namespace/ML_Fraud"][0] == "MLG-VER-001"
    kserve = "serving.kserve.io/v1beta1/InferenceService/ml-recommender/scorer"
    assert "field not declared in schema" in found[kserve][1]
    assert "422" in found["resource.k8s.io/v1/ResourceClaimTemplate/ml-support-assistant/train-gpu"][1]
    rule, message = found["apps/v1/Deployment/psa-restricted-demo/debug"]
    assert rule == "MLG-VER-004" and "would violate PodSecurity \"restricted:latest\"" in message
    assert found["apps/v1/Deployment/ml-does-not-exist/scorer"] == (
        "MLG-VER-003", "generated/prod/fraud-scorer/deployment-namespace-missing.apply.yaml: namespace "
                       "ml-does-not-exist does not exist and nothing in generated/prod/ creates it")
    assert found["external-secrets.io/v1beta1/ExternalSecret/ml-fraud-scorer/kafka-credentials"] == (
        "MLG-VER-002", "generated/prod/fraud-scorer/404-unserved-version.apply-dryrun.yaml: the cluster does not "
                       "serve ExternalSecret in external-secrets.io/v1beta1")
    unsent = ("ml-does-not-exist", "external-secrets.io/v1beta1")  # judged without asking the server
    assert not any(part in line for part in unsent for line in apiserver.requests)


def test_objects_of_a_namespace_this_sync_creates_are_noted_not_sent(repo, apiserver, tmp_path) -> None:
    _failures(repo, {"namespace-invalid-name.apply": "fraud-scorer"})  # Namespace ML_Fraud: not in the cluster
    inside = (FAILURES / "deployment-invalid-name.apply.request.yaml").read_text()
    (repo / "generated" / "prod" / "fraud-scorer" / "deployment-in-new-namespace.yaml").write_text(
        inside.replace("namespace: ml-fraud-scorer", "namespace: ML_Fraud"))
    result = _verify(repo, apiserver.url, tmp_path, "--format", "json")
    report = json.loads(result.stdout)
    assert [f["resource"] for f in report["findings"]] == ["v1/Namespace/ML_Fraud"]  # the server refuses its name
    assert "1 object in namespace ML_Fraud not sent: it does not exist yet and this sync creates it (the server " \
           "can judge them only once it exists)" in report["notes"]
    assert not any("/namespaces/ML_Fraud/" in line for line in apiserver.requests)


@pytest.mark.parametrize(("identity", "expected"), [
    (BAD_TOKEN, "list namespaces: 401 Unauthorized"),
    (ANONYMOUS, 'list namespaces: 403 namespaces is forbidden: User "system:anonymous" cannot list'),
])
def test_a_refused_identity_judges_nothing(repo, apiserver, tmp_path, identity, expected) -> None:
    (repo / "report.json").write_text("{}")  # an earlier verdict must not survive a run that could not judge
    result = _verify(_recorded_prod(repo), apiserver.url, tmp_path, "--output", "report.json", identity=identity)
    assert result.exit_code == 2 and not (repo / "report.json").exists()
    [line, summary] = result.stderr.splitlines()
    server = line_of(repo, "environments/prod.yaml", "server:", after="cluster:")
    assert line.startswith(f"environments/prod.yaml:{server}:") and expected in line and line.endswith("[E801]")
    assert "not-a-valid-token" not in result.stderr and "replay-" not in result.stderr  # nothing secret is printed
    assert summary == "mlgitops: 1 problem found; nothing was written"


def test_a_server_that_never_answers(repo, silent_server, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr("compiler.cluster.client.TIMEOUT", (1, 1))
    monkeypatch.setattr("compiler.cluster.client.READ_SECONDS", 1)
    result = _verify(_recorded_prod(repo), silent_server, tmp_path)
    assert result.exit_code == 2
    assert "list namespaces: the API server did not answer within 1s" in result.stderr.splitlines()[0]


def test_nothing_compiled_is_bad_input(repo, apiserver, tmp_path) -> None:
    result = _verify(repo, apiserver.url, tmp_path)
    assert result.exit_code == 2
    assert result.stderr.startswith("generated/prod:1:1: nothing to verify: run `mlgitops compile --env prod` first")
