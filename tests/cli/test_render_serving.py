"""Serving on the environment's KServe mode and KEDA: what the serving chart renders for each platform profile, and
what a spec the platform cannot honour is refused with (located, E211)."""

from __future__ import annotations

from pathlib import Path

from ruamel.yaml import YAML
from test_render_platform import restricted_violations

from helpers import edit, line_of, require_shared_schemas, run_cli, schema_errors

yaml = YAML(typ="safe")
DEV_RPS_OVERRIDE = "  dev: {serving: {autoscaling: {metric: cpu, target: 70}}}"
KNATIVE_FEATURES = ("    knative: {features: {nodeSelector: true, tolerations: true, topologySpreadConstraints: true, "
                    "securityContext: true}}\n")


def _isvc(compiled: dict[str, dict], env: str, system: str) -> dict:
    return compiled[f"{env}/{system}/inferenceservice-{system}.yaml"]


def _load(repo: Path, env: str, system: str, name: str) -> dict:
    return yaml.load((repo / "generated" / env / system / name).read_text())


def _refusal(result, located: str) -> None:
    """The CLI refused the spec with exit 2 and this located one-line diagnostic."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.startswith(located)]
    assert len(lines) == 1, result.stderr
    assert lines[0].endswith("[E211]"), lines[0]
    return lines[0]


def test_every_inference_service_pins_the_platforms_deployment_mode(compiled: dict[str, dict]) -> None:
    modes = {(env, system): _isvc(compiled, env, system)["metadata"]["annotations"]["serving.kserve.io/deploymentMode"]
             for env in ("dev", "staging", "prod") for system in ("recommender", "support-assistant")}
    assert modes == {(env, system): "Standard" if env == "dev" else "Knative"
                     for env, system in modes}


def test_autoscaler_class_follows_the_mode_and_the_metric(compiled: dict[str, dict]) -> None:
    # Knative: cpu needs Knative's HPA class (KPA takes only concurrency and rps); rps runs on KPA
    recommender = _isvc(compiled, "prod", "recommender")
    assert recommender["metadata"]["annotations"]["autoscaling.knative.dev/class"] == "hpa.autoscaling.knative.dev"
    assert recommender["spec"]["predictor"]["scaleMetric"] == "cpu"
    assistant = _isvc(compiled, "prod", "support-assistant")
    assert assistant["metadata"]["annotations"]["autoscaling.knative.dev/class"] == "kpa.autoscaling.knative.dev"
    assert assistant["spec"]["predictor"]["scaleMetric"] == "rps"
    # Standard: KServe's HPA class, on cpu (the example's dev override)
    dev = _isvc(compiled, "dev", "support-assistant")
    assert dev["metadata"]["annotations"]["serving.kserve.io/autoscalerClass"] == "hpa"
    assert "autoscaling.knative.dev/class" not in dev["metadata"]["annotations"]
    assert (dev["spec"]["predictor"]["scaleMetric"], dev["spec"]["predictor"]["scaleTarget"]) == ("cpu", 70)


def test_standard_mode_refuses_rps_at_its_line(repo: Path) -> None:
    edit(repo, "spec/support-assistant.yaml", DEV_RPS_OVERRIDE, "  dev: {serving: {replicas: {min: 1}}}")
    row = line_of(repo, "spec/support-assistant.yaml", "metric: rps")
    line = _refusal(run_cli(repo, "validate"), f"spec/support-assistant.yaml:{row}:5: serving.autoscaling.metric: ")
    assert "(environments/dev.yaml)" in line and "rps would silently become 80 % CPU" in line
    assert "use metric: cpu or memory here, or an environment whose KServe runs in Knative mode" in line


def test_standard_mode_refuses_a_canary_and_scale_to_zero(repo: Path) -> None:
    edit(repo, "spec/recommender.yaml", "      canary: null\n", "")
    edit(repo, "spec/recommender.yaml", "      replicas: {min: 1, max: 1}\n", "      replicas: {min: 0, max: 1}\n")
    result = run_cli(repo, "validate")
    line = _refusal(result, f"spec/recommender.yaml:{line_of(repo, 'spec/recommender.yaml', '  canary:')}:3: "
                            "serving.canary: ")
    assert "KServe's Standard mode (environments/dev.yaml) has no traffic split" in line
    row = (repo / "spec/recommender.yaml").read_text().splitlines().index("      replicas: {min: 0, max: 1}") + 1
    line = _refusal(result, f"spec/recommender.yaml:{row}:18: serving.replicas.min: ")
    assert "scale to zero needs KServe in Knative mode" in line


def test_knative_renders_only_the_pod_fields_its_features_allow(repo: Path) -> None:
    edit(repo, "environments/staging.yaml", KNATIVE_FEATURES,
         "    knative: {features: {nodeSelector: true, tolerations: true}}\n")
    edit(repo, "spec/recommender.yaml", "    keys: [username, password]\n",
         "    keys: [username, password]\n    usedBy: [training, monitoring]\n")
    assert run_cli(repo, "compile", "--offline", "--env", "staging").exit_code == 0
    predictor = _load(repo, "staging", "recommender", "inferenceservice-recommender.yaml")["spec"]["predictor"]
    assert predictor["nodeSelector"]["nvidia.com/gpu.product"] == "Tesla-T4-SHARED"
    assert predictor["tolerations"]
    # the spread is a preference: dropped; the pod securityContext too, the container's keeps the pod restricted
    assert "topologySpreadConstraints" not in predictor and "securityContext" not in predictor
    assert restricted_violations(predictor) == []
    assert predictor["containers"][0]["securityContext"]["runAsNonRoot"] is True


def test_knative_features_on_keep_every_pod_field(compiled: dict[str, dict]) -> None:
    predictor = _isvc(compiled, "prod", "recommender")["spec"]["predictor"]
    assert {"nodeSelector", "tolerations", "topologySpreadConstraints", "securityContext"} <= predictor.keys()


def test_a_gpu_needing_a_disabled_knative_feature_is_refused_naming_the_flag(repo: Path) -> None:
    edit(repo, "environments/staging.yaml", KNATIVE_FEATURES, "")
    result = run_cli(repo, "validate")
    assert result.exit_code == 2
    at = f"spec/recommender.yaml:{line_of(repo, 'spec/recommender.yaml', '  gpu:', after='serving:')}:3: serving.gpu: "
    gpu = [line for line in result.stderr.splitlines() if line.startswith(at)]
    assert len(gpu) == 2 and all(line.endswith("[E211]") for line in gpu)
    assert any("kubernetes.podspec-nodeselector in config-features (platform.kserve.knative.features in "
               "environments/staging.yaml) is off" in line for line in gpu)
    assert any("kubernetes.podspec-tolerations in config-features" in line for line in gpu)
    row = line_of(repo, "spec/recommender.yaml", "- name: feature-store-credentials")
    line = _refusal(result, f"spec/recommender.yaml:{row}:5: secrets[0]: ")
    assert "secret 'feature-store-credentials' through the pod's fsGroup" in line
    assert "kubernetes.podspec-securitycontext in config-features" in line


def test_knative_refuses_a_dra_gpu(repo: Path) -> None:
    edit(repo, "spec/support-assistant.yaml", "    type: nvidia-a100-80gb\n    sharing: mig\n",
         "    type: nvidia-a100-80gb-dra\n    sharing: mig\n")  # the DRA driver's pool: a claim in Standard mode
    result = run_cli(repo, "validate")
    assert result.exit_code == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("spec/support-assistant.yaml:")]
    assert len(lines) == 1 and lines[0].startswith(
        f"spec/support-assistant.yaml:{line_of(repo, 'spec/support-assistant.yaml', '  gpu:', after='serving:')}:3: "
        "serving.gpu: "), lines
    assert "no pod-spec feature for resourceClaims" in lines[0] and lines[0].endswith("[E211]")


def test_serving_image_is_a_custom_predictor_and_model_formats_declare_the_port(compiled: dict[str, dict]) -> None:
    port = {"name": "http1", "containerPort": 8080, "protocol": "TCP"}
    for env in ("dev", "prod"):
        predictor = _isvc(compiled, env, "recommender")["spec"]["predictor"]
        assert "model" not in predictor  # no modelFormat: KServe appends no runtime's args to the image's
        container = predictor["containers"][0]
        assert container["name"] == "kserve-container"
        assert container["image"] == "registry.example.com/recsys/serve:1.4.2"
        assert container["ports"] == [port]
        assert {container[probe]["httpGet"]["port"] for probe in ("readinessProbe", "livenessProbe")} == {"http1"}
        model = _isvc(compiled, env, "support-assistant")["spec"]["predictor"]["model"]
        assert model["modelFormat"] == {"name": "huggingface"} and model["ports"] == [port]


def test_predictor_labels_leave_kserves_own_label_to_kserve(compiled: dict[str, dict]) -> None:
    for env in ("dev", "prod"):
        labels = _isvc(compiled, env, "recommender")["spec"]["predictor"]["labels"]
        assert labels == {"app.kubernetes.io/component": "serving", "app.kubernetes.io/name": "recommender"}


def test_a_canary_serves_its_percent_until_promoted(compiled: dict[str, dict], repo: Path) -> None:
    assert _isvc(compiled, "prod", "recommender")["spec"]["predictor"]["canaryTrafficPercent"] == 10
    edit(repo, "spec/recommender.yaml", "trafficPercent: 10, promote: false}", "trafficPercent: 10, promote: true}")
    assert run_cli(repo, "compile", "--offline", "--env", "prod").exit_code == 0
    predictor = _load(repo, "prod", "recommender", "inferenceservice-recommender.yaml")["spec"]["predictor"]
    assert "canaryTrafficPercent" not in predictor  # the latest revision takes 100 %
    # and the quota no longer holds room for a second revision
    quota = _load(repo, "prod", "recommender", "resourcequota-recommender.yaml")["spec"]["hard"]
    during = compiled["prod/recommender/resourcequota-recommender.yaml"]["spec"]["hard"]
    assert quota["requests.nvidia.com/gpu"] < during["requests.nvidia.com/gpu"]


def test_ingress_reaches_the_predictor_in_each_mode(compiled: dict[str, dict]) -> None:
    backend = {"service": {"name": "recommender-predictor", "port": {"number": 80}}}
    dev = compiled["dev/recommender/ingress-recommender.yaml"]
    assert dev["spec"]["rules"][0]["http"]["paths"][0]["backend"] == backend
    assert "nginx.ingress.kubernetes.io/upstream-vhost" not in dev["metadata"]["annotations"]
    # Knative: the predictor Service leads to the local gateway, which routes by the cluster-local host
    prod = compiled["prod/recommender/ingress-recommender.yaml"]
    assert prod["spec"]["rules"][0]["http"]["paths"][0]["backend"] == backend
    assert prod["metadata"]["annotations"]["nginx.ingress.kubernetes.io/upstream-vhost"] == \
        "recommender-predictor.ml-recommender.svc.cluster.local"


def test_a_storage_uri_needs_a_hardened_storage_initializer(repo: Path) -> None:
    edit(repo, "environments/prod.yaml", "    storageInitializerHardened: true           # a ClusterStorageContainer "
                                         "with a restricted securityContext\n", "")
    result = run_cli(repo, "validate")
    row = line_of(repo, "spec/support-assistant.yaml", "model:")
    line = _refusal(result, f"spec/support-assistant.yaml:{row}:1: model: ")
    assert "ClusterStorageContainer whose container has a restricted securityContext (kserve/kserve#5855)" in line
    assert "platform.kserve.storageInitializerHardened: true in environments/prod.yaml" in line
    assert "spec/recommender.yaml" not in result.stderr  # a custom predictor downloads nothing


def test_keda_kafka_trigger_authenticates_falls_back_and_shares_its_values(compiled: dict[str, dict]) -> None:
    scaled = compiled["prod/fraud-scorer/scaledobject-fraud-scorer.yaml"]
    auth = compiled["prod/fraud-scorer/triggerauthentication-fraud-scorer.yaml"]
    trigger = scaled["spec"]["triggers"][0]
    assert trigger["authenticationRef"] == {"name": auth["metadata"]["name"]}
    assert auth["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] == "-1"  # with the secret it reads
    assert trigger["metadata"]["sasl"] == "scram_sha512" and "tls" not in trigger["metadata"]
    assert auth["spec"]["secretTargetRef"] == [
        {"parameter": "username", "name": "kafka-credentials", "key": "sasl-username"},
        {"parameter": "password", "name": "kafka-credentials", "key": "sasl-password"}]
    assert scaled["spec"]["fallback"] == {"failureThreshold": 3, "replicas": 20}
    container = compiled["prod/fraud-scorer/deployment-fraud-scorer.yaml"]["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert (env["KAFKA_BOOTSTRAP_SERVERS"], env["KAFKA_TOPIC"], env["KAFKA_CONSUMER_GROUP"]) == (
        trigger["metadata"]["bootstrapServers"], trigger["metadata"]["topic"], trigger["metadata"]["consumerGroup"])
    project = next(o for p, o in compiled.items() if p.startswith("prod/_argocd/") and o["kind"] == "AppProject"
                   and o["metadata"]["name"].endswith("payments-risk"))
    assert {"group": "keda.sh", "kind": "TriggerAuthentication"} in project["spec"]["namespaceResourceWhitelist"]
    require_shared_schemas()
    assert schema_errors(auth) == [] and schema_errors(scaled) == []


def test_kafka_tls_and_a_sasl_secret_the_system_lacks(repo: Path) -> None:
    sasl = "secretName: kafka-credentials}"
    edit(repo, "spec/fraud-scorer.yaml", sasl, sasl + "\n      tls: true")
    assert run_cli(repo, "compile", "--offline", "--env", "prod").exit_code == 0
    scaled = _load(repo, "prod", "fraud-scorer", "scaledobject-fraud-scorer.yaml")
    assert scaled["spec"]["triggers"][0]["metadata"]["tls"] == "enable"
    edit(repo, "spec/fraud-scorer.yaml", "secretName: kafka-credentials}", "secretName: kafka-sasl}")
    result = run_cli(repo, "validate")
    assert result.exit_code == 2
    assert "serving.autoscaling.kafka.sasl.secretName: the SASL credentials 'kafka-sasl' are not one of the " \
           "system's secrets" in result.stderr
