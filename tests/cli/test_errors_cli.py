"""End to end through the CLI: failed runs write nothing, unsafe names are refused, exit codes, `compile --check`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT, edit, line_of, run_cli, tree

REC = "spec/recommender.yaml"
DIAGNOSTIC = re.compile(r"^[^:\s]+:\d+:\d+: (\S+: )?.+ \[[EW]\d{3}\]$")


def bad_input(result, problems: int = 1) -> list[str]:
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert lines[-1] == f"mlgitops: {problems} problem{'s' if problems != 1 else ''} found; nothing was written"
    return lines[:-1]


@pytest.fixture
def compiled(repo: Path) -> Path:
    """The scratch repository after one successful compile."""
    result = run_cli(repo, "compile")
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout.splitlines()[-1].startswith("compiled 3 systems × 3 environments, ")
    return repo


# --- (a) a failed compile writes nothing --------------------------------------------------------------------------

def test_failed_compile_leaves_generated_untouched(compiled):
    generated = compiled / "generated"
    before = tree(generated)
    assert before and all(p.split("/")[0] in ("dev", "prod", "staging") for p in before)
    assert not list(compiled.glob(".mlgitops-staging-*"))  # no staging dir left behind

    edit(compiled, REC, "{min: 2, max: 5}", "{min: two, max: 5}")
    result = run_cli(compiled, "compile")
    [diagnostic] = bad_input(result)
    assert diagnostic.startswith(f"{REC}:{line_of(compiled, REC, '{min: two')}:14: serving.replicas.min: ")
    assert diagnostic.endswith("[E203]")
    assert tree(generated) == before
    assert sorted(p.name for p in generated.iterdir()) == ["dev", "prod", "staging"]


def test_failed_compile_of_one_environment_leaves_the_others_untouched(compiled):
    before = tree(compiled / "generated")
    edit(compiled, "environments/prod.yaml", "    replicas: {min: 2}\n", "    replicas: {min: 2}\n    port: 0\n")
    result = run_cli(compiled, "compile")
    [diagnostic] = bad_input(result)
    assert diagnostic.startswith("environments/prod.yaml:")
    assert diagnostic.endswith("[E203]")
    assert tree(compiled / "generated") == before


# --- (b) names cannot escape generated/ ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["../evil", "a/b", "../../../../tmp/evil", "..", "/abs"])
def test_system_name_that_would_escape_generated_is_refused(tmp_path, repo, name):
    before = sorted(tmp_path.rglob("*"))
    edit(repo, REC, "  name: recommender\n", f"  name: {name!r}\n".replace("'", '"'))
    result = run_cli(repo, "compile")
    [diagnostic] = bad_input(result)
    line = line_of(repo, REC, f'name: "{name}"')
    assert diagnostic.startswith(f"{REC}:{line}:3: metadata.name: {name!r} is not a DNS-1123 label")
    assert diagnostic.endswith("[E203]")
    assert sorted(tmp_path.rglob("*")) == before  # nothing created anywhere, inside the repo or beside it
    assert not (repo / "generated").exists()


def test_environment_name_that_would_escape_generated_is_refused(tmp_path, repo):
    env = "environments/dev.yaml"
    before = sorted(tmp_path.rglob("*"))
    edit(repo, env, "  name: dev\n", "  name: ../dev\n")
    result = run_cli(repo, "compile")
    [diagnostic] = bad_input(result)
    assert diagnostic.startswith(f"{env}:{line_of(repo, env, 'name: ../dev')}:3: metadata.name: '../dev' is not")
    assert diagnostic.endswith("[E203]")
    assert sorted(tmp_path.rglob("*")) == before


# --- (c) unknown --env --------------------------------------------------------------------------------------------

def test_compile_for_an_unknown_environment(repo):
    result = run_cli(repo, "compile", "--env", "nope")
    [diagnostic] = bad_input(result)
    assert diagnostic == "environments:1:1: no environment named 'nope'; environments are: dev, prod, staging [E301]"
    assert not (repo / "generated").exists()


def test_compile_for_one_known_and_one_unknown_environment(repo):
    result = run_cli(repo, "compile", "--env", "dev", "--env", "qa")
    [diagnostic] = bad_input(result)
    assert "no environment named 'qa'" in diagnostic
    assert not (repo / "generated").exists()


# --- (d) a real process -------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_cli_process_reports_one_line_diagnostics_and_exit_2(repo):
    edit(repo, REC, "  replicas: {min: 2, max: 5}", "  replica: {min: 2, max: 5}")
    edit(repo, REC, "latencyP95: 150ms", "latencyP95: fast")
    process = subprocess.run([sys.executable, "-m", "compiler", "--root", str(repo), "validate"],
                             capture_output=True, text=True, timeout=120, cwd=ROOT,
                             env={**os.environ, "CI": "true"})
    assert process.returncode == 2, process.stderr
    assert process.stdout == ""
    assert "Traceback" not in process.stderr
    lines = process.stderr.splitlines()
    assert lines[-1] == "mlgitops: 2 problems found; nothing was written"
    assert len(lines) == 3
    for line in lines[:-1]:
        assert DIAGNOSTIC.match(line), line
    assert lines[0].startswith(f"{REC}:{line_of(repo, REC, 'replica: {min')}:3: serving.replica: ")
    assert lines[0].endswith("did you mean 'replicas'? [E201]")
    assert lines[1].startswith(f"{REC}:{line_of(repo, REC, 'latencyP95: fast')}:5: serving.slo.latencyP95: ")
    assert lines[1].endswith("[E203]")


# --- (e) compile --check ------------------------------------------------------------------------------------------

def test_check_after_a_fresh_compile_is_clean(compiled):
    before = tree(compiled / "generated")
    result = run_cli(compiled, "compile", "--check")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[-1].startswith("up to date: 3 systems × 3 environments, ")
    assert result.stdout.splitlines()[-1].endswith(" match generated/")
    assert tree(compiled / "generated") == before


def test_check_names_a_hand_edited_file(compiled):
    generated = compiled / "generated"
    target = sorted((generated / "prod" / "recommender").iterdir())[0]
    relative = target.relative_to(generated).as_posix()
    target.write_text(target.read_text() + "# edited by hand\n")
    before = tree(generated)
    result = run_cli(compiled, "compile", "--check")
    assert result.exit_code == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert f"  ~ {relative}" in result.stderr.splitlines()
    assert re.search(r"^mlgitops: generated/ is stale \(1 files? differs?\); run `mlgitops compile` and commit "
                     r"the result$", result.stderr, re.M), result.stderr
    assert tree(generated) == before  # --check writes nothing


def test_check_names_removed_and_extra_files(compiled):
    generated = compiled / "generated"
    removed = sorted((generated / "dev" / "fraud-scorer").iterdir())[0]
    removed.unlink()
    (generated / "staging" / "stray.yaml").write_text("kind: Stray\n")
    result = run_cli(compiled, "compile", "--check")
    assert result.exit_code == 1
    stale = [line.strip() for line in result.stderr.splitlines() if line.startswith("  ")]
    assert stale == [f"+ {removed.relative_to(generated).as_posix()}", "- staging/stray.yaml"]


def test_check_after_a_spec_edit_names_only_that_system(compiled):
    edit(compiled, REC, "  port: 8080\n", "  port: 8081\n")
    result = run_cli(compiled, "compile", "--check")
    assert result.exit_code == 1, result.stderr
    stale = [line.strip() for line in result.stderr.splitlines() if line.startswith("  ")]
    assert stale, result.stderr
    assert all(re.fullmatch(r"~ (dev|prod|staging)/recommender/[a-z0-9.-]+\.yaml", line) for line in stale), stale
    assert {line.split("/")[0][2:] for line in stale} == {"dev", "prod", "staging"}


def test_check_without_any_output_is_stale(repo):
    result = run_cli(repo, "compile", "--check")
    assert result.exit_code == 1
    stale = [line.strip() for line in result.stderr.splitlines() if line.startswith("  ")]
    assert stale and all(line.startswith("+ ") for line in stale)
    assert not (repo / "generated").exists()


def test_check_with_broken_spec_is_bad_input_not_stale(compiled):
    edit(compiled, REC, "latencyP95: 150ms", "latencyP95: fast")
    bad_input(run_cli(compiled, "compile", "--check"))


# --- (f) no input -------------------------------------------------------------------------------------------------

def test_empty_spec_directory(repo):
    shutil.rmtree(repo / "spec")
    (repo / "spec").mkdir()
    (repo / "spec" / "README.md").write_text("not a spec\n")
    for command in ("validate", "compile"):
        result = run_cli(repo, command)
        assert bad_input(result) == ["spec:1:1: no spec files (*.yaml) found [E305]"]
    assert not (repo / "generated").exists()


def test_missing_spec_path(repo):
    result = run_cli(repo, "validate", str(repo / "spec" / "absent.yaml"))
    assert bad_input(result) == ["spec/absent.yaml:1:1: no such file or directory [E305]"]


def test_missing_environments_directory(repo):
    shutil.rmtree(repo / "environments")
    result = run_cli(repo, "validate")
    assert bad_input(result) == ["environments:1:1: no environments directory [E305]"]
