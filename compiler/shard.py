"""`--shard I/N`: which systems one of N CI runners gates, so that a large repository is gated on many machines.

Systems are dealt round-robin in name order: every system lands in exactly one shard, the shards differ in size by
at most one, and the split depends only on the set of system names, never on the runner. Findings of the Argo CD
objects follow the system they deploy; those of an environment's Argo CD as a whole (projects, the root app) go to
shard 1. `mlgitops merge-reports` joins the shards' reports into the report one unsharded run would have written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .emit import ARGOCD_DIR


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based, as CI matrices count
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
        if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
            raise ValueError(f"--shard must be I/N with 1 <= I <= N, e.g. 2/4 (got {text!r})")
        return cls(int(match.group(1)), int(match.group(2)))

    @property
    def whole(self) -> bool:
        return self.count == 1

    def systems(self, names: Iterable[str]) -> set[str]:
        """The systems of this shard (and ARGOCD_DIR on shard 1)."""
        ordered = sorted(set(names))
        mine = {name for position, name in enumerate(ordered) if position % self.count == self.index - 1}
        return mine | ({ARGOCD_DIR} if self.index == 1 else set())


WHOLE = Shard(1, 1)
