"""Pass 2 — validate: loaded data → typed spec models (`MLSystem`, `Environment`).

Input: a `Document` (or merged data with its `SourceMap`). Output: the frozen pydantic model. Errors
(`SpecError`): every pydantic error of the file at once, each at the `file:line:col` of the offending key, with a
did-you-mean for unknown fields and the list of allowed ones when nothing is close.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
import unicodedata
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic.alias_generators import to_camel

from .errors import Code, Diagnostic, SpecError
from .load import FieldPath, SourceMap, dotted
from .model.base import CodedValueError, RuleError

M = TypeVar("M", bound=BaseModel)


def validate(model: type[M], data: dict[str, Any], source: SourceMap) -> M:
    expected_kind = model.model_fields["kind"].annotation.__args__[0]
    if data.get("kind") != expected_kind:
        raise SpecError([Diagnostic(Code.WRONG_KIND, source.locate(("kind",)),
                                    f"expected kind: {expected_kind}, found {data.get('kind')!r}", "kind")])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise SpecError([_diagnostic(model, error, source) for error in exc.errors()]) from None


def _diagnostic(model: type[BaseModel], error: dict[str, Any], source: SourceMap) -> Diagnostic:
    loc: FieldPath = tuple(error["loc"])
    if loc[-1:] == ("[key]",):  # pydantic's marker for a bad mapping key: the key's own path names it
        loc = loc[:-1]
    kind = error["type"]
    if kind == "extra_forbidden":
        return Diagnostic(Code.UNKNOWN_FIELD, source.locate(loc), _unknown_field_message(model, loc), dotted(loc))
    if kind == "missing":
        return Diagnostic(Code.MISSING_FIELD, source.locate(loc), f"missing required field {loc[-1]!r}", dotted(loc))
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, RuleError):
        path = loc + (cause.field if isinstance(cause.field, tuple) else (cause.field,))
        message, where = str(cause), source.locate(path)
        if cause.related and (other := source.locate(loc + (cause.related,))) != where:
            message += f"; {dotted(loc + (cause.related,))} is set at {other}"
        return Diagnostic(Code.RULE_VIOLATION, where, message, dotted(path))
    message = error["msg"].removeprefix("Value error, ")
    given = error.get("input")
    if kind not in ("value_error", "assertion_error") and not isinstance(given, (dict, list)):
        message = f"{message} (got {given!r})"
    if isinstance(given, str) and not given.isascii():
        message += _first_non_ascii(given)
    if kind in ("enum", "literal_error") and isinstance(given, str):
        choices = re.findall(r"'([^']*)'", (error.get("ctx") or {}).get("expected", ""))
        guess = suggest(given, choices)
        if guess:
            message += f"; did you mean {guess!r}?"
    code = cause.code if isinstance(cause, CodedValueError) else Code.INVALID_VALUE
    return Diagnostic(code, source.locate(loc), message, dotted(loc))


def _first_non_ascii(text: str) -> str:
    """Name the character a reader can't see: a Cyrillic 'а' in a name looks exactly like a Latin 'a'."""
    index, char = next((i, c) for i, c in enumerate(text) if not c.isascii())
    return f"; character {index + 1} is U+{ord(char):04X} {unicodedata.name(char, 'an unnamed character')}, not ASCII"


def _unknown_field_message(model: type[BaseModel], loc: FieldPath) -> str:
    key = str(loc[-1])
    allowed = allowed_fields(model, loc[:-1])
    message = f"unknown field {key!r}"
    if not allowed:
        return message
    guess = suggest(key, allowed) or suggest(to_camel(key), allowed)
    if guess:
        return f"{message}; did you mean {guess!r}?"
    return f"{message}; allowed here: {', '.join(sorted(allowed))}"


def suggest(word: str, options: list[str]) -> str | None:
    """The option a typo most likely meant: same letters in another case, else the closest spelling."""
    by_lower = {option.lower(): option for option in options}
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return by_lower.get(word.lower()) or (close[0] if close else None)


def allowed_fields(model: type[BaseModel], loc: FieldPath) -> list[str]:
    """The YAML keys a model accepts at `loc` (empty where the location is not a model)."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            fields = {(f.alias or name): f for name, f in current.model_fields.items()}
            if part not in fields:
                return []
            current = fields[part].annotation
        elif typing.get_origin(current) in (list, dict):
            current = typing.get_args(current)[-1]
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or name for name, f in current.model_fields.items()]
    return []


def _unwrap(annotation: Any) -> Any:
    """Strip `Annotated[...]` and `X | None` down to the type that has fields."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
            annotation = models[0] if models else members[0]
        else:
            return annotation
