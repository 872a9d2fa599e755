"""`generated/` is only what the specs produce: `compile --check` names every other path under it, anywhere, links
included (never followed), and a compile removes them; a partial run answers for its own folders and for whatever
is no environment's folder."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from helpers import copy_examples, run_cli, tree

FRAUD = "spec/fraud-scorer.yaml"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The examples compiled once (cache warm); each test works on a copy."""
    root = copy_examples(tmp_path_factory.mktemp("strays") / "repo")
    assert run_cli(root, "compile", "--offline").exit_code == 0
    return root


@pytest.fixture
def repo(template: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "repo"
    shutil.copytree(template, copy, symlinks=True)
    return copy


def listing(directory: Path) -> list[str]:
    """Every path under a directory, directories and links included, as `ls -R` would name them."""
    return sorted(p.relative_to(directory).as_posix() + ("@" if p.is_symlink() else "/" if p.is_dir() else "")
                  for p in directory.rglob("*"))


def stale_lines(repo: Path, *args: str) -> list[str]:
    result = run_cli(repo, "compile", "--check", *args)
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return [line[2:] for line in result.stderr.splitlines() if line.startswith("  ")]


def assert_compile_restores(repo: Path, expected: list[str]) -> None:
    """A full compile leaves exactly what the specs produce, and `--check` then passes."""
    assert run_cli(repo, "compile", "--offline").exit_code == 0
    assert listing(repo / "generated") == expected
    assert run_cli(repo, "compile", "--check").exit_code == 0


def write(path: Path, text: str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: evil}\n") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.mark.parametrize(("stray", "line"), [
    ("evil.yaml", "- evil.yaml"),  # beside the environment folders
    ("dev/evil.yaml", "- dev/evil.yaml"),  # beside the system folders
    ("dev/_argocd/evil.yaml", "- dev/_argocd/evil.yaml"),  # where the root app syncs from
    ("dev/recommender/evil.json", "- dev/recommender/evil.json"),  # inside a system's folder
    ("dev/ghost/deployment-ghost.yaml", "- dev/ghost/deployment-ghost.yaml"),  # a system that has no spec
    ("other-env/dev/x.yaml", "- other-env/dev/x.yaml"),  # a folder no environment has
])
def test_a_stray_file_fails_the_check_and_a_compile_removes_it(repo: Path, stray: str, line: str) -> None:
    expected = listing(repo / "generated")
    write(repo / "generated" / stray)
    assert stale_lines(repo) == [line]
    assert_compile_restores(repo, expected)


def test_the_folder_of_a_deleted_environment_is_a_stray(repo: Path) -> None:
    (repo / "environments" / "staging.yaml").unlink()
    gone = sorted(p for p in tree(repo / "generated") if p.startswith("staging/"))
    lines = stale_lines(repo)
    assert [line for line in lines if line.startswith("- staging/")] == [f"- {p}" for p in gone]
    assert "~ mlgitops.lock.yaml" in lines  # its pins go too
    assert run_cli(repo, "compile", "--offline").exit_code == 0
    assert sorted(p.name for p in (repo / "generated").iterdir()) == ["dev", "prod"]
    assert run_cli(repo, "compile", "--check").exit_code == 0


def test_links_are_strays_wherever_they_point_and_are_never_followed(repo: Path, tmp_path: Path) -> None:
    generated = repo / "generated"
    expected = listing(generated)
    outside = tmp_path / "outside"
    write(outside / "clusterrolebinding-admin.yaml")
    (generated / "passwd.yaml").symlink_to("/etc/passwd")
    (generated / "dev" / "recommender" / "another-team.yaml").symlink_to(
        generated / "prod" / "fraud-scorer" / "namespace-ml-fraud-scorer.yaml")
    (generated / "dev" / "outside").symlink_to(outside)  # a directory of manifests: its files are not listed
    (generated / "dev" / "loop").symlink_to("loop")
    (generated / "dev" / "dangling.yaml").symlink_to(tmp_path / "missing.yaml")
    assert stale_lines(repo) == [
        "- dev/dangling.yaml (symlink)",
        "- dev/loop (symlink)",
        "- dev/outside (symlink)",
        "- dev/recommender/another-team.yaml (symlink)",
        "- passwd.yaml (symlink)",
    ]
    assert_compile_restores(repo, expected)
    assert (outside / "clusterrolebinding-admin.yaml").is_file(), "removing a link never touches its target"


def test_a_link_where_a_manifest_belongs_is_a_change_even_with_the_same_content(repo: Path, tmp_path: Path) -> None:
    generated = repo / "generated"
    expected = listing(generated)
    manifest = generated / "dev" / "recommender" / "namespace-ml-recommender.yaml"
    copy = tmp_path / "same.yaml"
    shutil.copy(manifest, copy)
    manifest.unlink()
    manifest.symlink_to(copy)
    assert stale_lines(repo) == ["~ dev/recommender/namespace-ml-recommender.yaml (symlink)"]
    assert_compile_restores(repo, expected)
    assert copy.is_file()


def test_a_link_in_place_of_a_system_folder_is_replaced_by_the_folder(repo: Path) -> None:
    generated = repo / "generated"
    expected = listing(generated)
    manifests = sorted(tree(generated / "dev" / "fraud-scorer"))
    shutil.rmtree(generated / "dev" / "fraud-scorer")
    (generated / "dev" / "fraud-scorer").symlink_to(generated / "prod" / "fraud-scorer")
    lines = stale_lines(repo)
    assert lines[0] == "- dev/fraud-scorer (symlink)"
    assert lines[1:] == [f"+ dev/fraud-scorer/{p}" for p in manifests]
    assert_compile_restores(repo, expected)
    assert (generated / "prod" / "fraud-scorer").is_dir()


def test_empty_directories_and_other_file_types_are_strays(repo: Path) -> None:
    generated = repo / "generated"
    expected = listing(generated)
    (generated / "dev" / "empty").mkdir()
    (generated / "prod" / "recommender" / "nested" / "empty").mkdir(parents=True)
    os.mkfifo(generated / "dev" / "recommender" / "pipe.yaml")  # read, it would hang the check
    assert stale_lines(repo) == [
        "- dev/empty/ (empty directory)",
        "- dev/recommender/pipe.yaml (not a regular file)",
        "- prod/recommender/nested/empty/ (empty directory)",
    ]
    assert_compile_restores(repo, expected)


def test_a_stray_tree_deeper_than_pythons_stack_is_reported_and_removed(repo: Path) -> None:
    expected = listing(repo / "generated")
    folder = os.open(repo / "generated" / "dev", os.O_RDONLY)
    try:
        for _ in range(1100):  # one level at a time, relative to the last: no long path, no recursion
            os.mkdir("d", dir_fd=folder)
            deeper = os.open("d", os.O_RDONLY, dir_fd=folder)
            os.close(folder)
            folder = deeper
    finally:
        os.close(folder)
    assert stale_lines(repo) == ["- dev/" + "d/" * 1100 + " (empty directory)"]
    assert_compile_restores(repo, expected)
    assert not list(repo.glob(".mlgitops-staging-*")), "the old tree, deep as it is, is gone"


def test_a_name_with_control_characters_is_shown_escaped_on_one_line(repo: Path) -> None:
    expected = listing(repo / "generated")
    write(repo / "generated" / "dev" / "x\n::error::gate passed\x1b[2K.yaml")
    assert stale_lines(repo) == ["- dev/x\\n::error::gate passed\\x1b[2K.yaml"]
    assert_compile_restores(repo, expected)


def test_a_link_in_place_of_the_output_directory_is_replaced(repo: Path, tmp_path: Path) -> None:
    generated = repo / "generated"
    expected = listing(generated)
    elsewhere = tmp_path / "elsewhere"
    generated.rename(elsewhere)
    generated.symlink_to(elsewhere)
    lines = stale_lines(repo)
    assert lines[0] == "- . (symlink)"
    assert lines[1:] == [f"+ {p}" for p in sorted(tree(elsewhere))]
    assert_compile_restores(repo, expected)
    assert listing(elsewhere) == expected, "the link's target is left as it was"


def test_an_environment_run_answers_for_its_folder_and_for_what_is_no_environment_folder(repo: Path) -> None:
    generated = repo / "generated"
    for stray in ("evil.yaml", "dev/evil.yaml", "prod/evil.yaml", "prod/recommender/evil.yaml", "gone/x.yaml"):
        write(generated / stray)
    (generated / "staging" / "link.yaml").symlink_to("/etc/passwd")
    assert stale_lines(repo, "--env", "dev") == ["- dev/evil.yaml", "- evil.yaml", "- gone/x.yaml"]
    assert run_cli(repo, "compile", "--offline", "--env", "dev").exit_code == 0
    assert not (generated / "evil.yaml").exists() and not (generated / "gone").exists()
    assert not (generated / "dev" / "evil.yaml").exists()
    assert (generated / "prod" / "evil.yaml").is_file(), "another environment's folder is left to its own run"
    assert (generated / "staging" / "link.yaml").is_symlink(), "kept as the link it is, not as its target"
    assert stale_lines(repo) == ["- prod/evil.yaml", "- prod/recommender/evil.yaml", "- staging/link.yaml (symlink)"]


def test_a_run_over_some_specs_answers_for_their_folders_and_for_what_no_run_writes(repo: Path) -> None:
    generated = repo / "generated"
    for stray in ("evil.yaml", "dev/evil.yaml", "dev/fraud-scorer/evil.yaml", "dev/recommender/evil.yaml"):
        write(generated / stray)
    manifests = sorted(tree(generated / "prod" / "recommender"))
    shutil.rmtree(generated / "prod" / "recommender")
    (generated / "prod" / "recommender").symlink_to(generated / "dev" / "recommender")
    assert stale_lines(repo, FRAUD) == ["- dev/evil.yaml", "- dev/fraud-scorer/evil.yaml", "- evil.yaml",
                                        "- prod/recommender (symlink)"]
    assert run_cli(repo, "compile", "--offline", FRAUD).exit_code == 0
    assert (generated / "dev" / "recommender" / "evil.yaml").is_file(), "another system's folder is its own run's"
    assert not (generated / "prod" / "recommender").exists()
    assert stale_lines(repo) == ["- dev/recommender/evil.yaml"] + [f"+ prod/recommender/{p}" for p in manifests]


@pytest.mark.parametrize(("out", "held"), [(".", "{root}"), ("spec", "{root}/spec"), ("..", "{root}")])
def test_an_output_directory_holding_the_inputs_is_refused(repo: Path, out: str, held: str) -> None:
    before = listing(repo)
    result = run_cli(repo, "compile", "--offline", "--out", out)
    assert result.exit_code == 2
    location = repo / out
    assert result.stderr.splitlines() == [
        f"{location}:1:1: the output directory holds {held.format(root=repo)}; compile replaces the output directory "
        "whole (strays removed), so it must be a directory of its own such as generated/ [E506]",
        "mlgitops: 1 problem found; nothing was written"]
    assert listing(repo) == before
