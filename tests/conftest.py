"""Fixtures and hooks: a scratch copy of the example repository, per-test cache directories, the example registry's
home, and the loopback servers (OPA, the recorded kube-apiserver, a server that never answers). Helpers are in
helpers.py."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from helpers import CACHE_VARIABLE, REGISTRY_HOME, copy_examples, free_port, opa_binary, run_cli, tree


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite the golden files (generated/, the committed output) from a fresh compile")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return request.config.getoption("--update-golden")


@pytest.fixture(scope="session", autouse=True)
def session_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Fixtures wider than one test (the compiled examples, warm repositories) cache here, never in ~/.cache."""
    with pytest.MonkeyPatch.context() as patch:
        directory = tmp_path_factory.mktemp("session-cache")
        patch.setenv(CACHE_VARIABLE, str(directory))
        patch.delenv("XDG_CACHE_HOME", raising=False)
        yield directory


@pytest.fixture(autouse=True)
def cache_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test its own cache directory (subprocesses inherit the variable): no test sees another's entries, and
    none touches ~/.cache."""
    directory = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv(CACHE_VARIABLE, str(directory))
    return directory


@pytest.fixture
def work(monkeypatch: pytest.MonkeyPatch) -> dict[str, Counter]:
    """Counts of units rendered and judged in this process, by (env, system)."""
    import compiler.driver
    import compiler.gate.unit

    counts: dict[str, Counter] = {"rendered": Counter(), "judged": Counter()}
    render_job, judge = compiler.driver.render_job, compiler.gate.unit.judge

    def counting_render(job):
        counts["rendered"][(job.env, job.system)] += 1
        return render_job(job)

    def counting_judge(job, *args):
        counts["judged"][(job.env, job.system)] += 1
        return judge(job, *args)

    monkeypatch.setattr(compiler.driver, "render_job", counting_render)
    monkeypatch.setattr(compiler.gate.unit, "judge", counting_judge)
    return counts


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return copy_examples(tmp_path / "repo")


@pytest.fixture(scope="session")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """Every object the examples compile to, for every environment, by its path under generated/ (read-only)."""
    root = copy_examples(tmp_path_factory.mktemp("examples"))
    assert run_cli(root, "compile", "--offline").exit_code == 0
    return {path: yaml.safe_load(content) for path, content in tree(root / "generated").items()}


@pytest.fixture(scope="session", autouse=True)
def _example_registry_home(tmp_path_factory: pytest.TempPathFactory) -> None:
    REGISTRY_HOME.append(tmp_path_factory.mktemp("registry"))


@pytest.fixture
def opa_server() -> Iterator[str]:
    """A real OPA server on 127.0.0.1 with no policies, stopped (by its process) at the end of the test."""
    opa = opa_binary()
    port = free_port()
    process = subprocess.Popen([opa, "run", "--server", "--addr", f"127.0.0.1:{port}", "--log-level", "error"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{url}/health", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("OPA did not start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def apiserver():
    """The recorded answers of a real kube-apiserver v1.36.2 on loopback (tests/replay.py); at the end, every
    request the test made must have been one the real server answered."""
    from replay import replay_server

    with replay_server() as server:
        yield server
        assert server.misses == [], "requests the real server was never asked"


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP server on 127.0.0.1 that accepts every connection and never answers (a hung registry or OPA server)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)  # so the accepting thread notices the end of the test
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(timeout=5)
    for connection in held:
        connection.close()
    listener.close()
