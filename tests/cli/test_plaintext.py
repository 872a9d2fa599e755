"""Plaintext secrets in specs are errors at their line, and the secret itself is never printed."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import edit, run_cli

FRAUD = "spec/fraud-scorer.yaml"
GITHUB_TOKEN = "ghp_" + "x7Yq2ZpL9vRt4KmN8sWd1FhJ3cBg6TuE5oAi"
CASES = [
    # (replacement for the training args line, the field reported, what the message says)
    ('  env: {DB_PASSWORD: "hunter22"}', "training.env.DB_PASSWORD", "field 'DB_PASSWORD' holds a literal value"),
    (f"  env: {{GH: {GITHUB_TOKEN}}}", "training.env.GH", "format of a secret (GitHub Token)"),
    ("  env: {AWS: AKIAIOSFODNN7EXAMPLE}", "training.env.AWS", "format of a secret (AWS Access Key)"),
    ('  env: {KEY: "-----BEGIN RSA PRIVATE KEY-----\\nMIIEow"}', "training.env.KEY", "contains a private key"),
    ("  env: {DB: postgres://scorer:s3cr3t@db:5432/fraud}", "training.env.DB", "user name and password"),
    ('  env: {DB: "jdbc:postgresql://scorer:s3cr3t@db/fraud"}', "training.env.DB", "user name and password"),
    ("  env: {BLOB: Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZg}", "training.env.BLOB", "high entropy"),
    ("  args: [--token, abc123]", "training.args[0]", "flag '--token' passes a literal secret"),
    ("  args: [--password=abc123]", "training.args[0]", "flag '--password' passes a literal secret"),
]


@pytest.mark.parametrize("line, field, message", CASES)
def test_literal_secret_is_an_error_at_its_line(repo: Path, line: str, field: str, message: str) -> None:
    edit(repo, FRAUD, '  args: [--objective, "binary:logistic"]', line)
    result = run_cli(repo, "validate")
    assert result.exit_code == 2, result.stderr
    [diagnostic] = [d for d in result.stderr.splitlines() if "[E206]" in d]
    number = next(n for n, text in enumerate((repo / FRAUD).read_text().splitlines(), 1) if text == line)
    assert diagnostic.startswith(f"{FRAUD}:{number}:") and f" {field}: " in diagnostic
    assert message in diagnostic
    for secret in ("hunter22", GITHUB_TOKEN, "AKIAIOSFODNN7EXAMPLE", "s3cr3t", "abc123", "MIIEow"):
        assert secret not in result.stderr, "a diagnostic must never repeat the secret"


def test_secret_in_an_environment_file_is_an_error_too(repo: Path) -> None:
    edit(repo, "environments/dev.yaml", "defaults:\n", "defaults:\n  training:\n    env: {API_TOKEN: abcdef}\n")
    result = run_cli(repo, "validate")
    assert result.exit_code == 2
    assert "environments/dev.yaml:" in result.stderr and "defaults.training.env.API_TOKEN" in result.stderr


@pytest.mark.parametrize("line", [
    '  env: {PASSWORD_FILE: "${PASSWORD_FILE}"}',  # a reference, not a value
    "  env: {FEATURES: s3://features/recsys/v3/2026-11-01/part-00000-8f14e45fceea167a5a36dedd4bea2543}",
    "  env: {IMAGE: registry.example.com/fraud/scorer@sha256:" + "a1b2c3d4" * 8 + "}",
    "  args: [--tokenizer, bpe]",
    '  env: {ROLE: "arn:aws:iam::123456789012:role/ml-fraud-scorer-prod"}',  # an IAM role is an address
])
def test_references_uris_and_digests_are_not_secrets(repo: Path, line: str) -> None:
    edit(repo, FRAUD, '  args: [--objective, "binary:logistic"]', line)
    result = run_cli(repo, "validate")
    assert result.exit_code == 0, result.stderr


def test_the_examples_hold_no_secret(repo: Path) -> None:
    assert run_cli(repo, "validate").exit_code == 0
