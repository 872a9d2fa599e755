"""Pass 1 — load: YAML file → plain data plus a source map of every key's line and column.

Input: a file path. Output: `Document` (plain dicts/lists/scalars, `SourceMap`). Errors (`SpecError`): file too
large, not UTF-8, YAML syntax, duplicate keys, several documents, a top level that is not a mapping, non-string
keys, explicit tags beyond the YAML core schema, and aliases that expand past a node budget (alias bombs).
Only the round-trip loader of ruamel.yaml is used: it never constructs Python objects from tags. Whatever ruamel
raises on hostile input (a forbidden character, a value or key its constructor can't build, a comment its scanner
can't place) becomes a YAML syntax diagnostic, not a traceback.
"""

from __future__ import annotations

import codecs
import contextlib
import datetime
import hashlib
import json
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLWarning
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError

from .errors import Code, Diagnostic, Location, SpecError
from .textutil import line_col

MAX_FILE_BYTES = 1024 * 1024
# A spec has a few hundred nodes; anything past this is an alias bomb or a generated monster.
MAX_NODES = 20_000
MAX_DEPTH = 40
# What ruamel's constructor raises, unmarked, on a value it can't build: a scalar its tag can't read (`!!float abc`,
# `!!bool x`, 5000 digits), a tag on the wrong kind of node (`!!set x`, `!!str [1]`), a key it can't hash.
UNCONSTRUCTIBLE = (ValueError, TypeError, AttributeError, KeyError, IndexError)
# Explicit tags that only restate what the core schema would infer anyway.
CORE_TAGS = {"tag:yaml.org,2002:" + t for t in ("str", "int", "float", "bool", "null", "map", "seq")}
# A clue in the parser's message → what to do about it.
SYNTAX_HINTS = {"'\\t'": "; YAML is indented with spaces, never tabs",
                "expected <block end>": "; check this line's indentation against the lines above it"}
# ruamel's types for YAML values that have no JSON equivalent, by the tag that makes them
NON_JSON_TAGS = {"bytes": "!!binary", "CommentedSet": "!!set", "CommentedOrderedMap": "!!omap", "set": "!!set"}
COLLECTION_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}

FieldPath = tuple[str | int, ...]


@dataclass(frozen=True)
class SourceMap:
    """Where each field was written: path → location of its key (or of the list item).

    A merged spec's map holds locations from several files: the layer that set a field owns its location.
    """

    file: str
    locations: dict[FieldPath, Location] = field(default_factory=dict)

    def locate(self, path: FieldPath) -> Location:
        """Location of `path`, or of its nearest written ancestor (a missing field points at its parent)."""
        path = tuple(path)
        while path:
            if path in self.locations:
                return self.locations[path]
            path = path[:-1]
        return self.locations.get((), Location(self.file))


@dataclass(frozen=True)
class Document:
    file: str
    data: dict[str, Any]
    source: SourceMap
    sha256: str = ""  # of the file's bytes: what the cache keys on


    def to_json(self) -> dict[str, Any]:
        """JSON types only, for the load cache: dates are listed by path and restored by `from_json`."""
        dates: list[list[Any]] = []

        def plain(value: Any, path: FieldPath) -> Any:
            if isinstance(value, dict):
                return {k: plain(v, path + (k,)) for k, v in value.items()}
            if isinstance(value, list):
                return [plain(v, path + (i,)) for i, v in enumerate(value)]
            if isinstance(value, (datetime.date, datetime.datetime)):
                dates.append([list(path), type(value).__name__])
                return value.isoformat()
            return value

        return {"file": self.file, "sha256": self.sha256, "data": plain(self.data, ()), "dates": dates,
                "locations": [[list(p), loc.file, loc.line, loc.column] for p, loc in self.source.locations.items()]}

    @classmethod
    def from_json(cls, entry: dict[str, Any]) -> Document:
        data = entry["data"]
        for path, kind in entry["dates"]:
            *parents, leaf = path
            holder = data
            for part in parents:
                holder = holder[part]
            parse = datetime.datetime if kind == "datetime" else datetime.date
            holder[leaf] = parse.fromisoformat(holder[leaf])
        locations = {tuple(path): Location(file, line, column) for path, file, line, column in entry["locations"]}
        return cls(entry["file"], data, SourceMap(entry["file"], locations), entry["sha256"])


def load(path: Path, display: str | None = None, raw: bytes | None = None) -> Document:
    """Load one YAML file; `display` is the path shown in diagnostics (relative to the repo root); `raw` is its
    content when the caller has already read it."""
    display = display or str(path)

    def fail(code: Code, message: str, line: int = 1, column: int = 1) -> SpecError:
        return SpecError([Diagnostic(code, Location(display, line, column), message)])

    try:
        size = len(raw) if raw is not None else path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise fail(Code.FILE_TOO_LARGE, f"file is {size} bytes; specs are capped at {MAX_FILE_BYTES} bytes")
        raw = path.read_bytes() if raw is None else raw
    except OSError as exc:
        raise fail(Code.FILE_UNREADABLE, f"cannot read file: {exc.strerror or exc}") from None
    wide = _wide_encoding(raw)
    if wide:
        raise fail(Code.ENCODING, f"file is {wide}, not UTF-8; save it as UTF-8")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise fail(Code.ENCODING, f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02X}); save it as UTF-8",
                   *line_col(raw, exc.start)) from None

    # The parser recurses per flow bracket: refuse a run of openers before it spends seconds failing on it.
    brackets = re.search(r"[\[{]" + r"\s*[\[{]" * MAX_DEPTH, text)
    if brackets:
        raise fail(Code.YAML_SYNTAX, f"nesting deeper than {MAX_DEPTH} levels", *line_col(text, brackets.start()))

    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        with _quiet():
            documents = list(yaml.load_all(text))
    except DuplicateKeyError as exc:
        mark = exc.problem_mark
        key = re.search(r'found duplicate key "([^"]*)"', str(exc))
        first = exc.context_mark.line + 1 if exc.context_mark else "?"
        name = ""
        if key:  # a key with a line break is shown escaped: the diagnostic stays on one line
            name = f' "{key[1]}"' if key[1].isprintable() else f" {key[1]!r}"
        raise fail(Code.DUPLICATE_KEY, f"duplicate key{name} (the mapping starts on line {first})",
                   mark.line + 1, mark.column + 1) from None
    except ReaderError as exc:  # NUL and other characters YAML forbids: raised before parsing, without a mark
        raise fail(Code.YAML_SYNTAX, f"invalid YAML: character U+{exc.character:04X} is not allowed in YAML",
                   *line_col(text, exc.position)) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        opened = exc.context_mark
        if exc.problem and exc.context and opened and opened.line != mark.line:
            # what was left open, and where: the problem is often only where the file ran out
            problem += f" ({exc.context.strip()} at line {opened.line + 1}, column {opened.column + 1})"
        problem += next((hint for clue, hint in SYNTAX_HINTS.items() if clue in problem), "")
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise fail(Code.YAML_SYNTAX, f"invalid YAML: {problem}", line, column) from None
    except RecursionError:
        raise fail(Code.YAML_SYNTAX, "invalid YAML: nesting is too deep") from None
    except AssertionError:  # ruamel's scanner asserts on a comment line followed by a `|`/`>` block with a comment
        raise fail(Code.YAML_SYNTAX, "invalid YAML: the parser cannot place a comment; move a comment that follows "
                   "a `|` or `>` indicator to a line of its own") from None
    except UNCONSTRUCTIBLE as exc:
        detail = exc if isinstance(exc, ValueError) else "a tag or a key that does not fit its content"
        if digits := re.search(r"limit \((\d+) digits\).*has (\d+) digits", str(exc)):
            detail = f"a number of {digits[2]} digits (the limit is {digits[1]})"
        line, column = _unconstructible_node(text)
        raise fail(Code.YAML_SYNTAX, f"invalid YAML value: {detail}", line, column) from None

    if len(documents) > 1:
        raise fail(Code.MULTIPLE_DOCUMENTS, f"file holds {len(documents)} YAML documents; write one per file")
    root = documents[0] if documents else None
    if not isinstance(root, CommentedMap):
        what = "empty" if root is None else ("a list" if isinstance(root, CommentedSeq) else "a single value")
        raise fail(Code.NOT_A_MAPPING, f"the top level must be a mapping of fields, but the file is {what}")

    converter = _Converter(display)
    data = converter.convert(root, (), 0)
    if converter.problems:
        raise SpecError(converter.problems)
    if data:  # a missing top-level section points at the document's first key, not at a comment above it
        converter.locations[()] = converter.locations[(next(iter(data)),)]
    return Document(display, data, SourceMap(display, converter.locations), hashlib.sha256(raw).hexdigest())


def _wide_encoding(raw: bytes) -> str | None:
    """UTF-16 or UTF-32, by its byte-order mark or (without one) by the NUL bytes that ASCII text has in it."""
    for bom, name in ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
                      (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16")):
        if raw.startswith(bom):
            return name
    sample = raw[:64]
    if len(sample) >= 8 and sample.count(0) * 4 >= len(sample):  # 'a\0b\0' or 'a\0\0\0': never UTF-8 text
        return "UTF-32" if sample.count(0) * 4 >= len(sample) * 3 else "UTF-16"
    return None


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """ruamel warns on stderr about valid YAML (a reused anchor): that would break the one-line diagnostics."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", YAMLWarning)
        yield


def _unconstructible_node(text: str) -> tuple[int, int]:
    """Line and column of the innermost node that fails to construct on its own; for a mapping whose parts all
    construct, of its first key that is a mapping or a list (ruamel can't hash one that holds another). 1:1 if
    nothing fails alone."""

    def fails(node: Any) -> bool:
        try:
            YAML(typ="rt").constructor.construct_object(node, deep=True)  # a fresh one: a failure leaves state
        except Exception:  # whatever it raises, this node is, or holds, what load() could not build
            return True
        return False

    culprit, seen = None, set()
    with _quiet():
        for document in YAML(typ="rt").compose_all(text):  # lazily: documents after the failing one may not parse
            if fails(document):
                culprit = document
                break
        while culprit is not None:
            seen.add(id(culprit))  # anchors can make a node its own descendant
            parts = ([part for pair in culprit.value for part in pair] if isinstance(culprit, MappingNode)
                     else culprit.value if isinstance(culprit, SequenceNode) else [])
            inner = next((part for part in parts if id(part) not in seen and fails(part)), None)
            if inner is None:
                break
            culprit = inner
    if culprit is None:
        return 1, 1
    if isinstance(culprit, MappingNode):
        culprit = next((key for key, _ in culprit.value if not isinstance(key, ScalarNode)), culprit)
    return culprit.start_mark.line + 1, culprit.start_mark.column + 1


class _Converter:
    """Turns ruamel's round-trip nodes into plain data, recording positions and refusing what a spec can't be."""

    def __init__(self, file: str):
        self.file = file
        self.locations: dict[FieldPath, Location] = {(): Location(file)}
        self.problems: list[Diagnostic] = []
        self.nodes = 0

    def problem(self, code: Code, message: str, path: FieldPath) -> None:
        self.problems.append(Diagnostic(code, self._locate(path), message, dotted(path)))

    def _locate(self, path: FieldPath) -> Location:
        while path not in self.locations:
            path = path[:-1]
        return self.locations[path]

    def _record(self, path: FieldPath, line: int, column: int) -> None:
        """ruamel counts from 0; people count from 1."""
        self.locations.setdefault(path, Location(self.file, line + 1, column + 1))

    def convert(self, node: Any, path: FieldPath, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise SpecError([Diagnostic(Code.ALIAS_EXPANSION, self._locate(path),
                                        f"document expands to more than {MAX_NODES} nodes "
                                        "(aliases that multiply, or a file far larger than a spec)",
                                        dotted(path))])
        if depth > MAX_DEPTH:
            raise SpecError([Diagnostic(Code.YAML_SYNTAX, self._locate(path),
                                        f"nesting deeper than {MAX_DEPTH} levels", dotted(path))])
        tag = getattr(getattr(node, "tag", None), "value", None)
        if isinstance(node, TaggedScalar):
            if tag in CORE_TAGS:
                return str(node.value)
            self.problem(Code.FORBIDDEN_TAG, f"YAML tag {_shown(tag)} is not allowed in a spec", path)
            return None
        if tag and tag not in CORE_TAGS:
            self.problem(Code.FORBIDDEN_TAG, f"YAML tag {_shown(tag)} is not allowed in a spec", path)
            return None
        if tag and tag not in COLLECTION_TAGS and isinstance(node, (CommentedMap, CommentedSeq)):
            # `!!str [1, 2]`: ruamel keeps the list, with neither a string nor the positions of its items
            self.problem(Code.FORBIDDEN_TAG, f"YAML tag {_shown(tag)} does not fit a mapping or a list", path)
            return None
        if isinstance(node, CommentedMap):
            return self._mapping(node, path, depth)
        if isinstance(node, CommentedSeq):
            items = []
            for index, item in enumerate(node):
                self._record(path + (index,), *node.lc.item(index))
                items.append(self.convert(item, path + (index,), depth + 1))
            return items
        return self._scalar(node, path)

    def _mapping(self, node: CommentedMap, path: FieldPath, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key in node:
            try:
                line, column = node.lc.key(key)
            except (KeyError, TypeError):  # keys brought in by a `<<` merge have no position of their own
                line, column = node.lc.line, node.lc.col
            if not isinstance(key, str):
                written, what = _yaml_value(key)
                self._record(path + (written,), line, column)
                quote = "" if what == "a list" else f'; quote it: "{written}"'
                self.problem(Code.NON_STRING_KEY, f"key {written} is {what}, not a string{quote}", path + (written,))
                continue
            self._record(path + (key,), line, column)
            result[key] = self.convert(node[key], path + (key,), depth + 1)
        return result

    def _scalar(self, value: Any, path: FieldPath) -> Any:
        if value is None or isinstance(value, (bool, str)):
            return str(value) if isinstance(value, str) else value
        if isinstance(value, int):
            return int(value)
        if isinstance(value, float):
            return float(value)
        if isinstance(value, (datetime.date, datetime.datetime)):
            return value
        tag = NON_JSON_TAGS.get(type(value).__name__, type(value).__name__)
        self.problem(Code.FORBIDDEN_TAG, f"a {tag} value is not allowed in a spec", path)
        return None


def _shown(tag: str) -> str:
    """A tag as it is written: `!!python/object`, not `tag:yaml.org,2002:python/object`."""
    return "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml.org,2002:") else tag


def _yaml_value(key: Any) -> tuple[str, str]:
    """A non-string key as YAML reads it (`true`, `null`, `1`, `[a, b]`) and what kind of value that is."""
    if isinstance(key, bool) or key is None:
        return json.dumps(key), "a boolean" if isinstance(key, bool) else "null"
    if isinstance(key, (int, float)):
        return json.dumps(key), "a number"
    if isinstance(key, tuple):
        return json.dumps(list(key), default=str), "a list"
    return str(key), f"a {type(key).__name__}"


def dotted(path: FieldPath) -> str:
    """`("serving", "replicas", "min")` → `serving.replicas.min`; list items as `secrets[0].name`."""
    out = ""
    for part in path:
        if isinstance(part, str) and not part.isprintable():  # a key with a line break would break the diagnostic line
            part = repr(part)
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse_dotted(text: str) -> FieldPath:
    """`secrets[0].name` → `("secrets", 0, "name")`: the inverse of `dotted`."""
    return tuple(int(part) if part.isdigit() else part for part in re.findall(r"[^.\[\]]+", text))
