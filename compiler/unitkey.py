"""`UnitKey`: the key of one unit of work, a system in an environment.

Every output names a unit the same way, `env/system`, as its manifests are laid out in `generated/<env>/<system>/`.
A plain `(env, system)` tuple compares and hashes equal to it, so keys built either way find each other.
"""

from __future__ import annotations

from typing import NamedTuple


class UnitKey(NamedTuple):
    env: str
    system: str

    def __str__(self) -> str:
        return f"{self.env}/{self.system}"
