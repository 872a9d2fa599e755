"""`compile` output is all or nothing: killed at any moment, `generated/` is the whole old or the whole new tree.

Real processes are killed with SIGKILL: stopped mid-write once the staging tree holds some files, and (where strace
is installed) at each rename the compile makes, which is where a swap could leave a mix of old and new. Two compiles
of one repository are serialised by a lock file.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from compiler import emit
from helpers import ROOT, edit, run_cli, tree

REC = "spec/recommender.yaml"
LOCK = ".mlgitops-compile.lock"


def compile_process(repo: Path, *args: str, wrapper: tuple[str, ...] = ()) -> subprocess.Popen:
    return subprocess.Popen([*wrapper, sys.executable, "-m", "compiler", "--root", str(repo), "-q", "compile",
                             "--offline", *args],
                            cwd=ROOT, env={**os.environ, "CI": "true"}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def restore(repo: Path, files: dict[str, bytes]) -> None:
    """Put `generated/` back to a known tree, and drop anything a killed run left beside it."""
    shutil.rmtree(repo / "generated", ignore_errors=True)
    for leftover in repo.glob(".mlgitops-staging-*"):
        shutil.rmtree(leftover)
    for relative, content in files.items():
        path = repo / "generated" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes], dict[str, bytes]]:
    """A repository whose specs compile to `new`, while `old` is what the previous specs gave (cache warm for both).

    The edit changes the recommender in every environment, so a tree swapped one environment at a time would show.
    """
    from helpers import copy_examples

    repo = copy_examples(tmp_path_factory.mktemp("atomic") / "repo")
    assert run_cli(repo, "compile", "--offline").exit_code == 0
    old = tree(repo / "generated")
    edit(repo, REC, "latencyP95: 150ms", "latencyP95: 100ms")
    assert run_cli(repo, "compile", "--offline").exit_code == 0
    new = tree(repo / "generated")
    changed_envs = {path.split("/")[0] for path in new if new[path] != old.get(path)}
    assert changed_envs == {"dev", "staging", "prod"}
    return repo, old, new


@contextmanager
def lock_held_by_pid_4242(repo: Path) -> Iterator[None]:
    """The compile lock, taken and labelled as another compile would."""
    with open(repo / LOCK, "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        held.write("pid 4242\n")
        held.flush()
        yield


def count_files(directory: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(directory))


@pytest.mark.parametrize("files_before_kill", [1, 40, 150])
def test_a_compile_killed_mid_write_leaves_the_old_tree(trees, files_before_kill):
    repo, old, new = trees
    restore(repo, old)
    process = compile_process(repo)
    staged = None
    while process.poll() is None and staged is None:
        found = list(repo.glob(".mlgitops-staging-generated-*"))
        if found and count_files(found[0]) >= files_before_kill:
            process.send_signal(signal.SIGSTOP)  # freeze it mid-write, look, then kill
            staged = count_files(found[0])
        time.sleep(0.001)
    if staged is None:
        pytest.fail(f"the compile finished before {files_before_kill} files were staged: {process.communicate()}")
    assert 0 < staged < len(new), "killed while the new tree was partly written"
    assert tree(repo / "generated") == old
    process.kill()
    process.wait()
    assert process.returncode == -signal.SIGKILL
    assert tree(repo / "generated") == old

    # the next run clears what the killed one left, and writes the new tree
    assert list(repo.glob(".mlgitops-staging-*"))
    assert run_cli(repo, "compile", "--offline").exit_code == 0
    assert tree(repo / "generated") == new
    assert not list(repo.glob(".mlgitops-staging-*"))


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
def test_a_compile_killed_at_any_rename_leaves_the_old_or_the_new_tree(trees):
    """strace kills the compile on entering its Nth rename, for every N: the renames of the cache, and the swap."""
    repo, old, new = trees
    outcomes = []
    for n in range(1, 50):
        restore(repo, old)
        renames = "rename,renameat,renameat2"
        process = compile_process(repo, wrapper=("strace", "-f", "-qq", "-o", os.devnull, "-e", f"trace={renames}",
                                                 "-e", f"inject={renames}:signal=SIGKILL:when={n}"))
        _, stderr = process.communicate(timeout=300)
        assert "Traceback" not in stderr
        result = tree(repo / "generated")
        assert result in (old, new), f"killed at rename {n}: generated/ is a mix of the old and the new tree"
        outcomes.append("finished" if process.returncode == 0 else "old" if result == old else "new")
        if process.returncode == 0:
            break
    assert outcomes[-1] == "finished" and "old" in outcomes, outcomes
    assert run_cli(repo, "compile", "--offline").exit_code == 0
    assert tree(repo / "generated") == new


def test_when_the_system_cannot_swap_in_one_step_a_run_killed_between_renames_is_repaired(trees, monkeypatch):
    """Without renameat2 the swap is two renames; a kill between them leaves `-old`, which the next run restores."""
    repo, old, new = trees
    restore(repo, old)
    monkeypatch.setattr(emit, "_exchange", lambda a, b: False)
    real_rename = Path.rename

    def killed_after_first_rename(self: Path, target: Path):
        real_rename(self, target)
        if Path(target).name.endswith("-old"):
            raise KeyboardInterrupt  # the process dies here: nothing after this line runs

    monkeypatch.setattr(Path, "rename", killed_after_first_rename)
    result = run_cli(repo, "compile", "--offline", "spec/recommender.yaml")
    assert result.exit_code == 130
    assert not (repo / "generated").exists()
    assert tree(repo / ".mlgitops-staging-generated-old") == old

    monkeypatch.setattr(Path, "rename", real_rename)
    # a run over one spec keeps the other systems: they must come from the restored old tree
    assert run_cli(repo, "compile", "--offline", "spec/recommender.yaml").exit_code == 0
    assert tree(repo / "generated") == new
    assert not list(repo.glob(".mlgitops-staging-*"))


def test_the_output_directory_keeps_ordinary_permissions(trees):
    repo, old, _ = trees
    restore(repo, old)
    assert run_cli(repo, "compile", "--offline").exit_code == 0
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((repo / "generated").stat().st_mode) == 0o777 & ~umask


def test_a_second_compile_waits_for_the_lock_and_says_for_whom(trees):
    repo, old, new = trees
    restore(repo, old)
    with lock_held_by_pid_4242(repo):
        process = compile_process(repo)
        waiting = process.stderr.readline()
        assert waiting == (f"mlgitops: waiting for another compile of this repository (pid 4242) to finish; "
                           f"lock file {LOCK}\n")
        time.sleep(0.5)
        assert process.poll() is None, "it waits while the lock is held"
        assert tree(repo / "generated") == old
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert tree(repo / "generated") == new
    assert not (repo / LOCK).exists(), "a finished run leaves no lock file"


def test_a_lock_held_past_the_timeout_is_a_clear_error_and_nothing_is_written(trees):
    repo, old, _ = trees
    restore(repo, old)
    with lock_held_by_pid_4242(repo):
        result = run_cli(repo, "compile", "--offline", "--lock-timeout", "0.2")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[1:] == [
        f"{LOCK}:1:1: another compile of this repository (pid 4242) still holds the lock after 0.2s; "
        "nothing was written [E502]",
        "mlgitops: 1 problem found; nothing was written"]
    assert tree(repo / "generated") == old


def test_a_lock_file_left_by_a_killed_compile_does_not_block(trees):
    repo, old, new = trees
    restore(repo, old)
    (repo / LOCK).write_text("pid 4242\n")  # its holder is gone, and with it the lock
    result = run_cli(repo, "compile", "--offline", "--lock-timeout", "0")
    assert result.exit_code == 0, result.stderr
    assert "waiting" not in result.stderr
    assert tree(repo / "generated") == new


def test_two_concurrent_compiles_are_serialised(trees, cache_dir):
    repo, old, new = trees
    restore(repo, old)
    shutil.rmtree(cache_dir)  # a cold first run holds the lock long enough for the second to wait
    first = compile_process(repo)
    while not (repo / LOCK).exists() or not (repo / LOCK).read_text():
        assert first.poll() is None, first.communicate()
        time.sleep(0.01)
    second = compile_process(repo)
    _, first_err = first.communicate(timeout=300)
    _, second_err = second.communicate(timeout=300)
    assert (first.returncode, second.returncode) == (0, 0), (first_err, second_err)
    assert second_err.startswith(f"mlgitops: waiting for another compile of this repository (pid {first.pid})")
    assert tree(repo / "generated") == new
    assert not list(repo.glob(".mlgitops-staging-*"))
    assert not (repo / LOCK).exists()


def test_a_missing_repository_root_is_reported_as_missing_input_not_as_a_lock_problem(tmp_path):
    result = run_cli(tmp_path / "nowhere", "compile", "--offline")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == "environments:1:1: no environments directory [E305]"
    assert not (tmp_path / "nowhere").exists()
