"""Golden files: the examples compiled for every environment must match the committed generated/ byte for byte.

generated/ is the one copy of the rendered output: what Argo CD syncs, reviewed in every pull request's diff, and
the oracle of this test (a second copy under tests/ would only be committed twice). The test compiles the examples
in a scratch repository, so it judges the renderers, not the repository's cache or lock handling; `make golden`
(pytest --update-golden) rewrites generated/ from that compile — review the diff like any other change.
"""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

from helpers import ROOT, run_cli, tree

GOLDEN = ROOT / "generated"


def test_examples_match_golden_files(repo: Path, update_golden: bool) -> None:
    result = run_cli(repo, "compile")
    assert result.exit_code == 0, result.stderr
    actual = tree(repo / "generated")
    if update_golden:
        shutil.rmtree(GOLDEN, ignore_errors=True)
        shutil.copytree(repo / "generated", GOLDEN)
    expected = tree(GOLDEN)
    assert sorted(actual) == sorted(expected), "files added or removed; review and run `make golden`"
    diffs = []
    for path in sorted(actual):
        if actual[path] != expected[path]:
            diffs += difflib.unified_diff(expected[path].decode().splitlines(), actual[path].decode().splitlines(),
                                          f"generated/{path}", f"compiled/{path}", lineterm="")
    assert not diffs, "rendering changed; review and run `make golden`:\n" + "\n".join(diffs[:200])


def test_every_example_and_environment_has_golden_files() -> None:
    systems = sorted(p.stem for p in (ROOT / "spec").glob("*.yaml"))
    envs = sorted(p.stem for p in (ROOT / "environments").glob("*.yaml"))
    assert len(systems) >= 3 and envs == ["dev", "prod", "staging"]
    for env in envs:
        for system in systems:
            assert list((GOLDEN / env / system).glob("*.yaml")), f"no golden files for {env}/{system}"
