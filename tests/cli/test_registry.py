"""Model versions from a real MLflow registry: `mlflow server` on 127.0.0.1 with a sqlite backend in a temp dir.

Moving an alias changes nothing until the lock is updated, and then exactly the pinned version, URI and annotations
of that system; offline compiles use the lock alone; an unknown model, alias or version, and an unreachable or
silent registry, are one-line errors at the spec's model line that write nothing.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow import MlflowClient

from compiler.pins import LOCK_FILE, read_lock
from helpers import copy_examples, edit, free_port, mlflow_server_on, run_cli, tree

RECS = "spec/recommender.yaml"


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real MLflow server with the examples' models: recsys-ranker v1 (champion) and v2, fraud-xgb v1-7,
    support-llm v1 (production); stopped by its process group at the end."""
    home = tmp_path_factory.mktemp("mlflow")
    with mlflow_server_on(f"sqlite:///{home}/db.sqlite", home) as url:
        client = MlflowClient(tracking_uri=url, registry_uri=url)
        experiment = client.create_experiment("training")
        approved = {"validation.status": "approved", "validation.date": "2026-11-15"}
        for name, versions in (("recsys-ranker", 2), ("fraud-xgb", 7), ("support-llm", 1)):
            client.create_registered_model(name)
            for number in range(1, versions + 1):
                run = client.create_run(experiment).info.run_id
                client.create_model_version(name, f"s3://ml-models/{name}/{number}", run_id=run, tags=approved)
        client.set_registered_model_alias("recsys-ranker", "champion", "1")
        client.set_registered_model_alias("support-llm", "production", "1")
        yield url


def _fresh_repo(tmp_path: Path) -> Path:
    """The examples without their lock: every model must come from the registry."""
    root = copy_examples(tmp_path / "repo")
    (root / LOCK_FILE).unlink()
    return root


def test_alias_moves_change_nothing_until_the_lock_is_updated(tmp_path: Path, mlflow_server: str) -> None:
    root = _fresh_repo(tmp_path)
    registry = {"MLFLOW_TRACKING_URI": mlflow_server}
    first = run_cli(root, "compile", env=registry)
    assert first.exit_code == 0, first.stderr
    assert read_lock(root)[("prod", "recommender")].version == 1
    before = tree(root / "generated")
    lock_before = (root / LOCK_FILE).read_text()

    client = MlflowClient(tracking_uri=mlflow_server, registry_uri=mlflow_server)
    client.set_registered_model_alias("recsys-ranker", "champion", "2")
    try:
        assert run_cli(root, "compile", env=registry).exit_code == 0
        assert tree(root / "generated") == before and (root / LOCK_FILE).read_text() == lock_before

        updated = run_cli(root, "compile", "--update-lock", env=registry)
        assert updated.exit_code == 0 and "updated mlgitops.lock.yaml" in updated.stdout
    finally:
        client.set_registered_model_alias("recsys-ranker", "champion", "1")
    pins = read_lock(root)
    assert pins[("prod", "recommender")].version == 2
    assert pins[("prod", "fraud-scorer")] == read_lock_from(lock_before)[("prod", "fraud-scorer")]

    after = tree(root / "generated")
    changed = sorted(path for path in after if after[path] != before.get(path))
    assert sorted(after) == sorted(before)
    # the model's server and its drift check (which compares against the served version); nothing else
    assert changed == [f"{env}/recommender/{name}" for env in ("dev", "prod", "staging")
                       for name in ("cronjob-recommender-drift.yaml", "inferenceservice-recommender.yaml")]
    diff = {line for path in changed for line in _changed_lines(before[path], after[path])}
    # a custom serving image gets the model as MODEL_URI / MODEL_VERSION (each a `value:`), never a storageUri
    assert {line.split(":")[0].strip() for line in diff} == {"mlgitops.io/model-run-id", "mlgitops.io/model-uri",
                                                            "mlgitops.io/model-version", "value"}
    assert "    mlgitops.io/model-version: '2'" in after["prod/recommender/inferenceservice-recommender.yaml"].decode()


def read_lock_from(text: str):
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        (Path(scratch) / LOCK_FILE).write_text(text)
        return read_lock(Path(scratch))


def _changed_lines(old: bytes, new: bytes) -> set[str]:
    return set(new.decode().splitlines()) - set(old.decode().splitlines())


def test_offline_compiles_from_the_lock_alone_and_names_a_missing_pin(tmp_path: Path, mlflow_server: str) -> None:
    root = _fresh_repo(tmp_path)
    assert run_cli(root, "compile", env={"MLFLOW_TRACKING_URI": mlflow_server}).exit_code == 0
    offline = run_cli(root, "compile", "--offline", "--check", env={"MLFLOW_TRACKING_URI": "http://127.0.0.1:9"})
    assert offline.exit_code == 0, offline.stderr

    edit(root, RECS, "  alias: champion\n", "  version: 2\n")
    missing = run_cli(root, "compile", "--offline")
    assert missing.exit_code == 2
    line = next(n for n, text in enumerate((root / RECS).read_text().splitlines(), 1) if text == "  version: 2")
    assert missing.stderr.startswith(f"{RECS}:{line}:3: model: mlgitops.lock.yaml pins no version of 'recsys-ranker'")


@pytest.mark.parametrize("old, new, message", [
    ("  name: recsys-ranker\n", "  name: recsys-rankr\n",
     "model 'recsys-rankr' has no alias 'champion' in the registry"),
    ("  alias: champion\n", "  alias: champoin\n", "model 'recsys-ranker' has no alias 'champoin' in the registry"),
    ("  alias: champion\n", "  version: 9\n", "model 'recsys-ranker' has no version 9 in the registry"),
])
def test_unknown_model_alias_or_version_is_an_error_at_the_model_line(
        tmp_path: Path, mlflow_server: str, old: str, new: str, message: str) -> None:
    root = _fresh_repo(tmp_path)
    edit(root, RECS, old, new)
    result = run_cli(root, "compile", env={"MLFLOW_TRACKING_URI": mlflow_server})
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert f"{message} {mlflow_server} [E702]" in result.stderr
    assert not (root / "generated").exists() and not (root / LOCK_FILE).exists(), "nothing is written"


def test_an_unreachable_registry_is_one_error_per_model_line(tmp_path: Path) -> None:
    root = _fresh_repo(tmp_path)
    url = f"http://127.0.0.1:{free_port()}"
    result = run_cli(root, "compile", env={"MLFLOW_TRACKING_URI": url, "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"})
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if "[E701]" in line]
    assert len(errors) == 3, "one line per spec's model line (the same problem in every environment is shown once)"
    assert all(f"model: the registry {url} is unreachable (Connection refused) [E701]" in e for e in errors)
    assert not (root / "generated").exists() and not (root / LOCK_FILE).exists()


def test_a_registry_that_never_answers_times_out(tmp_path: Path, silent_server: str) -> None:
    root = _fresh_repo(tmp_path)
    edit(root, "spec/support-assistant.yaml", "  alias: production\n", "  alias: production\n")
    started = time.monotonic()
    result = run_cli(root, "compile", "--env", "dev", "spec/support-assistant.yaml",
                     env={"MLFLOW_TRACKING_URI": silent_server, "MLFLOW_HTTP_REQUEST_TIMEOUT": "1",
                          "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"})
    assert result.exit_code == 2
    assert f"the registry {silent_server}" in result.stderr and "[E701]" in result.stderr
    assert time.monotonic() - started < 30, "bounded by the request timeout"


def test_validation_age_rule_passes_and_fails_on_the_registry_tags(tmp_path: Path, mlflow_server: str) -> None:
    root = _fresh_repo(tmp_path)
    registry = {"MLFLOW_TRACKING_URI": mlflow_server}
    assert run_cli(root, "compile", env=registry).exit_code == 0
    fresh = run_cli(root, "check", "--today", "2026-11-25", "spec/fraud-scorer.yaml", env=registry)
    assert fresh.exit_code == 0, fresh.stdout  # validated 2026-11-15, maxAgeDays 90
    stale = run_cli(root, "check", "--today", "2027-03-01", "spec/fraud-scorer.yaml", env=registry)
    assert stale.exit_code == 1
    assert "MLG-MRM-002" in stale.stdout and "(prod/fraud-scorer)" in stale.stdout


def test_pr_summary_shows_model_version_changes_against_the_committed_lock(tmp_path: Path,
                                                                            mlflow_server: str) -> None:
    root = _fresh_repo(tmp_path)
    registry = {"MLFLOW_TRACKING_URI": mlflow_server}
    assert run_cli(root, "compile", env=registry).exit_code == 0
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "base"], check=True)
    client = MlflowClient(tracking_uri=mlflow_server, registry_uri=mlflow_server)
    client.set_registered_model_alias("recsys-ranker", "champion", "2")
    try:
        assert run_cli(root, "compile", "--update-lock", env=registry).exit_code == 0
    finally:
        client.set_registered_model_alias("recsys-ranker", "champion", "1")
    summary = run_cli(root, "check", "--today", "2026-11-25", "--format", "markdown", env=registry).stdout
    section = summary.split("### Model versions this change pins")[1]
    rows = [line for line in section.splitlines() if line.startswith("| recommender")]
    assert rows == [f"| recommender | {env} | `recsys-ranker` | 1 → **2** |" for env in ("dev", "prod", "staging")]
    assert "fraud-scorer" not in section.split("###")[0]
