"""The x-kubernetes-validations CEL rules of one schema node, evaluated with `self` bound to the node's value.

The `cel` package implements CEL's core (has, size, all, exists, exists_one, filter, map, contains, startsWith,
endsWith, matches, int, duration, ...). The Kubernetes CEL libraries these CRDs also call are added here: the strings
extension's `substring` (the package's own stdlib) and the URL library (`url`, `isURL`, `getScheme`, ...). A rule that
calls any other function is refused with its name (fail closed: never a silent pass). Transition rules (those that
read `oldSelf`) are skipped, as the API server skips them on create, unless `optionalOldSelf` asks for them to run
with `oldSelf` absent. One core function differs: the package's
`size` of a string counts UTF-8 bytes where CEL (and so Kubernetes) counts code points, and a registered function
cannot replace it, so `size` is compiled as our `kubernetesSize`."""

from __future__ import annotations

import re
import urllib.parse

import cel
from cel import stdlib


def _url(text: str) -> dict:
    if not _is_url(text):
        raise ValueError(f"URL parse error during conversion from string: {text}")
    parts = urllib.parse.urlsplit(text)
    return {"scheme": parts.scheme, "host": parts.netloc, "hostname": parts.hostname or "",
            "port": str(parts.port or ""), "path": parts.path, "query": parts.query}


def _is_url(text: str) -> bool:
    """Go's url.ParseRequestURI, as Kubernetes' isURL: an absolute URL, or an absolute path."""
    if not isinstance(text, str) or not text or any(c in text for c in " \t\r\n") or "#" in text:
        return False
    parts = urllib.parse.urlsplit(text)
    return bool(parts.scheme) if not text.startswith("/") else True


def _size(value: object) -> int:
    return len(value)  # code points for a string, bytes for bytes, entries for a list or map


LITERAL = re.compile(r"""("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')""")
SIZE_CALL = re.compile(r"(?<![A-Za-z0-9_])size\(")


def _counting_code_points(rule: str) -> str:
    """`size(x)` and `x.size()` outside string literals as `kubernetesSize`."""
    parts = LITERAL.split(rule)
    return "".join(p if i % 2 else SIZE_CALL.sub("kubernetesSize(", p) for i, p in enumerate(parts))


def _part(name: str):
    return lambda url: url[name]


KUBERNETES_FUNCTIONS = {
    "substring": stdlib.substring, "url": _url, "isURL": _is_url, "getScheme": _part("scheme"),
    "getHost": _part("host"), "getHostname": _part("hostname"), "getPort": _part("port"),
    "getEscapedPath": _part("path"), "getQuery": _part("query"), "kubernetesSize": _size,
}
CORE_FUNCTIONS = {"size", "contains", "startsWith", "endsWith", "matches", "int", "uint", "double", "string", "bytes",
                  "bool", "duration", "timestamp", "dyn", "type", "has", "hasValue", "value", "orValue"}
OPERATOR = re.compile(r"[^A-Za-z]")  # _&&_, !_, @in, @not_strictly_false, ...
REASONS = {"FieldValueRequired": "Required value", "FieldValueForbidden": "Forbidden",
           "FieldValueDuplicate": "Duplicate value", "FieldValueInvalid": "Invalid value"}

ROOT = "<nil>"  # how the API server names the path of an error on the object itself

_programs: dict[str, cel.Program | str] = {}


def _program(rule: str) -> cel.Program | str:
    """The compiled rule, or why it cannot be evaluated offline (a syntax error, an unsupported function)."""
    if rule not in _programs:
        try:
            program = cel.compile(_counting_code_points(rule))
        except Exception as error:  # the package raises ValueError for syntax, but any failure here is a refusal
            _programs[rule] = f"compilation failed: {str(error).splitlines()[0]}"
        else:
            unknown = sorted(f for f in program.functions()
                             if not OPERATOR.match(f) and f not in CORE_FUNCTIONS and f not in KUBERNETES_FUNCTIONS)
            _programs[rule] = f"unsupported CEL function {', '.join(unknown)} (not evaluated offline)" if unknown \
                else program
    return _programs[rule]


def _evaluate(rule: str, value: object, old: bool = False) -> tuple[object, str | None]:
    """The rule's result, or why there is none. With `old`, `oldSelf` is bound to an absent optional (a create)."""
    program = _program(rule)
    if isinstance(program, str):
        return None, program
    variables = {"self": value, "oldSelf": cel.OptionalValue.none()} if old else {"self": value}
    context = cel.Context(variables=variables, functions=KUBERNETES_FUNCTIONS)
    try:
        return program.execute(context), None
    except KeyError as error:  # the package's "no such key"
        return None, f"rule evaluation error: no such key: {error.args[0] if error.args else ''}"
    except Exception as error:  # any other CEL runtime error (no overload, ...) fails the rule, as on the server
        return None, f"rule evaluation error: {str(error).splitlines()[0]}"


def rule_errors(value: object, schema: dict, path: str) -> list[str]:
    """The refusals of the node's rules, as `<path>: Invalid value: "<type>": <message>`."""
    errors = []
    for rule in schema.get("x-kubernetes-validations") or ():
        program = _program(rule["rule"])
        optional_old = bool(rule.get("optionalOldSelf"))
        if not isinstance(program, str) and "oldSelf" in program.variables() and not optional_old:
            continue  # a transition rule: there is no old object on create
        result, message = _evaluate(rule["rule"], value, optional_old)
        if result is True:
            continue
        if message is None and not isinstance(result, bool):
            message = "rule did not evaluate to a bool"
        if message is None:
            message = rule.get("message") or f"failed rule: {rule['rule']}"
            if rule.get("messageExpression"):
                text, _ = _evaluate(rule["messageExpression"], value, optional_old)
                message = text if isinstance(text, str) and text.strip() else message
        field = rule.get("fieldPath") or ""
        where = (path + field if field.startswith((".", "[")) else f"{path}.{field}") if field else path
        where = where.lstrip(".") or ROOT
        reason = REASONS.get(rule.get("reason") or "FieldValueInvalid", "Invalid value")
        shown = f' "{schema.get("type", "object")}":' if reason == "Invalid value" else ""
        errors.append(f"{where}: {reason}:{shown} {message}")
    return errors
