"""Rego evaluation, in process (regorus, the default) or on an OPA server (`--opa-url`, through opa-python-client).

Both engines take the same policy library and return, per input document, the `deny` and `warn` results of every
rule package under `data.mlgitops.<scope>`. The in-process engine is regorus (a Rust Rego v1 interpreter): it runs
every construct and built-in the library uses, gives file:line:col on syntax errors, and evaluates ~20 000
documents a second. A differential test holds it to the reference OPA on the whole library.
Errors (`SpecError`, exit 2 — the gate fails closed, never passes): a policy that does not compile, an evaluation
error (at the policy's file:line:col; built-in errors are errors on both engines, never an undefined `deny`), a rule
result that is not a set, an unreachable, silent or failing OPA server. Each request to the server waits at most
$MLGITOPS_OPA_TIMEOUT seconds (default 10), with two retries.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from ..errors import Code, Diagnostic, Location, SpecError
from ..textutil import first_line
from .policies import PolicyLibrary

PARSE_ERROR = re.compile(r"--> (?P<file>[^\n]+?):(?P<line>\d+):(?P<col>\d+).*?error: (?P<message>[^\n]+)", re.S)
RESULT_KINDS = ("deny", "warn")
OPA_TIMEOUT_VARIABLE = "MLGITOPS_OPA_TIMEOUT"


@dataclass(frozen=True)
class Violation:
    package: str  # full package name, e.g. mlgitops.spec.image_tag_mutable
    kind: str  # deny | warn
    message: str
    field: str | None


class RegoEngine(Protocol):
    def evaluate(self, scope: str, documents: Iterable[dict[str, Any]]) -> list[list[Violation]]:
        """For each input document, the violations of every rule under `data.mlgitops.<scope>`."""


def _violations(scope: str, value: dict[str, Any], files: dict[str, str]) -> list[Violation]:
    """`files`: package → policy file, to point at."""
    found = []
    for name, rules in sorted((value or {}).items()):
        for kind in RESULT_KINDS:
            items = rules.get(kind, []) if isinstance(rules, dict) else []
            if not isinstance(items, list):  # `deny := true` is not a set of findings: refuse, never read it as none
                package = f"mlgitops.{scope}.{name}"
                raise _engine_error(f"{package}.{kind} is a {type(items).__name__}, not a set of findings (write "
                                    f"`{kind} contains ... if`)", files.get(package, "policies"))
            for item in items:
                message = item.get("msg", "") if isinstance(item, dict) else str(item)
                field = item.get("field") if isinstance(item, dict) else None
                found.append(Violation(f"mlgitops.{scope}.{name}", kind, message, field))
    return sorted(found, key=lambda v: (v.package, v.kind, v.message, v.field or ""))


def _engine_error(message: str, where: str = "policies") -> SpecError:
    return SpecError([Diagnostic(Code.POLICY_ENGINE, Location(where), message)])


class InProcessEngine:
    """regorus, with the whole library compiled once and reused for every document."""

    def __init__(self, library: PolicyLibrary):
        import regorus

        self._files = {policy.package: policy.display for policy in library.files}
        self._engine = regorus.Engine()
        for policy in library.files:
            try:
                self._engine.add_policy(policy.display, policy.text)
            except RuntimeError as exc:
                raise _compile_error(str(exc), policy.display) from None

    def evaluate(self, scope: str, documents: Iterable[dict[str, Any]]) -> list[list[Violation]]:
        results = []
        for document in documents:
            self._engine.set_input_json(json.dumps(document))
            try:
                answer = json.loads(self._engine.eval_query_as_json(f"data.mlgitops.{scope}"))
            except RuntimeError as exc:
                raise _located_error(str(exc), "policy evaluation failed", Code.POLICY_ENGINE) from None
            value = answer["result"][0]["expressions"][0]["value"] if answer.get("result") else {}
            results.append(_violations(scope, value, self._files))
        return results


class OpaServerEngine:
    """A running OPA server: the library is uploaded once, then each document is one query."""

    def __init__(self, library: PolicyLibrary, url: str, timeout: float | None = None):
        from opa_client.opa import OpaClient

        timeout = timeout or _opa_timeout()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise _engine_error(f"--opa-url {url!r} is not an http(s) URL", "--opa-url")
        self.url = url
        self._displays = {_policy_id(policy.display): policy.display for policy in library.files}
        self._client = OpaClient(host=parts.hostname, port=parts.port or (443 if parts.scheme == "https" else 80),
                                 ssl=parts.scheme == "https", timeout=timeout, retries=2)
        try:  # one cheap request first: an unreachable server fails at once, not once per policy file
            self._client.check_connection()
        except Exception as exc:  # noqa: BLE001
            reason = re.search(r"\[Errno -?\d+\] ([^'\")]+)|(timed out)", str(exc.__cause__ or exc))
            detail = (reason.group(1) or reason.group(2)) if reason else type(exc).__name__
            raise _engine_error(f"OPA server at {url} is unreachable ({detail})", "--opa-url") from None
        # OPA compiles each upload against what it already has, so a module that uses another must come after
        # it: upload in rounds until everything is in, or a round makes no progress (a real error).
        pending = list(library.files)
        while pending:
            failed = []
            for policy in pending:
                try:
                    self._client.update_policy_from_string(policy.text, _policy_id(policy.display), rego_compat=False)
                except Exception as exc:  # noqa: BLE001 — any failure here means the gate cannot run
                    failed.append((policy, exc))
            if len(failed) == len(pending):
                policy, exc = failed[0]
                raise self._failure(exc, policy.display) from None
            pending = [policy for policy, _ in failed]
        self._files = {policy.package: policy.display for policy in library.files}

    def _check_packages(self, scope: str, value: dict[str, Any]) -> None:
        """Rules the server holds beyond this library would change the verdict: refuse rather than mix them in."""
        foreign = sorted(f"mlgitops.{scope}.{name}" for name in value or {}
                         if f"mlgitops.{scope}.{name}" not in self._files)
        if foreign:
            raise _engine_error(f"OPA server at {self.url} holds rule packages that are not in policies/: "
                                f"{', '.join(foreign)}; use a server dedicated to this repository", "--opa-url")

    def _failure(self, exc: Exception, where: str) -> SpecError:
        """OPA's compile and evaluation errors carry their policy, row and column; anything else is the server
        failing."""
        for error in getattr(exc, "errors", None) or _response_errors(exc):
            location = error.get("location") if isinstance(error, dict) else None
            if location:
                file = self._displays.get(location.get("file", ""), where)
                at = Location(file, location.get("row", 1), location.get("col", 1))
                if str(error.get("code", "")).startswith("eval_"):
                    return SpecError([Diagnostic(Code.POLICY_ENGINE, at,
                                                 f"policy evaluation failed: {error.get('message', '')}")])
                return SpecError([Diagnostic(Code.POLICY, at, f"policy does not compile: {error.get('message', '')}")])
        return _engine_error(f"OPA server at {self.url} failed: {type(exc).__name__}: {first_line(str(exc))}",
                             "--opa-url" if where == self.url else where)

    def evaluate(self, scope: str, documents: Iterable[dict[str, Any]]) -> list[list[Violation]]:
        results = []
        for document in documents:
            try:
                # strict: a built-in's error fails the query (as on regorus) instead of leaving a `deny` undefined
                answer = self._client.query_rule(document, f"mlgitops.{scope}",
                                                 query_params={"strict-builtin-errors": "true"})
            except Exception as exc:  # noqa: BLE001
                raise self._failure(exc, self.url) from None  # where: the server, not a policy file
            self._check_packages(scope, answer.get("result", {}))
            results.append(_violations(scope, answer.get("result", {}), self._files))
        return results


def _policy_id(display: str) -> str:
    return re.sub(r"[^A-Za-z0-9_/]", "_", display)


def _response_errors(exc: Exception) -> list:
    """The `errors` of an OPA error response (HTTP 500 on an evaluation error), if the server sent any."""
    try:
        errors = exc.response.json().get("errors")  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 — no response, or not OPA's JSON
        return []
    return errors if isinstance(errors, list) else []


def _opa_timeout() -> float:
    value = os.environ.get(OPA_TIMEOUT_VARIABLE, "")
    if not value:
        return 10.0
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0
    if not seconds > 0:
        raise _engine_error(f"{OPA_TIMEOUT_VARIABLE}={value!r} is not a positive number of seconds", "--opa-url")
    return seconds


def _located_error(text: str, what: str, code: Code, display: str = "policies") -> SpecError:
    """regorus's errors start `--> file:line:col`, then the source line, then `error: message`."""
    match = PARSE_ERROR.search(text)
    if match:
        location = Location(match.group("file"), int(match.group("line")), int(match.group("col")))
        return SpecError([Diagnostic(code, location, f"{what}: {match.group('message')}")])
    return SpecError([Diagnostic(code, Location(display), f"{what}: {first_line(text)}")])


def _compile_error(text: str, display: str) -> SpecError:
    return _located_error(text, "policy does not compile", Code.POLICY, display)


def make_engine(library: PolicyLibrary, opa_url: str | None) -> RegoEngine:
    return OpaServerEngine(library, opa_url) if opa_url else InProcessEngine(library)
