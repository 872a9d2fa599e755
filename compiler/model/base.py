"""What every spec model shares: camelCase field names as written in YAML, unknown fields refused, immutability."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class SpecModel(BaseModel):
    """Base of every spec section: fields are written in camelCase, unknown keys are errors, values are frozen."""

    # Only the camelCase names are accepted (the snake_case ones are Python's), and no inf/nan sneaks in.
    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=False,
                              allow_inf_nan=False, use_attribute_docstrings=True, validate_default=False)


class RuleError(ValueError):
    """A cross-field rule broken inside a model; `field` names the sub-field the message should point at (a path,
    such as `("steps", 2, "dependsOn", 0)`, for one deeper inside)."""

    def __init__(self, field: str | tuple[str | int, ...], message: str, related: str | None = None):
        super().__init__(message)
        self.field = field
        self.related = related  # the other side of a conflict, named in the message when set elsewhere


class CodedValueError(ValueError):
    """A value refused with a diagnostic code of its own, instead of the generic invalid-value one."""

    def __init__(self, message: str, code):
        super().__init__(message)
        self.code = code  # a compiler.errors.Code
