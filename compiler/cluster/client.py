"""The one way mlgitops talks to a Kubernetes API server: the `kubernetes` client, and how it fails.

Credentials come only from a kubeconfig (`--kubeconfig`, else `$KUBECONFIG`, else `~/.kube/config`; `--context`,
else its current context) or, with no kubeconfig at all, from the pod's in-cluster ServiceAccount — never from a
spec, an environment file or the command line, and none is ever printed. Every request has a deadline and no
retries: an API server that is unreachable, slow, refuses the credentials or answers with something that is not
Kubernetes fails closed, as one line located at the environment's `cluster.server` (E801, exit 2), naming the
context and server it tried and what happened — so a gate can never read "no answer" as "nothing wrong".
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import urllib3
from kubernetes import client as k8s
from kubernetes import config as kubeconfig
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from ..errors import Code, Diagnostic, Location, SpecError

CONNECT_SECONDS, READ_SECONDS = 5, 30
TIMEOUT = (CONNECT_SECONDS, READ_SECONDS)
IN_CLUSTER = "in-cluster"
T = TypeVar("T")


@dataclass(frozen=True)
class Connection:
    """An API client bound to one cluster, and where its failures are reported."""

    api: k8s.ApiClient
    server: str
    context: str
    where: Location

    def fail(self, what: str) -> SpecError:
        return cluster_error(self.where, f"{what} (context {self.context}, {self.server}); nothing was judged")

    def call(self, request: Callable[..., T], *args, action: str, **kwargs) -> T:
        """`request(*args, **kwargs)` with the deadline; transport failures and refusals of the caller's identity
        (401, 403) become one located line. Other API answers (404, 409, 422, …) are the caller's to judge."""
        try:
            return request(*args, _request_timeout=TIMEOUT, **kwargs)
        except ApiException as exc:
            if exc.status in (401, 403):
                raise self.fail(f"{action}: {status_text(exc)}") from None
            raise
        except urllib3.exceptions.ReadTimeoutError:
            raise self.fail(f"{action}: the API server did not answer within {READ_SECONDS}s") from None
        except urllib3.exceptions.HTTPError as exc:
            raise self.fail(f"{action}: cannot reach the API server ({_reason(exc)})") from None


@dataclass(frozen=True)
class Answer:
    """What the API server said: HTTP status, the decoded JSON body (None if it sent none or no JSON), the raw text,
    and its Warning headers (Pod Security and dropped-field warnings travel only there)."""

    status: int
    body: object
    text: str
    warnings: tuple[str, ...]


def request(connection: Connection, method: str, path: str, *, action: str, query: dict[str, str] | None = None,
            body: str | None = None, content_type: str = "application/json") -> Answer:
    """One request through the client's own transport (its auth, TLS and deadline), for paths and bodies the typed
    APIs cannot send: server-side apply of any kind, discovery, `/version`. 401, 403 and transport failures fail
    closed (`Connection.call`); every other status is returned for the caller to judge."""
    headers = {"Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = content_type
    params = connection.api.param_serialize(method=method, resource_path=path, query_params=list((query or {}).items()),
                                            header_params=headers, auth_settings=["BearerToken"])
    method_, url, header_params, _, _ = params
    response = connection.call(connection.api.rest_client.request, method_, url, headers=header_params, body=body,
                               action=action)
    text = response.read().decode("utf-8", "replace") if hasattr(response, "read") else response.data.decode()
    if response.status in (401, 403):
        raise connection.fail(f"{action}: {response.status} {_message(text) or 'refused'}")
    warnings = tuple(v for k, v in response.getheaders().items() if k.lower() == "warning")
    try:
        decoded = json.loads(text) if text.strip() else None
    except ValueError:
        decoded = None
    return Answer(response.status, decoded, text, warnings)


def _message(text: str) -> str | None:
    try:
        body = json.loads(text)
    except ValueError:
        return None
    return body.get("message") if isinstance(body, dict) else None


def get_json(connection: Connection, path: str, *, action: str) -> dict | None:
    """A GET that must answer an object: the body, or None when the server says 404 (no such object, or an API it
    does not serve: its text/plain "404 page not found"); anything else fails closed."""
    answer = request(connection, "GET", path, action=action)
    if answer.status == 404:
        return None
    if answer.status != 200 or not isinstance(answer.body, dict):
        raise connection.fail(f"{action}: {answer.status} {_message(answer.text) or 'not a Kubernetes answer'}")
    return answer.body


def server_version(connection: Connection) -> str:
    """The API server's gitVersion, from `/version` as the server publishes it (VersionApi asks `/version/`)."""
    answer = request(connection, "GET", "/version", action="read the version")
    if answer.status != 200 or not isinstance(answer.body, dict) or "gitVersion" not in answer.body:
        raise connection.fail(f"read the version: {answer.status}, not a Kubernetes version")
    return answer.body["gitVersion"]


def cluster_error(where: Location, message: str) -> SpecError:
    return SpecError([Diagnostic(Code.CLUSTER, where, message, "cluster.server")])


def status_text(exc: ApiException) -> str:
    """The API server's own words for a refusal: its Status message, else the HTTP status line."""
    message = _message(exc.body or "")
    return f"{exc.status} {message or (exc.reason or '').strip() or 'no reason given'}"


def _reason(exc: urllib3.exceptions.HTTPError) -> str:
    reason = getattr(exc, "reason", None) or exc
    return str(reason).split(": ", 1)[-1]


def connect(kubeconfig_file: Path | None, context: str | None, where: Location) -> Connection:
    """A client for the context (or the pod's own identity); a kubeconfig that cannot be used is located too."""
    configuration = k8s.Configuration()
    try:
        if kubeconfig_file is None and not _has_kubeconfig() and os.environ.get("KUBERNETES_SERVICE_HOST"):
            kubeconfig.load_incluster_config(client_configuration=configuration)
            name = IN_CLUSTER
        else:
            path = str(kubeconfig_file) if kubeconfig_file else None
            kubeconfig.load_kube_config(config_file=path, context=context, client_configuration=configuration,
                                        persist_config=False)
            name = context or _current_context(path)
    except (ConfigException, OSError, ValueError, TypeError) as exc:
        raise cluster_error(where, f"no usable cluster credentials: {str(exc).splitlines()[0]}") from None
    configuration.retries = False  # one attempt: a retry loop hides a flapping API server and multiplies the wait
    return Connection(k8s.ApiClient(configuration), configuration.host, name, where)


def _has_kubeconfig() -> bool:
    default = Path(os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or Path.home() / ".kube" / "config")
    return default.is_file()


def _current_context(path: str | None) -> str:
    contexts, current = kubeconfig.list_kube_config_contexts(config_file=path)
    return current["name"] if current else "?"
