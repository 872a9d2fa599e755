"""`check --crds DIR`: the gate judges every rendered custom resource by the CRDs a cluster runs (here the upstream
releases of ../shared/crds), structural schema and CEL rules, offline — so a profile that renders for another release
than the one installed fails the pull request, at the spec line, instead of Argo CD's sync."""

from __future__ import annotations

import json

import pytest

from helpers import ROOT, SHARED_CRDS, edit, line_of, run_cli

TODAY = "2026-12-03"

pytestmark = pytest.mark.skipif(not SHARED_CRDS.is_dir(), reason="../shared/crds is not beside the repository")


def _check(repo, *args: str) -> tuple[int, list[dict]]:
    result = run_cli(repo, "check", "--today", TODAY, "--format", "json", *args)
    assert result.exit_code in (0, 1), result.stderr
    return result.exit_code, [f for f in json.loads(result.stdout)["findings"] if f["rule"] == "MLG-CRD-001"]


def test_the_examples_output_is_admitted_by_the_current_crds(repo) -> None:
    code, refused = _check(repo, "--crds", str(SHARED_CRDS))
    assert (code, refused) == (0, [])


def test_a_profile_for_an_older_argo_release_is_refused_at_the_pipeline(repo) -> None:
    # Argo Workflows 3.5 reads `schedule` and `synchronization.mutex`; the v4 CRDs the cluster runs declare neither.
    edit(repo, "environments/prod.yaml", 'argoWorkflows: {version: "4.0"', 'argoWorkflows: {version: "3.5"')
    _, before = _check(repo, "--env", "prod")
    assert before == [], "without --crds no custom resource is judged by a cluster's CRDs"

    code, refused = _check(repo, "--env", "prod", "--crds", str(SHARED_CRDS))  # the cache must not hide it
    assert code == 1
    by_resource = {f["resource"]: f for f in refused}
    assert sorted(by_resource) == ["argoproj.io/v1alpha1/CronWorkflow/ml-recommender/recommender-pipeline",
                                   "argoproj.io/v1alpha1/CronWorkflow/ml-recommender/recommender-retrain-on-drift",
                                   "argoproj.io/v1alpha1/WorkflowTemplate/ml-recommender/recommender-pipeline"]
    cron = by_resource["argoproj.io/v1alpha1/CronWorkflow/ml-recommender/recommender-pipeline"]
    assert cron["message"].startswith("CronWorkflow recommender-pipeline is refused by the CRD of "
                                      "argoproj.io/v1alpha1: ")
    assert "spec.schedules: Required value" in cron["message"]
    assert ".spec.schedule: field not declared in schema" in cron["message"]
    template = by_resource["argoproj.io/v1alpha1/WorkflowTemplate/ml-recommender/recommender-pipeline"]
    assert ".spec.synchronization.mutex: field not declared in schema" in template["message"]
    for finding in refused:
        assert (finding["severity"], finding["engine"], finding["env"], finding["waived"]) == \
               ("high", "crd", "prod", False)
        assert (finding["file"], finding["line"]) == ("spec/recommender.yaml",
                                                      line_of(repo, "spec/recommender.yaml", "pipeline:"))


def test_the_crds_come_from_the_environment_too(repo) -> None:
    edit(repo, "environments/prod.yaml", 'argoWorkflows: {version: "4.0"', 'argoWorkflows: {version: "3.5"')
    result = run_cli(repo, "check", "--env", "prod", "--today", TODAY, env={"MLGITOPS_CRDS": str(SHARED_CRDS)})
    assert result.exit_code == 1 and "MLG-CRD-001" in result.stdout


def test_a_crds_option_that_is_no_directory_is_a_usage_error(repo) -> None:
    result = run_cli(repo, "check", "--env", "prod", "--crds", "no-such-dir")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [f"--crds:1:1: {repo / 'no-such-dir'} is not a directory of CRD files [E401]",
                                          "mlgitops: 1 problem found; nothing was written"]


def test_explain_knows_the_crd_rule() -> None:
    result = run_cli(ROOT, "explain", "MLG-CRD-001")
    assert result.exit_code == 0 and result.stdout.startswith("MLG-CRD-001  [high]  (crd)\n")
    assert "A custom resource is refused by its CRD" in result.stdout and "Fix:" in result.stdout
