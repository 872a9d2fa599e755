"""`mlgitops check` end to end: the examples pass (only waived findings), a deliberately bad spec fails with
exactly the expected rule ids at the expected lines in every format, engines agree, and the gate fails closed."""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest

from compiler.driver import Workspace
from compiler.gate.run import run_gate
from compiler.pins import read_lock, write_lock
from compiler.resolve import ResolvedModel
from helpers import ROOT, copy_examples, free_port, registry_with, run_cli

TODAY = "2026-11-25"
BAD = "spec/bad-scorer.yaml"
ALL = ("dev", "prod", "staging")
# (rule, line, column) → environments, for tests/gate_cases/bad-scorer.yaml
EXPECTED = {
    ("MLG-OBS-001", 2, 1): ("prod",),       # no alert route (the spec has no monitoring section at all)
    ("MLG-OBS-002", 2, 1): ("prod",),       # personal data, high risk, no drift check
    ("MLG-COST-001", 4, 1): ALL,            # metadata without a costCenter
    ("MLG-AIA-001", 8, 1): ALL,             # high risk: no human oversight …
    ("MLG-AIA-002", 8, 1): ALL,             # … no audit logging …
    ("MLG-AIA-003", 8, 1): ALL,             # … no validation record
    ("MLG-GDPR-002", 11, 3): ALL,           # residency us-east-1, clusters in eu-west-1
    ("MLG-MRM-002", 15, 3): ("prod",),      # version 3 has no validation date …
    ("MLG-MRM-003", 15, 3): ("prod",),      # … and no approval
    ("MLG-GPU-001", 17, 1): ALL,            # GPU training without a queue …
    ("MLG-GPU-002", 17, 1): ALL,            # … and without maxRuntime
    ("CKV_K8S_14", 18, 3): ALL,             # Checkov: `latest`, traced back to training.image
    ("CKV_K8S_43", 18, 3): ALL,
    ("MLG-SUP-001", 18, 3): ALL,            # `latest`
    ("MLG-SUP-002", 18, 3): ALL,            # docker.io is not an allowed registry
    ("MLG-SUP-003", 18, 3): ("prod",),      # no digest in prod (its waiver expired)
    ("MLG-REL-003", 21, 1): ("prod",),      # no SLO
    ("CKV_K8S_43", 23, 3): ALL,             # (its waiver has no approver)
    ("MLG-SUP-003", 23, 3): ("prod",),
    ("MLG-REL-001", 24, 14): ("prod",),     # one replica in prod …
    ("MLG-REL-002", 24, 14): ("prod",),     # … so no disruption budget
    ("MLG-SEC-004", 25, 36): ALL,           # Ingress without TLS
    ("MLG-WAIVER-002", 27, 5): ALL,         # expired waiver
    ("MLG-WAIVER-001", 31, 5): ALL,         # waiver without approver
}
EXPECTED_COUNT = sum(len(envs) for envs in EXPECTED.values())


@pytest.fixture
def bad_repo(tmp_path: Path) -> Path:
    root = copy_examples(tmp_path / "repo")
    shutil.copy(ROOT / "tests" / "gate_cases" / "bad-scorer.yaml", root / BAD)
    with (root / "tenancy.yaml").open("a") as tenancy:  # granted what it asks: its findings are the library's alone
        tenancy.write("  shortcuts:\n    specs: [spec/bad-scorer.yaml]\n    models: [bad-model]\n"
                      "    hosts: [bad.example.com]\n    budgets: {gpus: 1, workers: 1, replicas: 3}\n"
                      "    waivers: {approvers: [platform-security@example.com], maxDays: 400}\n")
    # what the registry answered for its model: version 3 exists, with no validation tags at all
    pin = ResolvedModel("bad-model", 3, None, "s3://ml-models/bad-model/3", None, {}, "https://mlflow.example.com",
                        "2026-11-25T09:00:00Z")
    write_lock(root, {**read_lock(root), **{(env, "bad-scorer"): pin for env in ALL}})
    registry_with(tmp_path, [pin])  # the registry holds it, so the lock verifies
    return root


def _check(root: Path, *args: str):
    """`check` against the registry beside the repository where a fixture made one, else the examples' registry."""
    registry = root.parent / "registry.db"
    env = {"MLFLOW_TRACKING_URI": f"sqlite:///{registry}"} if registry.exists() else None
    return run_cli(root, "check", "--today", TODAY, *args, env=env)


def test_examples_pass_with_only_waived_findings(tmp_path: Path) -> None:
    root = copy_examples(tmp_path / "repo")
    shutil.copytree(ROOT / "clusters", root / "clusters")  # the snapshot the cluster rules' waivers are about
    result = _check(root, "--format", "json")
    assert result.exit_code == 0, result.stdout
    report = json.loads(result.stdout)
    assert report["summary"]["errors"] == report["summary"]["warnings"] == 0
    assert report["findings"] and all(f["waived"] for f in report["findings"])


def test_bad_spec_fails_with_the_expected_rules_at_the_expected_lines(bad_repo: Path) -> None:
    result = _check(bad_repo, BAD, "--format", "json")
    assert result.exit_code == 1
    found = defaultdict(list)
    for finding in json.loads(result.stdout)["findings"]:
        assert finding["file"] == BAD and finding["system"] == "bad-scorer"
        found[(finding["rule"], finding["line"], finding["column"])].append(finding["env"])
    assert {key: tuple(sorted(envs)) for key, envs in found.items()} == EXPECTED


def test_every_format_carries_the_same_findings(bad_repo: Path) -> None:
    expected_lines = {(rule, line) for rule, line, _ in EXPECTED}

    sarif = json.loads(_check(bad_repo, BAD, "--format", "sarif").stdout)
    results = sarif["runs"][0]["results"]
    assert len(results) == EXPECTED_COUNT
    assert {(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in results} \
        == expected_lines
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results} == {BAD}

    junit = ET.fromstring(_check(bad_repo, BAD, "--format", "junit").stdout)
    failures = junit.findall(".//failure")
    assert len(failures) == 40  # the blocking ones; the 14 below failOn pass with their text in system-out

    github = _check(bad_repo, BAD, "--format", "github").stdout.splitlines()
    annotations = [line for line in github if line.startswith("::")]
    assert len(annotations) == EXPECTED_COUNT
    assert {(re.search(r"title=([\w-]+)", a).group(1), int(re.search(r"line=(\d+)", a).group(1)))
            for a in annotations} == expected_lines
    assert sum(a.startswith("::error ") for a in annotations) == 40

    markdown = _check(bad_repo, BAD, "--format", "markdown").stdout
    for rule, line in expected_lines:
        assert re.search(rf"{re.escape(rule)}.*{re.escape(BAD)}:{line}\b", markdown), (rule, line)

    text = _check(bad_repo, BAD).stdout
    for rule, line, column in EXPECTED:
        assert f"{BAD}:{line}:{column}: {rule} " in text


def test_report_to_a_file_and_the_verdict_on_stderr(bad_repo: Path) -> None:
    result = _check(bad_repo, BAD, "--format", "sarif", "--output", "report.sarif")
    assert result.exit_code == 1 and result.stdout == ""
    assert json.loads((bad_repo / "report.sarif").read_text())["version"] == "2.1.0"
    assert result.stderr.startswith("mlgitops check failed: 40 blocking findings, 14 warnings, 0 waived")


def test_waived_findings_stay_in_the_report_and_a_valid_waiver_clears_the_gate(bad_repo: Path) -> None:
    spec = bad_repo / BAD
    spec.write_text(spec.read_text().replace("    expires: 2027-01-31\n",
                                             "    expires: 2027-01-31\n    approvedBy: security@example.com\n"))
    findings = json.loads(_check(bad_repo, BAD, "--format", "json").stdout)["findings"]
    digest = [f for f in findings if f["rule"] == "CKV_K8S_43"]
    assert len(digest) == 6 and all(f["waived"] for f in digest)
    assert not [f for f in findings if f["rule"] == "MLG-WAIVER-001"]


def test_today_judges_waiver_expiry_and_model_revalidation(tmp_path: Path) -> None:
    """In April 2027 the examples' digest waivers (until 2027-03-31) have expired, and the pinned versions of two
    systems are past their maxAgeDays (90 days after 2026-11-15 and 2026-11-20); support-llm has 180 days."""
    root = copy_examples(tmp_path / "repo")
    result = run_cli(root, "check", "--today", "2027-04-15", "--format", "json")
    assert result.exit_code == 1
    findings = json.loads(result.stdout)["findings"]
    expired = {f["system"] for f in findings if f["rule"] == "MLG-WAIVER-002"}
    assert expired == {"fraud-scorer", "recommender", "support-assistant"}
    stale = {(f["system"], f["env"]) for f in findings if f["rule"] == "MLG-MRM-002"}
    assert stale == {("fraud-scorer", "prod"), ("recommender", "prod")}


def test_in_process_and_opa_server_find_exactly_the_same(bad_repo: Path, opa_server: str) -> None:
    """The differential test: the whole library over the examples and the bad spec, on both engines."""
    ws = Workspace(bad_repo)
    in_process = run_gate(ws, None, date.fromisoformat(TODAY))
    on_server = run_gate(ws, opa_server, date.fromisoformat(TODAY))
    assert in_process.findings == on_server.findings
    assert len(in_process.findings) > EXPECTED_COUNT  # the examples' waived findings are in both too


def test_a_broken_policy_fails_closed_with_its_line(bad_repo: Path) -> None:
    rule = bad_repo / "policies" / "spec" / "mutable_image_tag.rego"
    rule.write_text(rule.read_text() + "\ndeny contains msg if {\n")
    result = _check(bad_repo)
    assert result.exit_code == 2 and result.stdout == ""
    assert re.match(r"policies/spec/mutable_image_tag\.rego:\d+:\d+: policy does not compile", result.stderr)


def test_an_unreachable_opa_server_fails_closed(bad_repo: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = _check(bad_repo, "--opa-url", url)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(f"--opa-url:1:1: OPA server at {url} is unreachable (Connection refused)")


def test_a_checkov_crash_fails_closed(bad_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from checkov.kubernetes.runner import Runner

    def crash(*args, **kwargs):
        raise RuntimeError("scanner exploded")

    monkeypatch.setattr(Runner, "run", crash)
    result = _check(bad_repo)
    assert result.exit_code == 2
    assert "Checkov failed: RuntimeError: scanner exploded" in result.stderr


def test_a_broken_checkov_configuration_fails_closed(bad_repo: Path) -> None:
    (bad_repo / "policies" / "checkov.yaml").write_text("severity: {CKV_K8S_43: urgent}\n")
    result = _check(bad_repo)
    assert result.exit_code == 2 and "policies/checkov.yaml:1:1: severity must be one of" in result.stderr


@pytest.mark.parametrize("rule, expect", [
    ("MLG-GPU-001", "GPU"), ("MLG-WAIVER-002", "expired"), ("CKV_K8S_43", "digest")])
def test_explain_shows_title_rationale_and_fix(rule: str, expect: str) -> None:
    result = run_cli(ROOT, "explain", rule)
    assert result.exit_code == 0
    assert result.stdout.startswith(rule) and "Why:" in result.stdout and "Fix:" in result.stdout
    assert expect.lower() in result.stdout.lower()


def test_explain_an_unknown_rule_is_a_usage_error() -> None:
    result = run_cli(ROOT, "explain", "MLG-NOPE-999")
    assert result.exit_code == 2 and "no rule 'MLG-NOPE-999'" in result.stderr
