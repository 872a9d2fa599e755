"""`check --shard I/N` and `merge-reports`: the shards' merged report is the unsharded run's report, byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compiler.emit import ARGOCD_DIR
from compiler.shard import Shard
from helpers import edit, run_cli

TODAY = "2026-11-25"
SYSTEMS = ["fraud-scorer", "recommender", "support-assistant"]


def _report(repo: Path, name: str, *args: str) -> Path:
    fmt = "sarif" if name.endswith(".sarif") else "json"
    result = run_cli(repo, "check", "--today", TODAY, "--format", fmt, "--output", name, *args)
    assert result.exit_code in (0, 1), result.stderr
    return repo / name


@pytest.mark.parametrize("count", [1, 2, 3, 5])
def test_shards_partition_the_systems_evenly(count: int) -> None:
    names = [f"system-{i:02d}" for i in range(23)]
    shards = [Shard(i, count).systems(names) - {ARGOCD_DIR} for i in range(1, count + 1)]
    assert set().union(*shards) == set(names)
    assert sum(len(s) for s in shards) == len(names), "no system in two shards"
    assert max(map(len, shards)) - min(map(len, shards)) <= 1
    assert [ARGOCD_DIR in Shard(i, count).systems(names) for i in range(1, count + 1)] == [True] + [False] * (count - 1)


def test_the_split_depends_on_names_only() -> None:
    assert Shard(2, 3).systems(["b", "a", "c", "d"]) == Shard(2, 3).systems(["d", "c", "b", "a"]) == {"b"}


@pytest.mark.parametrize("text", ["0/2", "3/2", "1/0", "a/b", "2", "1/2/3", ""])
def test_a_bad_shard_is_a_usage_error(repo: Path, text: str) -> None:
    result = run_cli(repo, "check", "--shard", text)
    assert result.exit_code == 2
    assert result.stderr.startswith("--shard:1:1: --shard must be I/N with 1 <= I <= N")


@pytest.mark.parametrize("count", [2, 3, 4])  # 4 shards for 3 systems: one shard gates no system at all
def test_merged_shards_equal_the_unsharded_report(repo: Path, count: int) -> None:
    edit(repo, "spec/recommender.yaml", "  queue: ml-training\n", "")  # a blocking finding, so the verdict matters
    for fmt in ("json", "sarif"):
        whole = _report(repo, f"whole.{fmt}").read_text()
        shards = [_report(repo, f"shard{i}.{fmt}", "--shard", f"{i}/{count}") for i in range(1, count + 1)]
        tagged = [json.loads(p.read_text()) for p in shards]
        if fmt == "json":
            assert [t["shard"] for t in tagged] == [{"index": i, "count": count} for i in range(1, count + 1)]
            assert sum(len(t["findings"]) for t in tagged) == len(json.loads(whole)["findings"])
            assert all({f["system"] for f in t["findings"]} <= set(SYSTEMS) | {ARGOCD_DIR} for t in tagged)
        merged = run_cli(repo, "merge-reports", *[p.name for p in reversed(shards)], "--output", f"merged.{fmt}")
        assert merged.exit_code == 1, merged.stderr  # the gate fails, as the unsharded run does
        assert (repo / f"merged.{fmt}").read_text() == whole


def test_a_shard_gates_only_its_systems(repo: Path) -> None:
    report = json.loads(_report(repo, "one.json", "--shard", "2/3").read_text())
    assert {f["system"] for f in report["findings"]} == {Shard(2, 3).systems(SYSTEMS).pop()}


def _shard_reports(repo: Path, fmt: str = "json", count: int = 3) -> list[str]:
    return [_report(repo, f"s{i}.{fmt}", "--shard", f"{i}/{count}").name for i in range(1, count + 1)]


def test_merge_refuses_an_incomplete_set(repo: Path) -> None:
    s1, _, s3 = _shard_reports(repo)
    result = run_cli(repo, "merge-reports", s1, s3)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == ("s1.json:1:1: shard 2 of 3 missing: the systems of a missing shard "
                                             "would be left ungated [E402]")


def test_merge_refuses_a_shard_twice(repo: Path) -> None:
    s1, s2, s3 = _shard_reports(repo)
    result = run_cli(repo, "merge-reports", s1, s2, s3, s2)
    assert result.exit_code == 2
    assert "s2.json:1:1: shard 2/3 is also s2.json [E402]" in result.stderr


def test_merge_refuses_reports_of_different_splits_and_formats(repo: Path) -> None:
    s1, s2, _ = _shard_reports(repo)
    other = _report(repo, "other.json", "--shard", "2/2").name
    assert "different splits" in run_cli(repo, "merge-reports", s1, other).stderr
    sarif = _report(repo, "s1.sarif", "--shard", "1/3").name
    mixed = run_cli(repo, "merge-reports", s1, sarif)
    assert mixed.exit_code == 2 and "mix JSON and SARIF" in mixed.stderr


def test_merge_refuses_an_unsharded_report(repo: Path) -> None:
    whole = _report(repo, "whole.json").name
    result = run_cli(repo, "merge-reports", whole)
    assert result.exit_code == 2
    assert "whole.json:1:1: not a shard's report (write it with `mlgitops check --shard I/N`)" in result.stderr


def test_merge_points_at_malformed_json(repo: Path) -> None:
    (repo / "broken.json").write_text('{\n  "findings": [,\n')
    result = run_cli(repo, "merge-reports", "broken.json")
    assert result.exit_code == 2
    assert result.stderr.startswith("broken.json:2:16: not valid JSON: Expecting value [E402]")
    (repo / "odd.json").write_text('{"findings": [{"rule": "x"}], "summary": {}, "shard": {"index": 1, "count": 1}}')
    odd = run_cli(repo, "merge-reports", "odd.json")
    assert odd.exit_code == 2 and "malformed JSON report: every finding needs file, line" in odd.stderr
    missing = run_cli(repo, "merge-reports", "absent.json")
    assert missing.exit_code == 2 and missing.stderr.startswith("absent.json:1:1: cannot read report")
