"""Reading upstream CRD files (`*.yaml`, or xz-packed `*.yaml.xz`; one or several CRDs each) and indexing the
versions the API server serves.

Parsing is the slow part (the Argo Workflows "full" CRDs are megabytes of YAML; unpacking all of them takes a third
of a second, parsing them seconds), so a directory is read once per process and only the files whose text names the
kind asked for (`kind: <Kind>`) are parsed: a file that never names a kind cannot define it."""

from __future__ import annotations

import functools
import lzma
import re
from pathlib import Path

import yaml


class CrdError(Exception):
    """No served CRD version for an object, or a CRD file that cannot be read."""


class Crds:
    """The served (group, version, kind) → openAPIV3Schema of one directory of CRD files, parsed lazily by kind."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.files = sorted([*directory.glob("*.yaml.xz"), *directory.glob("*.yaml")])  # as released, or packed
        self.texts: dict[Path, bytes] = {}
        self.parsed: set[Path] = set()
        self.schemas: dict[tuple[str, str, str], dict] = {}
        self.unserved: set[tuple[str, str, str]] = set()

    def _text(self, path: Path) -> bytes:
        if path not in self.texts:
            try:
                raw = path.read_bytes()
                self.texts[path] = lzma.decompress(raw) if path.suffix == ".xz" else raw
            except (OSError, lzma.LZMAError) as error:
                raise CrdError(f"{path.name}: cannot read: {error}") from None
        return self.texts[path]

    def _parse(self, path: Path) -> None:
        self.parsed.add(path)
        try:
            documents = _safe_documents(self._text(path))
        except yaml.YAMLError as error:
            raise CrdError(f"{path.name}: not YAML: {error}") from None
        for crd in documents:
            if not isinstance(crd, dict) or crd.get("kind") != "CustomResourceDefinition":
                continue
            spec = crd["spec"]
            for version in spec["versions"]:
                key = (spec["group"], version["name"], spec["names"]["kind"])
                if version.get("served"):
                    self.schemas[key] = version["schema"]["openAPIV3Schema"]
                else:
                    self.unserved.add(key)

    def schema(self, api_version: str, kind: str) -> dict:
        group, _, version = api_version.rpartition("/")
        key = (group, version, kind)
        if key not in self.schemas:
            names = re.compile(rb"""kind["']?:\s*["']?""" + re.escape(kind.encode()) + rb"""["']?,?\s*$""", re.M)
            for path in self.files:
                if path not in self.parsed and names.search(self._text(path)):
                    self._parse(path)
        if key in self.schemas:
            return self.schemas[key]
        state = "is not served" if key in self.unserved else "has no CRD"
        raise CrdError(f"{api_version} {kind}: {state} in {self.directory.name}/ (the server: 404 page not found)")


def _safe_documents(text: bytes) -> list:
    """yaml.safe_load_all with libyaml's CSafeLoader (standard tags only, never Python objects): the pure-Python
    SafeLoader takes several times longer on these CRDs."""
    loader = yaml.CSafeLoader(text)
    try:
        documents = []
        while loader.check_data():
            documents.append(loader.get_data())
        return documents
    finally:
        loader.dispose()


@functools.cache
def load_crds(directory: Path) -> Crds:
    """One index per directory per process."""
    return Crds(Path(directory))
