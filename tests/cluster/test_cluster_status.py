"""`mlgitops status` against the recorded answers of a real kube-apiserver v1.36.2 (tests/replay.py), and its pure part
on real stored bodies.

The recordings hold no GET of a live Application or InferenceService (only the API server ran, no controller), so:
the failure paths go through the CLI (a bad token, a server that never answers, nothing listening: one line at the
environment's `cluster.server`, exit 2); a 403 and the two kinds of 404 go through `read_live`/`classify` on the
requests that were recorded; and what a controller would write (`status`) is judged by `system_status` on the
dry-run bodies the server returned, with status fields added only where a test says so, checked against the CRD.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
import shutil
from pathlib import Path

import pytest
import yaml

from compiler.cluster.client import connect, request
from compiler.cluster.status import (
    FORMATS,
    NOT_DEPLOYED,
    NOT_RECONCILED,
    NOT_SERVED,
    Live,
    Target,
    classify,
    read_live,
    read_targets,
    system_status,
)
from compiler.errors import Location, SpecError
from compiler.pins import lock_text, read_lock
from helpers import ROOT, copy_examples, free_port, line_of, run_cli, schema_errors
from replay import BAD_TOKEN, NO_RIGHTS, RECORDINGS, replay_server, write_kubeconfig

WHERE = Location("environments/prod.yaml", 9, 11)
DRYRUN = RECORDINGS / "dryrun" / "prod"
NO_REGISTRY = {"MLFLOW_TRACKING_URI": "http://127.0.0.1:1"}  # status never asks the registry


@pytest.fixture
def apiserver():
    with replay_server() as server:
        yield server
        assert server.misses == [], "requests the real server was never asked"


@pytest.fixture
def status_repo(tmp_path: Path) -> Path:
    root = copy_examples(tmp_path / "repo")
    shutil.copytree(ROOT / "generated", root / "generated")
    return root


def recorded(relative: str) -> dict:
    return json.loads((DRYRUN / relative).read_text())


def live(body: dict) -> Live:
    metadata = body["metadata"]
    return Live(Target(body["apiVersion"], body["kind"], metadata["namespace"], metadata["name"]), "found", body)


@functools.cache
def targets(system: str):
    return next(t for t in read_targets(ROOT, ROOT / "generated", "prod") if t.system == system)


PINS = read_lock(ROOT)


# --- what is read: the objects Argo CD syncs ------------------------------------------------------------------------

def test_the_objects_read_are_those_of_generated() -> None:
    found = {t.system: (str(t.application), str(t.serving), [str(x) for x in t.training])
             for t in read_targets(ROOT, ROOT / "generated", "prod")}
    assert sorted(found) == sorted(p.name for p in (ROOT / "generated" / "prod").iterdir() if p.name != "_argocd")
    assert found["fraud-scorer"] == ("Application argocd/prod-fraud-scorer", "Deployment ml-fraud-scorer/fraud-scorer",
                                     ["CronJob ml-fraud-scorer/fraud-scorer-train"])
    assert found["recommender"][1] == "InferenceService ml-recommender/recommender"
    [job] = [p.stem.removeprefix("job-") for p in (ROOT / "generated/prod/support-assistant").glob("job-*")]
    assert found["support-assistant"][2] == [f"Job ml-support-assistant/{job}"]
    assert targets("recommender").serving.path == \
        "/apis/serving.kserve.io/v1beta1/namespaces/ml-recommender/inferenceservices/recommender"
    assert targets("fraud-scorer").application.path == \
        "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/prod-fraud-scorer"


# --- answers of the real server -------------------------------------------------------------------------------------

def test_an_object_that_is_not_there_is_not_deployed(apiserver, tmp_path) -> None:
    connection = connect(write_kubeconfig(tmp_path / "kubeconfig", apiserver.url), None, WHERE)
    answer = read_live(connection, Target("v1", "ConfigMap", "ml-recommender", "does-not-exist"))
    assert (answer.found, answer.body) == (NOT_DEPLOYED, None)


@pytest.mark.parametrize("path", ["/apis/ray.io/v1/namespaces/ml-recommender/rayjobs",
                                  "/apis/serving.kserve.io/v1beta1/namespaces/ml-recommender/inferenceservicez"])
def test_a_404_page_not_found_is_an_api_not_served(apiserver, tmp_path, path) -> None:
    connection = connect(write_kubeconfig(tmp_path / "kubeconfig", apiserver.url), None, WHERE)
    answer = request(connection, "GET", path, action="read")
    assert answer.status == 404 and answer.body is None  # text/plain `404 page not found`
    assert classify(connection, targets("recommender").serving, answer).found == NOT_SERVED


def test_an_identity_without_rights_fails_closed_at_the_environment(apiserver, tmp_path) -> None:
    connection = connect(write_kubeconfig(tmp_path / "kubeconfig", apiserver.url, NO_RIGHTS), None, WHERE)
    with pytest.raises(SpecError) as excinfo:
        read_live(connection, Target("v1", "ConfigMap", "kserve", "inferenceservice-config"))
    [line] = str(excinfo.value).splitlines()
    assert line.startswith("environments/prod.yaml:9:11: cluster.server: read ConfigMap kserve/inferenceservice-config:"
                           " 403 configmaps \"inferenceservice-config\" is forbidden") and line.endswith("[E801]")


def test_an_answer_that_is_not_the_object_fails_closed(apiserver, tmp_path) -> None:
    connection = connect(write_kubeconfig(tmp_path / "kubeconfig", apiserver.url), None, WHERE)
    answer = request(connection, "GET", "/api/v1/namespaces", action="read")  # a 200, but a list
    with pytest.raises(SpecError, match=r"read InferenceService ml-recommender/recommender: 200, not the "
                                        r"InferenceService asked for"):
        classify(connection, targets("recommender").serving, answer)


# --- through the CLI: fail closed, one located line, exit 2 ---------------------------------------------------------

def _fails_closed(result, root: Path, expected: str) -> str:
    line = line_of(root, "environments/prod.yaml", "server:", after="cluster:")
    column = (root / "environments/prod.yaml").read_text().splitlines()[line - 1].index("server:") + 1
    assert result.exit_code == 2, result.stderr
    first, summary = result.stderr.splitlines()
    assert first.startswith(f"environments/prod.yaml:{line}:{column}: cluster.server: ") and first.endswith("[E801]")
    assert expected in first and summary.startswith("mlgitops: 1 problem found")
    assert result.stdout == "" and "token" not in result.stderr.lower()
    return first


def test_a_bad_token_fails_closed_through_the_cli(apiserver, status_repo, tmp_path) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", apiserver.url, BAD_TOKEN)
    result = run_cli(status_repo, "status", "--env", "prod", "--kubeconfig", str(kubeconfig), env=NO_REGISTRY)
    _fails_closed(result, status_repo, "read Application argocd/prod-fraud-scorer: 401 Unauthorized")
    assert len(apiserver.requests) == 1, "nothing more is asked once the identity is refused"


def test_a_server_that_never_answers_fails_closed_through_the_cli(silent_server, status_repo, tmp_path,
                                                                   monkeypatch) -> None:
    monkeypatch.setattr("compiler.cluster.client.TIMEOUT", (1, 1))
    monkeypatch.setattr("compiler.cluster.client.READ_SECONDS", 1)
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", silent_server)
    result = run_cli(status_repo, "status", "--env", "prod", "--kubeconfig", str(kubeconfig), env=NO_REGISTRY)
    _fails_closed(result, status_repo, "the API server did not answer within 1s")


def test_nothing_listening_fails_closed_through_the_cli(status_repo, tmp_path) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", f"http://127.0.0.1:{free_port()}")
    result = run_cli(status_repo, "status", "--env", "prod", "--kubeconfig", str(kubeconfig), "--format", "json",
                     env=NO_REGISTRY)
    _fails_closed(result, status_repo, "cannot reach the API server (")


def _only_namespace(root: Path, system: str) -> None:
    """generated/prod/ holding one system that renders nothing status reads (and no _argocd/): no request is sent."""
    generated = root / "generated" / "prod"
    for directory in generated.iterdir():
        if directory.name != system:
            shutil.rmtree(directory)
    for path in (generated / system).iterdir():
        if not path.name.startswith("namespace-"):
            path.unlink()


def test_the_cli_exits_1_when_the_locked_version_is_not_served(apiserver, status_repo, tmp_path) -> None:
    _only_namespace(status_repo, "recommender")
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", apiserver.url)
    (status_repo / "status.json").write_text("an earlier run's status\n")
    result = run_cli(status_repo, "status", "--env", "prod", "--kubeconfig", str(kubeconfig), "--format", "json",
                     "--output", "status.json", env=NO_REGISTRY)
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", "")
    document = json.loads((status_repo / "status.json").read_text())
    [system] = document["systems"]
    assert (system["system"], system["sync"], system["ready"]) == ("recommender", "no Application rendered",
                                                                   "no serving object rendered")
    assert system["attention"] == ["serves no model version, the lock pins 2"] and document["attention"] is True
    assert apiserver.requests == []
    text = run_cli(status_repo, "status", "--env", "prod", "--kubeconfig", str(kubeconfig), env=NO_REGISTRY)
    assert text.exit_code == 1 and text.stdout.endswith("1 of 1 system needs attention\n")
    # no pin, so no version to serve: nothing needs attention
    pins = read_lock(status_repo)
    del pins[("prod", "recommender")]
    (status_repo / "mlgitops.lock.yaml").write_text(lock_text(pins))
    result = run_cli(status_repo, "status", "--env", "prod", "--kubeconfig", str(kubeconfig), env=NO_REGISTRY)
    assert result.exit_code == 0 and result.stdout.endswith("nothing needs attention (1 system)\n")
    assert "version - (no pin)" in result.stdout and apiserver.requests == []


def test_a_failed_read_leaves_no_earlier_status(status_repo, tmp_path) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", f"http://127.0.0.1:{free_port()}")
    (status_repo / "status.md").write_text("all is well\n")
    result = run_cli(status_repo, "status", "--env", "prod", "--kubeconfig", str(kubeconfig), "--format", "markdown",
                     "--output", "status.md", env=NO_REGISTRY)
    assert result.exit_code == 2 and not (status_repo / "status.md").exists()


def test_bad_input_is_one_line_and_exit_2(status_repo, tmp_path) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", "http://127.0.0.1:1")
    result = run_cli(status_repo, "status", "--env", "qa", "--kubeconfig", str(kubeconfig), env=NO_REGISTRY)
    assert result.exit_code == 2 and result.stderr.startswith("environments:1:1: no environment named 'qa'")
    broken = status_repo / "generated/prod/recommender/broken.yaml"
    broken.write_text("kind: Deployment\nmetadata: {name: [\n")
    result = run_cli(status_repo, "status", "--env", "prod", "--kubeconfig", str(kubeconfig), env=NO_REGISTRY)
    assert result.exit_code == 2 and result.stderr.startswith("generated/prod/recommender/broken.yaml:3:1: ")
    broken.write_text("kind: Deployment\nmetadata: {labels: {app.kubernetes.io/component: serving}}\n")  # no name
    assert str(read_targets(status_repo, status_repo / "generated", "prod")[1].serving) == \
        "InferenceService ml-recommender/recommender"
    shutil.rmtree(status_repo / "generated" / "prod")
    result = run_cli(status_repo, "status", "--env", "prod", "--kubeconfig", str(kubeconfig), env=NO_REGISTRY)
    assert result.exit_code == 2
    assert result.stderr.startswith("generated/prod:1:1: no generated output for 'prod'; run `mlgitops compile")
    result = run_cli(status_repo, "status", "--env", "prod", "--kubeconfig", str(tmp_path / "missing"),
                     env=NO_REGISTRY)
    assert result.exit_code == 2 and "Traceback" not in result.stderr


# --- the pure part, on the bodies the real server stored ------------------------------------------------------------

def test_objects_no_controller_has_reconciled() -> None:
    system = targets("recommender")
    application = live(recorded("_argocd/application-prod-recommender.response.json"))
    serving = live(recorded("recommender/inferenceservice-recommender.response.json"))
    # the server refused the CronWorkflow's dry run (recorded for another reason): its rendered form, without status
    pipeline = live(yaml.safe_load((ROOT / "generated/prod/recommender/cronworkflow-recommender-pipeline.yaml")
                                   .read_text()))
    status = system_status(system, application, serving, [pipeline], PINS[("prod", "recommender")])
    assert (status.sync, status.health, status.ready, status.url) == (NOT_RECONCILED, "", NOT_RECONCILED, "")
    assert (status.served_version, status.locked_version) == ("2", "2") and status.attention == ()
    assert status.training == ("CronWorkflow ml-recommender/recommender-pipeline: never scheduled",)


def test_a_deployment_serves_the_version_of_its_pods_and_jobs_not_yet_run() -> None:
    deployment = live(recorded("fraud-scorer/deployment-fraud-scorer.response.json"))
    cronjob = live(recorded("fraud-scorer/cronjob-fraud-scorer-train.response.json"))
    status = system_status(targets("fraud-scorer"), None, deployment, [cronjob], PINS[("prod", "fraud-scorer")])
    assert (status.ready, status.served_version, status.locked_version) == (NOT_RECONCILED, "7", "7")
    assert status.training == ("CronJob ml-fraud-scorer/fraud-scorer-train: never scheduled",)
    job = live(recorded("support-assistant/job-support-assistant-train.response.json"))
    assert system_status(targets("support-assistant"), None, None, [job], None).training == \
        ("Job ml-support-assistant/support-assistant-train: not reconciled",)
    body = copy.deepcopy(job.body)
    body["status"] = {"conditions": [{"type": "Suspended", "status": "True", "reason": "JobSuspended"}]}  # Kueue's hold
    assert system_status(targets("support-assistant"), None, None, [live(body)], None).training == \
        ("Job ml-support-assistant/support-assistant-train: suspended (waiting for its queue)",)


def test_a_version_other_than_the_pin_or_none_needs_attention() -> None:
    serving = live(recorded("recommender/inferenceservice-recommender.response.json"))
    pin = dataclasses.replace(PINS[("prod", "recommender")], version=3)
    assert system_status(targets("recommender"), None, serving, [], pin).attention == \
        ("serves version 2, the lock pins 3",)
    missing = Live(targets("recommender").serving, NOT_DEPLOYED)
    status = system_status(targets("recommender"), Live(targets("recommender").application, NOT_SERVED), missing, [],
                           pin)
    assert (status.sync, status.ready) == (NOT_SERVED, NOT_DEPLOYED)
    assert status.attention == ("serves no model version, the lock pins 3",)


def _reconciled(sync: str, health: str) -> Live:
    """The stored Application with the status Argo CD's controller writes (fields as its CRD defines them)."""
    body = copy.deepcopy(recorded("_argocd/application-prod-recommender.response.json"))
    body["status"] = {"sync": {"status": sync, "revision": "0123456789abcdef0123456789abcdef01234567"},
                      "health": {"status": health}}
    assert schema_errors(body) == []
    return live(body)


def _ready(status: str, reason: str = "") -> Live:
    body = copy.deepcopy(recorded("recommender/inferenceservice-recommender.response.json"))
    condition = {"type": "Ready", "status": status, **({"reason": reason} if reason else {})}
    body["status"] = {"url": "https://recommender.ml-recommender.example.com", "conditions": [condition]}
    assert schema_errors(body) == []
    return live(body)


@pytest.mark.parametrize(("sync", "health", "attention"), [
    ("Synced", "Healthy", ()), ("OutOfSync", "Healthy", ("OutOfSync",)), ("Synced", "Degraded", ("Degraded",)),
    ("OutOfSync", "Degraded", ("OutOfSync", "Degraded"))])
def test_sync_and_health_as_argo_cd_writes_them(sync, health, attention) -> None:
    status = system_status(targets("recommender"), _reconciled(sync, health), _ready("True"), [],
                           PINS[("prod", "recommender")])
    assert (status.sync, status.health, status.revision) == (sync, health, "0123456789abcdef0123456789abcdef01234567")
    assert (status.ready, status.url) == ("ready", "https://recommender.ml-recommender.example.com")
    assert status.attention == attention


def test_an_inference_service_that_is_not_ready_says_why() -> None:
    status = system_status(targets("recommender"), None, _ready("False", "RevisionMissing"), [], None)
    assert status.ready == "not ready (RevisionMissing)"


# --- the reports ----------------------------------------------------------------------------------------------------

def test_reports_are_deterministic_and_say_what_needs_attention(tmp_path) -> None:
    connection = connect(write_kubeconfig(tmp_path / "kubeconfig", "http://127.0.0.1:1"), None, WHERE)
    ok = system_status(targets("recommender"), _reconciled("Synced", "Healthy"), _ready("True"), [],
                       PINS[("prod", "recommender")])
    bad = system_status(targets("fraud-scorer"), Live(targets("fraud-scorer").application, NOT_DEPLOYED),
                        Live(targets("fraud-scorer").serving, NOT_DEPLOYED),
                        [Live(targets("fraud-scorer").training[0], NOT_DEPLOYED)], PINS[("prod", "fraud-scorer")])
    text = FORMATS["text"]("prod", connection, [bad, ok])
    assert text.splitlines()[0] == "prod: context replay, http://127.0.0.1:1"
    assert "  fraud-scorer  [serves no model version, the lock pins 7]" in text
    assert "    serving   Deployment ml-fraud-scorer/fraud-scorer: not deployed, version - (locked 7)" in text
    assert "    training  CronJob ml-fraud-scorer/fraud-scorer-train: not deployed" in text
    assert "    argo cd   Application argocd/prod-recommender: Synced, Healthy, revision 0123" in text
    assert text.endswith("1 of 2 systems needs attention\n")
    document = json.loads(FORMATS["json"]("prod", connection, [bad, ok]))
    assert document["attention"] is True and [s["system"] for s in document["systems"]] == ["fraud-scorer",
                                                                                           "recommender"]
    markdown = FORMATS["markdown"]("prod", connection, [bad, ok])
    assert "| recommender | Synced Healthy 0123456789ab | ready https://recommender.ml-recommender.example.com |" \
        in markdown
    for render in FORMATS.values():
        assert render("prod", connection, [bad, ok]) == render("prod", connection, [bad, ok])
