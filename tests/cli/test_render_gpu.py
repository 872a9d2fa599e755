"""GPU placement as the cluster's GPU software labels and advertises it: GPU Feature Discovery's product labels for
shared and MIG GPUs, the device plugin's resource names, one allocator per GPU pool, and DRA devices in the quota."""

from __future__ import annotations

from pathlib import Path

from ruamel.yaml import YAML

from helpers import edit, pod_specs, require_shared_schemas, run_cli, schema_errors

yaml = YAML(typ="safe")
PRODUCT = "nvidia.com/gpu.product"
SHARING = "nvidia.com/gpu.sharing-strategy"
DRA_QUOTA = "gpu.nvidia.com.deviceclass.resource.k8s.io/devices"
MIG_DRA_QUOTA = "mig.nvidia.com.deviceclass.resource.k8s.io/devices"
PLATFORM_GPU = "    migStrategy: mixed\n"


def _load(repo: Path, env: str, system: str, name: str) -> dict:
    return yaml.load((repo / "generated" / env / system / name).read_text())


def _predictor(isvc: dict) -> dict:
    [pod] = pod_specs(isvc)
    return pod


def _line_of(repo: Path, relative: str, text: str) -> int:
    """The 1-based line of a file that holds `text` and at most a comment."""
    lines = (repo / relative).read_text().splitlines()
    [number] = [i for i, line in enumerate(lines, 1) if line.split(" #")[0].rstrip() == text]
    return number


def test_time_sliced_gpus_select_the_product_gfd_suffixes_with_shared(compiled: dict[str, dict]) -> None:
    # k8s-device-plugin internal/lm/resource.go getProductName: a replicated, not renamed resource gets -SHARED.
    for env in ("staging", "prod"):
        isvc = compiled[f"{env}/recommender/inferenceservice-recommender.yaml"]
        pod = _predictor(isvc)
        assert pod["nodeSelector"] == {PRODUCT: "Tesla-T4-SHARED", SHARING: "time-slicing"}
        assert pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 1
        quota = compiled[f"{env}/recommender/resourcequota-recommender.yaml"]["spec"]["hard"]
        assert "requests.nvidia.com/gpu.shared" not in quota


def test_rename_by_default_requests_the_shared_resource_and_keeps_the_product(repo: Path) -> None:
    edit(repo, "environments/prod.yaml", PLATFORM_GPU, PLATFORM_GPU + "    renameByDefault: true\n")
    assert run_cli(repo, "compile", "--env", "prod").exit_code == 0
    pod = _predictor(_load(repo, "prod", "recommender", "inferenceservice-recommender.yaml"))
    assert pod["nodeSelector"] == {PRODUCT: "Tesla-T4", SHARING: "time-slicing"}
    limits = pod["containers"][0]["resources"]["limits"]
    assert limits["nvidia.com/gpu.shared"] == 1 and "nvidia.com/gpu" not in limits
    quota = _load(repo, "prod", "recommender", "resourcequota-recommender.yaml")
    assert quota["spec"]["hard"]["requests.nvidia.com/gpu.shared"] > 0  # the limit's name, per serving pod
    # The A100 training workers are not shared: their whole GPUs keep nvidia.com/gpu.
    assert quota["spec"]["hard"]["requests.nvidia.com/gpu"] > 0


def test_mig_mixed_requests_the_profile_and_keeps_the_product(compiled: dict[str, dict]) -> None:
    pod = _predictor(compiled["prod/support-assistant/inferenceservice-support-assistant.yaml"])
    assert pod["nodeSelector"] == {PRODUCT: "NVIDIA-A100-SXM4-80GB"}
    assert pod["containers"][0]["resources"]["limits"]["nvidia.com/mig-3g.40gb"] == 1
    assert "resourceClaims" not in pod


def test_mig_single_requests_a_whole_gpu_on_nodes_labelled_with_the_profile(repo: Path) -> None:
    # internal/lm/mig-strategy.go: single advertises the slice as nvidia.com/gpu, product <model>-MIG-<profile>.
    edit(repo, "environments/prod.yaml", PLATFORM_GPU, "    migStrategy: single\n")
    assert run_cli(repo, "compile", "--env", "prod").exit_code == 0
    pod = _predictor(_load(repo, "prod", "support-assistant", "inferenceservice-support-assistant.yaml"))
    assert pod["nodeSelector"] == {PRODUCT: "NVIDIA-A100-SXM4-80GB-MIG-3g.40gb"}
    limits = pod["containers"][0]["resources"]["limits"]
    assert limits["nvidia.com/gpu"] == 1 and not any(k.startswith("nvidia.com/mig-") for k in limits)
    quota = _load(repo, "prod", "support-assistant", "resourcequota-support-assistant.yaml")["spec"]["hard"]
    assert "requests.nvidia.com/gpu" in quota and not any(k.startswith("requests.nvidia.com/mig-") for k in quota)


def test_mig_is_refused_at_its_line_where_the_device_plugin_advertises_no_slices(repo: Path) -> None:
    edit(repo, "environments/staging.yaml", PLATFORM_GPU, "    migStrategy: none\n")
    result = run_cli(repo, "validate")
    assert result.exit_code == 2
    line = _line_of(repo, "spec/support-assistant.yaml", "    sharing: mig")
    assert (f"spec/support-assistant.yaml:{line}:5: serving.gpu.sharing: environment 'staging' runs the device "
            "plugin with MIG strategy none (platform.gpu.migStrategy in environments/staging.yaml), which "
            "advertises no MIG slices; ask for a whole GPU, or use an environment with MIG strategy single or "
            "mixed [E211]") in result.stderr.splitlines()
    assert "'prod'" not in result.stderr and "'dev'" not in result.stderr


def test_a_gpu_on_a_dra_pool_comes_through_a_claim_and_counts_in_the_quota(compiled: dict[str, dict]) -> None:
    for env in ("dev", "staging", "prod"):
        [job] = [o for path, o in compiled.items()  # named by its pod template's hash
                 if path.startswith(f"{env}/support-assistant/job-support-assistant-train-")]
        [pod] = pod_specs(job)
        assert pod["resourceClaims"] == [{"name": "gpu", "resourceClaimTemplateName": "support-assistant-train-gpu"}]
        container = pod["containers"][0]
        assert container["resources"]["claims"] == [{"name": "gpu"}]
        assert not any(k.startswith("nvidia.com/") for k in container["resources"]["limits"])
        assert "nodeSelector" not in pod  # the scheduler places it by the claim
        assert pod["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
        claim = compiled[f"{env}/support-assistant/resourceclaimtemplate-support-assistant-train-gpu.yaml"]
        request = claim["spec"]["spec"]["devices"]["requests"][0]["exactly"]
        assert request["deviceClassName"] == "gpu.nvidia.com" and request["count"] == 2
        quota = compiled[f"{env}/support-assistant/resourcequota-support-assistant.yaml"]
        assert quota["spec"]["hard"][DRA_QUOTA] == 2
    require_shared_schemas()
    assert schema_errors(quota) == [] and schema_errors(claim) == []


def test_device_plugin_pools_get_no_claims(compiled: dict[str, dict]) -> None:
    claims = {path for path, obj in compiled.items() if obj["kind"] == "ResourceClaimTemplate"}
    assert claims == {f"{env}/support-assistant/resourceclaimtemplate-support-assistant-train-gpu.yaml"
                      for env in ("dev", "staging", "prod")}
    for path, obj in compiled.items():
        if "/recommender/" in path:
            assert all("resourceClaims" not in pod for pod in pod_specs(obj)), path
            assert DRA_QUOTA not in obj.get("spec", {}).get("hard", {}), path


def test_dra_on_a_device_plugin_pool_is_refused_at_its_line(repo: Path) -> None:
    edit(repo, "spec/support-assistant.yaml", "    migProfile: 3g.40gb\n", "    migProfile: 3g.40gb\n    dra: true\n")
    result = run_cli(repo, "validate")
    assert result.exit_code == 2
    line = _line_of(repo, "spec/support-assistant.yaml", "    dra: true")
    assert (f"spec/support-assistant.yaml:{line}:5: serving.gpu.dra: GPU type 'nvidia-a100-80gb' is allocated by "
            "the device plugin in environment 'prod' (platform.gpu.allocators in environments/prod.yaml), so "
            "dra: true cannot be honoured; leave dra unset to follow the pool, or pick a type the DRA driver owns "
            "[E211]") in result.stderr.splitlines()


def test_the_device_plugin_on_a_dra_pool_is_refused_at_its_line(repo: Path) -> None:
    edit(repo, "spec/support-assistant.yaml", "type: nvidia-a100-80gb-dra}", "type: nvidia-a100-80gb-dra, dra: false}")
    result = run_cli(repo, "validate")
    assert result.exit_code == 2
    line = _line_of(repo, "spec/support-assistant.yaml", "    gpu: {count: 2, type: nvidia-a100-80gb-dra, dra: false}")
    column = (repo / "spec/support-assistant.yaml").read_text().splitlines()[line - 1].index("dra: false") + 1
    assert (f"spec/support-assistant.yaml:{line}:{column}: training.resources.gpu.dra: GPU type "
            "'nvidia-a100-80gb-dra' is allocated by the DRA driver in environment 'dev' (platform.gpu.allocators "
            "in environments/dev.yaml), so dra: false cannot be honoured; leave dra unset to follow the pool, or "
            "pick a type the device plugin owns [E211]") in result.stderr.splitlines()


def test_mig_through_dra_claims_the_profile_of_the_pools_product(repo: Path) -> None:
    edit(repo, "spec/support-assistant.yaml", "    type: nvidia-a100-80gb\n    sharing: mig\n",
         "    type: nvidia-a100-80gb-dra\n    sharing: mig\n")
    # dev: KServe's Standard mode (a Knative revision cannot carry resourceClaims)
    assert run_cli(repo, "compile", "--env", "dev").exit_code == 0
    claim = _load(repo, "dev", "support-assistant", "resourceclaimtemplate-support-assistant-gpu.yaml")
    request = claim["spec"]["spec"]["devices"]["requests"][0]["exactly"]
    assert request["deviceClassName"] == "mig.nvidia.com"
    assert [s["cel"]["expression"] for s in request["selectors"]] == [
        'device.attributes["gpu.nvidia.com"].profile == "3g.40gb"',
        'device.attributes["gpu.nvidia.com"].productName.lowerAscii().replace(" ", "-") == "nvidia-a100-sxm4-80gb"']
    isvc = _load(repo, "dev", "support-assistant", "inferenceservice-support-assistant.yaml")
    pod = _predictor(isvc)
    assert pod["resourceClaims"] == [{"name": "gpu", "resourceClaimTemplateName": "support-assistant-gpu"}]
    assert "nodeSelector" not in pod
    quota = _load(repo, "dev", "support-assistant", "resourcequota-support-assistant.yaml")["spec"]["hard"]
    assert quota[MIG_DRA_QUOTA] > 0 and quota[DRA_QUOTA] == 2
    assert not any(k.startswith("requests.nvidia.com/") for k in quota)
    require_shared_schemas()
    assert schema_errors(claim) == [] and schema_errors(isvc) == [] and schema_errors(
        {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "q"}, "spec": {"hard": quota}}) == []


def test_a_shared_gpu_through_dra_is_refused_at_its_line(repo: Path) -> None:
    edit(repo, "spec/recommender.yaml", "    type: nvidia-t4\n    sharing: time-slicing\n",
         "    type: nvidia-a100-80gb-dra\n    sharing: time-slicing\n")
    result = run_cli(repo, "validate")
    assert result.exit_code == 2
    line = _line_of(repo, "spec/recommender.yaml", "    sharing: time-slicing")
    assert (f"spec/recommender.yaml:{line}:5: serving.gpu.sharing: time-slicing shares a GPU between pods through "
            "the device plugin, but this GPU comes through DRA in environment 'prod', where each pod's "
            "ResourceClaim (made from its template) gets whole devices; ask for whole GPUs, or pick a type the "
            "device plugin owns [E211]") in result.stderr.splitlines()


def test_a_queued_dra_claim_needs_its_device_class_mapped_by_kueue(repo: Path) -> None:
    # Kueue v0.19.2 pkg/dra/claims.go: a workload claiming a DeviceClass its deviceClassMappings lack is inadmissible.
    edit(repo, "environments/prod.yaml", "    mappedDeviceClasses: [gpu.nvidia.com, mig.nvidia.com]", "")
    result = run_cli(repo, "validate")
    assert result.exit_code == 2
    line = _line_of(repo, "spec/support-assistant.yaml", "    gpu: {count: 2, type: nvidia-a100-80gb-dra}")
    assert result.stderr.splitlines()[:-1] == [
        f"spec/support-assistant.yaml:{line}:5: training.resources.gpu: queue 'gpu-finetune' admits this GPU's pods "
        "through Kueue, which admits a DRA claim only for a DeviceClass its deviceClassMappings map; environment "
        "'prod' does not map 'gpu.nvidia.com' (platform.kueue.mappedDeviceClasses in environments/prod.yaml) [E210]"]
