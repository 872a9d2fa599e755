"""A cache entry the run did not write itself is never trusted (issue 15, point 1).

The attacks of the issue, for real: a git repository holding the examples, where a pull request gives the
recommender an image from an unapproved registry (blocking findings) and commits, with `git add -f`, cache entries
forged as an attacker can (every key is computable: its inputs are public):
- gate entries with no findings under the real keys (and the real bindings);
- a render entry whose `_argocd/` objects are widened (the team's AppProject to `*`, a ClusterRoleBinding to
  `cluster-admin`), with `generated/` hand-edited to match (compiled from the forged entry, as an attacker would);
- a load entry holding another document than the spec reviewed (the recommender on another team's host), with
  `generated/` compiled from that document.
Each attack is run three ways: with the cache where it used to be (`MLGITOPS_CACHE_DIR=<repo>/.mlgitops-cache`)
under `CI=true`, which ignores it; the same without CI, which refuses the tracked entries (E503); and with the
default location, which never looks in the checkout. The forgeries are made with the compiler itself, in a scratch
copy whose cache is at `.mlgitops-cache/`, so they are made the same way whatever version of the compiler runs.
Then forged entries in the external cache: those whose bindings are wrong are misses.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from compiler import cli
from compiler.cache import DIRECTORY_VARIABLE, Cache, default_directory
from compiler.driver import Workspace, validate_all
from compiler.emit import ARGOCD_DIR
from compiler.gate.run import run_gate
from compiler.gate.unit import objects_digest
from helpers import copy_examples, edit, example_registry, run_cli, tree

TODAY = "2026-11-25"
REC = "spec/recommender.yaml"
OLD = ".mlgitops-cache"  # where the cache used to live, git-ignored
APPROVED_IMAGE = "image: registry.example.com/recsys/serve:1.4.2"
UNAPPROVED_IMAGE = "image: docker.io/attacker/serve:1.4.2"
REVIEWED_HOST, FORGED_HOST = "host: recs.example.com", "host: pay.example.com"
NOTE = ("mlgitops: the cache directory .mlgitops-cache/ is inside the checkout, so it was ignored: a trusted run "
        "(CI=true or --trusted-cache-only) reads no entry a checkout could bring")
ALL_UNITS = {(env, system) for env in ("dev", "prod", "staging")
             for system in ("fraud-scorer", "recommender", "support-assistant", ARGOCD_DIR)}


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), "-c", "user.name=attacker", "-c", "user.email=a@example.com",
                           "-c", "commit.gpgsign=false", *args], capture_output=True, text=True, check=True)
    return done.stdout


def ci(repo: Path) -> dict[str, str]:
    """A CI run with the cache where it used to be."""
    return {"CI": "true", DIRECTORY_VARIABLE: str(repo / OLD)}


def local(repo: Path) -> dict[str, str]:
    """A developer's run with the cache where it used to be."""
    return {"CI": "", DIRECTORY_VARIABLE: str(repo / OLD)}


def default_location(tmp_path: Path) -> dict[str, str]:
    """No MLGITOPS_CACHE_DIR: the cache is $XDG_CACHE_HOME/mlgitops."""
    return {"CI": "", DIRECTORY_VARIABLE: "", "XDG_CACHE_HOME": str(tmp_path / "xdg")}


def entries(cache: Path, kind: str) -> dict[Path, dict]:
    return {path: json.loads(path.read_text()) for path in sorted((cache / kind).rglob("*.json"))}


def scratch(repo: Path, tmp_path: Path, name: str) -> Path:
    """A copy of the work tree without git, whose cache (`.mlgitops-cache/`) the compiler fills as it runs."""
    return Path(shutil.copytree(repo, tmp_path / name, ignore=shutil.ignore_patterns(".git")))


def run_in(root: Path, *args: str) -> None:
    result = run_cli(root, *args, env=local(root))
    assert result.exit_code in (0, 1), result.stderr


def commit_forgery(repo: Path, files: dict[str, bytes]) -> list[str]:
    """The pull request: files written, forced past .gitignore and committed; the tracked cache files."""
    for relative, content in files.items():
        (repo / relative).parent.mkdir(parents=True, exist_ok=True)
        (repo / relative).write_bytes(content)
    git(repo, "add", "-f", "--", *files)
    git(repo, "commit", "-q", "-m", "pull request")
    return git(repo, "ls-files", "--", OLD).split()


def refusal(tracked: list[str]) -> str:
    shown = ", ".join(tracked[:3]) + (f" and {len(tracked) - 3} more" if len(tracked) > 3 else "")
    files = "1 file" if len(tracked) == 1 else f"{len(tracked)} files"
    return (f".mlgitops-cache:1:1: the cache directory holds {files} tracked by git ({shown}); cache "
            "entries must come from a run, never from a commit: remove them with `git rm -r --cached "
            ".mlgitops-cache` or set MLGITOPS_CACHE_DIR outside the repository [E503]")


def assert_refused(result, tracked: list[str]) -> None:
    assert result.exit_code == 2, result.stderr
    assert result.stderr.splitlines() == [refusal(tracked), "mlgitops: 1 problem found; nothing was written"]
    assert result.stdout == ""


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pull request's honest part, committed: the recommender with an unapproved image, compiled."""
    repo = copy_examples(tmp_path_factory.mktemp("base") / "repo")
    (repo / ".gitignore").write_text(f"{OLD}/\n")
    edit(repo, REC, APPROVED_IMAGE, UNAPPROVED_IMAGE)
    assert run_cli(repo, "--no-cache", "compile", "--offline").exit_code == 0
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "examples with an unapproved image")
    return repo


@pytest.fixture
def pr(base: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(base, tmp_path / "pr"))


def gate_forgery(repo: Path, tmp_path: Path) -> dict[str, bytes]:
    """Every gate entry the real run writes, under its real key and binding, with its findings taken out."""
    work = scratch(repo, tmp_path, "forge-gate")
    run_in(work, "check", "--today", TODAY)
    forged = {}
    for path, entry in entries(work / OLD, "gate").items():
        entry["value"].update(findings=[], checkov={})
        forged[path.relative_to(work).as_posix()] = json.dumps(entry).encode()
    assert forged
    return forged


def widen(objects: list[dict]) -> list[dict]:
    """The personalization team's AppProject open to every repository, destination and cluster resource, and a
    ClusterRoleBinding of its group to cluster-admin."""
    for obj in objects:
        if obj["kind"] == "AppProject" and obj["metadata"]["name"] == "dev-personalization":
            obj["spec"].update(sourceRepos=["*"], destinations=[{"namespace": "*", "server": "*"}],
                               clusterResourceWhitelist=[{"group": "*", "kind": "*"}])
            break
    else:
        raise AssertionError("no AppProject dev-personalization")
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": "personalization-admin"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
               "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "personalization"}]}
    return [*objects, binding]


def argocd_entry(cache: Path, env: str = "dev") -> tuple[Path, dict]:
    """The render entry of an environment's Argo CD unit (its projects and root app)."""
    [(path, entry)] = [(p, e) for p, e in entries(cache, "render").items()
                       if any(o["kind"] == "AppProject" and o["metadata"]["name"] == f"{env}-personalization"
                              for o in e["value"]["argocd"])]
    return path, entry


def render_forgery(repo: Path, tmp_path: Path) -> dict[str, bytes]:
    """The widened Argo CD objects as dev's render entry, and generated/ compiled from it."""
    work = scratch(repo, tmp_path, "forge-render")
    run_in(work, "compile", "--offline")  # fills the cache
    path, entry = argocd_entry(work / OLD)
    entry["value"]["argocd"] = widen(entry["value"]["argocd"])
    path.write_text(json.dumps(entry))
    run_in(work, "compile", "--offline")  # generated/ as the forged entry has it
    binding = work / "generated/dev/_argocd/clusterrolebinding-personalization-admin.yaml"
    assert "cluster-admin" in binding.read_text()
    files = {f"generated/{name}": content for name, content in tree(work / "generated").items()}
    return {**files, path.relative_to(work).as_posix(): path.read_bytes()}


def load_forgery(repo: Path, tmp_path: Path) -> dict[str, bytes]:
    """The recommender on another host, as the load entry of the spec reviewed; generated/ compiled from it."""
    reviewed = scratch(repo, tmp_path, "forge-load-reviewed")
    run_in(reviewed, "validate")
    [(path, genuine)] = [(p, e) for p, e in entries(reviewed / OLD, "load").items() if e["value"]["file"] == REC]
    other = scratch(repo, tmp_path, "forge-load-other")
    edit(other, REC, REVIEWED_HOST, FORGED_HOST)
    run_in(other, "compile", "--offline")
    [forged] = [e for e in entries(other / OLD, "load").values() if e["value"]["file"] == REC]
    forged = {"key": genuine["key"], "value": {**forged["value"], "sha256": genuine["value"]["sha256"]}}
    files = {f"generated/{name}": content for name, content in tree(other / "generated").items()}
    return {**files, path.relative_to(reviewed).as_posix(): json.dumps(forged).encode()}


# ------------------------------------------------------------------------------ forged entries in the checkout


def test_forged_gate_entries_in_the_checkout_never_pass_the_gate(pr: Path, tmp_path: Path) -> None:
    tracked = commit_forgery(pr, gate_forgery(pr, tmp_path))
    assert len(tracked) == len(ALL_UNITS)

    result = run_cli(pr, "check", "--today", TODAY, "--format", "json", env=ci(pr))
    assert result.exit_code == 1, result.stderr
    assert result.stderr.splitlines()[0] == NOTE and result.stderr.count(NOTE) == 1
    blocking = {f["rule"] for f in json.loads(result.stdout)["findings"] if not f["waived"]}
    assert "MLG-SUP-002" in blocking, blocking
    assert "mlgitops check failed" in result.stderr

    assert_refused(run_cli(pr, "check", "--today", TODAY, env=local(pr)), tracked)

    result = run_cli(pr, "check", "--today", TODAY, env=default_location(tmp_path))
    assert result.exit_code == 1, result.stderr
    assert result.stdout.splitlines()[-1].endswith(": gate failed")


def test_a_forged_render_entry_in_the_checkout_never_passes_compile_check(pr: Path, tmp_path: Path) -> None:
    tracked = commit_forgery(pr, render_forgery(pr, tmp_path))

    result = run_cli(pr, "compile", "--check", env=ci(pr))
    assert result.exit_code == 1, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == NOTE and result.stderr.count(NOTE) == 1
    assert lines[1:-1] == ["  ~ dev/_argocd/appproject-dev-personalization.yaml",
                           "  - dev/_argocd/clusterrolebinding-personalization-admin.yaml"]
    assert lines[-1].startswith("mlgitops: generated/ is stale (2 files differ)")

    assert_refused(run_cli(pr, "compile", "--check", env=local(pr)), tracked)

    result = run_cli(pr, "compile", "--check", env=default_location(tmp_path))
    assert result.exit_code == 1, result.stderr
    assert "generated/ is stale (2 files differ)" in result.stderr


def test_a_forged_load_entry_in_the_checkout_never_replaces_the_reviewed_spec(pr: Path, tmp_path: Path) -> None:
    tracked = commit_forgery(pr, load_forgery(pr, tmp_path))
    ingress = "generated/dev/recommender/ingress-recommender.yaml"
    assert FORGED_HOST.split()[1] in (pr / ingress).read_text()

    result = run_cli(pr, "compile", "--check", env=ci(pr))
    assert result.exit_code == 1, result.stderr
    assert result.stderr.splitlines()[0] == NOTE
    assert f"  ~ {ingress.removeprefix('generated/')}" in result.stderr.splitlines()

    assert_refused(run_cli(pr, "validate", env=local(pr)), tracked)
    assert_refused(run_cli(pr, "compile", "--offline", env=local(pr)), tracked)

    for env in (ci(pr), default_location(tmp_path)):
        git(pr, "checkout", "-q", "--", "generated")
        assert run_cli(pr, "compile", "--offline", env=env).exit_code == 0
        assert REVIEWED_HOST.split()[1] in (pr / ingress).read_text(), "the reviewed document is compiled"


def test_a_link_into_the_checkout_is_the_checkout(pr: Path, tmp_path: Path) -> None:
    """A cache directory reached through a symbolic link into the repository is inside it all the same."""
    tracked = commit_forgery(pr, gate_forgery(pr, tmp_path))
    (tmp_path / "link").symlink_to(pr / OLD)
    env = {"CI": "", DIRECTORY_VARIABLE: str(tmp_path / "link")}
    result = run_cli(pr, "check", "--today", TODAY, env=env)
    assert result.exit_code == 2, result.stderr
    assert result.stderr.splitlines()[0] == refusal(tracked)


def test_an_untracked_cache_in_the_checkout_is_used_outside_ci_and_ignored_in_it(repo: Path) -> None:
    """A developer may keep the cache in the repository (git-ignored): nothing tracked, nothing refused."""
    env = local(repo)
    assert run_cli(repo, "validate", env=env).exit_code == 0
    assert entries(repo / OLD, "load")
    result = run_cli(repo, "validate", env={**env, "CI": "true"})
    assert result.exit_code == 0 and result.stderr.splitlines() == [NOTE]
    assert run_cli(repo, "-q", "validate", env={**env, "CI": "true"}).stderr == "", "-q prints errors only"


# ------------------------------------------------------------------------- bindings, in the external cache


def _gate(repo: Path, trusted: bool = False):
    with pytest.MonkeyPatch.context() as patch:  # the lock verifies against the example registry, as in the CLI tests
        patch.setenv("MLFLOW_TRACKING_URI", example_registry())
        return run_gate(Workspace(repo), today=date.fromisoformat(TODAY), cache=Cache(trusted=trusted))


def test_a_gate_entry_counts_only_for_the_objects_it_judged(repo: Path, cache_dir: Path) -> None:
    edit(repo, REC, APPROVED_IMAGE, UNAPPROVED_IMAGE)
    assert _gate(repo).failed()
    for path, entry in entries(cache_dir, "gate").items():
        entry["value"].update(findings=[], checkov={}, objects="0" * 64)  # bound to other objects
        path.write_text(json.dumps(entry))
    assert _gate(repo).failed(), "a gate entry bound to other objects is a miss"


def test_a_trusted_gate_takes_a_gate_entry_only_for_the_objects_it_rendered(repo: Path, cache_dir: Path) -> None:
    """Forged render entries and gate entries bound to them: the developer's cache believes its own directory;
    a trusted run renders for itself, so the forged gate entries bind to nothing it has."""
    edit(repo, REC, APPROVED_IMAGE, UNAPPROVED_IMAGE)
    assert _gate(repo).failed()
    renders = {objects_digest((e["value"]["objects"], e["value"]["argocd"])): (p, e)
               for p, e in entries(cache_dir, "render").items()}
    for path, entry in entries(cache_dir, "gate").items():
        render_path, render = renders[entry["value"]["objects"]]  # the objects this entry judged
        value = render["value"]
        for obj in value["objects"] + value["argocd"]:
            obj["metadata"].setdefault("labels", {})["forged"] = "yes"
        render_path.write_text(json.dumps(render))
        entry["value"].update(findings=[], checkov={}, objects=objects_digest((value["objects"], value["argocd"])))
        path.write_text(json.dumps(entry))
    assert not _gate(repo).failed(), "the forgery is consistent: the untrusted cache takes it"
    assert _gate(repo, trusted=True).failed()


def test_a_render_entry_counts_only_for_the_inputs_it_was_made_from(repo: Path, cache_dir: Path) -> None:
    assert run_cli(repo, "compile", "--offline", env={"CI": ""}).exit_code == 0
    path, entry = argocd_entry(cache_dir)
    entry["value"]["argocd"] = widen(entry["value"]["argocd"])
    path.write_text(json.dumps(entry))
    stale = run_cli(repo, "compile", "--check", env={"CI": ""})
    assert stale.exit_code == 1, "the forged objects under their real inputs are taken (by an untrusted cache)"
    assert run_cli(repo, "compile", "--check", env={"CI": "true"}).exit_code == 0, "a trusted run renders"
    assert run_cli(repo, "compile", "--check", "--trusted-cache-only", env={"CI": ""}).exit_code == 0
    entry["value"]["inputs"] = entry["value"]["inputs"].replace('"unit":"argocd"', '"unit":"other"')
    path.write_text(json.dumps(entry))
    assert run_cli(repo, "compile", "--check", env={"CI": ""}).exit_code == 0, "other inputs: a miss"


def test_a_load_entry_counts_only_for_the_bytes_it_parsed(repo: Path, cache_dir: Path) -> None:
    spec = repo / REC
    edit(repo, REC, REVIEWED_HOST, FORGED_HOST)
    validate_all(Workspace(repo), Cache())
    forged = spec.read_bytes()
    edit(repo, REC, FORGED_HOST, REVIEWED_HOST)
    validate_all(Workspace(repo), Cache())
    by_sha = {e["value"]["sha256"]: (p, e) for p, e in entries(cache_dir, "load").items() if e["value"]["file"] == REC}
    genuine_path, genuine = by_sha[hashlib.sha256(spec.read_bytes()).hexdigest()]
    _, other = by_sha[hashlib.sha256(forged).hexdigest()]

    def host(trusted: bool = False) -> str:
        _, systems = validate_all(Workspace(repo), Cache(trusted=trusted))
        return next(s for s in systems if s.name == "recommender").spec.serving.ingress.host

    genuine_path.write_text(json.dumps({"key": genuine["key"], "value": other["value"]}))
    assert host() == "recs.example.com", "a load entry of other bytes is a miss"
    claimed = {**other["value"], "sha256": genuine["value"]["sha256"]}
    genuine_path.write_text(json.dumps({"key": genuine["key"], "value": claimed}))
    assert host() == "pay.example.com", "a digest is a claim: the untrusted cache believes its own directory"
    assert host(trusted=True) == "recs.example.com", "a trusted run parses every file"


# ----------------------------------------------------------------------------------- location and cost


def test_the_cache_lives_outside_the_repository(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(DIRECTORY_VARIABLE, str(tmp_path / "chosen"))
    assert default_directory() == tmp_path / "chosen"
    monkeypatch.delenv(DIRECTORY_VARIABLE)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_directory() == tmp_path / "xdg" / "mlgitops"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for ignored in ("", "relative/cache"):  # the XDG Base Directory specification: empty or relative is unset
        monkeypatch.setenv("XDG_CACHE_HOME", ignored)
        assert default_directory() == tmp_path / "home" / ".cache" / "mlgitops"
    assert cli.CACHE_VARIABLE == DIRECTORY_VARIABLE


def test_help_names_the_cache_and_the_trusted_mode(repo: Path) -> None:
    result = run_cli(repo, "--help")
    assert ".mlgitops-cache" not in result.stdout
    assert "$MLGITOPS_CACHE_DIR, else ~/.cache/mlgitops" in " ".join(result.stdout.split())
    assert "--trusted-cache-only" in result.stdout
    for command in ("validate", "compile", "check", "diff"):
        assert "--trusted-cache-only" in run_cli(repo, command, "--help").stdout


def test_a_trusted_gate_renders_every_unit_and_judges_only_what_changed(repo: Path,
                                                                          work: dict[str, Counter]) -> None:
    """Issue 23: a pull request gated with the base branch's cache re-judges only its own units."""
    first = _gate(repo, trusted=True)
    assert set(work["rendered"]) == set(work["judged"]) == ALL_UNITS
    work["rendered"].clear()
    work["judged"].clear()
    assert _gate(repo, trusted=True) == first
    assert set(work["rendered"]) == ALL_UNITS and not work["judged"]
    work["rendered"].clear()
    edit(repo, REC, "target: 70", "target: 60")
    _gate(repo, trusted=True)
    assert set(work["rendered"]) == ALL_UNITS
    assert set(work["judged"]) == {(env, "recommender") for env in ("dev", "prod", "staging")}


def test_prune_and_runs_never_touch_the_repository(repo: Path, cache_dir: Path) -> None:
    before = tree(repo)
    assert run_cli(repo, "check", "--today", TODAY, env={"CI": ""}).exit_code == 0
    assert tree(repo) == before
    assert {p.relative_to(cache_dir).parts[0] for p in cache_dir.rglob("*.json")} == {"load", "render", "gate"}
    assert re.fullmatch(r"[0-9a-f]{64}\.json", next(cache_dir.rglob("*.json")).name)
