"""`mlgitops cluster snapshot` against the recorded answers of a real kube-apiserver v1.36.2, replayed over loopback
HTTP (tests/replay.py): the lists the snapshot reads are the ones the real server sent. The committed
clusters/<env>.yaml of the examples are exactly what this command writes from them (`--update-golden` rewrites
them); a refused identity or a hand-broken snapshot fails closed at its line."""

from __future__ import annotations

import shutil

import pytest
import yaml

from helpers import ROOT, line_of, run_cli
from replay import NO_RIGHTS, write_kubeconfig

# The recordings are of the prod cluster (their README: dev and staging were not recorded): only prod has facts.
ENVIRONMENTS = ("prod",)
# The day the recordings were made (their README): a snapshot's takenAt is $SOURCE_DATE_EPOCH when set.
RECORDED = {"SOURCE_DATE_EPOCH": "1796169600", "MLFLOW_TRACKING_URI": "unused://"}


def _snapshot(repo, apiserver, tmp_path, *args: str, env: str = "prod", identity=None, clock=RECORDED):
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", apiserver.url, *((identity,) if identity else ()))
    return run_cli(repo, "cluster", "snapshot", "--env", env, "--kubeconfig", str(kubeconfig), *args, env=clock)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_committed_snapshots_are_what_the_recorded_cluster_gives(repo, apiserver, tmp_path, env,
                                                                     update_golden) -> None:
    result = _snapshot(repo, apiserver, tmp_path, env=env)
    assert result.exit_code == 0, result.stderr
    written = (repo / "clusters" / f"{env}.yaml").read_text()
    committed = ROOT / "clusters" / f"{env}.yaml"
    if update_golden:
        committed.parent.mkdir(exist_ok=True)
        committed.write_text(written)
    assert committed.read_text() == written, "run pytest --update-golden and review the diff"


def test_the_facts_the_gate_needs(repo, apiserver, tmp_path) -> None:
    assert _snapshot(repo, apiserver, tmp_path).exit_code == 0
    facts = yaml.safe_load((repo / "clusters" / "prod.yaml").read_text())
    assert facts["kubernetesVersion"] == "v1.36.2" and facts["metadata"]["takenAt"] == "2026-12-02T00:00:00Z"
    pools = {p["name"]: p for p in facts["nodePools"]}
    assert sorted(pools) == ["cpu", "gpu-a100-80gb", "gpu-a100-mig", "gpu-t4-shared"]
    assert pools["gpu-a100-80gb"]["gpu"] == {"product": "NVIDIA-A100-SXM4-80GB", "count": 8, "replicas": 1,
                                             "memoryMib": 81920}
    assert pools["gpu-a100-80gb"]["allocatable"]["nvidia.com/gpu"] == "8"
    assert pools["gpu-a100-80gb"]["taints"] == [{"key": "nvidia.com/gpu", "effect": "NoSchedule"}]
    assert pools["gpu-a100-mig"]["gpu"]["migProfiles"] == {"1g.10gb": 16, "2g.20gb": 8, "3g.40gb": 8}
    assert "nvidia.com/gpu" not in pools["gpu-a100-mig"]["allocatable"]  # mixed strategy: only MIG resources
    assert pools["gpu-t4-shared"]["gpu"]["sharingStrategy"] == "time-slicing"
    assert pools["gpu-t4-shared"]["gpu"]["replicas"] == 4 and "gpu" not in pools["cpu"]
    assert "kubernetes.io/hostname" not in pools["cpu"]["labels"]  # one node's name is not what a pool offers
    assert facts["kueue"]["apiVersion"] == "kueue.x-k8s.io/v1beta2"  # the group's preferred version
    assert facts["kueue"]["clusterQueues"] == [{"name": "gpu-cluster-queue", "nominalQuota": {
        "a100-80gb": {"cpu": "96", "memory": "1100Gi", "nvidia.com/gpu": "8"}}}]
    assert facts["kueue"]["localQueues"] == [{"name": "gpu-finetune", "namespace": "ml-support-assistant",
                                              "clusterQueue": "gpu-cluster-queue"}]
    assert facts["kueue"]["workloadPriorityClasses"] == {"training-low": 100}
    assert facts["priorityClasses"] == {"batch": 1000, "serving": 100000, "system-cluster-critical": 2000000000,
                                        "system-node-critical": 2000001000}
    assert facts["ingressClasses"] == [{"name": "nginx", "controller": "k8s.io/ingress-nginx"}]
    assert facts["clusterSecretStores"] == ["vault-prod"]
    [gpu_class, mig_class] = facts["deviceClasses"]
    assert gpu_class["extendedResourceName"] == "nvidia.com/gpu" and "type == 'mig'" in mig_class["selectors"][0]
    [dra_slice] = facts["resourceSlices"]
    assert (dra_slice["driver"], dra_slice["nodeName"], len(dra_slice["devices"])) == \
        ("gpu.nvidia.com", "gpu-a100-80gb-0", 8)
    assert dra_slice["devices"][0]["attributes"]["productName"] == {"string": "NVIDIA A100-SXM4-80GB"}
    assert dra_slice["devices"][0]["capacity"] == {"memory": "80Gi"} and dra_slice["nodePool"] == "gpu-a100-80gb"
    controllers = facts["controllers"]
    assert controllers["kserve"]["data"]["deploy"] == {"defaultDeploymentMode": "Serverless"}
    assert "data" not in controllers["knative"]  # only `_example`: every feature at its default
    assert "data" not in controllers["argoWorkflows"]  # the install ships the ConfigMap without data
    kueue_config = controllers["kueue"]["data"]["controller_manager_config.yaml"]
    assert kueue_config["kind"] == "Configuration" and "integrations" in kueue_config
    assert "Deployment" in facts["apis"]["apps/v1"] and "InferenceService" in facts["apis"]["serving.kserve.io/v1beta1"]
    assert "external-secrets.io/v1beta1" not in facts["apis"]  # in the CRD, but not served


def test_an_existing_snapshot_is_compared_and_only_rewritten_on_request(repo, apiserver, tmp_path) -> None:
    assert _snapshot(repo, apiserver, tmp_path).exit_code == 0
    path = repo / "clusters" / "prod.yaml"
    first = path.read_text()
    later = {**RECORDED, "SOURCE_DATE_EPOCH": "1796256000"}
    same = _snapshot(repo, apiserver, tmp_path, "--update-facts", clock=later)
    assert same.exit_code == 0 and "unchanged: clusters/prod.yaml" in same.stdout
    assert path.read_text() == first  # the same facts keep their takenAt: no churn in Git
    path.write_text(first.replace("training-low: 100", "training-low: 50"))
    drifted = _snapshot(repo, apiserver, tmp_path, clock=later)
    assert drifted.exit_code == 1
    assert "the cluster differs from clusters/prod.yaml in kueue; run `mlgitops cluster snapshot --update-facts`" \
        in drifted.stderr
    assert _snapshot(repo, apiserver, tmp_path, "--update-facts", clock=later).exit_code == 0
    assert "training-low: 100" in path.read_text() and "takenAt: '2026-12-03T00:00:00Z'" in path.read_text()


def test_an_identity_without_rights_writes_nothing(repo, apiserver, tmp_path) -> None:
    result = _snapshot(repo, apiserver, tmp_path, identity=NO_RIGHTS)
    assert result.exit_code == 2
    line = line_of(repo, "environments/prod.yaml", "server:", after="cluster:")
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"environments/prod.yaml:{line}:") and first.endswith("[E801]")
    assert "nothing was judged" in first and "Traceback" not in result.stderr
    assert not (repo / "clusters").exists()


def test_a_broken_snapshot_is_refused_at_its_line(repo, apiserver, tmp_path) -> None:
    shutil.copytree(ROOT / "clusters", repo / "clusters")
    path = repo / "clusters" / "prod.yaml"
    path.write_text(path.read_text().replace("kubernetesVersion:", "kubernetesVersoin:"))
    result = _snapshot(repo, apiserver, tmp_path)
    assert result.exit_code == 2
    line = line_of(repo, "clusters/prod.yaml", "kubernetesVersoin:")
    assert f"clusters/prod.yaml:{line}:1: kubernetesVersoin: unknown field 'kubernetesVersoin'; did you mean " \
        "'kubernetesVersion'? [E201]" in result.stderr.splitlines()
