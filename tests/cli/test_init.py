"""`mlgitops init`: a new platform repository compiles, passes the gate and its own up-to-date check out of the box."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from compiler import init
from compiler.errors import Code, SpecError
from compiler.init import scaffold
from compiler.pins import LOCK_FILE, lock_text, read_lock
from compiler.schema import json_schema
from helpers import ROOT, edit, run_cli, tree


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new platform repository, compiled (read-only for the tests that use it)."""
    target = tmp_path_factory.mktemp("init") / "platform"
    scaffold(target)
    result = run_cli(target, "compile")
    assert result.exit_code == 0, result.stderr
    return target


def test_a_new_repository_compiles_passes_check_and_is_up_to_date(platform: Path) -> None:
    assert sorted(p.relative_to(platform / "generated").as_posix() for p in (platform / "generated").iterdir()) == \
        ["dev", "prod"]
    assert (platform / "generated" / "prod" / "churn-predictor").is_dir()
    check = run_cli(platform, "check")
    assert check.exit_code == 0, check.stdout + check.stderr
    assert "0 findings" in check.stdout and "gate passed" in check.stdout
    assert "single-tenant" not in check.stdout, "the scaffold is multi-tenant from the start"
    up_to_date = run_cli(platform, "compile", "--check")
    assert up_to_date.exit_code == 0, up_to_date.stderr
    assert run_cli(platform, "validate").exit_code == 0


def test_the_example_needs_no_model_registry(platform: Path) -> None:
    spec = yaml.safe_load((platform / "spec" / "churn-predictor.yaml").read_text())
    assert "model" not in spec and spec["serving"]["image"]
    assert read_lock(platform) == {}, "nothing to pin, so compile never asks a registry"
    assert (platform / LOCK_FILE).read_text() == lock_text({}), "compile left the scaffold's (empty) lock as it was"


def test_the_example_is_realistic_and_smaller_than_ours(platform: Path) -> None:
    objects = tree(platform / "generated" / "prod" / "churn-predictor")
    kinds = {yaml.safe_load(content)["kind"] for content in objects.values()}
    assert {"Namespace", "Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "CronJob",
            "NetworkPolicy", "PrometheusRule", "ServiceAccount"} <= kinds
    ours = tree(ROOT / "generated" / "prod" / "fraud-scorer")
    assert len(objects) < len(ours)


def test_compile_check_catches_a_stale_generated(tmp_path: Path) -> None:
    target = tmp_path / "platform"
    scaffold(target)
    assert run_cli(target, "compile", "--check").exit_code == 1, "nothing compiled yet"
    assert run_cli(target, "compile").exit_code == 0
    edit(target, "spec/churn-predictor.yaml", "replicas: {min: 2, max: 6}", "replicas: {min: 3, max: 6}")
    stale = run_cli(target, "compile", "--check")
    assert stale.exit_code == 1
    assert "~ prod/churn-predictor/horizontalpodautoscaler-churn-predictor.yaml" in stale.stderr


def test_scaffold_writes_every_file_it_returns_and_nothing_else(tmp_path: Path) -> None:
    target = tmp_path / "new" / "platform"  # parents are created
    written = scaffold(target)
    assert written == sorted(written)
    assert {p.relative_to(target).as_posix() for p in written} == set(tree(target))
    expected = {"spec/churn-predictor.yaml", "environments/dev.yaml", "environments/prod.yaml",
                ".github/workflows/pull-request.yml", ".github/workflows/main.yml", ".pre-commit-config.yaml",
                "README.md", ".gitignore", LOCK_FILE, "schemas/mlsystem.schema.json",
                "schemas/environment.schema.json", "schemas/tenancy.schema.json", "policies/checkov.yaml",
                "tenancy.yaml", ".github/CODEOWNERS"}
    assert expected <= set(tree(target))


def test_scaffold_is_deterministic(tmp_path: Path) -> None:
    scaffold(tmp_path / "a")
    scaffold(tmp_path / "b")
    assert tree(tmp_path / "a") == tree(tmp_path / "b")


def test_the_policy_library_is_ours(tmp_path: Path) -> None:
    scaffold(tmp_path / "p")
    copied = tree(tmp_path / "p" / "policies")
    ours = {path: content for path, content in tree(ROOT / "policies").items()
            if path == "checkov.yaml" or re.match(r"^(spec|manifests|lib)/[^/]+\.rego$", path)}
    assert copied == ours
    assert any(path.endswith("_test.rego") for path in copied), "with the rules' tests, for `opa test policies/`"


def test_schemas_are_the_current_ones(tmp_path: Path) -> None:
    scaffold(tmp_path / "p")
    for name, kind in (("mlsystem", "MLSystem"), ("environment", "Environment"), ("tenancy", "Tenancy")):
        assert json.loads((tmp_path / "p" / "schemas" / f"{name}.schema.json").read_text()) == json_schema(kind)


def test_tool_location_reaches_workflows_hooks_and_readme(tmp_path: Path) -> None:
    target = tmp_path / "p"
    scaffold(target, tool_repository="acme-ml/mlgitops", tool_ref="v2.3.4")
    config = yaml.safe_load((target / ".pre-commit-config.yaml").read_text())
    (repo,) = config["repos"]
    assert (repo["repo"], repo["rev"]) == ("https://github.com/acme-ml/mlgitops", "v2.3.4")
    published = {hook["id"] for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert [hook["id"] for hook in repo["hooks"]] == sorted(published, reverse=True)
    for workflow in ("pull-request.yml", "main.yml"):
        text = (target / ".github" / "workflows" / workflow).read_text()
        assert "repository: acme-ml/mlgitops\n" in text and "ref: v2.3.4\n" in text and "@@" not in text
    assert "acme-ml/mlgitops" in (target / "README.md").read_text()
    assert ".mlgitops-tool/" in (target / ".gitignore").read_text().splitlines()


def test_default_tool_location_is_this_version() -> None:
    from compiler import __version__

    assert f"v{__version__}" == init.TOOL_REF


@pytest.mark.parametrize("content", ["file", "dir", "hidden"])
def test_a_non_empty_target_is_refused(tmp_path: Path, content: str) -> None:
    target = tmp_path / "platform"
    target.mkdir()
    {"file": lambda: (target / "notes.txt").write_text("x"), "dir": lambda: (target / "spec").mkdir(),
     "hidden": lambda: (target / ".env").write_text("x")}[content]()
    before = tree(target)
    with pytest.raises(SpecError) as error:
        scaffold(target)
    (diagnostic,) = error.value.diagnostics
    assert diagnostic.code == Code.USAGE and "not empty" in diagnostic.message
    assert tree(target) == before


def test_a_file_target_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "platform"
    target.write_text("x")
    with pytest.raises(SpecError) as error:
        scaffold(target)
    assert error.value.diagnostics[0].code == Code.USAGE


def test_an_empty_directory_or_a_fresh_git_repository_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert scaffold(tmp_path / "empty")
    (tmp_path / "git" / ".git").mkdir(parents=True)
    (tmp_path / "git" / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    assert scaffold(tmp_path / "git")
    assert (tmp_path / "git" / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"


@pytest.mark.parametrize("option", [{"tool_repository": "not a repo"}, {"tool_repository": "a/b/c"},
                                    {"tool_ref": "v1 --upload-pack=x"}, {"tool_ref": "../main"}])
def test_a_bad_tool_location_is_refused_before_writing(tmp_path: Path, option: dict) -> None:
    with pytest.raises(SpecError) as error:
        scaffold(tmp_path / "p", **option)
    assert error.value.diagnostics[0].code == Code.USAGE
    assert not (tmp_path / "p").exists()


def test_without_the_policy_library_nothing_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(init, "POLICIES", tmp_path / "nowhere" / "policies")
    with pytest.raises(SpecError) as error:
        scaffold(tmp_path / "p")
    assert "policy library" in error.value.diagnostics[0].message
    assert not (tmp_path / "p").exists()


def test_init_command_scaffolds_and_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    from helpers import run_cli

    result = run_cli(tmp_path, "init", "platform", "--tool-repo", "acme/mlgitops", "--tool-ref", "v1.2.3")
    assert result.exit_code == 0, result.stderr
    assert "next: cd platform && mlgitops compile" in result.stdout
    assert "acme/mlgitops" in (tmp_path / "platform/.github/workflows/pull-request.yml").read_text()
    again = run_cli(tmp_path, "init", "platform")
    assert again.exit_code == 2 and "Traceback" not in again.stderr


def test_one_field_change_in_an_init_repo_shows_its_manifests_and_its_cost_delta(tmp_path: Path) -> None:
    """Issue 7's done-when: `diff --base HEAD` shows exactly that change's effect and what it costs; a stale
    generated/ is caught by `compile --check`."""
    import subprocess

    from helpers import edit, run_cli

    assert run_cli(tmp_path, "-q", "init", "platform").exit_code == 0
    root = tmp_path / "platform"
    assert run_cli(root, "-q", "compile").exit_code == 0
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "base"], check=True)

    edit(root, "spec/churn-predictor.yaml", "  replicas: {min: 2, max: 6}\n", "  replicas: {min: 2, max: 8}\n")
    assert run_cli(root, "compile", "--check").exit_code == 1, "generated/ is now stale"
    result = run_cli(root, "diff", "--base", "HEAD")
    assert result.exit_code == 0, result.stderr
    changed = [line.split("(")[1].rstrip(")") for line in result.stdout.splitlines() if line.startswith("  ~ ")]
    assert changed == ["prod/churn-predictor/horizontalpodautoscaler-churn-predictor.yaml",
                       "prod/churn-predictor/resourcequota-churn-predictor.yaml"]  # dev overrides replicas
    assert "-  maxReplicas: 6\n+  maxReplicas: 8" in result.stdout
    assert "+    pods: 15" in result.stdout
    # 2 more replicas × 730 h × (0.5 core × $0.04 + 1 GiB × $0.005) = $36.50 a month at max
    assert "\n  prod/churn-predictor: +$0.00 → +$36.50\n" in result.stdout
    assert " 0 added, 0 removed, 2 changed" in result.stdout.splitlines()[-1]


def _codeowners(path: Path) -> dict[str, list[str]]:
    """CODEOWNERS as pattern → owners, in order (the last matching line wins)."""
    lines = [line.split() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    return {pattern: owners for pattern, *owners in lines}


@pytest.mark.parametrize("root", ["scaffold", "ours"])
def test_codeowners_give_the_platform_what_the_gate_trusts_and_each_team_its_specs(tmp_path: Path,
                                                                                   root: str) -> None:
    if root == "scaffold":
        scaffold(tmp_path / "p")
    repo = tmp_path / "p" if root == "scaffold" else ROOT
    owners = _codeowners(repo / ".github" / "CODEOWNERS")
    platform = owners["/tenancy.yaml"]
    assert all(owners[path] == platform for path in ("/policies/", "/environments/", "/.github/", "/spec/"))
    assert not any(p.startswith(("/generated", "/mlgitops.lock")) for p in owners), "checked by CI, not trusted"
    teams = yaml.safe_load((repo / "tenancy.yaml").read_text())["teams"]
    team_lines = {pattern: who for pattern, who in owners.items() if pattern.startswith("/spec/") and who != platform}
    assert team_lines == {f"/{spec}": [f"@example/{team}"] for team, grant in teams.items() for spec in grant["specs"]}
    assert list(owners).index("/spec/") < min(list(owners).index(p) for p in team_lines), "the teams' lines win"
