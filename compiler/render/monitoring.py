"""Monitoring chart: how a system is watched — scrape target, SLO burn-rate alerts, drift check, dashboard.

Input: a `RenderContext` (merged spec, environment, resolved model). Output, per system and environment:

- a scrape target for the serving pods, so every scraped series carries `namespace="<ns>", job="<system>"`:
  - `runtime: deployment` → a ServiceMonitor on the serving Service (`ctx.selector(name)`, port `http`, `/metrics`);
  - `runtime: kserve` → a PodMonitor on the pods labelled `serving.kserve.io/inferenceservice: <name>`, port
    `serving.port`, `/metrics`. Not a ServiceMonitor on `<name>-predictor`: that Service only has endpoints in
    KServe's raw-deployment mode (in the default Serverless mode it is an ExternalName alias of the Knative gateway),
    the InferenceService does not pin a mode, and a pod selector also covers the canary's pods. KServe's docs say
    the runtimes export Prometheus metrics on a port of the InferenceService's pod and leave scraping to the user.
    The pod must declare that port (a custom predictor declares `http` = serving.port; KServe's model servers
    listen on 8080, the default serving.port).
- a PrometheusRule with multi-window, multi-burn-rate alerts from `serving.slo` (Google SRE workbook, ch. 5, as
  Sloth generates them; 30-day SLO period), and the drift alert;
- a drift-check CronJob `<system>-drift` from `monitoring.drift` (runs as the ServiceAccount of that name, hardened
  like every pod), told by env vars which model to check (MODEL_*), the metric and threshold (DRIFT_METRIC,
  DRIFT_THRESHOLD), and where to PUT its gauge `mlgitops_drift_score` (DRIFT_PUSH_URL: the Pushgateway with the
  grouping key system/env, which become the series' labels);
- a Grafana dashboard ConfigMap (`grafana_dashboard: "1"`, the Grafana sidecar's default label) when
  `monitoring.dashboards` is true.

SLIs (error ratio = bad requests / all requests, recorded over 5m, 30m, 1h, 2h, 6h, 1d, 3d as
`slo:sli_error:ratio_rate<window>{system, env, sli}`):
- sli="errors": requests answered 5xx (`code=~"5.."`) / all requests, from `http_requests_total`. Both
  `availability: 99.9%` (error budget 0.1 %) and `errorRate: 1%` (error budget 1 %) are objectives on it.
- sli="latency": requests slower than `latencyP95` / all requests, from the histogram bucket `le="<threshold>"`
  (the threshold must be one of the histogram's bucket bounds). A p95 objective means at most 5 % may be slower.
Alert threshold = burn rate × error budget: page when 1h and 5m both burn ≥ 14.4× or 6h and 30m ≥ 6×, ticket when
1d and 2h ≥ 3× or 3d and 6h ≥ 1×. The short window makes an alert stop soon after the burn stops, so no `for`.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import NamedTuple

import cdk8s
from cdk8s_plus_34 import k8s

from ..model.mlsystem import MLSystem, Runtime
from ..model.units import cron_expression, duration_seconds
from .context import KSERVE_POD_LABEL, RenderContext, SystemChart
from .custom import custom_resource
from .pods import ContainerSpec, pod_spec, template

COMPONENT = "monitoring"
# Serving metric names follow the Prometheus HTTP conventions (client libraries' and most exporters' defaults):
# a request counter with a `code` label and a request-duration histogram in seconds.
REQUESTS = "http_requests_total"
DURATION_BUCKET = "http_request_duration_seconds_bucket"
DURATION_COUNT = "http_request_duration_seconds_count"
DRIFT_SCORE = "mlgitops_drift_score"  # the gauge the drift check pushes
DRIFT_DEADLINE_SECONDS = 1800  # with Forbid, a hung check would block every later run
ROUTING_LABEL = "receiver"  # carries monitoring.alertsTo; Alertmanager routes match on it
GRAFANA_LABEL = "grafana_dashboard"

WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
# severity → ((long window, short window, burn rate), ...): the workbook's recommended table.
BURN_ALERTS = (("page", (("1h", "5m", Decimal("14.4")), ("6h", "30m", Decimal("6")))),
               ("ticket", (("1d", "2h", Decimal("3")), ("3d", "6h", Decimal("1")))))
LATENCY_OBJECTIVE = Decimal("0.95")  # latencyP95: 95 % of requests within the threshold


class Objective(NamedTuple):
    slo: str  # the `slo` label and the alert's name: availability → AvailabilityBudgetBurn
    sli: str  # errors | latency
    budget: Decimal  # the fraction of requests that may be bad: 1 - objective
    says: str  # the objective in words, for the alert's description
    bad: str  # what a bad request is, in words


def applies(spec: MLSystem) -> bool:
    return spec.serving is not None or spec.monitoring.drift is not None


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _percent(value: str) -> Decimal:
    return Decimal(value.rstrip("%")) / 100


class MonitoringChart(SystemChart):
    def __init__(self, scope: cdk8s.App, ctx: RenderContext):
        super().__init__(scope, "monitoring", ctx)
        self.spec = ctx.system.spec
        self.series = f'system="{ctx.name}",env="{ctx.system.env}"'  # labels the rules put on their series
        self.scraped = f'namespace="{ctx.namespace}",job="{ctx.name}"'  # labels the scrape target gives
        if self.spec.serving is not None:
            self._scrape_target()
        if self.spec.monitoring.drift is not None:
            self._drift_check()
        groups = self._slo_groups() + self._drift_groups()
        if groups:
            custom_resource(self, "prometheusrule", "monitoring.coreos.com/v1", "PrometheusRule", ctx.name,
                            {"spec": {"groups": groups}}, self._labels(ctx.name))
        if self.spec.monitoring.dashboards:
            self._dashboard()

    def _labels(self, name: str) -> dict[str, str]:
        return self.ctx.workload_labels(name, COMPONENT)

    # --- scrape target ------------------------------------------------------------------------------------------

    def _scrape_target(self) -> None:
        name, serving = self.ctx.workload("serving"), self.spec.serving
        if serving.runtime is Runtime.kserve:
            # jobLabel: the pod label's value (the system name) becomes `job`, as the Service name does below.
            custom_resource(self, "podmonitor", "monitoring.coreos.com/v1", "PodMonitor", name, {"spec": {
                "selector": {"matchLabels": self.ctx.serving_selector()},
                "jobLabel": KSERVE_POD_LABEL,
                "podMetricsEndpoints": [{"portNumber": serving.port, "path": "/metrics"}],
            }}, self._labels(name))
        else:
            custom_resource(self, "servicemonitor", "monitoring.coreos.com/v1", "ServiceMonitor", name, {"spec": {
                "selector": {"matchLabels": self.ctx.serving_selector()},  # the Service carries the pods' labels
                "endpoints": [{"port": "http", "path": "/metrics"}],
            }}, self._labels(name))

    # --- SLO burn-rate rules ------------------------------------------------------------------------------------

    def _objectives(self) -> list[Objective]:
        slo = self.spec.serving.slo if self.spec.serving else None
        if slo is None:
            return []
        objectives, server_error = [], "5xx responses"
        if slo.availability:
            objectives.append(Objective("availability", "errors", 1 - _percent(slo.availability),
                                        f"{slo.availability} availability", server_error))
        if slo.error_rate:
            objectives.append(Objective("error-rate", "errors", _percent(slo.error_rate),
                                        f"error rate at most {slo.error_rate}", server_error))
        if slo.latency_p95:
            objectives.append(Objective("latency", "latency", 1 - LATENCY_OBJECTIVE,
                                        f"p95 latency at most {slo.latency_p95}",
                                        f"requests slower than {slo.latency_p95}"))
        return objectives

    def _sli_error_ratio(self, sli: str, window: str) -> str:
        total = f"sum(rate({REQUESTS}{{{self.scraped}}}[{window}]))"
        if sli == "errors":
            return f'sum(rate({REQUESTS}{{{self.scraped},code=~"5.."}}[{window}])) / {total}'
        # Prometheus 3 (and the Python client) write bucket bounds as floats: 0.15, 1.0.
        le = repr(round(duration_seconds(self.spec.serving.slo.latency_p95), 9))
        fast = f'sum(rate({DURATION_BUCKET}{{{self.scraped},le="{le}"}}[{window}]))'
        return f"1 - ({fast} / sum(rate({DURATION_COUNT}{{{self.scraped}}}[{window}])))"

    def _slo_groups(self) -> list[dict]:
        objectives = self._objectives()
        if not objectives:
            return []
        slis = list(dict.fromkeys(o.sli for o in objectives))  # availability and error-rate share one SLI
        system_labels = {"system": self.ctx.name, "env": self.ctx.system.env}
        recordings = [{"record": f"slo:sli_error:ratio_rate{w}", "expr": self._sli_error_ratio(sli, w),
                       "labels": {**system_labels, "sli": sli}} for sli in slis for w in WINDOWS]
        alerts = [self._burn_alert(o, severity, pairs) for o in objectives for severity, pairs in BURN_ALERTS]
        return [{"name": f"{self.ctx.name}-slo-sli-recordings", "rules": recordings},
                {"name": f"{self.ctx.name}-slo-alerts", "rules": alerts}]

    def _burn_alert(self, objective: Objective, severity: str, pairs: tuple) -> dict:
        def above(window: str, burn: Decimal) -> str:
            return (f'slo:sli_error:ratio_rate{window}{{{self.series},sli="{objective.sli}"}} > '
                    f"{_number(burn * objective.budget)}")

        expr = "\nor\n".join(f"({above(long, burn)}\nand\n{above(short, burn)})" for long, short, burn in pairs)
        when = ", or ".join(f"{_number(burn)}x over {long} and {short}" for long, short, burn in pairs)
        name, env = self.ctx.name, self.ctx.system.env
        return {"alert": objective.slo.title().replace("-", "") + "BudgetBurn", "expr": expr,
                "labels": {**self._alert_labels(severity), "slo": objective.slo},
                "annotations": {
                    "summary": f"{name} ({env}) is burning its {objective.slo} error budget",
                    "description": f"Objective: {objective.says} over 30 days. The share of {objective.bad} is "
                                   f"{{{{ $value | humanizePercentage }}}}: a burn rate above {when} "
                                   "(1x spends exactly the 30-day budget)."}}

    def _alert_labels(self, severity: str) -> dict[str, str]:
        labels = {"severity": severity, "team": self.spec.metadata.team, "system": self.ctx.name,
                  "env": self.ctx.system.env}
        if self.spec.monitoring.alerts_to:
            labels[ROUTING_LABEL] = self.spec.monitoring.alerts_to
        return labels

    # --- drift --------------------------------------------------------------------------------------------------

    def _drift_push_url(self) -> str:
        # Grouping key system/env: the Pushgateway adds them as labels, which the alert selects on.
        pushgateway = self.ctx.system.environment.spec.monitoring.pushgateway
        return f"{pushgateway}/metrics/job/mlgitops-drift/system/{self.ctx.name}/env/{self.ctx.system.env}"

    def _drift_check(self) -> None:
        drift = self.spec.monitoring.drift
        workload = self.ctx.workload(COMPONENT)  # also its ServiceAccount's name (tenancy chart)
        labels = self._labels(workload)
        env = {**self.ctx.model_env(), "DRIFT_METRIC": drift.metric, "DRIFT_THRESHOLD": f"{drift.threshold:g}",
               "DRIFT_SCORE_METRIC": DRIFT_SCORE, "DRIFT_PUSH_URL": self._drift_push_url()}
        container = ContainerSpec(name="drift-check", image=drift.image, resources=drift.resources,
                                  command=drift.command, env=env, secrets=self.ctx.secrets_for(COMPONENT))
        pod = template({**self.ctx.selector(workload), **labels},
                       pod_spec([container], self.ctx.system.environment.spec, service_account=workload,
                                restart_policy="Never", workload=workload))
        job = k8s.JobSpec(template=pod, backoff_limit=1, active_deadline_seconds=DRIFT_DEADLINE_SECONDS)
        k8s.KubeCronJob(self, "drift-check", metadata=k8s.ObjectMeta(name=workload, labels=labels),
                        spec=k8s.CronJobSpec(
                            schedule=cron_expression(drift.schedule),
                            concurrency_policy="Forbid",  # never two checks of the same model at once
                            successful_jobs_history_limit=3,
                            failed_jobs_history_limit=3,
                            job_template=k8s.JobTemplateSpec(metadata=k8s.ObjectMeta(labels=labels), spec=job)))

    def _drift_groups(self) -> list[dict]:
        drift = self.spec.monitoring.drift
        if drift is None:
            return []
        return [{"name": f"{self.ctx.name}-drift", "rules": [{
            "alert": "ModelDriftHigh",
            "expr": f"{DRIFT_SCORE}{{{self.series}}} > {drift.threshold:g}",
            "for": "15m",
            "labels": self._alert_labels("ticket"),
            "annotations": {
                "summary": f"{self.ctx.name} ({self.ctx.system.env}): input drift above {drift.threshold:g}",
                "description": f"The drift check's {drift.metric} score is {{{{ $value }}}}, above the threshold "
                               f"{drift.threshold:g}: the model may need retraining or revalidation."}}]}]

    # --- dashboard ----------------------------------------------------------------------------------------------

    def _dashboard(self) -> None:
        name, env = self.ctx.name, self.ctx.system.env
        panels = self._panels()
        for i, panel in enumerate(panels):
            panel.update(id=i + 1, gridPos={"h": 8, "w": 12, "x": 12 * (i % 2), "y": 8 * (i // 2)})
        dashboard = {
            "uid": "mlg-" + hashlib.sha256(f"{name}/{env}".encode()).hexdigest()[:16],  # stable across runs
            "title": f"{name} ({env})",
            "tags": ["mlgitops", self.spec.metadata.team, env],
            "editable": False,  # the ConfigMap is the source: edits in Grafana would be lost
            "schemaVersion": 39,
            "time": {"from": "now-24h", "to": "now"},
            "refresh": "1m",
            "templating": {"list": [{"name": "datasource", "label": "Data source", "type": "datasource",
                                     "query": "prometheus"}]},
            "panels": panels,
        }
        # A per-system file name: the sidecar puts every dashboard of the cluster in one folder.
        k8s.KubeConfigMap(self, "dashboard", metadata=k8s.ObjectMeta(
            name=f"{name}-dashboard", labels={**self._labels(f"{name}-dashboard"), GRAFANA_LABEL: "1"}),
            data={f"mlgitops-{name}-{env}.json": json.dumps(dashboard, indent=2, sort_keys=True) + "\n"})

    def _panels(self) -> list[dict]:
        panels = []
        if self.spec.serving is not None:
            requests = f"sum by (code) (rate({REQUESTS}{{{self.scraped}}}[5m]))"
            errors = (f'sum(rate({REQUESTS}{{{self.scraped},code=~"5.."}}[5m])) / '
                      f"sum(rate({REQUESTS}{{{self.scraped}}}[5m]))")
            p95 = f"histogram_quantile(0.95, sum by (le) (rate({DURATION_BUCKET}{{{self.scraped}}}[5m])))"
            latency = [(p95, "p95")]
            slo = self.spec.serving.slo
            if slo and slo.latency_p95:
                latency.append((f"vector({duration_seconds(slo.latency_p95):g})", f"SLO {slo.latency_p95}"))
            panels += [_panel("Request rate", "reqps", [(requests, "{{code}}")]),
                       _panel("Error ratio (5xx)", "percentunit", [(errors, "5xx")]),
                       _panel("Latency p95 vs SLO", "s", latency)]
            burns = [(f'slo:sli_error:ratio_rate1h{{{self.series},sli="{o.sli}"}} / {_number(o.budget)}', o.slo)
                     for o in self._objectives()]
            if burns:  # 1 = spending the budget exactly over 30 days; 14.4 pages
                panels.append(_panel("Error-budget burn rate (1h)", "none", burns))
            panels.append(_panel("Replicas scraped and up", "none", [(f"sum(up{{{self.scraped}}})", "up")]))
        drift = self.spec.monitoring.drift
        if drift is not None:
            panels.append(_panel(f"Drift score ({drift.metric})", "none", [
                (f"{DRIFT_SCORE}{{{self.series}}}", drift.metric), (f"vector({drift.threshold:g})", "threshold")]))
        return panels


def _panel(title: str, unit: str, queries: list[tuple[str, str]]) -> dict:
    return {"type": "timeseries", "title": title,
            "datasource": {"type": "prometheus", "uid": "${datasource}"},
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
            "targets": [{"refId": chr(ord("A") + i), "expr": expr, "legendFormat": legend,
                         "datasource": {"type": "prometheus", "uid": "${datasource}"}}
                        for i, (expr, legend) in enumerate(queries)]}
