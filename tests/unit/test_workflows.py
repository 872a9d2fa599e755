"""The GitHub workflows and pre-commit hooks: a real workflow linter passes them, they hold the steps the pull-request
loop relies on, their shell and JavaScript do what they say, and the hooks run real mlgitops commands."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from compiler.init import scaffold
from compiler.report.markdown import MARKER
from helpers import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
BIN = Path(sys.executable).parent
NODE = ROOT / "tools" / "node" / "node_modules" / "node" / "bin" / "node"
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@(v\d+|[0-9a-f]{40})$")


def load(path: Path) -> dict:
    workflow = yaml.safe_load(path.read_text())
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads the key `on` as true
    return workflow


def steps(job: dict) -> list[dict]:
    return job["steps"]


def step(job: dict, *, run: str | None = None, uses: str | None = None, name: str | None = None) -> dict:
    """The one step whose command contains `run` (or that uses `uses`, or is named `name`)."""
    found = [s for s in steps(job)
             if (run is not None and run in s.get("run", "")) or (uses is not None and s.get("uses", "") == uses)
             or (name is not None and s.get("name") == name)]
    assert len(found) == 1, f"{len(found)} steps match run={run!r} uses={uses!r} name={name!r}"
    return found[0]


def after_setup(job: dict) -> list[dict]:
    """The steps after the set-up, which every platform repository shares."""
    index = next(i for i, s in enumerate(steps(job)) if s.get("id") == "setup")
    return steps(job)[index + 1:]


# --- the linter -------------------------------------------------------------------------------------------------------

def actionlint(*paths: Path, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    binary = BIN / "actionlint"
    if not binary.exists():
        pytest.fail(f"actionlint is not installed in {BIN}: it comes with requirements.lock (`make setup`)")
    # shellcheck checks every `run:` script when the pinned one is installed; never a machine's own (the results
    # must not depend on the machine), and off without it
    shellcheck = BIN / "shellcheck"
    return subprocess.run([str(binary), "-no-color", f"-shellcheck={shellcheck if shellcheck.exists() else ''}",
                           "-pyflakes=", *map(str, paths)], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_actionlint_is_a_real_linter_that_finds_mistakes(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n"
                      "      - run: echo ${{ github.event.pull_request.title }}\n"
                      "      - uses: actions/checkout@v5\n        with: {fetch_depth: 0}\n")
    result = actionlint(broken)
    assert result.returncode == 1
    assert "fetch_depth" in result.stdout and "github.event.pull_request.title" in result.stdout


def test_the_project_workflows_pass_actionlint() -> None:
    files = sorted(WORKFLOWS.glob("*.yml")) + sorted(WORKFLOWS.glob("*.yaml"))
    assert {f.name for f in files} == {"pull-request.yml", "main.yml"}
    result = actionlint(*files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_workflows_of_a_new_platform_repository_pass_actionlint(tmp_path: Path) -> None:
    scaffold(tmp_path / "platform", tool_repository="acme/mlgitops", tool_ref="v9.9.9")
    files = sorted((tmp_path / "platform" / ".github" / "workflows").glob("*.yml"))
    assert [f.name for f in files] == ["main.yml", "pull-request.yml"]
    result = actionlint(*files, cwd=tmp_path / "platform")
    assert result.returncode == 0, result.stdout + result.stderr


# --- what the workflows hold ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["pull-request.yml", "main.yml"])
def test_actions_are_pinned_and_permissions_minimal(name: str) -> None:
    workflow = load(WORKFLOWS / name)
    assert workflow["permissions"] == {}, "no permissions by default; each job asks for what it needs"
    assert "group" in workflow["concurrency"]
    for job_name, job in workflow["jobs"].items():
        assert "contents" in job["permissions"], job_name
        assert job.get("timeout-minutes"), job_name
        for s in steps(job):
            if "uses" in s:
                assert PINNED.match(s["uses"]), s["uses"]
            if s.get("uses", "").startswith("actions/checkout@"):
                assert s.get("with", {}).get("persist-credentials") is False, f"{job_name}: the token stays out of .git"


def test_pull_request_workflow_runs_the_gate() -> None:
    workflow = load(WORKFLOWS / "pull-request.yml")
    assert workflow["on"] == {"pull_request": None}
    gate = workflow["jobs"]["gate"]
    assert gate["permissions"] == {"contents": "read"}, "the job that runs the PR's code gets a read-only token"
    assert step(gate, uses="actions/checkout@v5")["with"]["fetch-depth"] == 0
    assert str(step(gate, uses="actions/setup-python@v6")["with"]["python-version"]) == "3.11"
    setup = step(gate, name="Set up mlgitops (make setup)")["run"]
    assert "make setup" in setup
    assert 'echo "MLFLOW_TRACKING_URI=sqlite:///.mlgitops/registry.db" >> "$GITHUB_ENV"' in setup, \
        "the gate verifies the lock against the demo registry, seeded as `make run` seeds it"
    assert re.search(r"^setup:", (ROOT / "Makefile").read_text(), re.M), "the Makefile has the set-up target"

    assert step(gate, run="mlgitops validate")["run"] == "mlgitops validate"
    assert step(gate, run="mlgitops compile --check")["run"] == "mlgitops compile --check"
    sarif = step(gate, run="--format sarif")
    assert "mlgitops check --format sarif --output mlgitops.sarif" in sarif["run"]
    assert 'echo "exit-code=$?" >> "$GITHUB_OUTPUT"' in sarif["run"]
    assert "mlgitops check --format github" in step(gate, run="--format github")["run"]
    summary = step(gate, run="--format markdown --output")
    assert 'mlgitops check --format markdown --output mlgitops-check.md --base "origin/$BASE_REF"' in summary["run"], \
        "the PR comment's model-version table compares with the base branch, not the PR's own commit"
    assert 'mlgitops diff --base "origin/$BASE_REF" --format markdown' in summary["run"]
    assert summary["env"]["BASE_REF"] == "${{ github.base_ref }}", "the ref reaches the shell as data, not as code"
    verdict = steps(gate)[-1]
    assert verdict["env"]["GATE_EXIT"] == "${{ steps.gate.outputs.exit-code }}"
    assert 'exit "$GATE_EXIT"' in verdict["run"]
    for s in after_setup(gate)[1:]:
        if s is not verdict:
            assert s["if"].startswith("${{ !cancelled() &&"), f"{s.get('name')} reports even when a check before failed"

    report = workflow["jobs"]["report"]
    assert report["needs"] == "gate"
    assert report["permissions"] == {"actions": "read", "contents": "read", "pull-requests": "write",
                                     "security-events": "write"}
    assert "github.event.pull_request.head.repo.full_name == github.repository" in report["if"]
    upload = step(report, uses="github/codeql-action/upload-sarif@v4")
    assert upload["with"]["sarif_file"] == "mlgitops.sarif"
    script = step(report, uses="actions/github-script@v8")["with"]["script"]
    assert f'"{MARKER}"' in script and "updateComment" in script and "createComment" in script

    test = workflow["jobs"]["test"]
    assert step(test, run="make test")["run"] == "make test", "pull requests to mlgitops itself run the suite"


def test_main_workflow_tests_and_verifies_generated() -> None:
    workflow = load(WORKFLOWS / "main.yml")
    assert workflow["on"]["push"] == {"branches": ["main"]}
    assert "pull_request" not in workflow["on"]
    assert not (WORKFLOWS / "ci.yml").exists(), "main.yml and pull-request.yml replace ci.yml"
    job = workflow["jobs"]["verify"]
    runs = [s.get("run", "") for s in steps(job)]
    assert runs.index("make test") < runs.index(".venv/bin/mlgitops compile --check")
    assert str(step(job, uses="actions/setup-python@v6")["with"]["python-version"]) == "3.11"


def test_main_workflow_verifies_each_environment_against_its_cluster() -> None:
    workflow = load(WORKFLOWS / "main.yml")
    cluster = workflow["jobs"]["cluster"]
    assert cluster["needs"] == "verify", "only a tested, current generated/ is dry-run"
    environments = sorted(p.stem for p in (ROOT / "environments").glob("*.yaml"))
    assert sorted(cluster["strategy"]["matrix"]["env"]) == environments
    assert cluster["environment"] == "${{ matrix.env }}", "the kubeconfig is an environment secret"
    assert cluster["permissions"] == {"contents": "read"}
    runs = [s.get("run", "") for s in steps(cluster)]
    verify = next(r for r in runs if r.startswith(".venv/bin/mlgitops verify"))
    assert '--env "$ENV_NAME"' in verify and "--kubeconfig" in verify and "--format github" in verify
    assert any("mlgitops cluster snapshot --env" in r and "--update-facts" not in r for r in runs)
    assert all("secrets." not in r for r in runs), "secrets reach scripts through env, never inlined"


def test_new_platform_repositories_get_the_same_gate(tmp_path: Path) -> None:
    scaffold(tmp_path / "platform")
    ours = load(WORKFLOWS / "pull-request.yml")
    theirs = load(tmp_path / "platform" / ".github" / "workflows" / "pull-request.yml")
    assert set(theirs["jobs"]) == {"gate", "report"}
    assert after_setup(theirs["jobs"]["gate"]) == after_setup(ours["jobs"]["gate"])
    assert theirs["jobs"]["report"] == ours["jobs"]["report"]
    for key in ("on", "permissions", "concurrency"):
        assert theirs[key] == ours[key]
    assert {k: v for k, v in theirs["jobs"]["gate"].items() if k != "steps"} == \
        {k: v for k, v in ours["jobs"]["gate"].items() if k != "steps"}


# --- the shell and the JavaScript, run -------------------------------------------------------------------------------

FAKE_MLGITOPS = """#!/usr/bin/env bash
# stands in for mlgitops: `check` exits $CHECK_EXIT and writes --output, `diff` prints a table and exits $DIFF_EXIT
echo "mlgitops $*" >> "$CALLS"
case "$1" in
  check)
    if [ "$CHECK_EXIT" -le 1 ] && [ "$4" = --output ]; then
      printf '%s\\n## gate (%s)\\n' '<!-- mlgitops-report -->' "$3" > "$5"
    fi
    exit "$CHECK_EXIT" ;;
  diff) echo "| prod | recommender | 1 changed |"; exit "$DIFF_EXIT" ;;
esac
"""


def run_steps(tmp_path: Path, job: dict, names: list[str], check_exit: int, diff_exit: int = 0,
              compile_outcome: str = "success") -> tuple[dict[str, str], Path]:
    """Run the named steps' scripts as GitHub does (bash -eo pipefail) with a fake mlgitops; the step outputs."""
    fake = tmp_path / "bin" / "mlgitops"
    fake.parent.mkdir(exist_ok=True)
    fake.write_text(FAKE_MLGITOPS)
    fake.chmod(0o755)
    outputs = tmp_path / "output"
    env = {**os.environ, "PATH": f"{fake.parent}:{os.environ['PATH']}", "CALLS": str(tmp_path / "calls"),
           "CHECK_EXIT": str(check_exit), "DIFF_EXIT": str(diff_exit), "GITHUB_OUTPUT": str(outputs),
           "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"), "BASE_REF": "main",
           "COMPILE_OUTCOME": compile_outcome, "RUN_URL": "https://github.com/o/r/actions/runs/1"}
    for name in names:
        script = step(job, name=name)["run"]
        result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=tmp_path,
                                env=env, capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, f"{name}: {result.stderr}"
    values = dict(line.split("=", 1) for line in outputs.read_text().splitlines()) if outputs.exists() else {}
    return values, tmp_path


GATE_STEPS = ["Policy gate (SARIF for code scanning)", "PR summary (policy gate and rendered diff)"]


@pytest.mark.parametrize("check_exit", [0, 1])
def test_the_gate_verdict_survives_until_the_last_step(tmp_path: Path, check_exit: int) -> None:
    gate = load(WORKFLOWS / "pull-request.yml")["jobs"]["gate"]
    outputs, cwd = run_steps(tmp_path, gate, GATE_STEPS, check_exit)
    assert outputs == {"exit-code": str(check_exit)}
    report = (cwd / "mlgitops-report.md").read_text()
    assert report.startswith(f"{MARKER}\n## gate (markdown)\n")
    assert report.endswith("| prod | recommender | 1 changed |\n")
    assert (cwd / "summary").read_text() == report
    calls = (cwd / "calls").read_text()
    assert "mlgitops check --format markdown --output mlgitops-check.md --base origin/main\n" in calls
    assert "mlgitops diff --base origin/main --format markdown" in calls
    verdict = subprocess.run(["bash", "-eo", "pipefail", "-c", steps(gate)[-1]["run"]], capture_output=True,
                             text=True, env={**os.environ, "GATE_EXIT": str(check_exit)})
    assert verdict.returncode == check_exit


def test_the_summary_says_when_the_gate_or_the_diff_could_not_run(tmp_path: Path) -> None:
    gate = load(WORKFLOWS / "pull-request.yml")["jobs"]["gate"]
    outputs, cwd = run_steps(tmp_path, gate, GATE_STEPS, check_exit=2, diff_exit=2, compile_outcome="failure")
    assert outputs == {"exit-code": "2"}
    report = (cwd / "mlgitops-report.md").read_text()
    assert report.startswith(f"{MARKER}\n## mlgitops policy gate: could not run (exit 2)\n")
    assert "run `mlgitops compile` and commit the result" in report
    assert "_mlgitops diff could not run (exit 2)" in report


COMMENT_HARNESS = """
const fs = require("fs");
const [script, state] = [fs.readFileSync(process.argv[2], "utf8"), JSON.parse(fs.readFileSync(process.argv[3]))];
const calls = [];
const rest = { issues: {
  listComments: "listComments",
  updateComment: async (args) => calls.push(["update", args]),
  createComment: async (args) => calls.push(["create", args]),
} };
const github = { rest, paginate: async (method, args) => { calls.push(["list", args]); return state.comments; } };
const context = { repo: { owner: "o", repo: "r" }, payload: { pull_request: { number: 7 } } };
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
new AsyncFunction("require", "github", "context", script)(require, github, context)
  .then(() => console.log(JSON.stringify(calls)), (e) => { console.error(e); process.exit(1); });
"""


def run_comment_script(tmp_path: Path, comments: list[dict], report: str) -> list:
    node = NODE if NODE.exists() else shutil.which("node")
    if node is None:
        pytest.skip("no Node.js (make setup installs it)")
    script = step(load(WORKFLOWS / "pull-request.yml")["jobs"]["report"], uses="actions/github-script@v8")
    (tmp_path / "script.js").write_text(script["with"]["script"])
    (tmp_path / "harness.js").write_text(COMMENT_HARNESS)
    (tmp_path / "state.json").write_text(json.dumps({"comments": comments}))
    (tmp_path / "mlgitops-report.md").write_text(report)
    result = subprocess.run([str(node), "harness.js", "script.js", "state.json"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_pr_comment_is_updated_not_repeated(tmp_path: Path) -> None:
    report = f"{MARKER}\n## mlgitops policy gate: passed\n"
    comments = [{"id": 1, "user": {"type": "User"}, "body": f"{MARKER} quoted by a person"},
                {"id": 2, "user": {"type": "Bot"}, "body": "another bot"},
                {"id": 3, "user": {"type": "Bot"}, "body": f"{MARKER}\nold report"}]
    calls = run_comment_script(tmp_path, comments, report)
    assert calls[0] == ["list", {"owner": "o", "repo": "r", "issue_number": 7, "per_page": 100}]
    assert calls[1:] == [["update", {"owner": "o", "repo": "r", "comment_id": 3, "body": report}]]


def test_the_first_pr_comment_is_created_with_the_marker(tmp_path: Path) -> None:
    calls = run_comment_script(tmp_path, [{"id": 1, "user": {"type": "Bot"}, "body": "unrelated"}], "no marker\n")
    assert calls[1:] == [["create", {"owner": "o", "repo": "r", "issue_number": 7, "body": f"{MARKER}\nno marker\n"}]]
    long = run_comment_script(tmp_path, [], MARKER + "x" * 70000)
    assert len(long[1][1]["body"]) < 65536 and long[1][1]["body"].endswith("summary of the gate job.")


# --- pre-commit -------------------------------------------------------------------------------------------------------

def hooks() -> dict[str, dict]:
    return {hook["id"]: hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}


def test_published_hooks() -> None:
    published = hooks()
    assert set(published) == {"mlgitops-validate", "mlgitops-compile-check"}
    assert published["mlgitops-validate"]["entry"] == "mlgitops validate"
    assert published["mlgitops-compile-check"]["entry"] == "mlgitops compile --check"
    for hook in published.values():
        assert hook["language"] == "python", "pre-commit installs mlgitops from this repository"
        assert hook["pass_filenames"] is False, "mlgitops reads the whole repository, not single files"
        assert hook["name"] and hook["description"]
    validate = re.compile(published["mlgitops-validate"]["files"])
    assert validate.search("spec/recommender.yaml") and validate.search("environments/dev.yml")
    assert not validate.search("README.md") and not validate.search("generated/prod/x.yaml")
    compile_check = re.compile(published["mlgitops-compile-check"]["files"])
    for path in ("spec/recommender.yaml", "environments/prod.yaml", "generated/prod/recommender/x.yaml",
                 "mlgitops.lock.yaml"):
        assert compile_check.search(path), path
    assert not compile_check.search("compiler/cli.py")
    assert 'mlgitops = "compiler.cli:main"' in (ROOT / "pyproject.toml").read_text(), "the entry is our console script"


@pytest.mark.slow
@pytest.mark.parametrize("hook_id", ["mlgitops-validate", "mlgitops-compile-check"])
def test_published_hooks_run_real_commands_on_this_repository(hook_id: str) -> None:
    program, *args = shlex.split(hooks()[hook_id]["entry"])
    result = subprocess.run([str(BIN / program), *args], cwd=ROOT, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "CI": "true"})
    assert result.returncode == 0, result.stdout + result.stderr


def test_own_pre_commit_config_runs_the_same_hooks_from_the_venv() -> None:
    (local,) = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())["repos"]
    assert local["repo"] == "local"
    own = {hook["id"]: hook for hook in local["hooks"]}
    for hook_id, published in hooks().items():
        hook = own[hook_id]
        assert hook["entry"] == f".venv/bin/{published['entry']}"
        assert (hook["files"], hook["pass_filenames"]) == (published["files"], published["pass_filenames"])
        assert hook["language"] == "system"
    assert own["ruff"]["entry"] == ".venv/bin/ruff check" and own["ruff"]["types"] == ["python"]
    for hook in own.values():
        executable = ROOT / hook["entry"].split()[0]
        assert executable.parent == ROOT / ".venv" / "bin" and (BIN / executable.name).exists(), hook["entry"]
