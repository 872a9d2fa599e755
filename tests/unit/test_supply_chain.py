"""What `make` installs is pinned to exact bytes: Python packages by sha256, Node by sha512; no install script."""

from __future__ import annotations

import json
import re

import pytest

from helpers import ROOT

PYTHON_LOCKS = ("requirements.lock", "tools/uv.lock")
REQUIREMENT = re.compile(r"^([A-Za-z0-9._-]+)==(\S+) \\$")
VERSION = re.compile(r"^([A-Za-z0-9._-]+)==(\S+)", re.M)


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()  # PEP 503: ruamel.yaml and ruamel-yaml are one package


def requirements(lock: str) -> dict[str, list[str]]:
    """Package → its hashes, from a `uv pip compile --generate-hashes` file."""
    found: dict[str, list[str]] = {}
    current = None
    for line in (ROOT / lock).read_text().splitlines():
        if match := REQUIREMENT.match(line):
            current = normalized(match.group(1))
            found[current] = []
        elif line.strip().startswith("--hash=") and current:
            found[current].append(line.strip().removeprefix("--hash=").rstrip(" \\"))
        elif line and not line.startswith(("#", " ")):
            pytest.fail(f"{lock}: a line that is not an exact pin with hashes: {line!r}")
    return found


@pytest.mark.parametrize("lock", PYTHON_LOCKS)
def test_every_python_package_is_pinned_with_sha256_hashes(lock: str) -> None:
    pins = requirements(lock)
    assert pins
    for name, hashes in pins.items():
        assert hashes, f"{lock}: {name} has no hash"
        assert all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for h in hashes), (name, hashes)


def test_every_direct_dependency_is_in_the_lock_at_its_pinned_version() -> None:
    locked = {normalized(name): version for name, version in VERSION.findall((ROOT / "requirements.lock").read_text())}
    wanted = {normalized(name): version for name, version in VERSION.findall((ROOT / "requirements.in").read_text())}
    assert len(wanted) > 10
    assert {name: locked.get(name) for name in wanted} == wanted


def test_the_set_up_installs_only_with_hashes_required() -> None:
    makefile = (ROOT / "Makefile").read_text()
    installs = [line for line in makefile.splitlines() if "pip install" in line and " -r " in line]
    assert len(installs) == 2
    assert all("--require-hashes" in line for line in installs), installs
    assert "npm ci " in makefile and "--ignore-scripts" in makefile


def test_node_is_pinned_by_integrity_and_runs_no_install_script() -> None:
    lock = json.loads((ROOT / "tools/node/package-lock.json").read_text())
    packages = {path: entry for path, entry in lock["packages"].items() if path}
    assert packages
    for path, entry in packages.items():
        assert re.fullmatch(r"sha512-[A-Za-z0-9+/=]{88}", entry.get("integrity", "")), path
        assert not entry.get("hasInstallScript"), f"{path} would run code of its own at install time"
