"""The bad-input corpus: every directory in tests/bad_inputs/ is one hostile or broken input and what users see.

A case directory holds files laid over a scratch copy of the example repository (`spec/…`, `environments/…`)
and a `case.yaml`:

    about:  what the case is
    args:   the command line (default: [validate])
    remove: paths deleted from the scratch repository first
    mkdir:  directories created (empty) after that
    link:   symbolic links to make, path → target (kept out of Git so that the corpus checks out anywhere)
    pad:    {file, bytes}: the file grown to that size with a trailing comment (10 MB files stay out of Git)
    expect: the exact diagnostic lines on stderr, in order

Every case must exit 2 with exactly those lines, then the one-line summary; print nothing on stdout and no
traceback; and write nothing: no generated/, no file of the repository changed. `pytest --update-golden` rewrites
the `expect` lists from the current output, for review in the diff.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from helpers import ROOT, copy_examples, run_cli

CORPUS = ROOT / "tests" / "bad_inputs"
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "case.yaml").is_file())
# What a link that leaves the repository points at: it must never be read, so never quoted.
OUTSIDE = "apiVersion: mlgitops.io/v1alpha1\nkind: MLSystem\nsecret: do-not-print-me\n"


def snapshot(repo: Path) -> dict[str, bytes]:
    """Every file of the scratch repository (the cache lives outside it)."""
    return {p.relative_to(repo).as_posix(): p.read_bytes() for p in sorted(repo.rglob("*"))
            if p.is_file() and not p.is_symlink()}


def prepare(case: Path, repo: Path) -> dict:
    spec = yaml.safe_load((case / "case.yaml").read_text())
    for relative in spec.get("remove", []):
        target = repo / relative
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    for relative in spec.get("mkdir", []):
        (repo / relative).mkdir(parents=True)
    for source in sorted(case.rglob("*")):
        if source.is_file() and source.name != "case.yaml":
            target = repo / source.relative_to(case)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    for relative, target in spec.get("link", {}).items():
        (repo / relative).symlink_to(target)
    if "pad" in spec:
        path = repo / spec["pad"]["file"]
        missing = spec["pad"]["bytes"] - path.stat().st_size
        path.write_bytes(path.read_bytes() + b"#" + b"x" * (missing - 2) + b"\n")
    return spec


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 40


@pytest.mark.parametrize("name", CASES)
def test_bad_input(name: str, tmp_path: Path, update_golden: bool) -> None:
    case = CORPUS / name
    (tmp_path / "outside.yaml").write_text(OUTSIDE)
    repo = copy_examples(tmp_path / "repo")
    spec = prepare(case, repo)
    before = snapshot(repo)

    result = run_cli(repo, *spec.get("args", ["validate"]))

    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr and "do-not-print-me" not in result.stderr
    *lines, summary = result.stderr.splitlines()
    assert summary == f"mlgitops: {len(lines)} problem{'s' if len(lines) != 1 else ''} found; nothing was written"
    assert not (repo / "generated").exists()
    assert snapshot(repo) == before
    assert not list(tmp_path.glob("**/.mlgitops-staging-*"))
    if update_golden:
        text = (case / "case.yaml").read_text().split("expect:")[0].rstrip("\n") + "\n"
        (case / "case.yaml").write_text(text + yaml.safe_dump({"expect": lines}, allow_unicode=True, width=1000))
        return
    assert lines == spec.get("expect"), f"{name}: {spec['about']}"
