"""The lock is checked, not believed: `check` compares every pin of mlgitops.lock.yaml with a real MLflow registry
(the sqlite registry tools/seed_registry.py seeds, and a real `mlflow server` over a copy of it). A forged field is
an error at its lock line; an unverified lock is a note, and blocks in prod (MLG-LOCK-001); `diff` and the markdown
report show what a change moves in the lock, against the base branch."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from compiler.pins import LOCK_FILE, read_lock
from helpers import ROOT, copy_examples, edit, example_registry, mlflow_server_on, run_cli

RECS = "spec/recommender.yaml"
ENVS = ("dev", "prod", "staging")
PROD_SYSTEMS = ("fraud-scorer", "recommender", "support-assistant")
SPEC_MODEL_LINES = {"fraud-scorer": 23, "recommender": 20, "support-assistant": 17}  # `model:` in each example


def lock_line(root: Path, env: str, system: str, text: str) -> tuple[int, int]:
    """Line and column of `text` (a key, as written) inside the pin of env/system in the lock."""
    lines = (root / LOCK_FILE).read_text().splitlines()
    start = lines.index(f"  {env}:")
    start = lines.index(f"    {system}:", start)
    number = next(n for n in range(start, len(lines)) if lines[n].strip().startswith(text))
    return number + 1, lines[number].index(text) + 1


def forge(root: Path, env: str, system: str, old: str, new: str) -> tuple[int, int]:
    """Replace `old` by `new` in one pin of the lock, as a pull request would; where it is."""
    path = root / LOCK_FILE
    lines = path.read_text().splitlines(keepends=True)
    line, _ = lock_line(root, env, system, old)
    assert old in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new)
    path.write_text("".join(lines))
    return lock_line(root, env, system, new)


def check(root: Path, *args: str, env: dict[str, str] | None = None):
    return run_cli(root, "check", "--today", "2026-12-01", *args, env=env)


@pytest.fixture(scope="module")
def served_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `mlflow server` over a copy of the seeded example registry."""
    home = tmp_path_factory.mktemp("served")
    shutil.copy(Path(example_registry().removeprefix("sqlite:///")), home / "registry.db")
    with mlflow_server_on(f"sqlite:///{home / 'registry.db'}", home) as url:
        yield url


# --- the committed lock verifies -----------------------------------------------------------------------------------

def test_the_committed_lock_verifies_against_the_seeded_registry(repo: Path) -> None:
    result = check(repo)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "note:" not in result.stdout and "MLG-LOCK" not in result.stdout
    assert result.stdout.endswith("gate passed\n")


def test_the_committed_lock_verifies_against_a_real_mlflow_server(repo: Path, served_registry: str) -> None:
    result = check(repo, "--format", "json", env={"MLFLOW_TRACKING_URI": served_registry})
    assert result.exit_code == 0, result.stderr
    assert "notes" not in json.loads(result.stdout)


# --- forged pins, each refused at its lock line ----------------------------------------------------------------------

ATTACKS = {
    "forged validation status": ("prod", "recommender", "validation.status: approved", "validation.status: pending",
                                 ["pins.prod.recommender.tags.validation.status: the lock says 'pending', "
                                  "the registry says 'approved' [E705]"]),
    "forged validation date": ("prod", "fraud-scorer", "validation.date: '2026-11-20'",
                               "validation.date: '2026-11-30'",
                               ["pins.prod.fraud-scorer.tags.validation.date: the lock says '2026-11-30', "
                                "the registry says '2026-11-20' [E705]"]),
    "another model's sourceUri": ("prod", "support-assistant", "sourceUri: s3://ml-models/support-llm/2",
                                  "sourceUri: s3://ml-models/fraud-xgb/7",
                                  ["pins.prod.support-assistant.sourceUri: the lock says 's3://ml-models/fraud-xgb/7', "
                                   "the registry says 's3://ml-models/support-llm/2' [E705]"]),
    "a version the registry lacks": ("prod", "recommender", "version: 2", "version: 9",
                                     ["pins.prod.recommender.version: model 'recsys-ranker' has no version 9 in the "
                                      "registry {registry} [E706]"]),
}


def assert_refused(result, root: Path, env: str, system: str, where: tuple[int, int], lines: list[str],
                   registry: str) -> None:
    assert result.exit_code == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    expected = [f"{LOCK_FILE}:{where[0]}:{where[1]}: {line.format(registry=registry)}" for line in lines]
    assert result.stderr.splitlines() == [*expected, f"mlgitops: {len(lines)} problem"
                                          f"{'' if len(lines) == 1 else 's'} found; nothing was written"]


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_a_forged_pin_is_refused_at_its_lock_line(repo: Path, attack: str) -> None:
    env, system, old, new, lines = ATTACKS[attack]
    where = forge(repo, env, system, old, new)
    result = check(repo)
    assert_refused(result, repo, env, system, where, lines, example_registry())


def test_a_forged_pin_is_refused_by_a_real_mlflow_server(repo: Path, served_registry: str) -> None:
    env, system, old, new, lines = ATTACKS["forged validation status"]
    where = forge(repo, env, system, old, new)
    result = check(repo, env={"MLFLOW_TRACKING_URI": served_registry})
    assert_refused(result, repo, env, system, where, lines, served_registry)


def test_a_forged_version_with_the_other_fields_left_is_refused_at_each_of_them(repo: Path) -> None:
    """Version 3 exists (pending, no date): the lock's approved tags and v2's source and run are not its record."""
    forge(repo, "prod", "recommender", "version: 2", "version: 3")
    result = check(repo)
    assert result.exit_code == 2
    located = [line.split(": ", 2)[:2] for line in result.stderr.splitlines()[:-1]]
    fields = ["runId", "sourceUri", "tags.dataset", "tags.validation.date", "tags.validation.status"]  # lock order
    assert located == [[f"{LOCK_FILE}:{':'.join(map(str, lock_line(repo, 'prod', 'recommender', key)))}",
                        f"pins.prod.recommender.{name}"]
                       for name, key in zip(fields, ["runId:", "sourceUri:", "dataset:", "validation.date:",
                                                     "validation.status:"], strict=True)]
    assert result.stderr.splitlines()[-2].endswith("the lock says 'approved', the registry says 'pending' [E705]")
    assert "the lock says '2026-11-15', the registry says nothing [E705]" in result.stderr


def test_a_forged_pin_is_refused_outside_prod_too(repo: Path) -> None:
    forge(repo, "dev", "recommender", "validation.status: approved", "validation.status: revoked")
    forge(repo, "staging", "recommender", "validation.status: approved", "validation.status: revoked")
    result = check(repo)
    assert result.exit_code == 2
    assert [line.split(": ")[1] for line in result.stderr.splitlines()[:-1]] == \
        ["pins.dev.recommender.tags.validation.status", "pins.staging.recommender.tags.validation.status"]


# --- not verified: a note, and MLG-LOCK-001 in prod only ------------------------------------------------------------

def lock_findings(stdout: str) -> list[tuple[str, str, int, str]]:
    return sorted((f["env"], f["system"], f["line"], f["severity"]) for f in json.loads(stdout)["findings"]
                  if f["rule"] == "MLG-LOCK-001")


PROD_FINDINGS = [("prod", system, SPEC_MODEL_LINES[system], "critical") for system in PROD_SYSTEMS]


def test_offline_the_report_says_once_the_lock_was_not_verified_and_prod_blocks(repo: Path) -> None:
    result = check(repo, "--offline", "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["notes"] == [f"{LOCK_FILE} was not verified against the model registry (--offline was given): "
                               "9 pins taken on trust, which in prod-tier environments blocks (MLG-LOCK-001)"]
    assert lock_findings(result.stdout) == PROD_FINDINGS
    assert all(not f["waived"] for f in report["findings"] if f["rule"] == "MLG-LOCK-001")
    text = check(repo, "--offline").stdout
    assert [line for line in text.splitlines() if line.startswith("note:")] == [f"note: {report['notes'][0]}"]
    assert f"spec/recommender.yaml:{SPEC_MODEL_LINES['recommender']}:1: MLG-LOCK-001 [critical] the lock's pin of " \
           "model 'recsys-ranker' was not verified against the model registry (--offline was given), so the prod " \
           "model-risk rules cannot trust its tags (prod/recommender)" in text


def test_offline_outside_prod_is_a_note_not_a_finding(repo: Path) -> None:
    result = check(repo, "--offline", "--env", "dev", "--env", "staging", "--format", "json")
    assert result.exit_code == 0, result.stdout
    assert lock_findings(result.stdout) == []
    assert json.loads(result.stdout)["notes"][0].startswith(f"{LOCK_FILE} was not verified against the model "
                                                            "registry (--offline was given): 6 pins taken on trust")


def test_an_unreachable_registry_is_a_note_and_blocks_prod_quickly(repo: Path) -> None:
    started = time.monotonic()
    result = check(repo, RECS, "--format", "json", env={"MLFLOW_TRACKING_URI": "http://127.0.0.1:9"})
    took = time.monotonic() - started
    assert result.exit_code == 1
    assert json.loads(result.stdout)["notes"] == [
        f"{LOCK_FILE} was not verified against the model registry (the registry http://127.0.0.1:9 is unreachable "
        "(Connection refused)): 3 pins taken on trust, which in prod-tier environments blocks (MLG-LOCK-001)"]
    assert lock_findings(result.stdout) == [("prod", "recommender", SPEC_MODEL_LINES["recommender"], "critical")]
    assert took < 60, f"an unreachable registry is asked once per run, not once per pin ({took:.1f}s)"


def test_no_registry_configured_is_a_note_with_the_reason(repo: Path) -> None:
    for env in ("dev", "prod", "staging"):
        edit(repo, f"environments/{env}.yaml", "  trackingUri: https://mlflow.example.com\n", "  {}\n")
    result = check(repo, RECS, "--format", "json", env={"MLFLOW_TRACKING_URI": ""})
    assert result.exit_code == 1
    notes = json.loads(result.stdout)["notes"]
    assert [n.split(" (")[1] for n in notes] == [f"environment {e!r} names no model registry" for e in
                                                 ("dev", "prod", "staging")]
    assert lock_findings(result.stdout) == [("prod", "recommender", SPEC_MODEL_LINES["recommender"], "critical")]


def test_a_waiver_does_not_cover_an_unverified_pin(repo: Path) -> None:
    edit(repo, RECS, "waivers:\n",
         "waivers:\n  - rule: MLG-LOCK-001\n    reason: registry down\n    approvedBy: lead@example.com\n"
         "    expires: 2027-01-31\n")
    result = check(repo, RECS, "--offline", "--format", "json")
    assert ("prod", "recommender", SPEC_MODEL_LINES["recommender"], "critical") in lock_findings(result.stdout)
    assert result.exit_code == 1


def test_explain_shows_the_lock_rule() -> None:
    result = run_cli(ROOT, "explain", "MLG-LOCK-001")
    assert result.exit_code == 0
    assert result.stdout.startswith("MLG-LOCK-001  [critical]  (schema)\nA prod model pin is confirmed by the model "
                                    "registry\n\nWhy:\n")
    assert "Fix:\n  Run `mlgitops check` where the model registry is reachable" in result.stdout


# --- what a change moves in the lock: check --base and diff ---------------------------------------------------------

def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com",
                           "-c", "commit.gpgsign=false", *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def pull_request(tmp_path: Path) -> Path:
    """A repository with a base commit (the examples) and a PR commit that moves recommender to version 1."""
    root = copy_examples(tmp_path / "repo")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    git(root, "checkout", "-qb", "pr")
    edit(root, RECS, "  alias: champion\n", "  version: 1\n")
    compiled = run_cli(root, "compile")
    assert compiled.exit_code == 0, compiled.stderr
    assert read_lock(root)[("prod", "recommender")].version == 1
    git(root, "add", "-A")
    git(root, "commit", "-qm", "pr")
    return root


def test_the_markdown_report_compares_the_pins_with_the_base_branch(pull_request: Path) -> None:
    report = check(pull_request, "--base", "main", "--format", "markdown").stdout
    table = report[report.index("### Model versions this change pins"):].split("\n\n")[1].splitlines()
    assert table == ["| system | env | model | version |", "|---|---|---|---|",
                     *[f"| recommender | {env} | `recsys-ranker` | 2 → **1** |" for env in ENVS]]
    assert "### Model versions this change pins" not in check(pull_request, "--format", "markdown").stdout, \
        "against HEAD (the PR's own commit) nothing moved: why CI passes --base"


def test_a_base_that_is_not_a_commit_is_a_usage_error(pull_request: Path) -> None:
    result = check(pull_request, "--base", "origin/main")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == ("--base:1:1: 'origin/main' is not a commit in this repository (fetch it "
                                             "first, e.g. `git fetch origin main`) [E401]")


def test_diff_lists_every_pin_field_a_change_moves(pull_request: Path) -> None:
    result = run_cli(pull_request, "diff", "--base", "main", "--env", "prod")
    assert result.exit_code == 0, result.stderr
    block = result.stdout[result.stdout.index(f"{LOCK_FILE}: 1 pin changed"):].split("\n\n")[0].splitlines()
    assert block == [f"{LOCK_FILE}: 1 pin changed", "  ~ prod/recommender (recsys-ranker)",
                     "      version: 2 → 1",
                     "      sourceUri: s3://ml-models/recsys-ranker/2 → s3://ml-models/recsys-ranker/1",
                     f"      runId: {read_lock_run(pull_request, 'main')} → {read_lock_run(pull_request, 'HEAD')}",
                     "      tags.dataset: s3://features/recsys/v3 → (none)",
                     "      tags.validation.date: 2026-11-15 → 2026-06-01"]


def read_lock_run(root: Path, revision: str) -> str:
    from compiler.pins import base_lock

    return base_lock(root, revision)[("prod", "recommender")].run_id


def test_diff_shows_a_lock_only_change_even_when_generated_does_not_move(pull_request: Path) -> None:
    forge(pull_request, "dev", "fraud-scorer", "validation.date: '2026-11-20'", "validation.date: '2026-12-01'")
    forge(pull_request, "dev", "fraud-scorer", "validation.status: approved", "validation.status: pending")
    text = run_cli(pull_request, "diff", "--env", "dev").stdout
    head = git(pull_request, "rev-parse", "HEAD")[:12]
    assert text.splitlines() == [f"{LOCK_FILE}: 1 pin changed", "  ~ dev/fraud-scorer (fraud-xgb)",
                                 "      tags.validation.date: 2026-11-20 → 2026-12-01",
                                 "      tags.validation.status: approved → pending", "",
                                 f"No changes to generated/ against HEAD ({head})."]
    markdown = run_cli(pull_request, "diff", "--env", "dev", "--format", "markdown").stdout
    assert f"#### Model pins this change moves in `{LOCK_FILE}`" in markdown
    assert "| dev | `fraud-scorer` | `fraud-xgb` | `tags.validation.status` | `approved` | `pending` |" in markdown
    assert markdown.rstrip().endswith("No changes to generated/.")
