"""Tenancy, secrets and GPU scheduling: what the platform charts render for the examples, field by field."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from compiler.model.platform import Platform
from compiler.render.secrets import remote_key
from helpers import ROOT, edit, pod_specs, require_shared_schemas, run_cli, schema_errors

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


def _platform(env: str) -> Platform:
    """The example environment's platform profile."""
    return Platform.model_validate(yaml.load(ROOT / "environments" / f"{env}.yaml").get("platform", {}))


def test_every_pod_meets_the_restricted_pod_security_standard(compiled: dict[str, dict]) -> None:
    """As admitted: with the containers the controllers add to the pods (Argo's executor, by the profile)."""
    platforms = {env: _platform(env) for env in ("dev", "staging", "prod")}
    pods = [(path, pod) for path, obj in compiled.items() for pod in pod_specs(obj, platforms[path.split("/")[0]])]
    assert len(pods) >= 27  # 9 system x environment pairs, each with serving, training and drift pods
    assert {path: restricted_violations(pod) for path, pod in pods if restricted_violations(pod)} == {}
    # a patch naming a container the pod lacks would add one without an image
    assert [path for path, pod in pods for c in pod["containers"] + pod.get("initContainers", [])
            if "image" not in c and "modelFormat" not in c] == []
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
    [job] = _kinds(compiled, "prod", "support-assistant", "Job").values()
    assert job["spec"]["template"]["spec"]["serviceAccountName"] == "support-assistant-train"


def test_the_team_may_read_but_never_secrets(compiled: dict[str, dict]) -> None:
    role = compiled["prod/fraud-scorer/role-fraud-scorer-team-view.yaml"]
    assert all(rule["verbs"] == ["get", "list", "watch"] for rule in role["rules"])
    assert not [r for r in role["rules"] if "secrets" in r["resources"]]
    binding = compiled["prod/fraud-scorer/rolebinding-fraud-scorer-team-view.yaml"]
    assert binding["subjects"] == [{"kind": "Group", "name": "payments-risk", "apiGroup": "rbac.authorization.k8s.io"}]
    assert binding["roleRef"]["name"] == "fraud-scorer-team-view"


def test_quota_is_sized_from_the_spec(compiled: dict[str, dict]) -> None:
    # recommender, prod (KServe in Knative mode): serving 5 replicas x2 for the canary + 2 surge = 12 pods of 2 CPU /
    # 4Gi + 2Gi /dev/shm (a GPU pod) / 1 T4 share, each beside a queue-proxy (25m CPU requested; the LimitRange
    # fills in 250m / 256Mi / 1Gi); training 4 workers of 8 CPU / 32Gi + 2Gi /dev/shm / 1 A100; drift 500m / 1Gi;
    # the pipeline's three other steps and its drift trigger, 1 CPU / 2Gi each, beside Argo's wait container (all
    # from the LimitRange); every compiler-written pod 5Gi of disk (1Gi /tmp, 4Gi cache); allowance 4 pods of the
    # LimitRange's defaults.
    hard = compiled["prod/recommender/resourcequota-recommender.yaml"]["spec"]["hard"]
    assert hard == {"requests.cpu": "62800m", "limits.cpu": "65500m",  # 24 + 32 + 0.5 + 4 + 1, 12 x 25m | 250m, 1
                    "requests.memory": "222Gi", "limits.memory": "222Gi",  # 72 + 136 + 1 + 8 + 1, 12 x 256Mi, 1
                    "requests.ephemeral-storage": "125Gi", "limits.ephemeral-storage": "125Gi",  # 21 x 5 + 4 + 12 + 4
                    "requests.nvidia.com/gpu": 16, "pods": 25}
    # dev runs KServe's Standard mode: no queue-proxy, so requests equal limits
    dev = compiled["dev/recommender/resourcequota-recommender.yaml"]["spec"]["hard"]
    assert dev["requests.cpu"] == dev["limits.cpu"] and dev["requests.memory"] == dev["limits.memory"]
    # support-assistant, prod: MIG slices are counted on their own resource; DRA devices are not quota resources
    hard = compiled["prod/support-assistant/resourcequota-support-assistant.yaml"]["spec"]["hard"]
    assert hard["requests.nvidia.com/mig-3g.40gb"] == 8 + 2  # 8 replicas + 2 surge
    assert "requests.nvidia.com/gpu" not in hard
    limits = compiled["prod/recommender/limitrange-recommender.yaml"]["spec"]["limits"][0]
    assert limits["default"] == limits["defaultRequest"] == {"cpu": "250m", "memory": "256Mi",
                                                              "ephemeral-storage": "1Gi"}
    assert limits["max"] == {"cpu": "8", "memory": "34Gi", "ephemeral-storage": "5Gi"}


def test_network_is_default_deny_with_named_exceptions(compiled: dict[str, dict]) -> None:
    policies = _kinds(compiled, "prod", "recommender", "NetworkPolicy")
    deny = policies["recommender-default-deny"]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"], "ingress": [], "egress": []}
    callers = policies["recommender-allow-callers"]["spec"]
    assert callers["podSelector"] == {"matchLabels": {"serving.kserve.io/inferenceservice": "recommender"}}
    assert callers["ingress"][0]["from"] == [{"namespaceSelector": {"matchLabels": {
        "kubernetes.io/metadata.name": "storefront"}}}]
    assert "recommender-allow-ingress-controller" in policies
    peers = policies["recommender-allow-training-peers"]["spec"]
    assert peers["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "recommender-train"
    assert peers["policyTypes"] == ["Ingress", "Egress"]
    kafka = _kinds(compiled, "prod", "fraud-scorer", "NetworkPolicy")["fraud-scorer-allow-kafka"]["spec"]
    assert kafka["egress"] == [{"ports": [{"port": 9092, "protocol": "TCP"}], "to": [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "streaming"}}}]}]
    assert "fraud-scorer-allow-ingress-controller" not in _kinds(compiled, "prod", "fraud-scorer", "NetworkPolicy")


def _namespace(name: str) -> dict:
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}}}


def _ports(*numbers: int) -> list[dict]:
    return [{"port": n, "protocol": "TCP"} for n in numbers]


def test_knative_serving_pods_admit_the_activator_gateway_and_autoscaler(compiled: dict[str, dict]) -> None:
    """Under Knative, requests reach the pod on queue-proxy's 8012 (h2c 8013) from the activator and the gateway,
    and the autoscaler scrapes 9090; callers and the ingress controller come in on those ports too. Prometheus
    scrapes the model server's own port. Under KServe's Standard mode (dev) the serving port is the data path."""
    policies = _kinds(compiled, "prod", "recommender", "NetworkPolicy")
    assert policies["recommender-allow-knative"]["spec"]["ingress"] == [
        {"from": [_namespace("knative-serving"), _namespace("istio-system")], "ports": _ports(8012, 8013)},
        {"from": [_namespace("knative-serving")], "ports": _ports(9090)}]
    assert policies["recommender-allow-callers"]["spec"]["ingress"][0]["ports"] == _ports(8012, 8013)
    assert policies["recommender-allow-ingress-controller"]["spec"]["ingress"][0]["ports"] == _ports(8012, 8013)
    assert policies["recommender-allow-prometheus"]["spec"]["ingress"][0]["ports"] == _ports(8080)
    dev = _kinds(compiled, "dev", "recommender", "NetworkPolicy")
    assert "recommender-allow-knative" not in dev
    assert dev["recommender-allow-callers"]["spec"]["ingress"][0]["ports"] == _ports(8080)
    # a Deployment has no queue-proxy, whatever KServe's mode
    assert "fraud-scorer-allow-knative" not in _kinds(compiled, "prod", "fraud-scorer", "NetworkPolicy")


def test_prometheus_ingress_comes_from_the_prometheus_pods_only(compiled: dict[str, dict]) -> None:
    policy = _kinds(compiled, "prod", "recommender", "NetworkPolicy")["recommender-allow-prometheus"]["spec"]
    assert policy["ingress"][0]["from"] == [{**_namespace("monitoring"), "podSelector": {"matchLabels": {
        "app.kubernetes.io/name": "prometheus"}}}]


def test_egress_is_open_to_no_address_beyond_the_environments_list(compiled: dict[str, dict]) -> None:
    """No pod may send HTTPS anywhere: the API server is reachable only from Argo's workflow pods (their executor
    holds a token), everything else only at the environment's egressAllowList."""
    policies = {p: o for p, o in compiled.items() if o["kind"] == "NetworkPolicy"}
    open_to_all = {p for p, o in policies.items() for rule in o["spec"].get("egress", [])
                   if "to" not in rule and "-allow-api-server" not in p and "-allow-kafka" not in p}
    assert open_to_all == set()
    api = policies["prod/recommender/networkpolicy-recommender-allow-api-server.yaml"]["spec"]
    assert api["podSelector"] == {"matchExpressions": [{"key": "workflows.argoproj.io/workflow",
                                                        "operator": "Exists"}]}
    assert api["egress"] == [{"ports": _ports(443, 6443)}]  # prod names no API server addresses
    allowed = policies["prod/recommender/networkpolicy-recommender-allow-egress.yaml"]["spec"]
    assert allowed["podSelector"] == {}
    assert allowed["egress"] == [{"to": [{"ipBlock": {"cidr": "10.0.64.0/20"}}], "ports": _ports(443)}]
    dns = policies["prod/recommender/networkpolicy-recommender-allow-dns.yaml"]["spec"]["egress"][0]["to"]
    assert dns == [{**_namespace("kube-system"), "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}]


def test_only_argo_workflow_pods_mount_a_token(compiled: dict[str, dict]) -> None:
    """The API-server egress selects the pods Argo Workflows creates; every ServiceAccount that mounts a token runs
    only those (the executor reports step results through the API)."""
    tokens = {(p.split("/")[0], p.split("/")[1], o["metadata"]["name"]) for p, o in compiled.items()
              if o["kind"] == "ServiceAccount" and o.get("automountServiceAccountToken")}
    assert tokens
    users = {}
    for path, obj in compiled.items():
        for pod in pod_specs(obj):
            account = pod.get("serviceAccountName") or obj.get("spec", {}).get("serviceAccountName") or obj.get(
                "spec", {}).get("workflowSpec", {}).get("serviceAccountName")
            users.setdefault((*path.split("/")[:2], account), set()).add(obj["kind"])
    assert all(users.get(k) for k in tokens)
    assert {k: users[k] for k in tokens} == {k: users[k] & {"WorkflowTemplate", "CronWorkflow"} for k in tokens}


def test_egress_settings_of_the_environment(repo: Path) -> None:
    """API server addresses narrow the workflow pods' egress; NodeLocal DNSCache's address joins the DNS rule;
    EKS Pod Identity opens its node agent; without an allow-list there is no egress rule for it at all."""
    edit(repo, "environments/prod.yaml", "  egressAllowList: [{cidr: 10.0.64.0/20, ports: [443]}]\n",
         "  apiServer: [172.20.0.1/32, 10.0.0.0/24]\n  nodeLocalDns: true\n")
    edit(repo, "environments/prod.yaml",
         '    identity: irsa\n    role: "arn:aws:iam::123456789012:role/ml-{system}-prod"\n',
         "    identity: pod-identity\n")
    assert run_cli(repo, "compile", "--offline", "--env", "prod").exit_code == 0
    out = repo / "generated" / "prod" / "recommender"
    api = yaml.load(out / "networkpolicy-recommender-allow-api-server.yaml")["spec"]
    assert api["egress"] == [{"to": [{"ipBlock": {"cidr": "172.20.0.1/32"}}, {"ipBlock": {"cidr": "10.0.0.0/24"}}],
                              "ports": _ports(443, 6443)}]
    dns = yaml.load(out / "networkpolicy-recommender-allow-dns.yaml")["spec"]["egress"][0]["to"]
    assert dns[1] == {"ipBlock": {"cidr": "169.254.20.10/32"}}
    agent = yaml.load(out / "networkpolicy-recommender-allow-pod-identity-agent.yaml")["spec"]
    assert agent["egress"] == [{"to": [{"ipBlock": {"cidr": "169.254.170.23/32"}},
                                       {"ipBlock": {"cidr": "fd00:ec2::23/128"}}], "ports": _ports(80)}]
    assert not (out / "networkpolicy-recommender-allow-egress.yaml").exists()
    account = yaml.load(out / "serviceaccount-recommender.yaml")
    assert "eks.amazonaws.com/role-arn" not in account["metadata"]["annotations"]  # associations live in EKS


def test_a_cidr_that_is_not_a_network_is_refused(repo: Path) -> None:
    edit(repo, "environments/prod.yaml", "cidr: 10.0.64.0/20", "cidr: 10.0.64.1/20")
    result = run_cli(repo, "validate")
    assert result.exit_code == 2
    assert "environments/prod.yaml:" in result.stderr and "network.egressAllowList[0].cidr" in result.stderr


def _volumes(pod: dict) -> dict[str, dict]:
    return {v["name"]: v for v in pod.get("volumes", [])}


def test_ml_pods_have_a_sized_cache_and_gpu_pods_a_memory_backed_dev_shm(compiled: dict[str, dict]) -> None:
    isvc = compiled["prod/recommender/inferenceservice-recommender.yaml"]["spec"]["predictor"]
    model = (isvc.get("containers") or [isvc.get("model")])[0]
    assert _volumes(isvc)["devshm"] == {"name": "devshm", "emptyDir": {"medium": "Memory", "sizeLimit": "2Gi"}}
    assert _volumes(isvc)["cache"] == {"name": "cache", "emptyDir": {"sizeLimit": "4Gi"}}
    assert {"name": "devshm", "mountPath": "/dev/shm"} in model["volumeMounts"]
    assert {"name": "cache", "mountPath": "/var/cache/mlgitops"} in model["volumeMounts"]
    # /dev/shm's pages are the container's memory: 4Gi for the process, 2Gi for /dev/shm
    assert model["resources"]["limits"]["memory"] == model["resources"]["requests"]["memory"] == "6Gi"
    assert model["resources"]["limits"]["ephemeral-storage"] == "5Gi"  # 1Gi /tmp + 4Gi cache
    env = {e["name"]: e["value"] for e in model["env"]}
    assert {k: env[k] for k in ("HOME", "XDG_CACHE_HOME", "HF_HOME", "TORCH_HOME", "TRITON_CACHE_DIR")} == {
        "HOME": "/var/cache/mlgitops", "XDG_CACHE_HOME": "/var/cache/mlgitops",
        "HF_HOME": "/var/cache/mlgitops/huggingface", "TORCH_HOME": "/var/cache/mlgitops/torch",
        "TRITON_CACHE_DIR": "/var/cache/mlgitops/triton"}
    # a CPU pod of one worker: the cache, but no /dev/shm, and its memory as the spec says
    deployment = compiled["prod/fraud-scorer/deployment-fraud-scorer.yaml"]["spec"]["template"]["spec"]
    assert "devshm" not in _volumes(deployment) and "cache" in _volumes(deployment)
    assert "/dev/shm" not in {m["mountPath"] for m in deployment["containers"][0]["volumeMounts"]}
    pods = [pod for path, obj in compiled.items() for pod in pod_specs(obj)]
    assert all("cache" in _volumes(pod) or "volumes" not in pod for pod in pods)


def test_distributed_cpu_training_gets_dev_shm(repo: Path) -> None:
    """NCCL and gloo exchange tensors through /dev/shm between the processes of a node, GPUs or not."""
    edit(repo, "spec/fraud-scorer.yaml", "  resources: {cpu: \"14\", memory: 56Gi}",
         "  workers: 2\n  resources: {cpu: \"14\", memory: 56Gi}")
    assert run_cli(repo, "compile", "--offline", "--env", "prod").exit_code == 0
    out = repo / "generated" / "prod" / "fraud-scorer"
    trainers = [pod for path in out.glob("*.yaml") for pod in pod_specs(yaml.load(path))
                if any(c.get("image") == "registry.example.com/fraud/train:3.2.0" for c in pod["containers"])]
    assert trainers and all(_volumes(pod)["devshm"]["emptyDir"]["medium"] == "Memory" for pod in trainers)
    assert {pod["containers"][0]["resources"]["limits"]["memory"] for pod in trainers} == {"58Gi"}  # 56Gi + 2Gi


def test_external_secrets_are_retained_in_prod_only(compiled: dict[str, dict]) -> None:
    """ESO deletes the Secret when the provider loses the secret under Delete; prod keeps it (Retain), so a Vault
    mistake does not take the credentials away from running pods."""
    name = "recommender/externalsecret-feature-store-credentials.yaml"
    assert compiled[f"prod/{name}"]["spec"]["target"]["deletionPolicy"] == "Retain"
    assert compiled[f"staging/{name}"]["spec"]["target"]["deletionPolicy"] == "Delete"
    assert compiled[f"dev/{name}"]["spec"]["target"]["deletionPolicy"] == "Delete"


def test_service_accounts_that_read_data_or_models_carry_the_object_store_role(compiled: dict[str, dict]) -> None:
    accounts = _kinds(compiled, "prod", "recommender", "ServiceAccount")
    role = "arn:aws:iam::123456789012:role/ml-recommender-prod"
    readers = {name for name, a in accounts.items()
               if a["metadata"].get("annotations", {}).get("eks.amazonaws.com/role-arn") == role}
    assert readers == {"recommender", "recommender-train", "recommender-drift", "recommender-pipeline"}


def test_gke_workload_identity_annotates_the_google_service_account(repo: Path) -> None:
    edit(repo, "environments/prod.yaml",
         '    identity: irsa\n    role: "arn:aws:iam::123456789012:role/ml-{system}-prod"\n',
         '    identity: workload-identity\n    role: "ml-{system}@example-prod.iam.gserviceaccount.com"\n')
    edit(repo, "spec/support-assistant.yaml", "s3://support-corpus/", "gs://support-corpus/")
    assert run_cli(repo, "compile", "--offline", "--env", "prod", "spec/support-assistant.yaml").exit_code == 0
    account = yaml.load(repo / "generated/prod/support-assistant/serviceaccount-support-assistant-train.yaml")
    assert account["metadata"]["annotations"]["iam.gke.io/gcp-service-account"] == (
        "ml-support-assistant@example-prod.iam.gserviceaccount.com")


def test_object_store_data_without_credentials_is_an_error_at_its_line(repo: Path) -> None:
    edit(repo, "environments/prod.yaml",
         '    identity: irsa\n    role: "arn:aws:iam::123456789012:role/ml-{system}-prod"\n', "    identity: none\n")
    result = run_cli(repo, "validate")
    assert result.exit_code == 2
    assert ("spec/support-assistant.yaml:32:29: training.data[0].uri: s3:// needs object-store credentials, but "
            "environment 'prod' (environments/prod.yaml) declares platform.objectStore.identity none; to fix this, "
            "declare irsa or pod-identity there [E210]") in result.stderr
    assert "spec/recommender.yaml:67:16: pipeline.steps[0].checks.schema: s3:// needs object-store" in result.stderr
    assert "environment 'staging'" not in result.stderr


def test_a_role_mechanism_needs_its_role(repo: Path) -> None:
    edit(repo, "environments/prod.yaml", '    role: "arn:aws:iam::123456789012:role/ml-{system}-prod"\n', "")
    result = run_cli(repo, "validate")
    assert result.exit_code == 2
    assert "identity irsa needs the role its ServiceAccounts assume" in result.stderr


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
