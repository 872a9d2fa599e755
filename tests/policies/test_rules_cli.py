"""Every own rule through the real CLI: one small edit of an example spec or environment makes the rule fire, and
`mlgitops check` reports it for the right environments at the line of the edit, with the exit code its severity
and the environment's `policy.failOn` call for. The unedited examples do not report it (unwaived), so the edit is
what triggers it.

Rules that no spec or environment can trigger, because the renderer always produces the safe form — covered by
their Rego unit tests (`policies/**/*_test.rego`), and here only held silent on every example:

- MLG-NET-001 (spec rule): the tenancy chart always renders the default-deny NetworkPolicy.
- MLG-POD-001..011: every pod comes from `render/pods.py` — requests and limits from `resources` (with defaults),
  runAsNonRoot with UID 10001, allowPrivilegeEscalation false, privileged false, capabilities drop ALL,
  RuntimeDefault seccomp, readOnlyRootFilesystem, no host namespaces, hostPath volumes or hostPorts, and
  automountServiceAccountToken false on every pod.
- MLG-NET-002: every ingress rule names its peers by namespace label (`allowedCallers` are DNS labels), never
  `{}`, an empty `from` or 0.0.0.0/0.
- MLG-RBAC-001: the only Roles are the team's read-only view (no Secrets) and the training launcher's
  (pytorchjobs, workflowtaskresults), both fixed in the renderer.
- MLG-SEC-001: secrets are ExternalSecrets pointing at the store; no Secret with data is ever rendered.
- MLG-SEC-003: secrets are mounted as files, never passed as env vars (`secretKeyRef` / `envFrom`).
- MLG-REL-004: a serving Deployment always gets readiness and liveness probes (`serving.probes` has defaults).
- MLG-SEC-002: a secret-looking env value is refused before anything is rendered (plaintext.py, E206).
- MLG-MRM-001: every model is pinned to a registered version before the gate runs (a model the registry cannot
  resolve is an error, E702), so an unpinned model never reaches it.
- MLG-ARGO-002: `argocd.repoURL` cannot hold a wildcard (the environment schema refuses it), and destinations are
  the systems' own namespaces.

The manifest rules a spec or environment can reach are in CASES: MLG-SEC-004 (`serving.ingress.tls: false`) and
MLG-ARGO-001 (autoSync without syncWindows in a prod tier).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers import ROOT, copy_examples, registry_with, run_cli

TODAY = "2026-11-25"
ALL = ("dev", "prod", "staging")
FAIL_ON = {"dev": "high", "staging": "medium", "prod": "medium"}  # environments/*.yaml policy.failOn
RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}

FRAUD = "spec/fraud-scorer.yaml"
RECS = "spec/recommender.yaml"
ASSIST = "spec/support-assistant.yaml"
PROD = "environments/prod.yaml"
STAGING = "environments/staging.yaml"
DROP_WAIVER = "<drop this rule's waiver>"  # `old` that removes the spec's waiver of the case's rule

NEVER_FROM_A_SPEC = ("MLG-NET-001", "MLG-POD-001", "MLG-POD-002", "MLG-POD-003", "MLG-POD-004", "MLG-POD-005",
                     "MLG-POD-006", "MLG-POD-007", "MLG-POD-008", "MLG-POD-009", "MLG-POD-010", "MLG-POD-011",
                     "MLG-NET-002", "MLG-RBAC-001", "MLG-SEC-001", "MLG-SEC-002", "MLG-SEC-003", "MLG-REL-004",
                     "MLG-ARGO-002", "MLG-MRM-001")


@dataclass(frozen=True)
class Case:
    rule: str
    edit: str                 # the file to edit
    old: str                  # replaced once by `new` (or DROP_WAIVER)
    new: str
    envs: tuple[str, ...]     # environments the rule must fire in
    line: str                 # the start of the line the finding points at, after the edit
    at: str = ""              # the file that line is in (default: the edited file)
    specs: tuple[str, ...] | None = None  # what to check (default: the edited spec; () = every spec)

    @property
    def where(self) -> str:
        return self.at or self.edit

    @property
    def checked(self) -> tuple[str, ...]:
        return (self.edit,) if self.specs is None else self.specs


CASES = [
    # --- supply chain
    Case("MLG-SUP-001", FRAUD, "fraud/scorer:3.2.0", "fraud/scorer:latest", ALL,
         "  image: registry.example.com/fraud/scorer:latest"),
    Case("MLG-SUP-002", FRAUD, "image: registry.example.com/fraud/train:", "image: ghcr.io/fraud/train:", ALL,
         "  image: ghcr.io/fraud/train"),
    Case("MLG-SUP-003", FRAUD, DROP_WAIVER, "", ("prod",), "  image: registry.example.com/fraud/train"),
    # --- GDPR
    Case("MLG-GDPR-001", FRAUD, "  residency: [eu-west-1, eu-central-1]\n", "", ALL, "compliance:"),
    Case("MLG-GDPR-002", FRAUD, "residency: [eu-west-1, eu-central-1]", "residency: [eu-central-1]", ALL,
         "  residency: [eu-central-1]"),
    Case("MLG-GDPR-003", FRAUD, 'uri: "s3://payments-lake/chargebacks"',
         'uri: "http://lake.example.com/chargebacks"', ALL, "    - {name: chargebacks"),
    # --- EU AI Act (fraud-scorer is high risk)
    Case("MLG-AIA-001", FRAUD, "  humanOversight: fraud-review-lead@example.com\n", "", ALL, "compliance:"),
    Case("MLG-AIA-002", FRAUD, "auditLogging: true", "auditLogging: false", ALL, "  auditLogging: false"),
    Case("MLG-AIA-003", FRAUD, "    record: https://models.example.com/fraud-xgb/validation-report\n", "", ALL,
         "  validation:"),
    # --- model risk (the examples waive these until the registry is integrated)
    # --- observability
    Case("MLG-OBS-001", FRAUD, "  alertsTo: payments-risk-oncall\n", "", ("prod",), "monitoring:"),
    Case("MLG-OBS-002", FRAUD, "  drift:\n    image: registry.example.com/fraud/drift:3.2.0\n    metric: ks\n"
                               "    threshold: 0.1\n", "", ("prod",), "monitoring:"),
    # --- reliability (support-assistant's prod override of the replica count)
    Case("MLG-REL-001", ASSIST, "replicas: {min: 2, max: 8}", "replicas: {min: 1, max: 8}", ("prod",),
         "      replicas: {min: 1, max: 8}"),
    Case("MLG-REL-002", ASSIST, "replicas: {min: 2, max: 8}", "replicas: {min: 1, max: 8}", ("prod",),
         "      replicas: {min: 1, max: 8}"),
    # (the finding points at the prod override's `serving:`, the last place prod's serving section is written)
    Case("MLG-REL-003", ASSIST, "  slo:\n    latencyP95: 800ms\n    availability: 99.5%\n", "", ("prod",),
         "    serving:"),
    # (Knative's HPA class on cpu; KServe's Standard mode in dev refuses min 0 before the gate)
    Case("MLG-SCALE-001", RECS, "replicas: {min: 2, max: 5}", "replicas: {min: 0, max: 5}", ("staging", "prod"),
         "  replicas: {min: 0, max: 5}"),
    # --- GPUs and cost (recommender has no GPU in dev; support-assistant has one everywhere)
    Case("MLG-GPU-001", ASSIST, "  queue: gpu-finetune\n", "", ALL, "training:"),
    Case("MLG-GPU-002", ASSIST, "  maxRuntime: 12h\n", "", ALL, "training:"),
    Case("MLG-COST-001", FRAUD, "  costCenter: cc-2077\n", "", ALL, "metadata:"),
    Case("MLG-COST-002", PROD, "nvidia-t4: 0.53, ", "", ("prod",), "    type: nvidia-t4", at=RECS, specs=(RECS,)),
    # --- pipelines (the recommender retrains through one)
    Case("MLG-PIPE-001", RECS, "    - name: validate-data\n      kind: validate-data\n      checks: {schema: "
                               '"s3://features/recsys/v3/_schema.json", maxAge: 36h, minRows: 1000000}\n', "",
         ("prod",), "    - name: register"),
    Case("MLG-PIPE-002", RECS, "      kind: register\n", "      kind: register\n      lineage: [spec-hash, run-id]\n",
         ALL, "      lineage: [spec-hash, run-id]"),
    Case("MLG-PIPE-003", RECS, "  queue: ml-training\n", "", ("staging", "prod"), "training:"),
    # --- manifest rules a spec or environment can reach; Argo CD's objects are only rendered, and so only
    # checked, when every spec is (README: "Only a compile over every spec rewrites `_argocd/`")
    Case("MLG-SEC-004", RECS, "tls: true", "tls: false", ALL, "  ingress: {host: recs.example.com, tls: false}"),
    # staging syncs automatically and has no sync windows; as a prod tier it needs them
    Case("MLG-ARGO-001", STAGING, "namespacePrefix:", "tier: prod\nnamespacePrefix:", ("staging",), "argocd:",
         specs=()),
]


def _copy_examples(root: Path) -> Path:
    return copy_examples(root)


def _check(root: Path, *paths: str, env: dict[str, str] | None = None):
    return run_cli(root, "check", "--today", TODAY, "--format", "json", *paths, env=env)


def _severity(rule: str) -> str:
    """The severity in the rule's own `# METADATA`, read independently of the gate."""
    for path in (ROOT / "policies").rglob("*.rego"):
        text = path.read_text()
        if re.search(rf"^#\s+id: {re.escape(rule)}$", text, re.MULTILINE):
            return re.search(r"^#\s+severity: (\w+)$", text, re.MULTILINE).group(1)
    raise LookupError(rule)


def _drop_waiver(text: str, rule: str) -> str:
    waiver = re.compile(rf"^  - rule: {re.escape(rule)}\n(?:    .*\n)*", re.MULTILINE)
    assert len(waiver.findall(text)) == 1, f"no single waiver of {rule}"
    return waiver.sub("", text)


def _line_of(text: str, start: str) -> int:
    lines = [n for n, line in enumerate(text.splitlines(), 1) if line.startswith(start)]
    assert len(lines) == 1, f"{start!r} starts {len(lines)} lines"
    return lines[0]


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    """The findings of the unedited examples (every system, every environment)."""
    result = _check(_copy_examples(tmp_path_factory.mktemp("baseline")))
    assert result.exit_code == 0, result.stdout
    return json.loads(result.stdout)["findings"]


def test_every_own_rule_has_a_case_or_is_listed_as_unreachable() -> None:
    ids = {m for p in (ROOT / "policies").glob("*/*.rego") if not p.name.endswith("_test.rego")
           for m in re.findall(r"^#\s+id: (MLG-[A-Z]+-\d{3})$", p.read_text(), re.MULTILINE)}
    covered = {case.rule for case in CASES}
    assert len(ids) == 46
    assert covered.isdisjoint(NEVER_FROM_A_SPEC)
    assert covered | set(NEVER_FROM_A_SPEC) | set(FROM_THE_REGISTRY) == ids


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.rule)
def test_rule_fires_through_the_cli(case: Case, baseline: list[dict], tmp_path: Path) -> None:
    assert not [f for f in baseline if f["rule"] == case.rule and not f["waived"]]

    root = _copy_examples(tmp_path / "repo")
    edited = root / case.edit
    text = edited.read_text()
    if case.old == DROP_WAIVER:
        text = _drop_waiver(text, case.rule)
    else:
        assert text.count(case.old) == 1, f"{case.old!r} occurs {text.count(case.old)} times in {case.edit}"
        text = text.replace(case.old, case.new)
    edited.write_text(text)
    line = _line_of((root / case.where).read_text(), case.line)

    result = _check(root, *case.checked)
    assert result.exit_code in (0, 1), result.stderr
    fired = [f for f in json.loads(result.stdout)["findings"] if f["rule"] == case.rule]
    assert {f["env"] for f in fired} == set(case.envs), fired
    for env in case.envs:
        assert any(f["env"] == env and f["file"] == case.where and f["line"] == line for f in fired), \
            (env, case.where, line, fired)
    assert not any(f["waived"] for f in fired)
    severity = _severity(case.rule)
    assert {f["severity"] for f in fired} == {severity}
    blocking = any(RANK[severity] >= RANK[FAIL_ON[env]] for env in case.envs)
    assert result.exit_code == (1 if blocking else 0), result.stdout


def test_rules_no_spec_can_trigger_stay_silent_on_every_example(baseline: list[dict]) -> None:
    assert baseline  # the examples do produce (waived) findings, so the gate did run
    assert not [f for f in baseline if f["rule"] in NEVER_FROM_A_SPEC]


FROM_THE_REGISTRY = ("MLG-MRM-002", "MLG-MRM-003")  # triggered by the registry's tags, below


@pytest.mark.parametrize("rule, tags", [
    ("MLG-MRM-002", {"validation.status": "approved", "validation.date": "2026-01-05"}),  # older than maxAgeDays 90
    ("MLG-MRM-003", {"validation.status": "pending", "validation.date": "2026-11-20"}),
])
def test_model_risk_rules_judge_the_registry_tags_of_the_pinned_version(rule: str, tags: dict, tmp_path: Path) -> None:
    """The registry's answer, as the lock records it (and the registry confirms), is what the model-risk rules judge."""
    from dataclasses import replace

    from compiler.pins import read_lock, write_lock

    root = _copy_examples(tmp_path / "repo")
    pins = read_lock(root)
    for env in ("dev", "staging", "prod"):  # one registry record per version: every environment pins the same
        pins[(env, "fraud-scorer")] = replace(pins[(env, "fraud-scorer")], tags=tags)
    write_lock(root, pins)
    result = _check(root, FRAUD, env={"MLFLOW_TRACKING_URI": registry_with(tmp_path, [pins[("prod", "fraud-scorer")]])})
    assert result.exit_code == 1
    fired = [f for f in json.loads(result.stdout)["findings"] if f["rule"] == rule]
    line = _line_of((root / FRAUD).read_text(), "  version: 7")
    assert [(f["env"], f["file"], f["line"], f["waived"]) for f in fired] == [("prod", FRAUD, line, False)]
