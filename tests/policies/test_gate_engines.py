"""The Rego engines: in-process regorus and a real OPA server, on small policy libraries; broken ones fail closed."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.errors import SpecError
from compiler.gate.policies import load_library
from compiler.gate.rego import InProcessEngine, OpaServerEngine, Violation
from helpers import free_port

RULE = '''# METADATA
# title: Replicas are at least two in prod
# description: Availability of the serving path.
# custom:
#   id: MLG-TST-001
#   severity: high
#   remediation: Set serving.replicas.min to 2.
package mlgitops.spec.too_few_replicas

deny contains {"msg": sprintf("min is %d", [input.system.serving.replicas.min]), "field": "serving.replicas.min"} if {
  input.environment.tier == "prod"
  input.system.serving.replicas.min < 2
}

warn contains "no SLO" if input.system.serving.slo == null
'''


def write_library(root: Path, rule: str = RULE) -> Path:
    (root / "policies" / "spec").mkdir(parents=True)
    (root / "policies" / "spec" / "too_few_replicas.rego").write_text(rule)
    return root


def docs() -> list[dict]:
    system = {"serving": {"replicas": {"min": 1}, "slo": None}}
    return [{"system": system, "environment": {"tier": "prod"}},
            {"system": system, "environment": {"tier": "dev"}},
            {"system": {"serving": {"replicas": {"min": 3}, "slo": {"availability": "99%"}}},
             "environment": {"tier": "prod"}}]


EXPECTED = [
    [Violation("mlgitops.spec.too_few_replicas", "deny", "min is 1", "serving.replicas.min"),
     Violation("mlgitops.spec.too_few_replicas", "warn", "no SLO", None)],
    [Violation("mlgitops.spec.too_few_replicas", "warn", "no SLO", None)],
    [],
]


def test_in_process_engine_returns_deny_and_warn_per_document(tmp_path: Path) -> None:
    library = load_library(write_library(tmp_path) / "policies", tmp_path)
    assert library.rules()["MLG-TST-001"].severity == "high"
    assert InProcessEngine(library).evaluate("spec", docs()) == EXPECTED


def test_a_policy_that_does_not_compile_is_an_error_at_its_line(tmp_path: Path) -> None:
    broken = RULE.replace("input.system.serving.replicas.min < 2\n}", "input.system.serving.replicas.min < \n}")
    library = load_library(write_library(tmp_path, broken) / "policies", tmp_path)
    with pytest.raises(SpecError) as info:
        InProcessEngine(library)
    [diagnostic] = info.value.diagnostics
    assert str(diagnostic).startswith("policies/spec/too_few_replicas.rego:13:")
    assert "policy does not compile" in diagnostic.message and diagnostic.code.value == "E601"


@pytest.mark.parametrize("metadata, problem", [
    ("# METADATA\n# title: x\n", "METADATA lacks description, custom.id, custom.severity, custom.remediation"),
    ("", "no `# METADATA` block"),
    (RULE.split("package")[0].replace("severity: high", "severity: urgent"), "severity be one of"),
])
def test_a_rule_without_complete_metadata_is_refused(tmp_path: Path, metadata: str, problem: str) -> None:
    write_library(tmp_path, metadata + "package mlgitops.spec.too_few_replicas\n" + RULE.split("too_few_replicas\n")[1])
    with pytest.raises(SpecError) as info:
        load_library(tmp_path / "policies", tmp_path)
    assert problem in str(info.value)


def test_two_rules_with_one_id_are_refused(tmp_path: Path) -> None:
    write_library(tmp_path)
    (tmp_path / "policies/spec/copy.rego").write_text(RULE.replace("too_few_replicas", "copy"))
    with pytest.raises(SpecError, match="rule id MLG-TST-001 is also used by"):
        load_library(tmp_path / "policies", tmp_path)


def test_opa_server_engine_gives_the_same_violations(tmp_path: Path, opa_server: str) -> None:
    library = load_library(write_library(tmp_path) / "policies", tmp_path)
    assert OpaServerEngine(library, opa_server).evaluate("spec", docs()) == EXPECTED


def test_opa_server_reports_a_broken_policy_at_its_line(tmp_path: Path, opa_server: str) -> None:
    broken = RULE.replace("input.system.serving.replicas.min < 2\n}", "input.system.serving.replicas.min < \n}")
    library = load_library(write_library(tmp_path, broken) / "policies", tmp_path)
    with pytest.raises(SpecError) as info:
        OpaServerEngine(library, opa_server)
    assert str(info.value).startswith("policies/spec/too_few_replicas.rego:13")


def test_an_unreachable_opa_server_fails_closed(tmp_path: Path) -> None:
    library = load_library(write_library(tmp_path) / "policies", tmp_path)
    with pytest.raises(SpecError, match="OPA server at http://127.0.0.1:.* is unreachable"):
        OpaServerEngine(library, f"http://127.0.0.1:{free_port()}", timeout=1)


def test_an_opa_server_with_foreign_rules_is_refused(tmp_path: Path, opa_server: str) -> None:
    library = load_library(write_library(tmp_path) / "policies", tmp_path)
    OpaServerEngine(library, opa_server)
    other = tmp_path / "other"
    (other / "policies" / "spec").mkdir(parents=True)
    (other / "policies" / "spec" / "copy.rego").write_text(RULE.replace("too_few_replicas", "copy"))
    engine = OpaServerEngine(load_library(other / "policies", other), opa_server)
    with pytest.raises(SpecError, match="holds rule packages that are not in policies/: mlgitops.spec.too_few"):
        engine.evaluate("spec", docs())
