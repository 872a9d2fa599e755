"""Monitoring chart: scrape targets that match the serving objects, SLO burn-rate rules with hand-computed
thresholds, the drift-check CronJob and its alert, and the Grafana dashboard — each object strictly valid."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

import compiler.render as render_package
from compiler.driver import Workspace, validate_all
from compiler.merge import MergedSystem
from compiler.model.mlsystem import ModelFormat, Monitoring, ServingMetrics, Slo
from compiler.pins import read_lock
from compiler.platform.monitoring import serving_metrics
from compiler.render.context import RenderContext
from compiler.render.monitoring import MonitoringChart, le_matcher, longest_gap_seconds
from compiler.render.pods import CACHE_ENV
from compiler.render.serving import ServingChart
from helpers import ROOT, edit, line_of, require_shared_schemas, run_cli, schema_errors

WINDOWS = {"5m", "30m", "1h", "2h", "6h", "1d", "3d"}
# Hand-computed: threshold = burn rate × (1 − objective); pairs are (long, short) windows.
#   recommender: availability 99.9 % → budget 0.001; errorRate 1 % → 0.01; latencyP95 → 5 % slower allowed (0.05).
RECOMMENDER_THRESHOLDS = {
    ("AvailabilityBudgetBurn", "page"): {"1h": 0.0144, "5m": 0.0144, "6h": 0.006, "30m": 0.006},
    ("AvailabilityBudgetBurn", "ticket"): {"1d": 0.003, "2h": 0.003, "3d": 0.001, "6h": 0.001},
    ("ErrorRateBudgetBurn", "page"): {"1h": 0.144, "5m": 0.144, "6h": 0.06, "30m": 0.06},
    ("ErrorRateBudgetBurn", "ticket"): {"1d": 0.03, "2h": 0.03, "3d": 0.01, "6h": 0.01},
    ("LatencyBudgetBurn", "page"): {"1h": 0.72, "5m": 0.72, "6h": 0.3, "30m": 0.3},
    ("LatencyBudgetBurn", "ticket"): {"1d": 0.15, "2h": 0.15, "3d": 0.05, "6h": 0.05},
}
#   fraud-scorer: availability 99.95 % → budget 0.0005; errorRate 0.1 % → 0.001.
FRAUD_PAGE_THRESHOLDS = {
    "AvailabilityBudgetBurn": {"1h": 0.0072, "5m": 0.0072, "6h": 0.003, "30m": 0.003},
    "ErrorRateBudgetBurn": {"1h": 0.0144, "5m": 0.0144, "6h": 0.006, "30m": 0.006},
}
CONDITION = re.compile(r'slo:sli_error:ratio_rate(\w+)\{system="([^"]+)",env="([^"]+)",sli="(\w+)"\} > ([\d.]+)')


@pytest.fixture(scope="module")
def systems() -> dict[tuple[str, str], MergedSystem]:
    _, merged = validate_all(Workspace(ROOT))
    return {(s.env, s.name): s for s in merged}


def _render(system: MergedSystem, with_serving: bool = False) -> tuple[list[dict], list[dict]]:
    """(monitoring objects, serving objects) of one system, rendered in one cdk8s app."""
    import cdk8s

    ctx = RenderContext(system, read_lock(ROOT).get((system.env, system.name)))
    app = cdk8s.App()
    serving = ServingChart(app, ctx).to_json() if with_serving else []
    return MonitoringChart(app, ctx).to_json(), serving


def _with_spec(system: MergedSystem, **changes) -> MergedSystem:
    return dataclasses.replace(system, spec=system.spec.model_copy(update=changes))


@pytest.fixture(scope="module")
def rendered(systems: dict[tuple[str, str], MergedSystem]) -> dict[tuple[str, str], list[dict]]:
    return {key: _render(system)[0] for key, system in systems.items()}


def _one(objects: list[dict], kind: str) -> dict:
    found = [o for o in objects if o["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def _rules(objects: list[dict]) -> list[dict]:
    return [rule for group in _one(objects, "PrometheusRule")["spec"]["groups"] for rule in group["rules"]]


def _thresholds(expr: str) -> dict[str, float]:
    return {window: float(value) for window, _, _, _, value in CONDITION.findall(expr)}


def test_objects_per_system_are_strictly_valid(rendered: dict[tuple[str, str], list[dict]]) -> None:
    require_shared_schemas()
    expected = {"fraud-scorer": ["ServiceMonitor", "CronJob", "PrometheusRule", "ConfigMap"],
                "recommender": ["PodMonitor", "CronJob", "PrometheusRule", "ConfigMap"],
                "support-assistant": ["PodMonitor", "PrometheusRule", "ConfigMap"]}
    assert {env for env, _ in rendered} == {"dev", "staging", "prod"}
    for (env, name), objects in rendered.items():
        assert [o["kind"] for o in objects] == expected[name], (env, name)
        for obj in objects:
            assert schema_errors(obj) == [], (env, name, obj["kind"])
            assert obj["metadata"]["namespace"] == f"ml-{name}"
            assert obj["metadata"]["labels"]["app.kubernetes.io/component"] == "monitoring"
            assert obj["metadata"]["labels"]["app.kubernetes.io/part-of"] == name
    assert sum(len(objects) for objects in rendered.values()) == 33


def test_applies_to_serving_or_drift(systems: dict[tuple[str, str], MergedSystem]) -> None:
    recommender = systems[("prod", "recommender")]

    def applies(**changes) -> bool:
        return MonitoringChart.applies(RenderContext(_with_spec(recommender, **changes), None))

    assert applies()
    assert applies(serving=None)  # training + drift check
    assert not applies(serving=None, monitoring=Monitoring())


def test_service_monitor_selects_the_serving_service(systems: dict[tuple[str, str], MergedSystem]) -> None:
    monitoring, serving = _render(systems[("prod", "fraud-scorer")], with_serving=True)
    monitor = _one(monitoring, "ServiceMonitor")
    service = _one(serving, "Service")
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector == {"app.kubernetes.io/name": "fraud-scorer", "app.kubernetes.io/part-of": "fraud-scorer"}
    assert selector.items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["endpoints"] == [{"port": "http", "path": "/metrics"}]
    assert [p["name"] for p in service["spec"]["ports"]] == ["http"]
    assert "namespaceSelector" not in monitor["spec"]  # the Service is in the monitor's own namespace
    # the job label (the Service name) is what the SLI queries select on
    assert monitor["metadata"]["name"] == service["metadata"]["name"] == "fraud-scorer"
    assert 'job="fraud-scorer"' in _rules(monitoring)[0]["expr"]


def test_pod_monitor_selects_the_kserve_predictor_pods(systems: dict[tuple[str, str], MergedSystem]) -> None:
    monitoring, serving = _render(systems[("prod", "recommender")], with_serving=True)
    monitor = _one(monitoring, "PodMonitor")["spec"]
    pod_labels = _one(serving, "InferenceService")["spec"]["predictor"]["labels"]
    assert monitor["selector"]["matchLabels"] == {"serving.kserve.io/inferenceservice": "recommender"}
    # KServe puts that label on the predictor pods itself (components/predictor.go); the spec does not repeat it
    assert "serving.kserve.io/inferenceservice" not in pod_labels
    # job = the value of that pod label, so SLI queries select job="recommender" as for a Deployment
    assert monitor["jobLabel"] == "serving.kserve.io/inferenceservice"
    # by the serving container's port name (portNumber needs operator v0.79+): prod is Knative, which names the
    # revision's port user-port in the pod; in Standard mode (dev) the pod keeps the name the predictor declares
    assert monitor["podMetricsEndpoints"] == [{"port": "user-port", "path": "/metrics"}]
    dev = _one(_render(systems[("dev", "recommender")])[0], "PodMonitor")["spec"]
    assert dev["podMetricsEndpoints"] == [{"port": "http1", "path": "/metrics"}]
    assert 'namespace="ml-recommender",job="recommender"' in _rules(monitoring)[0]["expr"]


def test_recording_rules_cover_every_window_of_each_sli(rendered: dict[tuple[str, str], list[dict]]) -> None:
    rules = _rules(rendered[("prod", "recommender")])
    recordings = [r for r in rules if "record" in r]
    assert {(r["record"], r["labels"]["sli"]) for r in recordings} == {
        (f"slo:sli_error:ratio_rate{w}", sli) for w in WINDOWS for sli in ("availability", "errors", "latency")}
    assert len(recordings) == 21  # availability has an SLI of its own, not the 5xx one errorRate watches
    served = ('namespace="ml-recommender",job="recommender",'
              'handler!="/v2/health/ready",handler!="/v2/health/live",handler!="/metrics"')
    for rule in recordings:
        assert rule["labels"] == {"system": "recommender", "env": "prod", "sli": rule["labels"]["sli"]}
        window = rule["record"].removeprefix("slo:sli_error:ratio_rate")
        assert f"[{window}]" in rule["expr"]
        sli = rule["labels"]["sli"]
        if sli == "availability":  # failed scrapes / all scrapes
            up = f'up{{namespace="ml-recommender",job="recommender"}}[{window}]'
            assert rule["expr"] == f"1 - (sum(sum_over_time({up})) / sum(count_over_time({up})))"
        elif sli == "errors":  # the declared counter and its status label, probes and scrapes left out
            assert rule["expr"] == (f'sum(rate(http_requests_total{{{served},code=~"5.."}}[{window}])) / '
                                    f"sum(rate(http_requests_total{{{served}}}[{window}]))")
        else:  # latencyP95: 150ms → the 0.15 s bucket the spec declares
            assert f'http_request_duration_seconds_bucket{{{served},le="0.15"}}' in rule["expr"]
            assert rule["expr"].startswith("1 - (")
    for name, le in (("fraud-scorer", "0.05"), ("support-assistant", "0.8")):  # 50ms, 800ms
        bounds = {b for r in _rules(rendered[("prod", name)]) for b in re.findall(r'le="([^"]+)"', r["expr"])}
        assert bounds == {le}, name


def test_burn_rate_thresholds_recommender(rendered: dict[tuple[str, str], list[dict]]) -> None:
    rules = _rules(rendered[("prod", "recommender")])
    alerts = {(r["alert"], r["labels"]["severity"]): r for r in rules if r.get("alert", "").endswith("BudgetBurn")}
    assert set(alerts) == set(RECOMMENDER_THRESHOLDS)
    for key, expected in RECOMMENDER_THRESHOLDS.items():
        expr = alerts[key]["expr"]
        assert _thresholds(expr) == pytest.approx(expected), key
        # (long and short) or (long and short): both windows of a pair must burn
        clauses = expr.split("\nor\n")
        assert len(clauses) == 2 and all(c.count(" > ") == 2 and "\nand\n" in c for c in clauses)
        assert "for" not in alerts[key]  # the short window already resets the alert quickly
    assert 'sli="latency"' in alerts[("LatencyBudgetBurn", "page")]["expr"]
    # two objectives, two SLIs: a burst of 5xx pages once (error rate), a pod that stops answering once (availability)
    assert CONDITION.findall(alerts[("AvailabilityBudgetBurn", "page")]["expr"])[0][3] == "availability"
    assert {c[3] for c in CONDITION.findall(alerts[("ErrorRateBudgetBurn", "page")]["expr"])} == {"errors"}


def test_burn_rate_thresholds_fraud_scorer(rendered: dict[tuple[str, str], list[dict]]) -> None:
    rules = _rules(rendered[("prod", "fraud-scorer")])
    for alert, expected in FRAUD_PAGE_THRESHOLDS.items():
        page = next(r for r in rules if r.get("alert") == alert and r["labels"]["severity"] == "page")
        assert _thresholds(page["expr"]) == pytest.approx(expected), alert
    # support-assistant sets no errorRate: only availability and latency alerts
    assistant = {r["alert"] for r in _rules(rendered[("prod", "support-assistant")]) if "alert" in r}
    assert assistant == {"AvailabilityBudgetBurn", "LatencyBudgetBurn", "TargetDown", "SLIDataMissing"}


def test_every_alert_reads_series_its_rules_record(rendered: dict[tuple[str, str], list[dict]]) -> None:
    for (env, name), objects in rendered.items():
        rules = _rules(objects)
        recorded = {(r["record"], r["labels"]["system"], r["labels"]["env"], r["labels"]["sli"])
                    for r in rules if "record" in r}
        for rule in rules:
            for window, system, alert_env, sli, _ in CONDITION.findall(rule.get("expr", "")):
                assert (f"slo:sli_error:ratio_rate{window}", system, alert_env, sli) in recorded, (env, name, rule)


def test_alert_labels_route_to_the_receiver(rendered: dict[tuple[str, str], list[dict]]) -> None:
    teams = {"fraud-scorer": ("payments-risk", "payments-risk-oncall"),
             "recommender": ("personalization", "personalization-oncall"),
             "support-assistant": ("customer-ai", "customer-ai-oncall")}
    for (env, name), objects in rendered.items():
        team, receiver = teams[name]
        for rule in (r for r in _rules(objects) if "alert" in r):
            labels = rule["labels"]
            assert labels["severity"] in ("page", "ticket")
            assert {k: labels[k] for k in ("team", "system", "env", "receiver")} == {
                "team": team, "system": name, "env": env, "receiver": receiver}
            assert set(rule["annotations"]) == {"summary", "description"}  # no runbook to point at yet
            assert name in rule["annotations"]["summary"] and env in rule["annotations"]["summary"]


def test_no_receiver_label_without_alerts_to(systems: dict[tuple[str, str], MergedSystem]) -> None:
    system = systems[("prod", "recommender")]
    monitoring = system.spec.monitoring.model_copy(update={"alerts_to": None})
    objects, _ = _render(_with_spec(system, monitoring=monitoring))
    alerts = [r for r in _rules(objects) if "alert" in r]
    assert alerts and all("receiver" not in r["labels"] for r in alerts)


def test_drift_check_cronjob(rendered: dict[tuple[str, str], list[dict]]) -> None:
    cron = _one(rendered[("prod", "recommender")], "CronJob")
    assert cron["metadata"]["name"] == "recommender-drift"
    spec = cron["spec"]
    assert spec["schedule"] == "0 * * * *" and spec["concurrencyPolicy"] == "Forbid"
    job = spec["jobTemplate"]["spec"]
    assert job["backoffLimit"] == 1 and job["activeDeadlineSeconds"] == 1800
    pod = job["template"]["spec"]
    assert pod["restartPolicy"] == "Never" and pod["serviceAccountName"] == "recommender-drift"
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    container = pod["containers"][0]
    assert container["image"] == "registry.example.com/recsys/drift:1.4.2"
    context = container["securityContext"]
    assert context["allowPrivilegeEscalation"] is False and context["readOnlyRootFilesystem"] is True
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert container["resources"]["requests"] == container["resources"]["limits"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env == {**CACHE_ENV,
        "DRIFT_METRIC": "psi", "DRIFT_THRESHOLD": "0.2", "DRIFT_SCORE_METRIC": "mlgitops_drift_score",
        "DRIFT_PUSH_URL": "http://prometheus-pushgateway.monitoring.svc:9091/metrics/job/mlgitops-drift/system/recommender/env/prod",
        "MODEL_NAME": "recsys-ranker", "MODEL_VERSION": "2", "MODEL_URI": "s3://ml-models/recsys-ranker/2"}
    # fraud-scorer: the default hourly schedule, its own metric and threshold, a pinned model version
    fraud = _one(rendered[("dev", "fraud-scorer")], "CronJob")["spec"]
    assert fraud["schedule"] == "0 * * * *"
    fraud_container = fraud["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    fraud_env = {e["name"]: e["value"] for e in fraud_container["env"]}
    assert (fraud_env["DRIFT_METRIC"], fraud_env["DRIFT_THRESHOLD"], fraud_env["MODEL_VERSION"]) == ("ks", "0.1", "7")
    assert fraud_env["DRIFT_PUSH_URL"].endswith("/system/fraud-scorer/env/dev")


def test_drift_alert(rendered: dict[tuple[str, str], list[dict]]) -> None:
    rules = _rules(rendered[("prod", "fraud-scorer")])
    drift = next(r for r in rules if r.get("alert") == "ModelDriftHigh")
    assert drift["expr"] == 'mlgitops_drift_score{system="fraud-scorer",env="prod"} > 0.1'
    assert drift["for"] == "15m" and drift["labels"]["severity"] == "ticket"
    assert not any(r.get("alert") == "ModelDriftHigh" for r in _rules(rendered[("prod", "support-assistant")]))


def test_dashboard_configmap(rendered: dict[tuple[str, str], list[dict]]) -> None:
    config_map = _one(rendered[("prod", "recommender")], "ConfigMap")
    assert config_map["metadata"]["name"] == "recommender-dashboard"
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    (key, text), = config_map["data"].items()
    assert key == "mlgitops-recommender-prod.json"
    dashboard = json.loads(text)
    assert text == json.dumps(dashboard, indent=2, sort_keys=True) + "\n"  # canonical, so diffs stay small
    assert dashboard["title"] == "recommender (prod)" and len(dashboard["uid"]) <= 40
    titles = [p["title"] for p in dashboard["panels"]]
    assert titles == ["Request rate", "Error ratio (5xx)", "Latency p95 vs SLO", "Error-budget burn rate (1h)",
                      "Replicas scraped and up", "Drift score (psi)"]
    exprs = {p["title"]: [t["expr"] for t in p["targets"]] for p in dashboard["panels"]}
    assert "vector(0.15)" in exprs["Latency p95 vs SLO"]
    assert exprs["Request rate"] == ['sum by (code) (rate(http_requests_total{namespace="ml-recommender",'
                                     'job="recommender",handler!="/v2/health/ready",handler!="/v2/health/live",'
                                     'handler!="/metrics"}[5m]))']
    assert "vector(0.2)" in exprs["Drift score (psi)"]
    assert 'slo:sli_error:ratio_rate1h{system="recommender",env="prod",sli="availability"} / 0.001' \
        in exprs["Error-budget burn rate (1h)"]
    assert len({p["id"] for p in dashboard["panels"]}) == len(titles)
    # the uid is stable per system and environment, and differs between them
    uids = {(env, name): json.loads(next(iter(_one(objects, "ConfigMap")["data"].values())))["uid"]
            for (env, name), objects in rendered.items()}
    assert len(set(uids.values())) == len(uids)
    assistant = json.loads(next(iter(_one(rendered[("prod", "support-assistant")], "ConfigMap")["data"].values())))
    assert not any(p["title"].startswith("Drift") for p in assistant["panels"])
    # vLLM's series: no status label, so no 5xx panel
    assistant_exprs = {p["title"]: [t["expr"] for t in p["targets"]] for p in assistant["panels"]}
    assert "Error ratio (5xx)" not in assistant_exprs
    assert assistant_exprs["Latency p95 vs SLO"][0] == (
        "histogram_quantile(0.95, sum by (le) (rate(vllm:e2e_request_latency_seconds_bucket"
        '{namespace="ml-support-assistant",job="support-assistant"}[5m])))')


def test_rendering_is_deterministic(systems: dict[tuple[str, str], MergedSystem],
                                    rendered: dict[tuple[str, str], list[dict]]) -> None:
    for key in (("prod", "recommender"), ("dev", "fraud-scorer")):
        assert _render(systems[key])[0] == rendered[key]


def test_without_dashboards_slo_or_serving(systems: dict[tuple[str, str], MergedSystem]) -> None:
    system = systems[("prod", "recommender")]
    no_dashboards = system.spec.monitoring.model_copy(update={"dashboards": False})
    assert "ConfigMap" not in [o["kind"] for o in _render(_with_spec(system, monitoring=no_dashboards))[0]]
    # serving without an SLO and without drift: only the scrape target and the dashboard
    serving = system.spec.serving.model_copy(update={"slo": None})
    objects, _ = _render(_with_spec(system, serving=serving, monitoring=Monitoring()))
    assert [o["kind"] for o in objects] == ["PodMonitor", "ConfigMap"]
    # training with a drift check: the CronJob, its alert, a drift-only dashboard; nothing to scrape
    objects, _ = _render(_with_spec(system, serving=None))
    assert [o["kind"] for o in objects] == ["CronJob", "PrometheusRule", "ConfigMap"]
    assert [g["name"] for g in _one(objects, "PrometheusRule")["spec"]["groups"]] == ["recommender-drift"]
    dashboard = json.loads(next(iter(_one(objects, "ConfigMap")["data"].values())))
    assert [p["title"] for p in dashboard["panels"]] == ["Drift score (psi)"]
    # an availability-only SLO records only the up SLI
    objects, _ = _render(_with_spec(system, serving=system.spec.serving.model_copy(
        update={"slo": Slo(availability="99%")})))
    assert {r["labels"]["sli"] for r in _rules(objects) if "record" in r} == {"availability"}


def test_through_the_render_pass(systems: dict[tuple[str, str], MergedSystem]) -> None:
    """In wave 1, after the workloads it watches: common annotations applied, no (kind, name) clashes with other
    charts."""
    assert MonitoringChart in render_package.CHARTS and MonitoringChart.WAVE == 1
    for system in systems.values():
        objects = render_package.render(system, read_lock(ROOT).get((system.env, system.name)))
        names = [(o["kind"], o["metadata"]["name"]) for o in objects]
        assert len(names) == len(set(names)), system.name
        for obj in (o for o in objects if o["metadata"]["labels"].get("app.kubernetes.io/component") == "monitoring"):
            assert obj["metadata"]["annotations"]["mlgitops.io/source"] == f"spec/{system.name}.yaml"


# --- SLIs on what the serving container exports; what an SLO cannot measure is refused at its line ------------------


def _with_platform(system: MergedSystem, **prometheus) -> MergedSystem:
    env = system.environment
    platform = env.spec.platform
    spec = env.spec.model_copy(update={"platform": platform.model_copy(
        update={"prometheus": platform.prometheus.model_copy(update=prometheus)})})
    return dataclasses.replace(system, environment=dataclasses.replace(env, spec=spec))


def test_kserve_runtimes_are_watched_on_their_own_metrics(systems: dict[tuple[str, str], MergedSystem]) -> None:
    # support-assistant: KServe's huggingface runtime runs on vLLM: its e2e histogram, whose buckets hold 0.8
    rules = _rules(_render(systems[("prod", "support-assistant")])[0])
    latency = next(r for r in rules if r.get("labels", {}).get("sli") == "latency" and "record" in r)
    assert "vllm:e2e_request_latency_seconds_bucket" in latency["expr"] and 'le="0.8"' in latency["expr"]
    assert not any("http_request" in r["expr"] for r in rules)
    # an sklearn model on KServe's own model server: request_predict_seconds, the Python client's buckets
    system = systems[("prod", "recommender")]
    sklearn = _with_spec(system, model=system.spec.model.model_copy(update={"format": ModelFormat.sklearn}),
                         serving=system.spec.serving.model_copy(update={"image": None, "slo": Slo(latencyP95="100ms")}),
                         monitoring=system.spec.monitoring.model_copy(update={"metrics": None}))
    assert serving_metrics(sklearn.spec)[0] == "kserve-sklearnserver"
    recordings = [r["expr"] for r in _rules(_render(sklearn)[0]) if "record" in r]
    assert 'request_predict_seconds_bucket{namespace="ml-recommender",job="recommender",le="0.1"}' in recordings[0]


def test_slo_refused_at_its_line_when_the_metrics_cannot_measure_it(repo: Path) -> None:
    # recommender's own image, its metrics no longer declared: nothing says what it exports
    recommender = repo / "spec/recommender.yaml"
    recommender.write_text(_drop_block(recommender.read_text(), "  metrics:"))
    # support-assistant (vLLM): no status label for errorRate; 750ms is no bucket of vLLM's histogram
    edit(repo, "spec/support-assistant.yaml", "    latencyP95: 800ms\n", "    errorRate: 1%\n    latencyP95: 750ms\n")
    # fraud-scorer: 150ms is in neither client's default buckets (Go's here)
    edit(repo, "spec/fraud-scorer.yaml", "    latencyP95: 50ms ", "    latencyP95: 150ms")
    result = run_cli(repo, "validate")
    assert result.exit_code == 2, result.stderr
    fraud, recommender_slo, assistant_error, assistant_latency = (
        line_of(repo, "spec/fraud-scorer.yaml", "latencyP95: 150ms"), line_of(repo, "spec/recommender.yaml", "  slo:"),
        line_of(repo, "spec/support-assistant.yaml", "errorRate: 1%"),
        line_of(repo, "spec/support-assistant.yaml", "latencyP95: 750ms"))
    assert result.stderr.splitlines()[:-1] == [
        f"spec/fraud-scorer.yaml:{fraud}:5: serving.slo.latencyP95: latencyP95 150ms is not a bucket bound of "
        "http_request_duration_seconds (monitoring.metrics: 0.005s, 0.01s, 0.025s, 0.05s, 0.1s, 0.25s, 0.5s, 1s, "
        "2.5s, 5s, 10s), so no series counts the requests within it: pick one of those bounds, or declare the "
        "histogram's monitoring.metrics.latencyBuckets [E211]",
        f"spec/recommender.yaml:{recommender_slo}:3: serving.slo: latencyP95 and errorRate need request metrics, "
        "and which ones the "
        "image registry.example.com/recsys/serve:1.4.2 exports is unknown: declare them in monitoring.metrics "
        "(requestsTotal, codeLabel, latencyHistogram, latencyBuckets) [E211]",
        f"spec/support-assistant.yaml:{assistant_error}:5: serving.slo.errorRate: errorRate needs a request counter "
        "with a "
        "status-code label; kserve-huggingfaceserver (vLLM) has vllm:e2e_request_latency_seconds_count without "
        "one: declare monitoring.metrics.codeLabel, or leave errorRate out (availability is measured from the "
        "scrape's up) [E211]",
        f"spec/support-assistant.yaml:{assistant_latency}:5: serving.slo.latencyP95: latencyP95 750ms is not a "
        "bucket bound of "
        "vllm:e2e_request_latency_seconds (kserve-huggingfaceserver (vLLM): 0.3s, 0.5s, 0.8s, 1s, 1.5s, 2s, 2.5s, "
        "5s, 10s, 15s, 20s, 30s, 40s, 50s, 60s, 120s, 240s, 480s, 960s, 1920s, 7680s), so no series counts the "
        "requests within it: pick one of those bounds, or declare the histogram's monitoring.metrics.latencyBuckets "
        "[E211]"]


def _drop_block(text: str, key: str) -> str:
    """The text without the mapping `key` and its more-indented lines."""
    lines, kept, skipping = text.splitlines(keepends=True), [], False
    for line in lines:
        if line.startswith(key):
            skipping = True
            continue
        if skipping and line.startswith("    "):
            continue
        skipping = False
        kept.append(line)
    return "".join(kept)


def test_declared_metrics_need_a_counter_or_a_histogram_with_its_buckets() -> None:
    with pytest.raises(ValueError, match="latencyHistogram and latencyBuckets go together"):
        ServingMetrics(latencyHistogram="http_request_duration_seconds")
    with pytest.raises(ValueError, match="declare requestsTotal"):
        ServingMetrics(codeLabel="code")
    assert ServingMetrics(latencyHistogram="h", latencyBuckets="go").requests == "h_count"
    assert ServingMetrics(latencyHistogram="h", latencyBuckets="python").buckets[:5] == (.005, .01, .025, .05, .075)


# --- what burn rates cannot see: no pods, no series, a stale drift score ----------------------------------------------


def test_target_down_and_sli_data_missing(rendered: dict[tuple[str, str], list[dict]],
                                          systems: dict[tuple[str, str], MergedSystem]) -> None:
    alerts = {(r["alert"], r["labels"].get("sli")): r for r in _rules(rendered[("prod", "fraud-scorer")])
              if "alert" in r}
    up = 'up{namespace="ml-fraud-scorer",job="fraud-scorer"}'
    down = alerts[("TargetDown", None)]
    assert down["expr"] == f"max({up}) == 0\nor\nabsent({up})"
    assert down["for"] == "5m" and down["labels"]["severity"] == "page"
    served = 'namespace="ml-fraud-scorer",job="fraud-scorer",handler!="/ready",handler!="/live",handler!="/metrics"'
    assert alerts[("SLIDataMissing", "errors")]["expr"] == f"absent_over_time(http_requests_total{{{served}}}[15m])"
    assert alerts[("SLIDataMissing", "latency")]["expr"] == \
        f"absent_over_time(http_request_duration_seconds_count{{{served}}}[15m])"
    assert alerts[("SLIDataMissing", "errors")]["labels"]["severity"] == "ticket"
    # a service that may scale to zero has no pods when idle: only "every pod there is down" pages
    system = systems[("prod", "support-assistant")]
    idle = _with_spec(system, serving=system.spec.serving.model_copy(
        update={"replicas": system.spec.serving.replicas.model_copy(update={"min": 0})}))
    names = {r["alert"]: r for r in _rules(_render(idle)[0]) if "alert" in r}
    assert "SLIDataMissing" not in names and "absent" not in names["TargetDown"]["expr"]


def test_drift_score_stale(rendered: dict[tuple[str, str], list[dict]],
                           systems: dict[tuple[str, str], MergedSystem]) -> None:
    stale = next(r for r in _rules(rendered[("prod", "recommender")]) if r.get("alert") == "DriftScoreStale")
    # the Pushgateway's push time of the drift check's group (job/system/env of DRIFT_PUSH_URL), 2 × hourly
    assert stale["expr"] == 'time() - push_time_seconds{job="mlgitops-drift",system="recommender",env="prod"} > 7200'
    assert stale["labels"]["severity"] == "ticket"
    assert longest_gap_seconds("0 3 * * *") == 86400
    assert longest_gap_seconds("0 9 * * 1-5") == 3 * 86400  # Friday to Monday
    system = systems[("prod", "recommender")]
    drift = system.spec.monitoring.drift.model_copy(update={"schedule": "30 6 * * 1-5"})
    objects, _ = _render(_with_spec(system, monitoring=system.spec.monitoring.model_copy(update={"drift": drift})))
    assert next(r for r in _rules(objects) if r.get("alert") == "DriftScoreStale")["expr"].endswith("> 518400")


# --- the platform's Prometheus: selector labels, le spelling ----------------------------------------------------


def test_monitors_and_rules_carry_the_prometheus_selector_labels(
        rendered: dict[tuple[str, str], list[dict]], systems: dict[tuple[str, str], MergedSystem]) -> None:
    for (env, _), objects in rendered.items():
        for obj in objects:
            selected = obj["kind"] in ("PodMonitor", "ServiceMonitor", "PrometheusRule")
            # the dashboard is found by grafana_dashboard alone; the CronJob by nobody
            assert (obj["metadata"]["labels"].get("release") == "kube-prometheus-stack") is selected, (env, obj)
    objects, _ = _render(_with_platform(systems[("prod", "fraud-scorer")], selector_labels={"prometheus": "ml"}))
    labelled = {o["kind"] for o in objects if o["metadata"]["labels"].get("prometheus") == "ml"}
    assert labelled == {"ServiceMonitor", "PrometheusRule"}


def test_le_is_written_as_the_prometheus_version_stores_it(systems: dict[tuple[str, str], MergedSystem]) -> None:
    assert le_matcher(1, "3.0") == 'le="1.0"' and le_matcher(0.15, "3.0") == 'le="0.15"'
    assert le_matcher(0.15, "2.53") == 'le="0.15"'  # both clients write 0.15
    assert le_matcher(1, "2.53") == 'le=~"1|1\\\\.0"'  # Go writes 1, Python 1.0
    system = systems[("prod", "fraud-scorer")]
    one_second = _with_spec(system, serving=system.spec.serving.model_copy(update={"slo": Slo(latencyP95="1s")}))
    for version, matcher in (("3.0", 'le="1.0"'), ("2.53", 'le=~"1|1\\\\.0"')):
        rules = _rules(_render(_with_platform(one_second, version=version))[0])
        assert all(matcher in r["expr"] for r in rules if "record" in r and r["labels"]["sli"] == "latency"), version
