"""Reading upstream CRD files (`*.yaml.xz`, one or several CRDs each) and indexing the versions the API server serves.

Parsing is the slow part (the Argo Workflows "full" CRDs are megabytes of YAML), so a directory is read once per
process, and a file only when it may hold the kind asked for: files are named `<group>_<plural>.yaml.xz` (Istio's
`istio.io_crd-all.gen.yaml.xz` holds every `*.istio.io` group), so the usual plural's file is read first, then the
group's files, then all: a name is only a shortcut, never the reason an object passes or fails."""

from __future__ import annotations

import functools
import lzma
from pathlib import Path

import yaml


class CrdError(Exception):
    """No served CRD version for an object, or a CRD file that cannot be read."""


class Crds:
    """The served (group, version, kind) → openAPIV3Schema of one directory of CRD files, read lazily by group."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.files = sorted(directory.glob("*.yaml.xz"))
        self.read: set[Path] = set()
        self.schemas: dict[tuple[str, str, str], dict] = {}
        self.unserved: set[tuple[str, str, str]] = set()

    def _read(self, path: Path) -> None:
        if path in self.read:
            return
        self.read.add(path)
        try:
            documents = list(yaml.load_all(lzma.decompress(path.read_bytes()), Loader=yaml.CSafeLoader))
        except (OSError, lzma.LZMAError, yaml.YAMLError) as error:
            raise CrdError(f"{path.name}: cannot read: {error}") from None
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
        guess = self.directory / f"{group}_{kind.lower()}s.yaml.xz"
        if guess in self.files:
            self._read(guess)
        for path in self.files if key not in self.schemas else ():
            prefix = path.name.split("_", 1)[0]
            if group == prefix or group.endswith("." + prefix):
                self._read(path)
        if key not in self.schemas:
            for path in self.files:
                self._read(path)
        if key in self.schemas:
            return self.schemas[key]
        state = "is not served" if key in self.unserved else "has no CRD"
        raise CrdError(f"{api_version} {kind}: {state} in {self.directory.name}/ (the server: 404 page not found)")


@functools.cache
def load_crds(directory: Path) -> Crds:
    """One index per directory per process."""
    return Crds(Path(directory))
