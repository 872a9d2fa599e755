"""A loopback HTTP server that answers with the real kube-apiserver v1.36.2 responses of ../shared/apiserver-recordings.

Not a mock of the `kubernetes` client: the client under test opens a real connection, sends real requests and parses
the bytes the real server sent. A request is answered only when the recordings hold it — same method, path, query
(as a mapping; order and encoding free), the aggregated-discovery Accept where one was recorded, the same identity
(bearer token) and, for a request that carried a body, the same object (compared parsed, so JSON or YAML either way).
Anything else is answered 501 and kept in `misses`, which the fixture asserts empty: a test can only pass on answers
the real server gave.

One generalisation, the API server's own: a token it does not know is refused by authentication before any routing,
with the same Status for every path (both recordings of it are byte-identical), so the bad-token identity gets that
401 for any request.
"""

from __future__ import annotations

import json
import lzma
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import yaml

from helpers import ROOT

RECORDINGS = ROOT.parent / "shared" / "apiserver-recordings"
# The identities of index.json's request.auth, and the bearer token a test's kubeconfig carries for each.
ADMIN, BAD_TOKEN, NO_RIGHTS, ANONYMOUS = "admin", "Bearer not-a-valid-token", \
    "Bearer <TokenRequest token of ServiceAccount recording-errors/no-rights>", "none"
TOKENS = {ADMIN: "replay-admin-token", BAD_TOKEN: "not-a-valid-token", NO_RIGHTS: "replay-no-rights-token"}
AGGREGATED = "apidiscovery.k8s.io"


def _read(relative: str) -> bytes:
    path = RECORDINGS / relative
    if path.exists():
        return path.read_bytes()
    return lzma.decompress((RECORDINGS / f"{relative}.xz").read_bytes())


def _parsed(body: bytes):
    """A request body as the object it carries (JSON is YAML); None for no body; the bytes if it is no YAML (the
    recordings hold a malformed body on purpose)."""
    try:
        return yaml.safe_load(body) if body.strip() else None
    except yaml.YAMLError:
        return body


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    warnings: tuple[str, ...]
    body: bytes


@dataclass(frozen=True)
class Recorded:
    auth: str
    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    aggregated: bool
    body: object
    answer_file: str
    status: int
    content_type: str
    warnings: tuple[str, ...]

    def answer(self) -> Answer:
        return Answer(self.status, self.content_type, self.warnings, _read(self.answer_file))


def recordings() -> list[Recorded]:
    index = json.loads((RECORDINGS / "index.json").read_text())
    entries = []
    for entry in index["entries"]:
        request, response = entry["request"], entry["response"]
        body = _parsed(_read(request["bodyFile"])) if request.get("bodyFile") else None
        entries.append(Recorded(
            request["auth"], request["method"], request["path"], tuple(sorted(request.get("query", {}).items())),
            AGGREGATED in request.get("headers", {}).get("Accept", ""), body, entry["file"], response["status"],
            response.get("contentType", "application/json"), tuple(response.get("warnings", ()))))
    return entries


@dataclass
class ReplayServer:
    url: str
    misses: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


def _handler(entries: list[Recorded], server: ReplayServer) -> type[BaseHTTPRequestHandler]:
    by_identity = {token: auth for auth, token in TOKENS.items()}
    unauthenticated = next(e for e in entries if e.auth == BAD_TOKEN and e.method == "GET")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_: object) -> None:  # quiet: the test asserts on `requests` and `misses`
            pass

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = _parsed(self.rfile.read(length)) if length else None
            parts = urlsplit(self.path)
            query = tuple(sorted(parse_qsl(parts.query, keep_blank_values=True)))
            authorization = self.headers.get("Authorization", "")
            token = authorization.removeprefix("Bearer ") if authorization.startswith("Bearer ") else None
            identity = ANONYMOUS if token is None else by_identity.get(token, BAD_TOKEN)
            aggregated = AGGREGATED in self.headers.get("Accept", "")
            line = f"{self.command} {self.path} as {identity}"
            server.requests.append(line)
            found = next((e for e in entries if (e.auth, e.method, e.path, e.query, e.aggregated) ==
                          (identity, self.command, parts.path, query, aggregated) and e.body == body), None)
            if found is None and identity == BAD_TOKEN:
                found = unauthenticated
            if found is None:
                server.misses.append(line)
                answer = Answer(501, "text/plain", (), b"not in the recordings\n")
            else:
                answer = found.answer()
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            for warning in answer.warnings:
                self.send_header("Warning", warning)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _answer

    return Handler


@contextmanager
def replay_server() -> Iterator[ReplayServer]:
    """The recordings served on 127.0.0.1 (plain HTTP: the bytes are the same ones TLS carried), until the end."""
    entries = recordings()
    http = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    server = ReplayServer(f"http://127.0.0.1:{http.server_address[1]}")
    http.RequestHandlerClass = _handler(entries, server)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        http.shutdown()
        http.server_close()


def write_kubeconfig(path: Path, server: str, identity: str = ADMIN, context: str = "replay") -> Path:
    """A kubeconfig whose one context reaches `server` as `identity` (no token for the anonymous one)."""
    user = {"token": TOKENS[identity]} if identity != ANONYMOUS else {}
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": context,
        "clusters": [{"name": context, "cluster": {"server": server}}],
        "users": [{"name": context, "user": user}],
        "contexts": [{"name": context, "context": {"cluster": context, "user": context}}]}))
    return path
