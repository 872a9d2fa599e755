"""What a platform check returns: a `Misfit` (the spec field, the message, the code), in a module of its own so that
each concern's module imports it without importing the package that lists them all."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..errors import Code
from ..load import FieldPath
from ..model import Environment, MLSystem


@dataclass(frozen=True)
class Misfit:
    field: FieldPath
    message: str
    code: Code = Code.PLATFORM_CANNOT


Check = Callable[[MLSystem, Environment, str], Iterable[Misfit]]
