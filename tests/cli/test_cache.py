"""The incremental cache ($MLGITOPS_CACHE_DIR: each test's own, see conftest): same results as without it, and
exact invalidation. What it refuses to trust is in test_cache_trust.py.

The examples' 12 units run in this process (below the worker threshold), so `render_job` and `judge` can be counted
(the `work` fixture): a unit re-rendered or re-judged is one whose inputs changed, and no other. These tests use the
cache as a developer's machine does (`CI` unset); a trusted run renders every unit (test_cache_trust.py).
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

import compiler.cache
from compiler.cache import Cache, fingerprint
from compiler.driver import Workspace, compile_all
from compiler.emit import ARGOCD_DIR
from compiler.errors import SpecError
from compiler.gate.run import run_gate
from helpers import edit, run_cli, tree

TODAY = "2026-11-25"
REC = "spec/recommender.yaml"
LOCAL = {"CI": ""}  # run_cli sets CI=true; these tests are about the untrusted (developer) cache


def _gate(repo: Path, today: str = TODAY, cache: bool = True):
    return run_gate(Workspace(repo), today=date.fromisoformat(today), cache=Cache(enabled=cache))


def _check_json(repo: Path, *args: str) -> dict:
    result = run_cli(repo, "check", "--today", TODAY, "--format", "json", *args, env=LOCAL)
    assert result.exit_code in (0, 1), result.stderr
    return json.loads(result.stdout)


ALL_UNITS = {(env, system) for env in ("dev", "prod", "staging")
             for system in ("fraud-scorer", "recommender", "support-assistant", ARGOCD_DIR)}


def test_same_report_and_output_with_and_without_cache(repo: Path, cache_dir: Path) -> None:
    uncached = _check_json(repo, "--no-cache")
    assert not tree(cache_dir), "--no-cache writes no cache either"
    cold, warm = _check_json(repo), _check_json(repo)
    trusted = _check_json(repo, "--trusted-cache-only")
    assert uncached == cold == warm == trusted
    assert uncached["findings"], "the examples have (waived) findings, so equality means something"
    assert not (repo / ".mlgitops-cache").exists(), "nothing is cached in the repository"

    assert run_cli(repo, "compile", "--offline", "--no-cache", env=LOCAL).exit_code == 0
    expected = tree(repo / "generated")
    for _ in range(2):  # cold, then from the cache
        assert run_cli(repo, "compile", "--offline", env=LOCAL).exit_code == 0
        assert tree(repo / "generated") == expected


def test_an_unchanged_repository_renders_and_judges_nothing(repo: Path, work: dict[str, Counter]) -> None:
    first = _gate(repo)
    assert set(work["rendered"]) == set(work["judged"]) == ALL_UNITS
    work["rendered"].clear()
    work["judged"].clear()
    assert _gate(repo) == first
    assert not work["rendered"] and not work["judged"]
    compile_all(Workspace(repo), offline=True, cache=Cache())
    assert not work["rendered"], "compile reuses what check rendered"


def test_a_spec_change_redoes_that_system_only(repo: Path, work: dict[str, Counter]) -> None:
    _gate(repo)
    work["rendered"].clear()
    work["judged"].clear()
    edit(repo, REC, "target: 70", "target: 60")
    result = _gate(repo)
    changed = {(env, "recommender") for env in ("dev", "prod", "staging")}
    assert set(work["rendered"]) == set(work["judged"]) == changed
    # and the result is what a run without the cache gives
    assert result == _gate(repo, cache=False)


def test_an_environment_change_redoes_that_environment_only(repo: Path, work: dict[str, Counter]) -> None:
    _gate(repo)
    work["rendered"].clear()
    work["judged"].clear()
    edit(repo, "environments/staging.yaml", "failOn: medium", "failOn: high")
    result = _gate(repo)
    assert set(work["rendered"]) == set(work["judged"]) == {u for u in ALL_UNITS if u[0] == "staging"}
    assert result.fail_on["staging"] == "high"
    assert result == _gate(repo, cache=False)


def test_a_policy_change_rejudges_everything_and_renders_nothing(repo: Path, work: dict[str, Counter]) -> None:
    before = _gate(repo)
    work["rendered"].clear()
    work["judged"].clear()
    edit(repo, "policies/spec/image_not_pinned_by_digest_in_prod.rego", "is not pinned by digest in",
         "has no digest in")
    after = _gate(repo)
    assert not work["rendered"]
    assert set(work["judged"]) == ALL_UNITS
    messages = {f.message for f in after.findings if f.rule == "MLG-SUP-003"}
    assert messages and all("has no digest in" in m for m in messages)
    assert {f.message for f in before.findings if f.rule == "MLG-SUP-003"}.isdisjoint(messages)


def test_checkov_configuration_is_a_policy_input(repo: Path) -> None:
    findings = {f.rule for f in _gate(repo).findings}
    assert "CKV_K8S_43" in findings
    edit(repo, "policies/checkov.yaml", "skip-check: []", "skip-check: [CKV_K8S_43]")
    assert "CKV_K8S_43" not in {f.rule for f in _gate(repo).findings}


def test_another_day_rejudges_but_does_not_render(repo: Path, work: dict[str, Counter]) -> None:
    _gate(repo)
    work["rendered"].clear()
    work["judged"].clear()
    later = _gate(repo, today="2027-06-01")  # after the examples' waivers expire
    assert not work["rendered"] and set(work["judged"]) == ALL_UNITS
    assert any(f.rule == "MLG-WAIVER-002" for f in later.findings)


def test_a_new_compiler_version_invalidates_everything(repo: Path, work: dict[str, Counter],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    _gate(repo)
    work["rendered"].clear()
    work["judged"].clear()
    monkeypatch.setattr(compiler.cache, "__version__", "99.0.0")
    fingerprint.cache_clear()
    try:
        _gate(repo)
    finally:
        monkeypatch.undo()
        fingerprint.cache_clear()
    assert set(work["rendered"]) == set(work["judged"]) == ALL_UNITS


def test_a_changed_lock_entry_rerenders_its_unit(repo: Path, work: dict[str, Counter]) -> None:
    compile_all(Workspace(repo), offline=True, cache=Cache())
    work["rendered"].clear()
    lock = repo / "mlgitops.lock.yaml"
    text = lock.read_text()
    prod = text.index("\n  prod:")
    start = text.index("    support-assistant:", prod)
    at = text.index("sourceUri: s3://ml-models/support-llm/", start)
    lock.write_text(text[:at] + text[at:].replace("support-llm/", "support-llm-moved/", 1))
    result = compile_all(Workspace(repo), offline=True, cache=Cache())
    assert set(work["rendered"]) == {("prod", "support-assistant")}
    assert result.reused == ALL_UNITS - {("prod", "support-assistant")}


def test_entries_are_json_and_a_corrupt_one_is_a_miss(repo: Path, cache_dir: Path,
                                                      work: dict[str, Counter]) -> None:
    first = _gate(repo)
    entries = sorted(cache_dir.rglob("*.json"))
    assert {p.relative_to(cache_dir).parts[0] for p in entries} == {"load", "render", "gate"}
    for path in entries:
        json.loads(path.read_text())  # never pickle: a cache must not be a way to run code
    for path in entries:
        path.write_text('{"key": "not this one", "value": {}}' if "gate" in path.parts else "{broken")
    work["judged"].clear()
    assert _gate(repo) == first
    assert set(work["judged"]) == ALL_UNITS


def test_bad_input_writes_no_cache(repo: Path, cache_dir: Path) -> None:
    edit(repo, REC, "  team: personalization\n", "  team: personalization\n  tem: x\n")
    assert run_cli(repo, "check", env=LOCAL).exit_code == 2
    assert not tree(cache_dir)
    with pytest.raises(SpecError):
        _gate(repo)
    assert not tree(cache_dir)


def test_compile_check_reads_the_cache_but_writes_nothing(repo: Path, cache_dir: Path) -> None:
    assert run_cli(repo, "compile", "--offline", "--no-cache", env=LOCAL).exit_code == 0
    before = tree(repo)
    assert run_cli(repo, "compile", "--check", env=LOCAL).exit_code == 0
    assert tree(repo) == before and not tree(cache_dir), "compile --check writes nothing, cache included"
    assert run_cli(repo, "compile", "--offline", env=LOCAL).exit_code == 0  # fills the cache
    cached, entries = tree(repo), tree(cache_dir)
    result = run_cli(repo, "compile", "--check", env=LOCAL)
    assert result.exit_code == 0 and "(cached)" in result.stdout
    assert tree(repo) == cached and tree(cache_dir) == entries


def test_prune_removes_entries_unused_for_long(repo: Path) -> None:
    import os
    import time

    _gate(repo)
    cache = Cache()
    entries = list(cache.directory.rglob("*.json"))
    old = time.time() - 30 * 86400
    for path in entries[:5]:
        os.utime(path, (old, old))
    # The directory may be shared ($MLGITOPS_CACHE_DIR): files that are not entries are never pruned.
    others = [cache.directory / "notes" / "old" / "keep.json", cache.directory / "gate" / "ab" / "keep.json"]
    for path in others:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
        os.utime(path, (old, old))
    assert cache.prune() == 5
    assert len(list(cache.directory.rglob("*.json"))) == len(entries) - 5 + len(others)
