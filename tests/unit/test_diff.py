"""`mlgitops diff`: the base revision (checked out in a temporary git worktree) and the working tree, both compiled
offline, compared object by object under generated/ — in temp git repositories made from the examples."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from compiler.diff import DiffResult, diff_against, render_markdown, render_text
from compiler.errors import Code, SpecError
from compiler.labels import SPEC_HASH_ANNOTATION as SPEC_HASH
from compiler.pins import read_lock, write_lock
from helpers import copy_examples, edit, tree

ENVS = ("dev", "prod", "staging")
RECOMMENDER_CHANGES = {"inferenceservice-recommender.yaml", "resourcequota-recommender.yaml"}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def commit(repo: Path, message: str = "change") -> None:
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false",
        "commit", "-q", "--allow-empty", "-m", message)


def init(repo: Path) -> Path:
    repo.mkdir(parents=True, exist_ok=True)
    git(repo, "init", "-q")
    return repo


@pytest.fixture
def git_repo(tmp_path: Path) -> Path:
    """The examples, committed."""
    repo = copy_examples(init(tmp_path / "repo"))
    commit(repo, "examples")
    return repo


def assert_worktree_removed(repo: Path) -> None:
    assert len(git(repo, "worktree", "list").splitlines()) == 1, git(repo, "worktree", "list")


def changed_lines(diff: str) -> list[str]:
    return [line for line in diff.splitlines() if line[:1] in "+-" and not line.startswith(("+++ ", "--- "))]


def diff_error(root: Path, ref: str, envs: tuple[str, ...] = (), env: dict[str, str] | None = None) -> SpecError:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in (env or {}).items():
            patch.setenv(name, value)
        with pytest.raises(SpecError) as caught:
            diff_against(root, ref, envs)
    return caught.value


def paths(result: DiffResult, status: str) -> set[str]:
    return {o.path for o in result.objects if o.status == status}


def test_one_field_changes_exactly_its_objects_in_the_environments_it_reaches(
        git_repo: Path, compiled: dict[str, dict]) -> None:
    edit(git_repo, "spec/recommender.yaml", "replicas: {min: 2, max: 5}", "replicas: {min: 2, max: 7}")
    before = tree(git_repo), git(git_repo, "status", "--porcelain")
    result = diff_against(git_repo, "HEAD")

    # dev pins max 1 itself: only staging and prod move, and only the recommender
    assert [str(s.unit) for s in result.sections] == ["prod/recommender", "staging/recommender"]
    assert paths(result, "added") == paths(result, "removed") == set()
    substantive = {o.path for o in result.objects if o.status == "changed" and not o.hash_only}
    assert substantive == {f"{env}/recommender/{name}" for env in ("prod", "staging") for name in RECOMMENDER_CHANGES}
    # every other object of the system only carries the new spec hash
    others = {p for p in compiled if p.split("/")[:2] in (["prod", "recommender"], ["staging", "recommender"])}
    assert {o.path for o in result.objects if o.hash_only} == others - substantive
    for obj in result.objects:
        if obj.hash_only:
            # the annotation, or the pipeline's register step recording the hash as lineage
            assert all(SPEC_HASH in line or "mlgitops.spec-hash=" in line for line in changed_lines(obj.diff)), obj.path

    for env in ("prod", "staging"):
        section = next(s for s in result.sections if s.env == env)
        assert (section.added, section.removed, section.changed, section.hash_only) == (0, 0, 2, len(others) // 2 - 2)
        service = next(o for o in section.objects if o.kind == "InferenceService")
        lines = [line for line in changed_lines(service.diff) if SPEC_HASH not in line]
        assert lines == ["-    maxReplicas: 5", "+    maxReplicas: 7"]
        assert service.diff.startswith(f"--- a/generated/{env}/recommender/inferenceservice-recommender.yaml\n"
                                       f"+++ b/generated/{env}/recommender/inferenceservice-recommender.yaml\n@@")
        quota = next(o for o in section.objects if o.kind == "ResourceQuota")
        lines = [line for line in changed_lines(quota.diff) if SPEC_HASH not in line]
        # two more serving replicas, pods +2 each for canary and default, each 2 CPU, 4Gi + 2Gi /dev/shm, 5Gi of disk
        # and one (time-sliced) GPU, beside a queue-proxy (25m CPU requested, 250m / 256Mi / 1Gi from the LimitRange)
        assert lines == ["-    limits.cpu: 65500m", "-    limits.ephemeral-storage: 125Gi", "-    limits.memory: 222Gi",
                         "-    pods: 25", "-    requests.cpu: 62800m", "-    requests.ephemeral-storage: 125Gi",
                         "-    requests.memory: 222Gi", "-    requests.nvidia.com/gpu: 16",
                         "+    limits.cpu: 74500m", "+    limits.ephemeral-storage: 149Gi", "+    limits.memory: 247Gi",
                         "+    pods: 29", "+    requests.cpu: 70900m", "+    requests.ephemeral-storage: 149Gi",
                         "+    requests.memory: 247Gi", "+    requests.nvidia.com/gpu: 20"]
    assert result.has_changes and result.commit == git(git_repo, "rev-parse", "HEAD").strip()
    assert (tree(git_repo), git(git_repo, "status", "--porcelain")) == before, "diff writes nothing"
    assert_worktree_removed(git_repo)

    text = render_text(result)
    hash_only = next(s for s in result.sections if s.env == "prod").hash_only
    assert f"prod/recommender: 0 added, 0 removed, 2 changed, {hash_only} spec-hash only\n" \
           "  ~ InferenceService recommender  (prod/recommender/inferenceservice-recommender.yaml)\n" \
           "--- a/generated/prod/recommender/inferenceservice-recommender.yaml\n" in text
    assert "\n-    maxReplicas: 5\n+    maxReplicas: 7\n" in text
    assert f"  = {hash_only} more objects changed only in {SPEC_HASH}\n" in text
    assert "dev/" not in text and "fraud-scorer" not in text
    assert text.endswith(f"generated/ changes in 2 directories against HEAD ({result.commit[:12]}): "
                         f"0 added, 0 removed, 4 changed, {2 * hash_only} spec-hash only\n")
    assert "    = ServiceAccount recommender-drift  (prod/recommender/serviceaccount-recommender-drift.yaml)" \
        in render_text(result, verbose=True)
    # the cost as data, (base, working tree) per unit it moves; plain text in the text output, a table in markdown
    assert {key: (was.replicas, now.replicas) for key, (was, now) in result.cost.items()} == {
        ("prod", "recommender"): ((2, 5), (2, 7)), ("staging", "recommender"): ((2, 5), (2, 7))}
    assert "Estimated monthly cost of what changed:\n  prod/recommender: +$0.00 → +$773.80\n" \
           "    Serving /mo (replicas min → max): 2 → 7: $773.80 → $2,708.30\n" in text
    assert "| recommender |" not in text

    markdown = render_markdown(result)
    assert "| environment | system | added | removed | changed | spec-hash only |\n" in markdown
    assert f"| prod | `recommender` | 0 | 0 | 2 | {hash_only} |\n" \
           f"| staging | `recommender` | 0 | 0 | 2 | {hash_only} |\n" \
           f"| **total** |  | **0** | **0** | **4** | **{2 * hash_only}** |\n" in markdown
    assert "| recommender | staging | 2 → 7: $773.80 → $2,708.30 |" in markdown
    assert markdown.count("<details>") == markdown.count("</details>") == 2
    assert markdown.count("```diff\n") == 2 and "\n-    maxReplicas: 5\n+    maxReplicas: 7\n" in markdown
    short = render_markdown(result, limit=1000)
    assert "```diff" not in short and short.count("_Diff omitted") == 2 and "`mlgitops diff --base HEAD`" in short


def test_an_added_spec_adds_all_its_objects_and_its_argocd_apps(tmp_path: Path, compiled: dict[str, dict]) -> None:
    repo = copy_examples(init(tmp_path / "repo"))
    spec = (repo / "spec" / "support-assistant.yaml").read_text()
    (repo / "spec" / "support-assistant.yaml").unlink()
    commit(repo, "without support-assistant")
    (repo / "spec" / "support-assistant.yaml").write_text(spec)

    result = diff_against(repo, "HEAD")
    own = {p for p in compiled if p.split("/")[1] == "support-assistant"}
    argocd = {f"{env}/_argocd/{kind}-{env}-{name}.yaml" for env in ENVS
              for kind, name in (("application", "support-assistant"), ("appproject", "customer-ai"))}
    assert argocd <= set(compiled)
    assert paths(result, "added") == own | argocd
    assert paths(result, "removed") == paths(result, "changed") == set()
    assert [str(s.unit) for s in result.sections] == [f"{env}/{system}" for env in ENVS
                                                  for system in ("support-assistant", "_argocd")]
    assert "  + Application dev-support-assistant  (dev/_argocd/application-dev-support-assistant.yaml)\n" \
        in render_text(result)
    assert_worktree_removed(repo)


def test_a_deleted_spec_removes_all_its_objects_and_its_argocd_apps(git_repo: Path,
                                                                      compiled: dict[str, dict]) -> None:
    (git_repo / "spec" / "fraud-scorer.yaml").unlink()
    result = diff_against(git_repo, "HEAD")
    own = {p for p in compiled if p.split("/")[1] == "fraud-scorer"}
    argocd = {f"{env}/_argocd/{kind}-{env}-{name}.yaml" for env in ENVS
              for kind, name in (("application", "fraud-scorer"), ("appproject", "payments-risk"))}
    assert paths(result, "removed") == own | argocd
    assert paths(result, "added") == paths(result, "changed") == set()
    assert render_text(result).endswith(f"0 added, {len(own) + 6} removed, 0 changed\n")
    assert_worktree_removed(git_repo)


def test_no_change_is_an_empty_diff(git_repo: Path) -> None:
    result = diff_against(git_repo)  # HEAD
    assert result.sections == () and result.notes == () and not result.has_changes
    assert render_text(result) == f"No changes to generated/ against HEAD ({result.commit[:12]}).\n"
    assert render_markdown(result) == f"### Manifest diff against `HEAD` (`{result.commit[:12]}`)\n\n" \
                                      "No changes to generated/.\n"
    assert_worktree_removed(git_repo)


def test_a_base_before_the_project_compiles_to_nothing(tmp_path: Path, compiled: dict[str, dict]) -> None:
    repo = init(tmp_path / "repo")
    (repo / "README.md").write_text("a platform repository, before mlgitops\n")
    commit(repo, "initial")
    copy_examples(repo)
    result = diff_against(repo, "HEAD")
    assert paths(result, "added") == set(compiled) and len(result.objects) == len(compiled)
    assert result.notes == ("the base HEAD has nothing in spec/: it compiles to nothing",)
    assert render_text(result).startswith("note: the base HEAD has nothing in spec/")
    assert "> **Note:** the base HEAD has nothing in spec/" in render_markdown(result)
    assert_worktree_removed(repo)


def test_a_base_without_a_lock_is_compiled_with_the_working_trees_pins_and_says_so(tmp_path: Path) -> None:
    repo = copy_examples(init(tmp_path / "repo"))
    lock = (repo / "mlgitops.lock.yaml").read_bytes()
    (repo / "mlgitops.lock.yaml").unlink()
    commit(repo, "before the lock")
    (repo / "mlgitops.lock.yaml").write_bytes(lock)
    result = diff_against(repo, "HEAD")
    assert not result.has_changes, "the same requests, pinned the same: nothing moves"
    pinned = ", ".join(f"{env}/{system}" for env in ENVS for system in ("fraud-scorer", "recommender",
                                                                          "support-assistant"))
    assert result.notes == (f"the base HEAD's mlgitops.lock.yaml pins no model version for {pinned}: "
                            "compiled with the working tree's pins",)
    assert_worktree_removed(repo)


def test_a_base_model_request_neither_lock_pins_is_an_error_not_a_registry_call(tmp_path: Path) -> None:
    repo = copy_examples(init(tmp_path / "repo"))
    lock = (repo / "mlgitops.lock.yaml").read_bytes()
    (repo / "mlgitops.lock.yaml").unlink()
    edit(repo, "spec/recommender.yaml", "alias: champion", "alias: challenger")
    commit(repo, "before the lock, on another alias")
    edit(repo, "spec/recommender.yaml", "alias: challenger", "alias: champion")
    (repo / "mlgitops.lock.yaml").write_bytes(lock)
    error = diff_error(repo, "HEAD", env={"MLFLOW_TRACKING_URI": "http://127.0.0.1:9"})
    assert {(d.code, d.location.file, d.field) for d in error.diagnostics} == {
        (Code.LOCK_MISSING, "HEAD:spec/recommender.yaml", "model")}
    assert [d.location.line for d in error.diagnostics] == [22] * 3, "one per environment, at the alias line"
    assert all(d.message.endswith("(neither the base HEAD nor the working tree's mlgitops.lock.yaml pins it, and "
                                  "diff never asks the registry)") for d in error.diagnostics), error
    assert_worktree_removed(repo)


def test_a_bad_ref_or_no_git_is_a_usage_error(git_repo: Path, tmp_path: Path) -> None:
    for ref in ("no-such-branch", "HEAD~5", "--output=/tmp/x", ""):
        [diagnostic] = diff_error(git_repo, ref).diagnostics
        assert diagnostic.code is Code.USAGE and repr(ref) in diagnostic.message, diagnostic
    assert "is not a commit in this repository" in str(diff_error(git_repo, "no-such-branch"))
    outside = copy_examples(tmp_path / "not-git")
    assert "is not inside a git repository" in str(diff_error(outside, "HEAD"))
    assert_worktree_removed(git_repo)


def test_a_base_that_does_not_compile_is_located_in_the_base_and_the_worktree_still_goes(git_repo: Path) -> None:
    edit(git_repo, "spec/recommender.yaml", "replicas: {min: 2, max: 5}", "replicas: {min: 2, max: 5, mx: 7}")
    commit(git_repo, "a typo")
    edit(git_repo, "spec/recommender.yaml", "replicas: {min: 2, max: 5, mx: 7}", "replicas: {min: 2, max: 5}")
    error = diff_error(git_repo, "HEAD")
    assert {d.code for d in error.diagnostics} == {Code.UNKNOWN_FIELD}
    assert all(d.location.file == "HEAD:spec/recommender.yaml" for d in error.diagnostics), error
    assert_worktree_removed(git_repo)
    assert not diff_against(git_repo, "HEAD~1").has_changes, "the commit before the typo is the working tree"


def test_environments_and_a_root_below_the_repository_top(tmp_path: Path) -> None:
    top = init(tmp_path / "mono")
    platform = copy_examples(top / "platform")
    (top / "README.md").write_text("other projects live here too\n")
    commit(top, "examples in platform/")
    edit(platform, "spec/recommender.yaml", "replicas: {min: 2, max: 5}", "replicas: {min: 2, max: 7}")
    shutil.copy(platform / "environments" / "prod.yaml", platform / "environments" / "prod2.yaml")
    edit(platform, "environments/prod2.yaml", "name: prod\n", "name: prod2\n")
    pins = read_lock(platform)  # as `mlgitops compile` would pin the new environment
    write_lock(platform, {**pins, **{("prod2", system): pin for (env, system), pin in pins.items() if env == "prod"}})

    result = diff_against(platform, "HEAD", ("prod",))
    assert [str(s.unit) for s in result.sections] == ["prod/recommender"]
    assert {o.path for o in result.objects if not o.hash_only} == {f"prod/recommender/{name}"
                                                                  for name in RECOMMENDER_CHANGES}
    new_env = diff_against(platform, "HEAD", ("prod2", "dev"))
    assert {s.env for s in new_env.sections} == {"prod2"}
    assert all(o.status == "added" for o in new_env.objects), "an environment the base lacks: all added"
    error = diff_error(platform, "HEAD", ("prod", "qa"))
    assert [(d.code, d.message) for d in error.diagnostics] == [
        (Code.UNKNOWN_ENVIRONMENT, "no environment named 'qa' in the working tree or in HEAD")]
    assert_worktree_removed(top)
