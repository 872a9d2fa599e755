"""The cluster-aware rules, offline from the committed snapshot (clusters/prod.yaml, made from the recorded lists of a
real kube-apiserver v1.36.2): what the examples' prod output needs and that cluster lacks is found at its spec line,
with what the cluster offers instead; each kind of misfit is made by editing a spec the way a user would."""

from __future__ import annotations

import json
import shutil

import pytest

from helpers import ROOT, edit, line_of, run_cli

TODAY = "2026-12-03"


@pytest.fixture
def cluster_repo(repo):
    shutil.copytree(ROOT / "clusters", repo / "clusters")
    return repo


def _findings(repo, *args: str) -> tuple[int, list[dict], list[str]]:
    result = run_cli(repo, "check", "--env", "prod", "--today", TODAY, "--format", "json", *args)
    assert result.exit_code in (0, 1), result.stderr
    report = json.loads(result.stdout)
    found = [f for f in report["findings"] if f["rule"].startswith("MLG-CLU-")]
    return result.exit_code, found, report.get("notes", [])


def test_the_examples_meet_the_recorded_cluster_but_for_the_gaps_waived_on_record(cluster_repo) -> None:
    code, found, notes = _findings(cluster_repo)
    assert code == 0 and found and all(f["waived"] for f in found)
    assert "prod: cluster facts from clusters/prod.yaml, taken 2026-12-02T00:00:00Z (1 day old): Kubernetes " \
           "v1.36.2, 4 nodes in 4 pools" in notes
    by = {(f["system"], f["rule"], f["message"]) for f in found}
    assert any(m.startswith("InferenceService recommender sets predictor.nodeSelector, which Knative drops unless "
                            "kubernetes.podspec-nodeselector is enabled") for s, r, m in by if r == "MLG-CLU-007")
    assert any(r == "MLG-CLU-007" and "executor.securityContext" in m for s, r, m in by if s == "recommender")
    support = {m for s, r, m in by if s == "support-assistant"}
    assert any("PriorityClass batch-low does not exist; the cluster has batch" in m for m in support)
    assert any("resources.deviceClassMappings" in m for m in support)
    assert not any(f["rule"] in ("MLG-CLU-001", "MLG-CLU-002", "MLG-CLU-003", "MLG-CLU-005", "MLG-CLU-006")
                   for f in found), "every pod fits, every claim is met, every API is served"


def test_without_a_snapshot_nothing_is_judged_and_the_report_says_so(cluster_repo) -> None:
    (cluster_repo / "clusters" / "prod.yaml").unlink()
    _, found, notes = _findings(cluster_repo)
    assert found == []
    assert "prod: no clusters/prod.yaml, so scheduling and admission on its cluster were not judged " \
           "(`mlgitops cluster snapshot --env prod` writes it)" in notes


def test_a_repository_without_snapshots_does_not_use_the_cluster_rules(repo) -> None:
    _, found, notes = _findings(repo)
    assert found == [] and not any("clusters/" in note for note in notes)


def _one(found: list[dict], rule: str) -> dict:
    [finding] = [f for f in found if f["rule"] == rule and not f["waived"]]
    return finding


def test_a_pod_no_pool_can_hold(cluster_repo) -> None:
    edit(cluster_repo, "spec/fraud-scorer.yaml", 'cpu: "14", memory: 56Gi', 'cpu: "16", memory: 64Gi')
    code, found, _ = _findings(cluster_repo)
    finding = _one(found, "MLG-CLU-001")
    assert code == 1 and finding["system"] == "fraud-scorer" and finding["severity"] == "high"
    assert (finding["file"], finding["line"]) == ("spec/fraud-scorer.yaml",
                                                  line_of(cluster_repo, "spec/fraud-scorer.yaml", "resources:",
                                                          after="training:"))
    assert finding["message"].startswith("CronJob fraud-scorer-train fits on no node pool (cpu: a node offers "
                                         "15.89 cpu, the pod asks 16; gpu-a100-80gb: the pod does not tolerate its "
                                         "taint nvidia.com/gpu:NoSchedule;")
    assert "the cluster's pools: cpu (1 × 15890m CPU)" in finding["message"]


def test_more_gpus_per_pod_than_the_largest_pool_has(cluster_repo) -> None:
    edit(cluster_repo, "spec/recommender.yaml", "gpu: {count: 1, type: nvidia-a100-80gb}",
         "gpu: {count: 16, type: nvidia-a100-80gb}")
    _, found, _ = _findings(cluster_repo)
    messages = [f["message"] for f in found if f["rule"] == "MLG-CLU-001"]
    assert any(m.endswith("the largest node pool with NVIDIA-A100-SXM4-80GB (gpu-a100-80gb) has 8 nvidia.com/gpu "
                          "per node; the pod asks 16") for m in messages), messages


def test_a_gpu_product_the_cluster_does_not_have(cluster_repo) -> None:
    edit(cluster_repo, "environments/prod.yaml", "nvidia-t4: Tesla-T4\n", "nvidia-t4: Tesla-T4-v2\n")
    _, found, _ = _findings(cluster_repo)
    finding = _one(found, "MLG-CLU-002")
    assert finding["system"] == "recommender" and finding["line"] == line_of(
        cluster_repo, "spec/recommender.yaml", "  gpu:", after="serving:")
    assert finding["message"] == ("InferenceService recommender predictor: no node is nvidia.com/gpu.product="
                                  "Tesla-T4-v2-SHARED; the cluster's GPU products: NVIDIA-A100-SXM4-80GB, "
                                  "Tesla-T4-SHARED")


def test_a_queued_workload_above_its_cluster_queues_quota(cluster_repo) -> None:
    edit(cluster_repo, "spec/recommender.yaml", "  workers: 4\n", "  workers: 12\n")
    _, found, _ = _findings(cluster_repo)
    finding = _one(found, "MLG-CLU-003")
    assert finding["line"] == line_of(cluster_repo, "spec/recommender.yaml", "queue: ml-training")
    assert finding["message"].endswith("asks 12 nvidia.com/gpu through queue ml-training; ClusterQueue "
                                       "gpu-cluster-queue has a nominal quota of 8")


def test_a_dra_claim_is_judged_by_evaluating_its_cel_selector(cluster_repo) -> None:
    edit(cluster_repo, "environments/prod.yaml", "nvidia-a100-80gb-dra: NVIDIA-A100-SXM4-80GB",
         "nvidia-a100-80gb-dra: NVIDIA-H100-80GB-HBM3")
    _, found, _ = _findings(cluster_repo)
    finding = _one(found, "MLG-CLU-005")
    assert finding["line"] == line_of(cluster_repo, "spec/support-assistant.yaml", "gpu: {count: 2")
    assert 'asks 2 × gpu.nvidia.com where device.attributes["gpu.nvidia.com"].productName.lowerAscii()' in \
        finding["message"] and "no ResourceSlice holds that many such devices (slices: gpu-a100-80gb-0: 8 × " \
                               "gpu.nvidia.com)" in finding["message"]


def test_a_dra_claim_for_more_devices_than_a_slice_holds(cluster_repo) -> None:
    edit(cluster_repo, "spec/support-assistant.yaml", "gpu: {count: 2, type: nvidia-a100-80gb-dra}",
         "gpu: {count: 9, type: nvidia-a100-80gb-dra}")
    _, found, _ = _findings(cluster_repo)
    assert "asks 9 × gpu.nvidia.com" in _one(found, "MLG-CLU-005")["message"]


def test_a_secret_store_and_an_api_the_cluster_lacks(cluster_repo) -> None:
    edit(cluster_repo, "environments/prod.yaml", "name: vault-prod", "name: vault-eu")
    snapshot = cluster_repo / "clusters" / "prod.yaml"
    snapshot.write_text(snapshot.read_text().replace("  - TrainJob\n", ""))
    _, found, _ = _findings(cluster_repo)
    stores = [f for f in found if f["rule"] == "MLG-CLU-004" and "ClusterSecretStore" in f["message"]]
    assert {f["system"] for f in stores} == {"fraud-scorer", "recommender"}
    assert stores[0]["message"] == "ClusterSecretStore vault-eu does not exist; the cluster has vault-prod"
    served = _one(found, "MLG-CLU-006")
    assert served["message"] == ("the cluster does not serve TrainJob in trainer.kubeflow.org/v1alpha1 (it serves "
                                 "it in: none)")


def test_a_changed_snapshot_is_judged_again_not_taken_from_the_cache(cluster_repo, cache_dir) -> None:
    assert _findings(cluster_repo)[0] == 0
    snapshot = cluster_repo / "clusters" / "prod.yaml"
    snapshot.write_text(snapshot.read_text().replace("vault-prod", "vault-other"))
    code, found, _ = _findings(cluster_repo)
    assert code == 1 and any("ClusterSecretStore vault-prod does not exist" in f["message"] for f in found)


def test_a_broken_snapshot_fails_closed_at_its_line(cluster_repo) -> None:
    snapshot = cluster_repo / "clusters" / "prod.yaml"
    snapshot.write_text(snapshot.read_text().replace("nodePools:", "nodePoolz:"))
    result = run_cli(cluster_repo, "check", "--env", "prod", "--today", TODAY)
    assert result.exit_code == 2
    line = line_of(cluster_repo, "clusters/prod.yaml", "nodePoolz:")
    assert f"clusters/prod.yaml:{line}:1: nodePoolz: unknown field 'nodePoolz'; did you mean 'nodePools'? [E201]" \
        in result.stderr.splitlines()


def test_explain_knows_the_cluster_rules() -> None:
    result = run_cli(ROOT, "explain", "MLG-CLU-003")
    assert result.exit_code == 0 and "A queued workload asks more GPUs than its ClusterQueue's quota" in result.stdout
