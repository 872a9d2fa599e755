"""Plaintext secrets in a spec: every literal secret value is an error at its line, before anything is rendered.

Input: a loaded `Document`. Output: diagnostics (E206), never the secret itself (CI logs are public enough). Three
signals: a field named like a secret holding a literal (`password: hunter2`); a value in a known token format (the
regex detectors of detect-secrets: AWS, GitHub, Slack, Stripe, JWT, …, plus PEM private keys and credentials in
URLs); and a long, high-entropy token where nothing else explains it (not a URI, image, path or reference).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from detect_secrets.plugins.artifactory import ArtifactoryDetector
from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.azure_storage_key import AzureStorageKeyDetector
from detect_secrets.plugins.discord import DiscordBotTokenDetector
from detect_secrets.plugins.github_token import GitHubTokenDetector
from detect_secrets.plugins.high_entropy_strings import Base64HighEntropyString
from detect_secrets.plugins.jwt import JwtTokenDetector
from detect_secrets.plugins.mailchimp import MailchimpDetector
from detect_secrets.plugins.npm import NpmDetector
from detect_secrets.plugins.sendgrid import SendGridDetector
from detect_secrets.plugins.slack import SlackDetector
from detect_secrets.plugins.stripe import StripeDetector
from detect_secrets.plugins.twilio import TwilioKeyDetector

from .errors import Code, Diagnostic
from .load import Document, FieldPath, dotted

TOKEN_DETECTORS = (AWSKeyDetector(), ArtifactoryDetector(), AzureStorageKeyDetector(), DiscordBotTokenDetector(),
                   GitHubTokenDetector(), JwtTokenDetector(), MailchimpDetector(), NpmDetector(), SendGridDetector(),
                   SlackDetector(), StripeDetector(), TwilioKeyDetector())
SECRET_NAME = re.compile(r"(pass(word|wd|phrase)?|secret|token|api[-_]?key|access[-_]?key|private[-_]?key|"
                         r"credentials?|auth|bearer|client[-_]?secret)$", re.IGNORECASE)
# Flags on a command line that carry a secret: --password=x, --token x
SECRET_FLAG = re.compile(r"^--?(pass(word)?|secret|token|api-?key|access-?key)(=.+)?$", re.IGNORECASE)
PRIVATE_KEY = re.compile(r"-----BEGIN ([A-Z]+ )*PRIVATE KEY-----")
# user:password@ in any URL, also behind a compound scheme (jdbc:postgresql://…)
URL_CREDENTIALS = re.compile(r"[a-z][a-z0-9+.:-]*://[^/\s:@]+:[^/\s@]+@", re.IGNORECASE)
REFERENCE = re.compile(r"^(vault|aws-sm|gcp-sm|azure-kv)://|^\$\{[^}]+\}$")
# Values that are long and varied by nature: URIs, images, paths, hosts, e-mail addresses, AWS ARNs (an IAM role).
STRUCTURED = re.compile(r"://|^[\w.-]+(:\d+)?(/[\w.@:-]+)+$|^/|@[\w-]+\.[\w.]+$|^[\w.-]+\.[a-z]{2,}$|^arn:aws[\w-]*:")
ENTROPY = Base64HighEntropyString()
MIN_TOKEN_LENGTH, MIN_ENTROPY = 20, 4.0


def find_plaintext_secrets(document: Document) -> list[Diagnostic]:
    return [Diagnostic(Code.PLAINTEXT_SECRET, document.source.locate(path),
                       f"{reason}; reference it from the secret store instead "
                       "(secrets: [{name, from: vault://<path>, keys}])", dotted(path))
            for path, reason in _findings(document.data, ())]


def _findings(value: Any, path: FieldPath) -> Iterator[tuple[FieldPath, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str) and item and SECRET_NAME.search(key) and not REFERENCE.match(item):
                yield path + (key,), f"field {key!r} holds a literal value that looks like a secret"
            else:
                yield from _findings(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            flag = isinstance(item, str) and SECRET_FLAG.match(item)
            if flag and (flag.group(3) or _next_is_value(value, index)):
                yield path + (index,), f"command-line flag {item.split('=')[0]!r} passes a literal secret"
            else:
                yield from _findings(item, path + (index,))
    elif isinstance(value, str):
        reason = _secret_reason(value)
        if reason:
            yield path, reason


def _next_is_value(items: list[Any], index: int) -> bool:
    return index + 1 < len(items) and isinstance(items[index + 1], str) and not items[index + 1].startswith("-")


def _secret_reason(value: str) -> str | None:
    if PRIVATE_KEY.search(value):
        return "value contains a private key"
    if URL_CREDENTIALS.search(value):
        return "URL carries a user name and password"
    for detector in TOKEN_DETECTORS:
        if any(True for _ in detector.analyze_string(value)):
            return f"value has the format of a secret ({detector.secret_type})"
    token = value.strip()
    if (len(token) >= MIN_TOKEN_LENGTH and " " not in token and not STRUCTURED.search(token)
            and not REFERENCE.match(token) and ENTROPY.calculate_shannon_entropy(token) >= MIN_ENTROPY):
        return "value is a long random-looking string (high entropy)"
    return None
