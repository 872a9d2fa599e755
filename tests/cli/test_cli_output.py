"""What `compile` and `validate` print: a line per system × environment, a summary, quiet and verbose modes."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from helpers import ROOT, edit, run_cli, tree


def test_compile_prints_a_line_per_system_and_environment_and_a_summary(repo: Path) -> None:
    result = run_cli(repo, "compile")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    units = [line for line in lines if line.startswith("  ")]
    assert len(units) == 9 + 3, "a line per system and environment, and one per environment's Argo CD apps"
    assert all(re.fullmatch(r"  (dev|staging|prod)/[a-z_-]+: \d+ objects? \(\d+\.\d\ds\)", u) for u in units), units
    written = len(tree(repo / "generated"))
    assert re.fullmatch(rf"compiled 3 systems × 3 environments, {written} objects into generated/ in \d+\.\ds",
                        lines[-1])
    assert "\r" not in result.stderr, "no progress line under CI=true"
    assert result.stderr == "", "every model is pinned from the lock: nothing to warn about"


def test_quiet_prints_only_errors(repo: Path) -> None:
    result = run_cli(repo, "-q", "compile")
    assert result.exit_code == 0 and result.stdout == "" and result.stderr == ""
    (repo / "spec" / "recommender.yaml").write_text("kind: [\n")
    broken = run_cli(repo, "-q", "compile")
    assert broken.exit_code == 2 and broken.stdout == ""
    assert broken.stderr.startswith("spec/recommender.yaml:2:1: invalid YAML")


def test_quiet_and_verbose_work_after_the_command_too(repo: Path) -> None:
    quiet = run_cli(repo, "compile", "-q")
    assert quiet.exit_code == 0 and quiet.stdout == "" and quiet.stderr == ""
    verbose = run_cli(repo, "validate", "--verbose")
    assert verbose.exit_code == 0 and verbose.stdout.startswith("ok: 3 systems")


def test_verbose_lists_every_object(repo: Path) -> None:
    result = run_cli(repo, "-v", "compile", "--env", "prod", "spec/fraud-scorer.yaml")
    assert result.exit_code == 0
    assert "    keda.sh/v1alpha1 ScaledObject fraud-scorer" in result.stdout
    assert "    apps/v1 Deployment fraud-scorer" in result.stdout
    assert re.search(r"^compiled 1 system × 1 environment, \d+ objects", result.stdout, re.MULTILINE)
    assert result.stdout.count("\n    ") == int(re.search(r"(\d+) objects \(", result.stdout).group(1))


def test_validate_summary(repo: Path) -> None:
    result = run_cli(repo, "validate")
    assert result.exit_code == 0
    assert result.stdout == "ok: 3 systems valid in 3 environments (dev, prod, staging)\n"


def test_compile_of_some_specs_leaves_other_systems_alone(repo: Path) -> None:
    assert run_cli(repo, "compile").exit_code == 0
    stale = repo / "generated" / "prod" / "recommender" / "namespace-ml-recommender.yaml"
    stale.write_text("edited by hand\n")
    assert run_cli(repo, "compile", "spec/fraud-scorer.yaml").exit_code == 0
    assert stale.read_text() == "edited by hand\n"
    check = run_cli(repo, "compile", "--check")
    assert check.exit_code == 1
    assert "  ~ prod/recommender/namespace-ml-recommender.yaml" in check.stderr


def test_a_deleted_spec_is_pruned_from_the_output(repo: Path) -> None:
    assert run_cli(repo, "compile").exit_code == 0
    (repo / "spec" / "support-assistant.yaml").unlink()
    check = run_cli(repo, "compile", "--check")
    assert check.exit_code == 1 and "  - prod/support-assistant/job-support-assistant-train-" in check.stderr
    assert run_cli(repo, "compile").exit_code == 0
    assert sorted(p.name for p in (repo / "generated" / "prod").iterdir()) == ["_argocd", "fraud-scorer",
                                                                                "recommender"]
    assert not (repo / "generated/prod/_argocd/application-prod-support-assistant.yaml").exists()
    assert not list(repo.glob(".mlgitops-staging-*")), "no staging directory is left behind"


def test_compile_as_a_process_runs_cdk8s_on_a_supported_node(repo: Path) -> None:
    """The package itself points jsii at the Node the set-up installed: no end-of-life banner, whatever PATH has."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "JSII_NODE"} | {"CI": "true"}
    result = subprocess.run([sys.executable, "-m", "compiler", "--root", str(repo), "compile", "--env", "dev"],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "end-of-life" not in result.stderr and "not supported" not in result.stderr
    assert re.search(r"^compiled 3 systems × 1 environment, \d+ objects", result.stdout, re.MULTILINE)


def test_relative_paths_start_at_the_root(repo: Path) -> None:
    """`--root` works like `git -C`: spec/x.yaml means the root's spec, not one under the current directory."""
    edit(repo, "spec/fraud-scorer.yaml", "  port: 9000\n", "  port: 9100\n")
    result = run_cli(repo, "compile", "spec/fraud-scorer.yaml", "--env", "prod", "--out", "out")
    assert result.exit_code == 0, result.stderr
    deployment = (repo / "out" / "prod" / "fraud-scorer" / "deployment-fraud-scorer.yaml").read_text()
    assert "containerPort: 9100" in deployment


def test_diff_command_shows_one_field_change_against_head(repo: Path) -> None:
    import subprocess

    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "base"], check=True)
    edit(repo, "spec/recommender.yaml", "  replicas: {min: 2, max: 5}\n", "  replicas: {min: 2, max: 7}\n")
    text = run_cli(repo, "diff", "--env", "prod")
    assert text.exit_code == 0, text.stderr
    assert "-    maxReplicas: 5\n+    maxReplicas: 7" in text.stdout
    markdown = run_cli(repo, "diff", "--base", "HEAD", "--format", "markdown", "--output", "diff.md")
    assert markdown.exit_code == 0 and "<details>" in (repo / "diff.md").read_text()
    assert run_cli(repo, "diff", "--base", "no-such-ref").exit_code == 2


def test_every_line_and_file_of_the_cli_goes_through_its_console() -> None:
    """One place decides where output goes and what -q drops: `Console` alone echoes, prints or writes a file."""
    module = ast.parse((ROOT / "compiler" / "cli.py").read_text(encoding="utf-8"))
    [console] = [node for node in module.body if isinstance(node, ast.ClassDef) and node.name == "Console"]
    inside = {id(node) for node in ast.walk(console)}
    output = {"echo", "secho", "write_text", "write_bytes", "unlink", "stdout", "stderr"}
    stray = [node.lineno for node in ast.walk(module) if id(node) not in inside
             and (getattr(node, "attr", None) in output or getattr(node, "id", None) == "print")]
    assert stray == []
