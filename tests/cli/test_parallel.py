"""Units across processes: the same output as one process, errors that cross back intact, lazy heavy imports."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from compiler.errors import Code, Diagnostic, Location, SpecError
from compiler.parallel import run_all
from helpers import ROOT, edit, run_cli, tree

TODAY = "2026-11-25"


def test_workers_give_the_same_output_as_one_process(repo: Path) -> None:
    reports, outputs = [], []
    for jobs in ("1", "2"):
        check = run_cli(repo, "--jobs", jobs, "--no-cache", "check", "--today", TODAY, "--format", "sarif")
        assert check.exit_code == 0, check.stderr
        reports.append(check.stdout)
        assert run_cli(repo, "--jobs", jobs, "--no-cache", "compile", "--offline").exit_code == 0
        outputs.append(tree(repo / "generated"))
    assert reports[0] == reports[1]
    assert outputs[0] == outputs[1]


def test_a_worker_failure_fails_the_run_closed(repo: Path) -> None:
    # A policy that fails at evaluation time, not at compile time: the error is raised inside a worker.
    (repo / "policies" / "spec" / "explodes.rego").write_text(
        "# METADATA\n# title: Explodes\n# description: Fails at evaluation.\n# custom:\n#   id: MLG-TST-001\n"
        "#   severity: high\n#   remediation: Remove it.\npackage mlgitops.spec.explodes\n\n"
        "deny contains msg if {\n\tmsg := sprintf(\"%v\", [1 / 0])\n}\n")
    result = run_cli(repo, "--jobs", "2", "--no-cache", "check", "--today", TODAY)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert "policy evaluation failed" in result.stderr
    assert "Traceback" not in result.stderr


def test_spec_errors_survive_pickling() -> None:
    error = SpecError([Diagnostic(Code.CHECKOV, Location("policies/checkov.yaml", 3, 4), "Checkov failed: x")])
    again = pickle.loads(pickle.dumps(error))
    assert isinstance(again, SpecError) and again.diagnostics == error.diagnostics


def _die(_: int) -> int:
    os._exit(9)  # a worker killed mid-unit (OOM killer, SIGKILL)


def test_a_dead_worker_fails_the_run() -> None:
    with pytest.raises(RuntimeError, match="a worker process died"):
        run_all(_die, list(range(4)), jobs=2)


def test_results_keep_the_order_of_the_items() -> None:
    assert run_all(abs, [-3, 2, -1, 0, -7], jobs=2) == [3, 2, 1, 0, 7]


# Run the CLI in a fresh interpreter, then list every module it imported (on the last line of stdout).
PROBE = """import json, sys
from compiler.cli import main
try:
    main({args!r})
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)))
"""


def _modules_after(*args: str, ci: str = "true") -> set[str]:
    done = subprocess.run([sys.executable, "-c", PROBE.format(args=list(args))], cwd=ROOT, capture_output=True,
                          text=True, check=False, env={**os.environ, "CI": ci})
    return {m.split(".")[0] for m in json.loads(done.stdout.strip().splitlines()[-1])}


HEAVY = {"checkov", "cdk8s", "jsii", "mlflow", "regorus", "opa_client"}


@pytest.mark.parametrize("args", [["--help"], ["validate"], ["check", "--help"], ["explain", "MLG-SUP-003"],
                                  ["status", "--env", "prod", "--kubeconfig", "missing"]])
def test_help_and_validate_import_nothing_heavy(args: list[str]) -> None:
    loaded = _modules_after(*args)
    assert "compiler" in loaded
    assert not loaded & HEAVY


def test_a_cached_check_starts_no_renderer_and_no_checkov(repo: Path) -> None:
    assert run_cli(repo, "check", "--today", TODAY, env={"CI": ""}).exit_code == 0
    edit(repo, "spec/recommender.yaml", "# Product", "# The product")  # a comment: a new spec hash, same findings
    args = ["--root", str(repo), "check", "--today", TODAY, "--format", "json"]
    for expect_heavy in (True, False):  # the comment edit is judged once, then everything is cached
        loaded = _modules_after(*args, ci="")
        assert ("checkov" in loaded) is expect_heavy and ("cdk8s" in loaded) is expect_heavy


def test_a_trusted_check_renders_every_unit_but_starts_no_checkov_when_nothing_changed(repo: Path) -> None:
    """Under CI the objects are rendered afresh; judging them is skipped where a gate entry is bound to them."""
    args = ["--root", str(repo), "check", "--today", TODAY, "--format", "json"]
    assert "checkov" in _modules_after(*args)
    loaded = _modules_after(*args)
    assert "cdk8s" in loaded and "checkov" not in loaded
