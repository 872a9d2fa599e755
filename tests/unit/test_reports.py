"""Report formats (`mlgitops check --format ...`) over one hand-built GateResult: exact content, schema validity,
well-formed XML, escaping, and byte-for-byte determinism whatever order the gate hands things over in."""

from __future__ import annotations

import hashlib
import json
import os
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import jsonschema
import pytest

from compiler.gate.finding import Finding, GateResult, Rule, Waiver
from compiler.report import FORMATS, github, json_report, junit, markdown, md, sarif, text
from helpers import ROOT

TODAY = date(2026, 3, 1)
DEPLOYMENT = "apps/v1/Deployment/ml-recommender/recommender"
SERVICE = "v1/Service/ml-fraud/fraud-scorer"

RULES = {rule.id: rule for rule in (
    Rule("MLG-SEC-004", "high", "Images are pinned by digest",
         "Mutable tags break reproducibility (EU AI Act Art. 12).", "Pin `image:` to `@sha256:...`."),
    Rule("MLG-REL-002", "medium", "Prod serving keeps two replicas", "One replica | no PDB means downtime.",
         "Set `serving.replicas.min: 2`."),
    Rule("MLG-WAIVER-003", "info", "A waiver still waives something", "Stale waivers hide violations.",
         "Remove the waiver.", "schema"),
    Rule("CKV_K8S_21", "medium", "The default namespace should not be used", "CIS Kubernetes 5.7.4",
         "Set a namespace.", "checkov"),
    Rule("MLG-GPU-001", "critical", "GPU workloads go through a queue", "", "", "rego"),
    Rule("MLG-OBS-001", "low", "Serving has an SLO", "", "", "rego"),
)}

BLOCKING_HIGH = Finding("MLG-SEC-004", "high", "rego", "image tag `latest` is mutable", "recommender", "prod",
                        "spec/recommender.yaml", 41, 7, DEPLOYMENT)
BLOCKING_MEDIUM = Finding("MLG-REL-002", "medium", "rego", "serving.replicas.min is 1; prod needs >= 2",
                          "recommender", "prod", "spec/recommender.yaml", 12, 5)
WARNING = Finding("CKV_K8S_21", "medium", "checkov", "50% of pods: a|b, c\nnext line <x>", "fraud-scorer", "dev",
                  "spec/fraud-scorer.yaml", 30, 3, SERVICE)
WAIVED = Finding("MLG-SEC-004", "high", "rego", "image tag `latest` is mutable", "recommender", "dev",
                 "spec/recommender.yaml", 41, 7, DEPLOYMENT, waived=True,
                 waiver_reason="legacy image until the v2 rollout")
INFO = Finding("MLG-WAIVER-003", "info", "schema", "waiver for MLG-GPU-001 matches no finding", "fraud-scorer",
               "prod", "spec/fraud-scorer.yaml", 60, 5)
FINDINGS = (BLOCKING_HIGH, BLOCKING_MEDIUM, WARNING, WAIVED, INFO)

WAIVERS = (
    Waiver("recommender", "MLG-SEC-004", "legacy image until the v2 rollout", "alice@example.com",
           TODAY + timedelta(days=10), "spec/recommender.yaml", 70, 5),
    Waiver("fraud-scorer", "MLG-GPU-001", "GPU pool pending", "bob@example.com", TODAY + timedelta(days=90),
           "spec/fraud-scorer.yaml", 60, 5),
    Waiver("fraud-scorer", "MLG-REL-002", "old", "bob@example.com", TODAY - timedelta(days=1),
           "spec/fraud-scorer.yaml", 64, 5),
)
UNITS = (("dev", "fraud-scorer"), ("dev", "recommender"), ("prod", "fraud-scorer"), ("prod", "recommender"))
FAIL_ON = {"dev": "high", "prod": "medium"}


def gate_result(findings=FINDINGS, rules=RULES, units=UNITS, waivers=WAIVERS) -> GateResult:
    return GateResult(tuple(findings), dict(rules), tuple(units), dict(FAIL_ON), tuple(waivers), TODAY)


RESULT = gate_result()
CLEAN = GateResult((), {}, (("prod", "recommender"),), {"prod": "medium"}, (), TODAY)


def test_registry_lists_every_format_in_cli_order():
    assert list(FORMATS) == ["text", "json", "sarif", "junit", "github", "markdown"]
    assert FORMATS["json"] is json_report.render and FORMATS["sarif"] is sarif.render


@pytest.mark.parametrize("name", list(FORMATS))
def test_every_format_is_deterministic_and_independent_of_input_order(name):
    render = FORMATS[name]
    shuffled = gate_result(findings=reversed(FINDINGS), rules=dict(reversed(list(RULES.items()))),
                           units=reversed(UNITS), waivers=reversed(WAIVERS))
    first = render(RESULT)
    assert first == render(RESULT) == render(shuffled)
    assert first.endswith("\n") and not first.endswith("\n\n")


# --- text ---------------------------------------------------------------------------------------------------------

def test_text_is_one_line_per_finding_by_place_then_a_summary():
    assert text.render(RESULT) == (
        "spec/fraud-scorer.yaml:30:3: CKV_K8S_21 [medium] 50% of pods: a|b, c next line <x> "
        f"(dev/fraud-scorer, {SERVICE})\n"
        "spec/fraud-scorer.yaml:60:5: MLG-WAIVER-003 [info] waiver for MLG-GPU-001 matches no finding "
        "(prod/fraud-scorer)\n"
        "spec/recommender.yaml:12:5: MLG-REL-002 [medium] serving.replicas.min is 1; prod needs >= 2 "
        "(prod/recommender)\n"
        f"spec/recommender.yaml:41:7: MLG-SEC-004 [high] image tag `latest` is mutable (dev/recommender, {DEPLOYMENT})"
        " (waived: legacy image until the v2 rollout)\n"
        f"spec/recommender.yaml:41:7: MLG-SEC-004 [high] image tag `latest` is mutable (prod/recommender, {DEPLOYMENT})"
        "\n"
        "5 findings (2 errors, 2 warnings, 1 waived) in 4 env/system units: gate failed\n")


def test_text_without_findings_passes():
    assert text.render(CLEAN) == "0 findings (0 errors, 0 warnings, 0 waived) in 1 env/system unit: gate passed\n"


def test_text_waived_without_reason():
    line = text.render(gate_result(findings=[replace(WAIVED, waiver_reason=None)])).splitlines()[0]
    assert line.endswith(f"(dev/recommender, {DEPLOYMENT}) (waived)")


# --- json ---------------------------------------------------------------------------------------------------------

def test_json_is_the_contract_shape_and_round_trips():
    rendered = json_report.render(RESULT)
    assert rendered.startswith('{\n  "findings": [\n    {\n      "rule": "CKV_K8S_21",')  # indent 2
    document = json.loads(rendered)
    assert list(document) == ["findings", "summary"]
    assert document["summary"] == {"errors": 2, "warnings": 2, "waived": 1} == RESULT.summary()
    assert list(document["summary"]) == ["errors", "warnings", "waived"]
    contract_keys = ["rule", "severity", "engine", "message", "system", "env", "file", "line", "column", "resource",
                     "waived"]
    assert all(list(f) == contract_keys for f in document["findings"])
    assert [(f["rule"], f["env"]) for f in document["findings"]] == [
        ("CKV_K8S_21", "dev"), ("MLG-WAIVER-003", "prod"), ("MLG-REL-002", "prod"), ("MLG-SEC-004", "dev"),
        ("MLG-SEC-004", "prod")]
    assert [Finding(**f).to_json() for f in document["findings"]] == document["findings"]
    assert {json.dumps(f, sort_keys=True) for f in document["findings"]} == {
        json.dumps(f.to_json(), sort_keys=True) for f in FINDINGS}
    assert document["findings"][0]["message"] == "50% of pods: a|b, c\nnext line <x>"


def test_json_without_findings():
    assert json.loads(json_report.render(CLEAN)) == {"findings": [], "summary": {"errors": 0, "warnings": 0,
                                                                                  "waived": 0}}


# --- sarif --------------------------------------------------------------------------------------------------------

# The official SARIF 2.1.0 schema, as Microsoft's SARIF SDK ships it in the npm package
# @microsoft/sarif-multitool-linux@5.7.0 (file `sarif-2.1.0.json`): the OASIS schema's definitions, declared as
# JSON Schema 2020-12, with the GUID patterns written as `format: uuid` and the `language` pattern's typo fixed.
SARIF_SCHEMA_SHA256 = "1c49a0f2b60444c71bb14878e21e0d882198eff4c539861b133093ad89ed798c"
SARIF_SCHEMA_PLACES = (ROOT / "tools" / "sarif" / "sarif-2.1.0.json",
                       ROOT / "tools" / "node" / "node_modules" / "@microsoft" / "sarif-multitool-linux"
                       / "sarif-2.1.0.json")


@pytest.fixture(scope="module")
def sarif_validator() -> jsonschema.protocols.Validator:
    places = [Path(os.environ["MLGITOPS_SARIF_SCHEMA"])] if os.environ.get("MLGITOPS_SARIF_SCHEMA") else []
    found = next((p for p in [*places, *SARIF_SCHEMA_PLACES] if p.is_file()), None)
    if found is None:
        pytest.fail("the SARIF 2.1.0 schema is not installed: `make setup` fetches it from npm "
                    "(@microsoft/sarif-multitool-linux@5.7.0, sarif-2.1.0.json); or set MLGITOPS_SARIF_SCHEMA")
    raw = found.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == SARIF_SCHEMA_SHA256, f"{found} is not the pinned SARIF schema"
    schema = json.loads(raw)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _sarif(result: GateResult = RESULT) -> dict:
    return json.loads(sarif.render(result))


def test_sarif_is_valid_against_the_official_schema(sarif_validator):
    for result in (RESULT, CLEAN):
        errors = sorted(sarif_validator.iter_errors(_sarif(result)), key=lambda e: list(e.absolute_path))
        assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]
    broken = _sarif()
    broken["runs"][0]["results"][0]["level"] = "fatal"
    broken["runs"][0]["results"][1]["suppressions"] = [{"kind": "waiver"}]
    assert len(list(sarif_validator.iter_errors(broken))) == 2  # the schema really is enforced


def test_sarif_describes_every_rule_for_github():
    run = _sarif()["runs"][0]
    assert _sarif()["version"] == "2.1.0" and len(_sarif()["runs"]) == 1
    driver = run["tool"]["driver"]
    assert driver["name"] == "mlgitops"
    assert [r["id"] for r in driver["rules"]] == sorted(RULES)
    by_id = {r["id"]: r for r in driver["rules"]}
    assert by_id["MLG-SEC-004"] == {
        "id": "MLG-SEC-004",
        "name": "MLG-SEC-004",
        "shortDescription": {"text": "Images are pinned by digest"},
        "fullDescription": {"text": "Mutable tags break reproducibility (EU AI Act Art. 12)."},
        "help": {"text": "Pin `image:` to `@sha256:...`.",
                 "markdown": "**Images are pinned by digest**\n\n**Why:** Mutable tags break reproducibility "
                             "(EU AI Act Art. 12).\n\n**Fix:** Pin `image:` to `@sha256:...`."},
        "defaultConfiguration": {"level": "error"},
        "properties": {"security-severity": "8.0", "severity": "high",
                       "tags": ["mlgitops", "rego", "sec", "security"]},
    }
    assert {r["id"]: (r["properties"]["security-severity"], r["defaultConfiguration"]["level"])
            for r in driver["rules"]} == {
        "MLG-GPU-001": ("9.5", "error"), "MLG-SEC-004": ("8.0", "error"), "MLG-REL-002": ("5.5", "warning"),
        "CKV_K8S_21": ("5.5", "warning"), "MLG-OBS-001": ("3.0", "warning"), "MLG-WAIVER-003": ("1.0", "note")}
    assert "checkov" in by_id["CKV_K8S_21"]["properties"]["tags"]
    assert by_id["MLG-GPU-001"]["fullDescription"] == {"text": "GPU workloads go through a queue"}


def test_sarif_results_point_at_the_spec_line():
    run = _sarif()["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    assert [(r["ruleId"], r["properties"]["env"], r["level"]) for r in results] == [
        ("CKV_K8S_21", "dev", "warning"), ("MLG-WAIVER-003", "prod", "note"), ("MLG-REL-002", "prod", "error"),
        ("MLG-SEC-004", "dev", "warning"), ("MLG-SEC-004", "prod", "error")]
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in results)
    prod = results[4]
    assert prod["message"] == {"text": f"image tag `latest` is mutable (prod/recommender, {DEPLOYMENT})"}
    assert prod["locations"] == [{
        "physicalLocation": {"artifactLocation": {"uri": "spec/recommender.yaml", "uriBaseId": "%SRCROOT%"},
                             "region": {"startLine": 41, "startColumn": 7}},
        "logicalLocations": [{"fullyQualifiedName": DEPLOYMENT, "kind": "resource"}]}]
    assert "suppressions" not in prod and prod["properties"]["blocking"] is True
    assert results[2]["locations"][0]["physicalLocation"]["region"] == {"startLine": 12, "startColumn": 5}
    assert "logicalLocations" not in results[2]["locations"][0]


def test_sarif_waived_finding_is_an_external_suppression():
    waived = [r for r in _sarif()["runs"][0]["results"] if "suppressions" in r]
    assert len(waived) == 1
    assert waived[0]["suppressions"] == [{
        "kind": "external", "justification": "legacy image until the v2 rollout",
        "location": {"physicalLocation": {
            "artifactLocation": {"uri": "spec/recommender.yaml", "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": 70, "startColumn": 5}}},
        "properties": {"approvedBy": "alice@example.com", "expires": "2026-03-11"}}]


def test_sarif_fingerprints_are_stable_across_line_moves_and_distinct_per_finding():
    prints = [r["partialFingerprints"]["mlgitops/v1"] for r in _sarif()["runs"][0]["results"]]
    assert len(set(prints)) == len(prints)
    assert all(len(p) == 64 for p in prints)
    moved = gate_result(findings=[replace(f, line=f.line + 3, column=1) for f in FINDINGS])
    assert sorted(r["partialFingerprints"]["mlgitops/v1"] for r in _sarif(moved)["runs"][0]["results"]) == \
        sorted(prints)
    expected = hashlib.sha256("\0".join(("MLG-SEC-004", "recommender", "prod", DEPLOYMENT,
                                         "image tag `latest` is mutable")).encode()).hexdigest()
    assert prints[4] == expected


def test_sarif_unknown_rule_and_awkward_paths_still_resolve(sarif_validator):
    odd = Finding("CKV_K8S_99", "low", "checkov", "x", "recommender", "prod", "spec/my spec.yaml", 0, 0)
    document = _sarif(gate_result(findings=[odd]))
    sarif_validator.validate(document)
    run = document["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == sorted([*RULES, "CKV_K8S_99"])
    assert rules[run["results"][0]["ruleIndex"]] == {
        "id": "CKV_K8S_99", "name": "CKV_K8S_99", "shortDescription": {"text": "CKV_K8S_99"},
        "fullDescription": {"text": "CKV_K8S_99"}, "help": {"text": "CKV_K8S_99", "markdown": "**CKV_K8S_99**"},
        "defaultConfiguration": {"level": "warning"},
        "properties": {"security-severity": "3.0", "severity": "low", "tags": ["checkov", "mlgitops", "security"]}}
    assert run["results"][0]["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "spec/my%20spec.yaml", "uriBaseId": "%SRCROOT%"}}  # no region for line 0


# --- junit --------------------------------------------------------------------------------------------------------

def test_junit_is_one_suite_per_unit_with_failures_and_skips():
    rendered = junit.render(RESULT)
    assert rendered.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ')
    root = ET.fromstring(rendered)
    assert root.tag == "testsuites"
    assert {k: root.get(k) for k in ("tests", "failures", "errors", "skipped")} == {
        "tests": "5", "failures": "2", "errors": "0", "skipped": "1"}
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["mlgitops.dev.fraud-scorer", "mlgitops.dev.recommender",
                                               "mlgitops.prod.fraud-scorer", "mlgitops.prod.recommender"]
    assert [(s.get("tests"), s.get("failures"), s.get("skipped")) for s in suites] == [
        ("1", "0", "0"), ("1", "0", "1"), ("1", "0", "0"), ("2", "2", "0")]
    assert len(root.findall(".//failure")) == 2 and len(root.findall(".//skipped")) == 1
    prod = suites[3]
    assert {p.get("name"): p.get("value") for p in prod.find("properties")} == {
        "env": "prod", "system": "recommender", "failOn": "medium"}
    cases = prod.findall("testcase")
    assert [c.get("name") for c in cases] == ["MLG-REL-002 spec/recommender.yaml:12:5",
                                              f"MLG-SEC-004 spec/recommender.yaml:41:7 {DEPLOYMENT}"]
    assert all(c.get("classname") == "mlgitops.prod.recommender" for c in cases)
    assert (cases[1].get("file"), cases[1].get("line")) == ("spec/recommender.yaml", "41")
    failure = cases[1].find("failure")
    assert (failure.get("type"), failure.get("message")) == ("MLG-SEC-004", "image tag `latest` is mutable")
    assert failure.text == (f"MLG-SEC-004 [high] image tag `latest` is mutable\n"
                            f"at spec/recommender.yaml:41:7 (prod/recommender, {DEPLOYMENT})\n"
                            "To fix: Pin `image:` to `@sha256:...`.")
    skipped = suites[1].find("testcase/skipped")
    assert skipped.get("message") == "waived: legacy image until the v2 rollout"
    warning = suites[0].find("testcase")
    assert warning.find("failure") is None and warning.find("skipped") is None
    assert warning.find("system-out").text.startswith("CKV_K8S_21 [medium] 50% of pods: a|b, c next line <x>")


def test_junit_clean_unit_passes_and_awkward_text_stays_well_formed():
    clean = ET.fromstring(junit.render(CLEAN))
    assert [(c.get("classname"), c.get("name")) for c in clean.iter("testcase")] == [
        ("mlgitops.prod.recommender", "policy gate")]
    assert clean.get("tests") == "1" and clean.get("failures") == "0"
    nasty = replace(BLOCKING_HIGH, message='esc \x1b[31m & <tag> "quoted"\x00')
    twice = [nasty, replace(nasty, message="other")]
    root = ET.fromstring(junit.render(gate_result(findings=twice)))
    failure = root.find(".//failure")
    assert failure.get("message") == 'esc \ufffd[31m & <tag> "quoted"\ufffd'
    assert [c.get("name") for c in root.iter("testcase")][-2:] == [
        f"MLG-SEC-004 spec/recommender.yaml:41:7 {DEPLOYMENT}",
        f"MLG-SEC-004 spec/recommender.yaml:41:7 {DEPLOYMENT} #2"]


# --- github -------------------------------------------------------------------------------------------------------

def test_github_annotations_blocking_first_then_summary():
    assert github.render(RESULT).splitlines() == [
        "::error file=spec/recommender.yaml,line=12,col=5,title=MLG-REL-002::[medium] serving.replicas.min is 1; "
        "prod needs >= 2 (prod/recommender)",
        "::error file=spec/recommender.yaml,line=41,col=7,title=MLG-SEC-004::[high] image tag `latest` is mutable "
        f"(prod/recommender, {DEPLOYMENT})",
        "::warning file=spec/fraud-scorer.yaml,line=30,col=3,title=CKV_K8S_21::[medium] 50%25 of pods: a|b, "
        f"c%0Anext line <x> (dev/fraud-scorer, {SERVICE})",
        "::notice file=spec/fraud-scorer.yaml,line=60,col=5,title=MLG-WAIVER-003::[info] waiver for MLG-GPU-001 "
        "matches no finding (prod/fraud-scorer)",
        "::notice file=spec/recommender.yaml,line=41,col=7,title=MLG-SEC-004 (waived)::[high] image tag `latest` "
        f"is mutable (dev/recommender, {DEPLOYMENT}) (waived: legacy image until the v2 rollout)",
        "mlgitops: 5 findings (2 errors, 2 warnings, 1 waived) in 4 env/system units: gate failed",
    ]


def test_github_escaping_follows_the_actions_toolkit():
    assert github.escape_data("50% a:b,c\r\nd") == "50%25 a:b,c%0D%0Ad"
    assert github.escape_property("50% a:b,c\r\nd") == "50%25 a%3Ab%2Cc%0D%0Ad"
    assert github.escape_data("%0A") == "%250A"  # a literal escape sequence is not decoded by the runner
    odd = replace(BLOCKING_HIGH, file="spec/a,b:c.yaml", rule="R:1,2", message="line1\r\nline2 100%")
    assert github.render(gate_result(findings=[odd])).splitlines()[0] == (
        "::error file=spec/a%2Cb%3Ac.yaml,line=41,col=7,title=R%3A1%2C2::[high] line1%0D%0Aline2 100%25 "
        f"(prod/recommender, {DEPLOYMENT})")


def test_github_clean_run_is_only_the_summary():
    assert github.render(CLEAN) == (
        "mlgitops: 0 findings (0 errors, 0 warnings, 0 waived) in 1 env/system unit: gate passed\n")


# --- markdown -----------------------------------------------------------------------------------------------------

def test_markdown_pr_comment():
    assert markdown.render(RESULT).splitlines() == [
        "<!-- mlgitops-report -->",
        "## mlgitops policy gate: ❌ **failed**",
        "",
        "2 blocking findings · 2 warnings · 1 waived — 4 env/system units checked, 1 failing.",
        "",
        "| system | env | failOn | result | blocking | warnings | waived |",
        "|---|---|---|---|--:|--:|--:|",
        "| fraud-scorer | dev | high | ✅ pass | 0 | 1 | 0 |",
        "| fraud-scorer | prod | medium | ✅ pass | 0 | 1 | 0 |",
        "| recommender | dev | high | ✅ pass | 0 | 0 | 1 |",
        "| recommender | prod | medium | ❌ fail | 2 | 0 | 0 |",
        "",
        "### Findings",
        "",
        "|  | rule | severity | where | env/system | message |",
        "|---|---|---|---|---|---|",
        "| ❌ | `MLG-SEC-004` | high | `spec/recommender.yaml:41` | prod/recommender | image tag `latest` is mutable |",
        "| ❌ | `MLG-REL-002` | medium | `spec/recommender.yaml:12` | prod/recommender | "
        "serving.replicas.min is 1; prod needs >= 2 |",
        "| ⚠️ | `CKV_K8S_21` | medium | `spec/fraud-scorer.yaml:30` | dev/fraud-scorer | "
        "50% of pods: a\\|b, c<br>next line &lt;x> |",
        "| ℹ️ | `MLG-WAIVER-003` | info | `spec/fraud-scorer.yaml:60` | prod/fraud-scorer | "
        "waiver for MLG-GPU-001 matches no finding |",
        "",
        "### Waived findings",
        "",
        "| rule | severity | where | env/system | reason |",
        "|---|---|---|---|---|",
        "| `MLG-SEC-004` | high | `spec/recommender.yaml:41` | dev/recommender | legacy image until the v2 rollout |",
        "",
        "### Waivers expiring within 30 days",
        "",
        "| rule | system | expires | approved by | where |",
        "|---|---|---|---|---|",
        "| `MLG-SEC-004` | recommender | 2026-03-11 (in 10 days) | alice@example.com | `spec/recommender.yaml:70` |",
    ]


def test_markdown_clean_run_and_cell_escaping():
    assert markdown.render(CLEAN) == (
        "<!-- mlgitops-report -->\n## mlgitops policy gate: ✅ **passed**\n\n"
        "0 blocking findings · 0 warnings · 0 waived — 1 env/system unit checked, 0 failing.\n\n"
        "| system | env | failOn | result | blocking | warnings | waived |\n|---|---|---|---|--:|--:|--:|\n"
        "| recommender | prod | medium | ✅ pass | 0 | 0 | 0 |\n")
    assert md.cell("a|b\nc & <d>") == "a\\|b<br>c &amp; &lt;d>"
    assert md.code("spec/a|b.yaml") == "`spec/a\\|b.yaml`"
    row = [line for line in markdown.render(gate_result(findings=[replace(WARNING, file="spec/x|y.yaml")]))
           .splitlines() if "CKV_K8S_21" in line][0]
    assert row.count(" | ") == 5  # the escaped pipes do not add columns
    assert "`spec/x\\|y.yaml:30`" in row


def test_markdown_caps_long_tables_to_fit_a_comment():
    many = [replace(WARNING, line=n) for n in range(1, markdown.MAX_ROWS + 3)]
    lines = markdown.render(gate_result(findings=many)).splitlines()
    assert sum(line.startswith("| ⚠️ | `CKV_K8S_21`") for line in lines) == markdown.MAX_ROWS
    assert "…and 2 more; see the full report (`mlgitops check --format text`)." in lines


# --- notes: what the run could not verify, said once in every format ------------------------------------------------

NOTE = "single-tenant repository: no tenancy.yaml, so no team's grants are checked"


@pytest.mark.parametrize("name", list(FORMATS))
def test_every_format_says_each_note_once(name):
    noted = replace(RESULT, notes=(NOTE,))
    assert FORMATS[name](noted).count("single-tenant repository") == 1
    assert "single-tenant" not in FORMATS[name](RESULT)


def test_notes_in_each_format_where_its_readers_look(sarif_validator):
    noted = replace(CLEAN, notes=(NOTE,))
    assert text.render(noted).splitlines() == [
        f"note: {NOTE}", "0 findings (0 errors, 0 warnings, 0 waived) in 1 env/system unit: gate passed"]
    assert json.loads(json_report.render(noted))["notes"] == [NOTE]
    log = json.loads(sarif.render(noted))
    assert log["runs"][0]["invocations"] == [{"executionSuccessful": True, "toolExecutionNotifications": [
        {"level": "note", "message": {"text": NOTE}}]}]
    assert list(sarif_validator.iter_errors(log)) == []
    assert f"::notice title=mlgitops::{NOTE}" in github.render(noted).splitlines()
    assert f"> **Note:** {NOTE}" in markdown.render(noted).splitlines()
    suite = ET.fromstring(junit.render(noted)).find("testsuite[@name='mlgitops.notes']")
    assert suite.find("system-out").text == NOTE and suite.get("tests") == "1"


@pytest.mark.parametrize("name", ["json", "sarif"])
def test_merged_shards_keep_the_runs_notes_once(tmp_path, name):
    from compiler.report.shards import merge_reports

    shards = [replace(RESULT, findings=tuple(f for f in FINDINGS if f.system == system), notes=(NOTE,), shard=(i, 2))
              for i, system in ((1, "fraud-scorer"), (2, "recommender"))]
    paths = []
    for result in shards:
        paths.append(tmp_path / f"shard-{result.shard[0]}.{name}")
        paths[-1].write_text(FORMATS[name](result))
    merged, _ = merge_reports(paths, tmp_path)
    assert merged == FORMATS[name](replace(RESULT, notes=(NOTE,)))


def test_markdown_fence_outlasts_the_backticks_inside():
    assert md.fence("no ticks") == "```"
    assert md.fence("a ```` run") == "`````"
