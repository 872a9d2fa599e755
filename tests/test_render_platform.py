"""Tenancy, secrets and GPU scheduling: what the platform charts render for the examples, field by field."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from compiler.render.secrets import remote_key
from conftest import edit, pod_specs, require_shared_schemas, run_cli, schema_errors

yaml = YAML(typ="safe")
# Pod Security Standard "restricted": the volume types it allows.
RESTRICTED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
                      "projected", "secret"}


def _kinds(compiled: dict[str, dict], env: str, system: str, kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for p, o in compiled.items()
            if p.startswith(f"{env}/{system}/") and o["kind"] == kind}


def restricted_violations(pod: dict) -> list[str]:
    """The checks of the Pod Security Standard "restricted" profile (baseline included) on one pod spec."""
    problems = []
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(field):
            problems.append(field)
    problems += [f"volume {v['name']}" for v in pod.get("volumes", []) if not set(v) - {"name"} <= RESTRICTED_VOLUMES]
    pod_context = pod.get("securityContext", {})
    for container in pod["containers"] + pod.get("initContainers", []):
        context = container.get("securityContext", {})
        name = container.get("name", "model")
        if context.get("privileged"):
            problems.append(f"{name}: privileged")
        if context.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{name}: allowPrivilegeEscalation")
        if not (context.get("runAsNonRoot") or pod_context.get("runAsNonRoot")):
            problems.append(f"{name}: runAsNonRoot")
        if context.get("runAsUser", pod_context.get("runAsUser")) == 0:
            problems.append(f"{name}: runAsUser 0")
        seccomp = context.get("seccompProfile") or pod_context.get("seccompProfile") or {}
        if seccomp.get("type") not in ("RuntimeDefault", "Localhost"):
            problems.append(f"{name}: seccomp")
        capabilities = context.get("capabilities", {})
        if "ALL" not in capabilities.get("drop", []) or set(capabilities.get("add", [])) - {"NET_BIND_SERVICE"}:
            problems.append(f"{name}: capabilities")
        if any("hostPort" in port for port in container.get("ports", [])):
            problems.append(f"{name}: hostPort")
    return problems


def test_every_pod_meets_the_restricted_pod_security_standard(compiled: dict[str, dict]) -> None:
    pods = [(path, pod) for path, obj in compiled.items() for pod in pod_specs(obj)]
    assert len(pods) >= 27  # 9 system x environment pairs, each with serving, training and drift pods
    assert {path: restricted_violations(pod) for path, pod in pods if restricted_violations(pod)} == {}
    namespace = compiled["prod/recommender/namespace-ml-recommender.yaml"]
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_restricted_check_catches_a_privileged_pod() -> None:
    pod = {"containers": [{"name": "x", "securityContext": {"privileged": True}}], "hostNetwork": True,
           "volumes": [{"name": "h", "hostPath": {"path": "/"}}]}
    assert restricted_violations(pod)[:2] == ["hostNetwork", "volume h"]


def test_no_secret_with_data_is_ever_emitted(compiled: dict[str, dict]) -> None:
    assert not [path for path, obj in compiled.items() if obj["kind"] == "Secret"]
    assert all("data" not in obj or obj["kind"] != "Secret" for obj in compiled.values())


def test_every_workload_runs_as_its_own_service_account(compiled: dict[str, dict]) -> None:
    accounts = _kinds(compiled, "prod", "recommender", "ServiceAccount")
    assert sorted(accounts) == ["recommender", "recommender-drift", "recommender-pipeline",
                                "recommender-pipeline-trigger", "recommender-train"]
    assert accounts["recommender"]["automountServiceAccountToken"] is False
    isvc = compiled["prod/recommender/inferenceservice-recommender.yaml"]
    assert isvc["spec"]["predictor"]["serviceAccountName"] == "recommender"
    job = compiled["prod/support-assistant/job-support-assistant-train.yaml"]
    assert job["spec"]["template"]["spec"]["serviceAccountName"] == "support-assistant-train"


def test_the_team_may_read_but_never_secrets(compiled: dict[str, dict]) -> None:
    role = compiled["prod/fraud-scorer/role-fraud-scorer-team-view.yaml"]
    assert all(rule["verbs"] == ["get", "list", "watch"] for rule in role["rules"])
    assert not [r for r in role["rules"] if "secrets" in r["resources"]]
    binding = compiled["prod/fraud-scorer/rolebinding-fraud-scorer-team-view.yaml"]
    assert binding["subjects"] == [{"kind": "Group", "name": "payments-risk", "apiGroup": "rbac.authorization.k8s.io"}]
    assert binding["roleRef"]["name"] == "fraud-scorer-team-view"


def test_quota_is_sized_from_the_spec(compiled: dict[str, dict]) -> None:
    # recommender, prod: serving 5 replicas x2 for the canary + 2 surge = 12 pods of 2 CPU / 4Gi / 1 T4 share;
    # training 4 workers of 8 CPU / 32Gi / 1 A100; drift 500m / 1Gi; the pipeline's three other steps and its drift
    # trigger, 1 CPU / 2Gi each; allowance 1 CPU / 1Gi / 4 pods.
    hard = compiled["prod/recommender/resourcequota-recommender.yaml"]["spec"]["hard"]
    assert hard == {"requests.cpu": "61500m", "limits.cpu": "61500m",  # 24 + 32 + 0.5 + 4 + 1
                    "requests.memory": "186Gi", "limits.memory": "186Gi",  # 48 + 128 + 1 + 8 + 1
                    "requests.nvidia.com/gpu": 16, "pods": 25}
    # support-assistant, prod: MIG slices are counted on their own resource; DRA devices are not quota resources
    hard = compiled["prod/support-assistant/resourcequota-support-assistant.yaml"]["spec"]["hard"]
    assert hard["requests.nvidia.com/mig-3g.40gb"] == 8 + 2  # 8 replicas + 2 surge
    assert "requests.nvidia.com/gpu" not in hard
    limits = compiled["prod/recommender/limitrange-recommender.yaml"]["spec"]["limits"][0]
    assert limits["default"] == limits["defaultRequest"] == {"cpu": "250m", "memory": "256Mi"}
    assert limits["max"] == {"cpu": "8", "memory": "32Gi"}


def test_network_is_default_deny_with_named_exceptions(compiled: dict[str, dict]) -> None:
    policies = _kinds(compiled, "prod", "recommender", "NetworkPolicy")
    deny = policies["recommender-default-deny"]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"], "ingress": [], "egress": []}
    callers = policies["recommender-allow-callers"]["spec"]
    assert callers["podSelector"] == {"matchLabels": {"serving.kserve.io/inferenceservice": "recommender"}}
    assert callers["ingress"] == [{"from": [{"namespaceSelector": {"matchLabels": {
        "kubernetes.io/metadata.name": "storefront"}}}], "ports": [{"port": 8080, "protocol": "TCP"}]}]
    prometheus = policies["recommender-allow-prometheus"]["spec"]["ingress"][0]["from"][0]
    assert prometheus["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "monitoring"}
    assert "recommender-allow-ingress-controller" in policies
    peers = policies["recommender-allow-training-peers"]["spec"]
    assert peers["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "recommender-train"
    assert peers["policyTypes"] == ["Ingress", "Egress"]
    kafka = _kinds(compiled, "prod", "fraud-scorer", "NetworkPolicy")["fraud-scorer-allow-kafka"]["spec"]
    assert kafka["egress"] == [{"ports": [{"port": 9092, "protocol": "TCP"}], "to": [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "streaming"}}}]}]
    assert "fraud-scorer-allow-ingress-controller" not in _kinds(compiled, "prod", "fraud-scorer", "NetworkPolicy")


def test_ingress_terminates_tls_in_front_of_the_serving_service(compiled: dict[str, dict]) -> None:
    ingress = compiled["prod/recommender/ingress-recommender.yaml"]
    assert ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt-prod"
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["tls"] == [{"hosts": ["recs.example.com"], "secretName": "recommender-tls"}]
    path = ingress["spec"]["rules"][0]["http"]["paths"][0]
    assert path["backend"] == {"service": {"name": "recommender-predictor", "port": {"number": 80}}}


def test_external_secrets_reference_the_store_and_are_mounted(compiled: dict[str, dict]) -> None:
    external = compiled["prod/recommender/externalsecret-feature-store-credentials.yaml"]["spec"]
    assert external["secretStoreRef"] == {"kind": "ClusterSecretStore", "name": "vault-prod"}
    assert external["target"]["name"] == "feature-store-credentials"
    assert external["data"] == [
        {"secretKey": key, "remoteRef": {"key": "secret/recsys/feature-store", "property": key}}
        for key in ("username", "password")]
    dev = compiled["dev/recommender/externalsecret-feature-store-credentials.yaml"]["spec"]
    assert dev["secretStoreRef"]["name"] == "vault-dev"
    pod = compiled["prod/fraud-scorer/deployment-fraud-scorer.yaml"]["spec"]["template"]["spec"]
    assert {"name": "secret-kafka-credentials", "secret": {"secretName": "kafka-credentials",
                                                           "defaultMode": 0o440}} in pod["volumes"]
    assert {"name": "secret-kafka-credentials", "mountPath": "/var/run/secrets/mlgitops/kafka-credentials",
            "readOnly": True} in pod["containers"][0]["volumeMounts"]


@pytest.mark.parametrize("source, key", [
    ("vault://secret/data/recsys/feature-store", "secret/recsys/feature-store"),
    ("vault://kv/payments/kafka", "kv/payments/kafka"),
    ("vault://secret/data/data/x", "secret/data/x"),  # only the KV v2 API's own `data/` is dropped
])
def test_vault_paths_become_remote_keys_that_keep_the_mount(source: str, key: str) -> None:
    """external-secrets' buildPath cuts `<store path>/` off a key and reads the rest below the store's mount, and
    without a store path takes the key's first segment as the mount: either way the key names the spec's mount."""
    assert remote_key(source) == key


def test_kafka_egress_reaches_only_the_environments_brokers(repo: Path) -> None:
    """A trigger that names no broker reads all of the environment's; the pods may reach each broker's port, at its
    namespace (an in-cluster Service) or its address (an IP); a DNS name outside the cluster limits the port only."""
    edit(repo, "environments/prod.yaml", 'kafka: {brokers: ["kafka.streaming.svc:9092"]}',
         'kafka: {brokers: ["kafka-0.kafka.streaming.svc.cluster.local:9093", "10.0.0.7:9094", "b1.kafka.example.net:'
         '9096"]}')
    edit(repo, "spec/fraud-scorer.yaml", "      bootstrapServers: kafka.streaming.svc:9092\n", "")
    assert run_cli(repo, "compile", "--offline", "--env", "prod").exit_code == 0
    out = repo / "generated" / "prod" / "fraud-scorer"
    policy = yaml.load(out / "networkpolicy-fraud-scorer-allow-kafka.yaml")["spec"]
    assert policy["egress"] == [
        {"ports": [{"port": 9094, "protocol": "TCP"}], "to": [{"ipBlock": {"cidr": "10.0.0.7/32"}}]},
        {"ports": [{"port": 9096, "protocol": "TCP"}]},
        {"ports": [{"port": 9093, "protocol": "TCP"}],
         "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "streaming"}}}]}]
    scaled = yaml.load(out / "scaledobject-fraud-scorer.yaml")["spec"]
    assert scaled["triggers"][0]["metadata"]["bootstrapServers"] == (
        "kafka-0.kafka.streaming.svc.cluster.local:9093,10.0.0.7:9094,b1.kafka.example.net:9096")


def test_secret_used_by_only_some_workloads_is_mounted_only_there(repo: Path) -> None:
    edit(repo, "spec/fraud-scorer.yaml", "    keys: [sasl-username, sasl-password]\n",
         "    keys: [sasl-username, sasl-password]\n    usedBy: [serving]\n")
    assert run_cli(repo, "compile", "--env", "prod").exit_code == 0
    out = repo / "generated" / "prod" / "fraud-scorer"
    assert "kafka-credentials" in (out / "deployment-fraud-scorer.yaml").read_text()
    assert "kafka-credentials" not in (out / "cronjob-fraud-scorer-train.yaml").read_text()


def test_every_platform_object_validates_strictly(compiled: dict[str, dict]) -> None:
    require_shared_schemas()
    kinds = {"ServiceAccount", "Role", "RoleBinding", "ResourceQuota", "LimitRange", "NetworkPolicy", "Ingress",
             "ExternalSecret", "ResourceClaimTemplate"}
    platform = {p: o for p, o in compiled.items() if o["kind"] in kinds}
    assert {o["kind"] for o in platform.values()} == kinds
    assert {p: schema_errors(o) for p, o in platform.items() if schema_errors(o)} == {}


def test_sync_waves_order_namespace_then_platform_then_workloads(compiled: dict[str, dict]) -> None:
    wave = {o["kind"]: o["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]
            for p, o in compiled.items() if p.startswith("prod/recommender/")}
    assert wave["Namespace"] == "-2"
    assert wave["ResourceQuota"] == wave["NetworkPolicy"] == wave["ExternalSecret"] == "-1"
    assert wave["InferenceService"] == wave["CronWorkflow"] == "0"


def test_gpu_type_the_environment_does_not_know_is_an_error(repo: Path) -> None:
    edit(repo, "spec/recommender.yaml", "    type: nvidia-t4\n", "    type: nvidia-t5\n")
    result = run_cli(repo, "validate")
    assert result.exit_code == 2
    assert ("serving.gpu.type: environment 'prod' has no GPU type 'nvidia-t5' (neither priced in gpu.hourlyPrice "
            "nor listed in gpu.products); did you mean 'nvidia-t4'? [E204]") in result.stderr


def test_secrets_need_a_secret_store_in_the_environment(repo: Path) -> None:
    edit(repo, "environments/staging.yaml",
         "secretStore: {kind: ClusterSecretStore, name: vault-staging, vaultMount: secret}\n", "")
    result = run_cli(repo, "validate")
    assert result.exit_code == 2
    assert "secrets: environment 'staging' has no secretStore" in result.stderr


def test_mps_and_fractional_gpus_select_shared_nodes(repo: Path) -> None:
    edit(repo, "spec/recommender.yaml", "    count: 1\n    type: nvidia-t4\n    sharing: time-slicing\n",
         "    count: 0.5\n    type: nvidia-t4\n    sharing: mps\n")
    assert run_cli(repo, "compile", "--env", "prod").exit_code == 0
    isvc = yaml.load((repo / "generated/prod/recommender/inferenceservice-recommender.yaml").read_text())
    predictor = isvc["spec"]["predictor"]
    assert predictor["nodeSelector"]["nvidia.com/gpu.sharing-strategy"] == "mps"
    assert predictor["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 1  # one share


def test_mig_through_dra_uses_the_mig_device_class(repo: Path) -> None:
    edit(repo, "spec/support-assistant.yaml", "    migProfile: 3g.40gb\n", "    migProfile: 3g.40gb\n    dra: true\n")
    # dev: KServe's Standard mode (Knative has no resourceClaims)
    assert run_cli(repo, "compile", "--env", "dev").exit_code == 0
    claim = yaml.load((repo / "generated/dev/support-assistant/"
                       "resourceclaimtemplate-support-assistant-gpu.yaml").read_text())
    request = claim["spec"]["spec"]["devices"]["requests"][0]["exactly"]
    assert request["deviceClassName"] == "mig.nvidia.com"
    assert request["selectors"][0]["cel"]["expression"] == 'device.attributes["gpu.nvidia.com"].profile == "3g.40gb"'
    isvc = yaml.load((repo / "generated/dev/support-assistant/inferenceservice-support-assistant.yaml").read_text())
    assert isvc["spec"]["predictor"]["resourceClaims"] == [
        {"name": "gpu", "resourceClaimTemplateName": "support-assistant-gpu"}]
    require_shared_schemas()
    assert schema_errors(claim) == [] and schema_errors(isvc) == []
