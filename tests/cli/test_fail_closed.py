"""The gate fails closed: every fault below, injected for real, makes `mlgitops check` exit 2 with one clear line
(at file:line:col where there is a file to point at, else naming the component), no traceback, and no report that
could pass for this run's — never 0, never 1.

Each case starts from a copy of a repository whose cache is warm from a good run (`report.json` says passed), so a
cached gate result cannot hide the fault. Real components throughout: regorus, the OPA binary, Checkov, MLflow's
client against a TCP server that accepts and never answers.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import CACHE_VARIABLE, ROOT, copy_examples, edit, line_of, run_cli

TODAY = "2026-11-25"  # the examples' waivers hold on this day: the good run passes
REPORT = "report.json"
RULE = "policies/spec/missing_cost_center.rego"
METADATA = (ROOT / RULE).read_text().split("package")[0].replace("MLG-COST-001", "MLG-TST-901")


@pytest.fixture(scope="module")
def warm(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The examples after a good `check`, and its cache: every unit's render and gate result."""
    root = copy_examples(tmp_path_factory.mktemp("warm"))
    cache = tmp_path_factory.mktemp("warm-cache")
    result = run_cli(root, "check", "--today", TODAY, "--format", "json", "--output", REPORT,
                     env={CACHE_VARIABLE: str(cache)})
    assert result.exit_code == 0, result.stderr
    assert "mlgitops check passed" in result.stderr
    assert json.loads((root / REPORT).read_text())["summary"]["errors"] == 0
    assert any((cache / "gate").rglob("*")), "the gate's results are cached"
    return root, cache


@pytest.fixture
def repo(warm: tuple[Path, Path], tmp_path: Path, cache_dir: Path) -> Path:
    """A copy of the warm repository (its passing report too), with its cache as this test's, for one fault."""
    root, cache = warm
    shutil.copytree(cache, cache_dir, dirs_exist_ok=True)
    return Path(shutil.copytree(root, tmp_path / "repo"))


def check(root: Path, *args: str, env: dict[str, str] | None = None):
    return run_cli(root, "check", "--today", TODAY, "--format", "json", "--output", REPORT, *args, env=env)


def assert_fails_closed(result, root: Path, first_line: str) -> None:
    """Exit 2, the diagnostic (a regex) first, no traceback, no verdict, and no report left behind."""
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert re.fullmatch(first_line, lines[0]), lines[0]
    assert lines[-1].endswith("found; nothing was written")
    assert "passed" not in result.stderr
    assert not (root / REPORT).exists(), "the good run's report must not stand for this one"


def append(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.write_text(path.read_text() + text)


def run_process(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The real program in its own process: its exit code and output are what CI sees. The timeout only guards the
    test run against a hang."""
    return subprocess.run([sys.executable, "-m", "compiler", "--root", str(root), *args], capture_output=True,
                          text=True, timeout=120, cwd=root, env={**os.environ, "CI": "true", **(env or {})})


# 1. A Rego file that does not parse.

def test_a_policy_with_a_syntax_error_fails_at_its_line(repo: Path) -> None:
    append(repo, RULE, '\ndeny contains "x" if {\n  input.system. ==\n}\n')
    assert_fails_closed(check(repo), repo,
                        rf"{RULE}:{line_of(repo, RULE, 'input.system. ==')}:\d+: policy does not compile: .+ \[E601\]")


def test_a_policy_with_a_syntax_error_fails_in_a_real_process(repo: Path) -> None:
    append(repo, RULE, '\ndeny contains "x" if {\n  input.system. ==\n}\n')
    result = run_process(repo, "check", "--today", TODAY, "--format", "json", "--output", REPORT)
    assert result.returncode == 2 and result.stdout == ""
    assert "Traceback" not in result.stderr
    assert re.match(rf"{RULE}:{line_of(repo, RULE, 'input.system. ==')}:\d+: policy does not compile:",
                    result.stderr)
    assert not (repo / REPORT).exists()


# 2. Rego that compiles but fails while it is evaluated: never read as "no violations".

CONFLICT = '''
tier := "production" if input.environment.tier == "prod"

tier := "other" if input.environment.name != ""

deny contains "unreachable" if tier == "never"
'''  # two values for one complete rule, on every prod input
BUILTIN = '''
deny contains "unreachable" if to_number(input.system.metadata.name) < 0
'''  # a built-in's error: strict on both engines, not an undefined `deny`


def test_a_rule_with_conflicting_values_fails_at_its_line(repo: Path) -> None:
    append(repo, RULE, CONFLICT)
    first = line_of(repo, RULE, 'tier := "production"')
    second = line_of(repo, RULE, 'tier := "other"')
    assert_fails_closed(check(repo), repo, rf"{RULE}:{second}:1: policy evaluation failed: rule conflicts with "
                                           rf"rule at {RULE}:{first}:1 \[E602\]")


def test_a_builtin_error_fails_at_its_line(repo: Path) -> None:
    append(repo, RULE, BUILTIN)
    assert_fails_closed(check(repo), repo, rf"{RULE}:{line_of(repo, RULE, 'to_number')}:\d+: policy evaluation "
                                           r"failed: could not parse string as number \[E602\]")


def test_an_evaluation_error_in_a_worker_process_fails_closed(repo: Path) -> None:
    # --jobs 2: the units are judged in worker processes, and the error crosses back to the command.
    append(repo, RULE, CONFLICT)
    result = run_cli(repo, "--jobs", "2", "check", "--today", TODAY, "--format", "json", "--output", REPORT)
    assert_fails_closed(result, repo, rf"{RULE}:\d+:1: policy evaluation failed: rule conflicts with .+ \[E602\]")


@pytest.mark.parametrize("policy, message", [
    (CONFLICT, "policy evaluation failed: complete rules must not produce multiple outputs"),
    (BUILTIN, r"policy evaluation failed: to_number: .+"),  # OPA alone would leave the `deny` undefined: a pass
], ids=["conflict", "builtin-error"])
def test_an_evaluation_error_on_an_opa_server_fails_at_its_line(repo: Path, opa_server: str, policy: str,
                                                                message: str) -> None:
    append(repo, RULE, policy)
    assert_fails_closed(check(repo, "--opa-url", opa_server), repo, rf"{RULE}:\d+:\d+: {message} \[E602\]")


@pytest.mark.parametrize("engine", ["in-process", "opa-server"])
def test_a_deny_that_is_not_a_set_fails_closed(repo: Path, engine: str, request: pytest.FixtureRequest) -> None:
    # It compiles, but its value is no set of findings: refused, rather than read as none or crashing the gate.
    (repo / "policies/spec/flag.rego").write_text(METADATA + "package mlgitops.spec.flag\n\ndeny := true\n")
    args = ("--opa-url", request.getfixturevalue("opa_server")) if engine == "opa-server" else ()
    assert_fails_closed(check(repo, *args), repo, r"policies/spec/flag.rego:1:1: mlgitops.spec.flag.deny is a bool, "
                                                  r"not a set of findings \(write `deny contains ... if`\) \[E602\]")


# 3. Policy files malformed in other ways: the loader refuses them before anything is compiled.

@pytest.mark.parametrize("name, content, first_line", [
    ("latin1.rego", METADATA.replace("title: Every", "title: Caf\xe9 every").encode("latin-1") + b"package x\n",
     r"policies/spec/latin1.rego:2:13: policy is not valid UTF-8 \[E108\]"),
    ("empty.rego", b"", r"policies/spec/empty.rego:1:1: no `package` declaration \[E601\]"),
    ("no_metadata.rego", b"package mlgitops.spec.no_metadata\n\ndeny contains \"x\" if false\n",
     r"policies/spec/no_metadata.rego:1:1: rule file has no `# METADATA` block \[E601\]"),
    ("words.rego", b"# METADATA\n# just some words\npackage mlgitops.spec.words\n",
     r"policies/spec/words.rego:1:1: METADATA must be a mapping .+ \[E601\]"),
    ("bad_yaml.rego", b"# METADATA\n# title: [unclosed\n# description: x\npackage mlgitops.spec.bad_yaml\n",
     r"policies/spec/bad_yaml.rego:3:\d+: METADATA is not valid YAML: .+ \[E601\]"),
    ("elsewhere.rego", METADATA.encode() + b"package mlgitops.checks.elsewhere\n\ndeny contains \"x\" if true\n",
     r"policies/spec/elsewhere.rego:8:1: package mlgitops.checks.elsewhere is never evaluated: .+ \[E601\]"),
], ids=["not-utf8", "empty", "no-metadata", "metadata-not-a-mapping", "metadata-yaml-error", "wrong-package"])
def test_a_malformed_policy_file_is_refused(repo: Path, name: str, content: bytes, first_line: str) -> None:
    (repo / "policies" / "spec" / name).write_bytes(content)
    assert_fails_closed(check(repo), repo, first_line)


def test_a_library_file_in_a_rule_package_is_refused(repo: Path) -> None:
    # Its `deny` would be evaluated as a rule that has no metadata (no id, no severity).
    (repo / "policies/lib/helper.rego").write_text('package mlgitops.spec.helper\n\ndeny contains "x" if true\n')
    assert_fails_closed(check(repo), repo,
                        r"policies/lib/helper.rego:1:1: package mlgitops.spec.helper is for rules .+ \[E601\]")


# 4. Checkov failing for real.

def test_a_manifest_checkov_skips_fails_at_its_spec(repo: Path) -> None:
    # Checkov silently skips any file it takes for a Helm template, and a spec value can make a manifest look like
    # one: that CronJob would pass the gate unscanned.
    edit(repo, "spec/fraud-scorer.yaml", '"binary:logistic"', '"{{ .Values.objective }}"')
    assert_fails_closed(check(repo, "--env", "dev"), repo,
                        r"spec/fraud-scorer.yaml:1:1: Checkov skipped 1 of \d+ rendered manifests "
                        r"\(dev/fraud-scorer/cronjob-fraud-scorer-train.yaml\); .+ \[E603\]")


def test_a_check_id_checkov_cannot_take_fails_at_the_configuration(repo: Path) -> None:
    # Checkov's own filter crashes on a check id that is not a string: refused in the file, before Checkov runs.
    edit(repo, "policies/checkov.yaml", "skip-check: []", "skip-check: [42]")
    line = line_of(repo, "policies/checkov.yaml", "[42]")
    assert_fails_closed(check(repo), repo, rf"policies/checkov.yaml:{line}:1: skip-check must be a list of Checkov "
                                           r"check ids .+, not \[42\] \[E603\]")


def test_a_checkov_crash_inside_its_run_fails_closed(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # No input makes this Checkov version raise in the middle of a scan, so one of its steps is made to raise here
    # (in process; --no-cache so that units are scanned at all).
    from checkov.kubernetes.runner import Runner

    def crash(*args, **kwargs):
        raise KeyError("metadata")

    monkeypatch.setattr(Runner, "check_definitions", crash)
    assert_fails_closed(check(repo, "--no-cache"), repo,
                        r"policies/checkov.yaml:1:1: Checkov failed: KeyError: 'metadata' \[E603\]")


# 5. The model registry accepts connections and never answers, during `check`.

REGISTRY_ENV = {"MLFLOW_HTTP_REQUEST_TIMEOUT": "1", "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"}


def test_a_silent_registry_fails_at_the_model_line(repo: Path, silent_server: str) -> None:
    edit(repo, "spec/recommender.yaml", "alias: champion", "alias: challenger")  # not in the lock: ask the registry
    result = check(repo, env={"MLFLOW_TRACKING_URI": silent_server, **REGISTRY_ENV})
    line = line_of(repo, "spec/recommender.yaml", "alias: challenger")
    assert_fails_closed(result, repo, rf"spec/recommender.yaml:{line}:3: model: the registry {silent_server} is "
                                      r"unreachable \(Read timed out\) \[E701\]")


def test_a_silent_registry_fails_in_a_real_process(repo: Path, silent_server: str) -> None:
    edit(repo, "spec/recommender.yaml", "alias: champion", "alias: challenger")
    result = run_process(repo, "check", "--today", TODAY, "--format", "json", "--output", REPORT,
                         env={"MLFLOW_TRACKING_URI": silent_server, **REGISTRY_ENV})
    assert result.returncode == 2 and result.stdout == ""
    assert "Traceback" not in result.stderr
    line = line_of(repo, "spec/recommender.yaml", "alias: challenger")
    assert result.stderr.startswith(f"spec/recommender.yaml:{line}:3: model: the registry {silent_server} is "
                                    "unreachable (Read timed out) [E701]")
    assert not (repo / REPORT).exists()


# 6. An OPA server that accepts connections and never answers.

def test_a_silent_opa_server_fails_closed(repo: Path, silent_server: str) -> None:
    result = check(repo, "--opa-url", silent_server, env={"MLGITOPS_OPA_TIMEOUT": "1"})
    assert_fails_closed(result, repo, rf"--opa-url:1:1: OPA server at {silent_server} is unreachable \(timed out\) "
                                      r"\[E602\]")


# 7. Malformed YAML in the Checkov configuration and in a spec's waivers.

def test_a_checkov_configuration_with_a_yaml_error_fails_at_its_line(repo: Path) -> None:
    edit(repo, "policies/checkov.yaml", "skip-check: []", "skip-check: [CKV_K8S_1")
    # PyYAML finds the unclosed list on the next key's line
    after = line_of(repo, "policies/checkov.yaml", "severity:")
    assert_fails_closed(check(repo), repo, rf"policies/checkov.yaml:{after}:1: not valid YAML: expected ',' or "
                                           r"'\]', but got '<scalar>' \[E603\]")


def test_a_checkov_configuration_that_is_no_mapping_is_refused(repo: Path) -> None:
    (repo / "policies" / "checkov.yaml").write_text("- CKV_K8S_43\n")
    assert_fails_closed(check(repo), repo, r"policies/checkov.yaml:1:1: the Checkov configuration is a mapping.* "
                                           r"\[E603\]")


def test_waivers_with_a_yaml_error_fail_at_their_line(repo: Path) -> None:
    edit(repo, "spec/recommender.yaml", "  - rule: CKV_K8S_43\n", "  - rule: [CKV_K8S_43\n")
    # the parser meets the problem at the next line's `reason:`
    line = line_of(repo, "spec/recommender.yaml", "[CKV_K8S_43") + 1
    assert_fails_closed(check(repo), repo, rf"spec/recommender.yaml:{line}:11: invalid YAML: expected ',' or '\]', "
                                           rf"but got ':' \(while parsing a flow sequence at line {line - 1}, "
                                           r"column 11\) \[E101\]")


def test_a_waiver_with_a_malformed_date_fails_at_its_line(repo: Path) -> None:
    spec = repo / "spec/recommender.yaml"
    spec.write_text(spec.read_text().replace("expires: 2027-03-31", "expires: next spring", 1))  # the first waiver
    line = line_of(repo, "spec/recommender.yaml", "next spring")
    assert_fails_closed(check(repo), repo, rf"spec/recommender.yaml:{line}:5: waivers\[0\]\.expires: Input should be "
                                           r"a valid date or datetime, .+ \(got 'next spring'\) \[E203\]")
