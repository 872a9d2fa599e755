"""The spec language: pydantic models for `MLSystem` (spec/<system>.yaml) and `Environment` (environments/*.yaml)."""

from .environment import Environment
from .mlsystem import MLSystem

__all__ = ["Environment", "MLSystem"]
