"""Monitoring chart: how a system is watched — scrape target, SLO burn-rate alerts, drift check, dashboard.

Input: a `RenderContext` (merged spec, environment, resolved model). Output, per system and environment:

- a scrape target for the serving pods, so every scraped series carries `namespace="<ns>", job="<system>"`:
  - `runtime: deployment` → a ServiceMonitor on the serving Service (`ctx.selector(name)`, port `http`, `/metrics`);
  - `runtime: kserve` → a PodMonitor on the pods labelled `serving.kserve.io/inferenceservice: <name>`, the serving
    container's port by name, `/metrics`: in Standard mode the name it declares (`ctx.serving_port_name()`); in
    Knative mode `user-port`, the name Knative gives the revision's one port whatever it was declared as
    (knative/serving@98e5ef90aa pkg/reconciler/revision/resources/deploy.go: makeServingContainer,
    pkg/apis/serving/v1/revision_helpers.go: UserPortName). Not a ServiceMonitor on `<name>-predictor`:
    in Knative mode that Service is an ExternalName alias of the gateway, and a pod selector also covers the
    canary's pods. By name, not `portNumber`: prometheus-operator keeps a target by
    `__meta_kubernetes_pod_container_port_name` or `_number`, so either needs the port declared
    (prometheus-operator/prometheus-operator@6adcebc507 pkg/prometheus/promcfg.go), and `portNumber` needs
    operator v0.79 and is ignored by other PodMonitor readers (Grafana Alloy).
  - the monitors and the PrometheusRule carry the platform's `prometheus.selectorLabels`: kube-prometheus-stack's
    Prometheus selects only objects labelled `release: <its release>` (`*SelectorNilUsesHelmValues: true`,
    prometheus-community/helm-charts@cf408a290a charts/kube-prometheus-stack/templates/prometheus/prometheus.yaml).
    Not the dashboard ConfigMap: Grafana's sidecar finds it by `grafana_dashboard: "1"` alone (values.yaml).
- a PrometheusRule with multi-window, multi-burn-rate alerts from `serving.slo` (Google SRE workbook, ch. 5, as
  Sloth generates them; 30-day SLO period), a page when no target is up, a ticket when an SLI's series is missing,
  the drift alert and a ticket when the drift score is stale;
- a drift-check CronJob `<system>-drift` from `monitoring.drift` (runs as the ServiceAccount of that name, hardened
  like every pod), told by env vars which model to check (MODEL_*), the metric and threshold (DRIFT_METRIC,
  DRIFT_THRESHOLD), and where to PUT its gauge `mlgitops_drift_score` (DRIFT_PUSH_URL: the Pushgateway with the
  grouping key job/system/env, which become the series' labels, also those of the group's `push_time_seconds`);
- a Grafana dashboard ConfigMap (`grafana_dashboard: "1"`, the Grafana sidecar's default label) when
  `monitoring.dashboards` is true.

SLIs (error ratio = bad events / all events, recorded over 5m, 30m, 1h, 2h, 6h, 1d, 3d as
`slo:sli_error:ratio_rate<window>{system, env, sli}`), on the metrics the serving container really exports
(compiler/platform/monitoring.py: the runtime's, or `monitoring.metrics`), probes and /metrics left out where the
metrics have a handler label:
- sli="availability": failed scrapes / all scrapes of the serving pods (`up`). Its own SLI: on the 5xx ratio it
  would fire with `errorRate` on every burst of errors (a second page), and never when no pod answers at all.
- sli="errors": requests answered 5xx / all requests, from the request counter's status-code label (`errorRate`).
- sli="latency": requests slower than `latencyP95` / all requests, from the histogram bucket at that `le` (the
  check makes it one of the histogram's bounds), matched as `prometheus.version` stores it (`le_matcher`; Prometheus
  3 normalises bounds to floats: prometheus.io/docs/prometheus/3.0/migration). At most 5 % may be slower.
Alert threshold = burn rate × error budget: page when 1h and 5m both burn ≥ 14.4× or 6h and 30m ≥ 6×, ticket when
1d and 2h ≥ 3× or 3d and 6h ≥ 1×. The short window makes an alert stop soon after the burn stops, so no `for`.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

import cdk8s
from cdk8s_plus_34 import k8s
from cronsim import CronSim

from ..model.mlsystem import Runtime, ServingMetrics
from ..model.platform import at_least
from ..model.units import cron_expression
from ..platform.monitoring import latency_threshold, serving_metrics
from ..runs import check_hours
from .context import KSERVE_POD_LABEL, PodDemand, RenderContext, SystemChart
from .custom import custom_resource
from .pods import ContainerSpec, pod_spec, template

COMPONENT = "monitoring"
METRICS_PATH = "/metrics"
DRIFT_SCORE = "mlgitops_drift_score"  # the gauge the drift check pushes
DRIFT_JOB = "mlgitops-drift"  # the Pushgateway job the drift check pushes to: the `job` label of its series
# The Pushgateway's own gauge per group: when the group was last pushed (prometheus/pushgateway README).
PUSH_TIME = "push_time_seconds"
DATA_MISSING_AFTER = "15m"  # an SLI's series absent this long: the SLO alerts are blind
TARGET_DOWN_FOR = "5m"
KNATIVE_USER_PORT = "user-port"  # Knative's name for a revision's serving port in the pod it creates
_FIVE_XX = '"5.."'  # a status label's server errors: 503, or 5xx where the exporter groups codes
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
    sli: str  # availability | errors | latency
    budget: Decimal  # the fraction of requests that may be bad: 1 - objective
    says: str  # the objective in words, for the alert's description
    bad: str  # what a bad request is, in words


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _percent(value: str) -> Decimal:
    return Decimal(value.rstrip("%")) / 100


def le_matcher(seconds: float, prometheus_version: str) -> str:
    """The matcher of a histogram bucket's `le`. Prometheus 3 normalises every bound to its float form (1 → "1.0");
    Prometheus 2 keeps what the client wrote: the Python client writes "1.0", the Go client "1", so an integral
    bound matches both spellings there."""
    if at_least(prometheus_version, "3.0") or not float(seconds).is_integer():
        return f'le="{float(seconds)!r}"'
    return f'le=~"{int(seconds)}|{int(seconds)}\\\\.0"'


def longest_gap_seconds(cron: str) -> int:
    """The longest wait between two runs of a schedule, over a year from a fixed date (the output must not depend on
    the day it is compiled), or its first 10000 runs."""
    start = datetime(2026, 1, 1)
    runs = CronSim(cron_expression(cron), start)
    previous, longest = next(runs), timedelta(0)
    for _ in range(10000):
        run = next(runs)
        longest, previous = max(longest, run - previous), run
        if run - start > timedelta(days=366):
            break
    return int(longest.total_seconds())


class MonitoringChart(SystemChart):
    # After the workloads: a cluster without the Prometheus Operator CRDs then fails only here, after they run.
    WAVE = 1
    KINDS = (("monitoring.coreos.com", "PodMonitor"), ("monitoring.coreos.com", "ServiceMonitor"),
             ("monitoring.coreos.com", "PrometheusRule"), ("batch", "CronJob"), ("", "ConfigMap"))
    COMPONENT = COMPONENT

    @classmethod
    def applies(cls, ctx: RenderContext) -> bool:
        return ctx.system.spec.serving is not None or ctx.system.spec.monitoring.drift is not None

    @classmethod
    def pods(cls, ctx: RenderContext) -> list[PodDemand]:
        drift = ctx.system.spec.monitoring.drift
        if drift is None:
            return []
        return [PodDemand("drift", 1, drift.resources, hours=check_hours(drift.schedule, ctx.month_hours))]

    def __init__(self, scope: cdk8s.App, ctx: RenderContext):
        super().__init__(scope, "monitoring", ctx)
        self.spec = ctx.system.spec
        self.series = f'system="{ctx.name}",env="{ctx.system.env}"'  # labels the rules put on their series
        self.scraped = f'namespace="{ctx.namespace}",job="{ctx.name}"'  # labels the scrape target gives
        found = serving_metrics(self.spec) if self.spec.serving else None
        self.metrics: ServingMetrics | None = found[1] if found else None
        if self.spec.serving is not None:
            self._scrape_target()
        if self.spec.monitoring.drift is not None:
            self._drift_check()
        groups = self._slo_groups() + self._drift_groups()
        if groups:
            custom_resource(self, "prometheusrule", "monitoring.coreos.com/v1", "PrometheusRule", ctx.name,
                            {"spec": {"groups": groups}}, self._selected_labels(ctx.name))
        if self.spec.monitoring.dashboards:
            self._dashboard()

    def _labels(self, name: str) -> dict[str, str]:
        return self.ctx.workload_labels(name, COMPONENT)

    def _selected_labels(self, name: str) -> dict[str, str]:
        """A monitor's or rule's labels: with those the Prometheus resource selects them by."""
        return {**self._labels(name), **self.ctx.platform.prometheus.selector_labels}

    # --- scrape target ------------------------------------------------------------------------------------------

    def _scrape_target(self) -> None:
        name, serving = self.ctx.workload("serving"), self.spec.serving
        if serving.runtime is Runtime.kserve:
            # jobLabel: the pod label's value (the system name) becomes `job`, as the Service name does below.
            custom_resource(self, "podmonitor", "monitoring.coreos.com/v1", "PodMonitor", name, {"spec": {
                "selector": {"matchLabels": self.ctx.serving_selector()},
                "jobLabel": KSERVE_POD_LABEL,
                "podMetricsEndpoints": [{"port": self._pod_port_name(), "path": METRICS_PATH}],
            }}, self._selected_labels(name))
        else:
            custom_resource(self, "servicemonitor", "monitoring.coreos.com/v1", "ServiceMonitor", name, {"spec": {
                "selector": {"matchLabels": self.ctx.serving_selector()},  # the Service carries the pods' labels
                "endpoints": [{"port": "http", "path": METRICS_PATH}],
            }}, self._selected_labels(name))

    def _pod_port_name(self) -> str:
        if self.ctx.platform.kserve.deployment_mode == "Knative":
            return KNATIVE_USER_PORT
        return self.ctx.serving_port_name()

    # --- SLO burn-rate rules ------------------------------------------------------------------------------------

    def _objectives(self) -> list[Objective]:
        slo = self.spec.serving.slo if self.spec.serving else None
        if slo is None:
            return []
        objectives = []
        if slo.availability:
            objectives.append(Objective("availability", "availability", 1 - _percent(slo.availability),
                                        f"{slo.availability} availability",
                                        "failed scrapes (a serving pod down or not answering)"))
        if slo.error_rate:
            objectives.append(Objective("error-rate", "errors", _percent(slo.error_rate),
                                        f"error rate at most {slo.error_rate}", "5xx responses"))
        if slo.latency_p95:
            objectives.append(Objective("latency", "latency", 1 - LATENCY_OBJECTIVE,
                                        f"p95 latency at most {slo.latency_p95}",
                                        f"requests slower than {slo.latency_p95}"))
        return objectives

    def _served(self, *matchers: str) -> str:
        """The selector of the serving container's request series: probes and metric scrapes left out where the
        metrics say which handler answered (kubelet probes and Prometheus would dilute a low-traffic SLI)."""
        handler = self.metrics.handler_label
        probes = self.spec.serving.probes
        skipped = [f'{handler}!="{path}"' for path in dict.fromkeys((probes.readiness, probes.liveness, METRICS_PATH))]
        return ",".join([self.scraped, *(skipped if handler else []), *matchers])

    def _sli_series(self, sli: str) -> str:
        """The series an SLI is computed from; its absence means the SLI records nothing."""
        if sli == "availability":
            return f"up{{{self.scraped}}}"
        metric = self.metrics.requests if sli == "errors" else f"{self.metrics.latency_histogram}_count"
        return f"{metric}{{{self._served()}}}"

    def _sli_error_ratio(self, sli: str, window: str) -> str:
        if sli == "availability":  # every scrape is an event: 1 when up, 0 when it failed
            up = f"up{{{self.scraped}}}[{window}]"
            return f"1 - (sum(sum_over_time({up})) / sum(count_over_time({up})))"
        if sli == "errors":
            requests, server_error = self.metrics.requests, f"{self.metrics.code_label}=~{_FIVE_XX}"
            return (f"sum(rate({requests}{{{self._served(server_error)}}}[{window}])) / "
                    f"sum(rate({requests}{{{self._served()}}}[{window}]))")
        histogram = self.metrics.latency_histogram
        le = le_matcher(latency_threshold(self.spec.serving.slo), self.ctx.platform.prometheus.version)
        fast = f"sum(rate({histogram}_bucket{{{self._served(le)}}}[{window}]))"
        return f"1 - ({fast} / sum(rate({histogram}_count{{{self._served()}}}[{window}])))"

    def _slo_groups(self) -> list[dict]:
        objectives = self._objectives()
        if not objectives:
            return []
        slis = [o.sli for o in objectives]
        system_labels = {"system": self.ctx.name, "env": self.ctx.system.env}
        recordings = [{"record": f"slo:sli_error:ratio_rate{w}", "expr": self._sli_error_ratio(sli, w),
                       "labels": {**system_labels, "sli": sli}} for sli in slis for w in WINDOWS]
        alerts = [self._burn_alert(o, severity, pairs) for o in objectives for severity, pairs in BURN_ALERTS]
        return [{"name": f"{self.ctx.name}-slo-sli-recordings", "rules": recordings},
                {"name": f"{self.ctx.name}-slo-alerts", "rules": [*alerts, *self._blind_spot_alerts(slis)]}]

    def _blind_spot_alerts(self, slis: list[str]) -> list[dict]:
        """What the burn-rate alerts cannot see: a ratio of no events is no value, so they stay silent when every
        pod is gone or a series stops. A system that may scale to zero has no pods when idle: only `up == 0`."""
        name, env = self.ctx.name, self.ctx.system.env
        idle_is_normal = self.spec.serving.replicas.min == 0
        up = f"up{{{self.scraped}}}"
        target_down = f"max({up}) == 0" + ("" if idle_is_normal else f"\nor\nabsent({up})")
        alerts = [{"alert": "TargetDown", "expr": target_down, "for": TARGET_DOWN_FOR,
                   "labels": self._alert_labels("page"),
                   "annotations": {"summary": f"{name} ({env}): no serving pod is up",
                                   "description": f"Prometheus has scraped no serving pod of {name} successfully "
                                                  f"for {TARGET_DOWN_FOR}: the service is down."}}]
        if idle_is_normal:
            return alerts
        for sli in (s for s in slis if s != "availability"):  # up is the target-down alert's
            series = self._sli_series(sli)
            alerts.append({"alert": "SLIDataMissing", "expr": f"absent_over_time({series}[{DATA_MISSING_AFTER}])",
                           "labels": {**self._alert_labels("ticket"), "sli": sli},
                           "annotations": {"summary": f"{name} ({env}): the {sli} SLI has no data",
                                           "description": f"No {series.split('{')[0]} series for "
                                                          f"{DATA_MISSING_AFTER}: its SLO alerts cannot fire. Check "
                                                          "the scrape target and the metric's name and labels."}})
        return alerts

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
        # Grouping key job/system/env: the Pushgateway adds them as labels, which the alerts select on.
        pushgateway = self.ctx.system.environment.spec.monitoring.pushgateway
        return f"{pushgateway}/metrics/job/{DRIFT_JOB}/system/{self.ctx.name}/env/{self.ctx.system.env}"

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
        name, env = self.ctx.name, self.ctx.system.env
        # The Pushgateway serves the last push forever: without this, a check that stopped running leaves
        # ModelDriftHigh frozen in whatever state its last score put it.
        stale_after = 2 * longest_gap_seconds(drift.schedule)
        stale = {
            "alert": "DriftScoreStale",
            "expr": f'time() - {PUSH_TIME}{{job="{DRIFT_JOB}",{self.series}}} > {stale_after}',
            "labels": self._alert_labels("ticket"),
            "annotations": {
                "summary": f"{name} ({env}): the drift score is stale",
                "description": f"The drift check last pushed {{{{ $value | humanizeDuration }}}} ago, more than "
                               f"twice its schedule's interval ({drift.schedule}): ModelDriftHigh is not watching "
                               "the current model. Check the CronJob's runs."}}
        return [{"name": f"{self.ctx.name}-drift", "rules": [{
            "alert": "ModelDriftHigh",
            "expr": f"{DRIFT_SCORE}{{{self.series}}} > {drift.threshold:g}",
            "for": "15m",
            "labels": self._alert_labels("ticket"),
            "annotations": {
                "summary": f"{self.ctx.name} ({self.ctx.system.env}): input drift above {drift.threshold:g}",
                "description": f"The drift check's {drift.metric} score is {{{{ $value }}}}, above the threshold "
                               f"{drift.threshold:g}: the model may need retraining or revalidation."}}, stale]}]

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
        metrics = self.metrics
        if metrics is not None:  # only what the serving container exports
            requests, code = metrics.requests, metrics.code_label
            if code:
                panels += [_panel("Request rate", "reqps", [
                               (f"sum by ({code}) (rate({requests}{{{self._served()}}}[5m]))", f"{{{{{code}}}}}")]),
                           _panel("Error ratio (5xx)", "percentunit", [(
                               f'sum(rate({requests}{{{self._served(f"{code}=~{_FIVE_XX}")}}}[5m])) / '
                               f"sum(rate({requests}{{{self._served()}}}[5m]))", "5xx")])]
            else:
                panels.append(_panel("Request rate", "reqps", [
                    (f"sum(rate({requests}{{{self._served()}}}[5m]))", "requests")]))
            if metrics.latency_histogram:
                bucket = f"{metrics.latency_histogram}_bucket{{{self._served()}}}"
                latency = [(f"histogram_quantile(0.95, sum by (le) (rate({bucket}[5m])))", "p95")]
                slo = self.spec.serving.slo
                if slo and slo.latency_p95:
                    latency.append((f"vector({latency_threshold(slo):g})", f"SLO {slo.latency_p95}"))
                panels.append(_panel("Latency p95 vs SLO", "s", latency))
        if self.spec.serving is not None:
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
