"""A custom resource against a structural openAPIV3Schema, as the API server checks it on create.

The walk is ours because the Kubernetes-only parts have no JSON Schema equivalent: nullable, int-or-string,
preserve-unknown-fields, embedded resources and their ObjectMeta, list types, pruning of nulls, defaulting, and
unknown fields as server-side apply refuses them (`.spec.schedule: field not declared in schema`). The value keywords
each node declares (enum, lengths, bounds, item and property counts, anyOf/oneOf/allOf/not) are checked by
`jsonschema` (Draft 4, the dialect OpenAPI 3.0 schemas are written in); `pattern` is ours, as the server's Go (RE2)
syntax is not always Python's. Messages are worded as the API server's."""

from __future__ import annotations

import base64
import binascii
import copy
import datetime
import json
import re

import jsonschema

from .rules import ROOT, rule_errors

VALUE_KEYWORDS = ("enum", "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum",
                  "exclusiveMaximum", "multipleOf", "minItems", "maxItems", "uniqueItems", "minProperties",
                  "maxProperties", "anyOf", "oneOf", "allOf", "not")
OBJECT_META = {"name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
               "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations",
               "ownerReferences", "finalizers", "managedFields"}
DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
PYTHON_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "integer": int, "number": (int, float)}

# per schema node, by id; each entry holds its node, so no other dict can take that id while it is cached
_validators: dict[int, tuple[dict, jsonschema.Draft4Validator]] = {}
_rules_in: dict[int, tuple[dict, bool]] = {}


def validate_object(obj: dict, schema: dict) -> list[str]:
    """Every refusal of `obj` (defaulted first, as the server defaults before it validates); [] = admitted."""
    value = _plain(obj)
    meta = value.get("metadata")
    if isinstance(meta, dict) and not meta.get("name") and isinstance(meta.get("generateName"), str):
        # the server names the object before it validates it: the prefix (at most 58 characters) and 5 random ones
        meta["name"] = meta["generateName"][:58] + "xxxxx"
    _default(value, schema)
    errors: list[str] = []
    refusals: list[str] = []
    _check(value, schema, "", errors, refusals, resource=True)
    if not errors:
        return refusals
    if _has_rules(schema):  # as the server: CEL rules only run on an object that passed the schema
        errors.append(f"{ROOT}: Invalid value: null: some validation rules were not checked because the object was "
                      "invalid; correct the existing errors to complete validation")
    return errors


def _has_rules(schema: dict) -> bool:
    if id(schema) not in _rules_in:
        _rules_in[id(schema)] = (schema, '"x-kubernetes-validations"' in json.dumps(schema))
    return _rules_in[id(schema)][1]


def _plain(value: object) -> object:
    """JSON's data model: YAML timestamps are strings to the API server."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat().replace("+00:00", "Z")
    return value


def _default(value: object, schema: dict) -> None:
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        for key, sub in properties.items():
            if value.get(key) is None and "default" in sub and not (key in value and sub.get("nullable")):
                value[key] = copy.deepcopy(sub["default"])
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            sub = properties.get(key, extra if isinstance(extra, dict) else None)
            if sub:
                _default(item, sub)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for item in value:
            _default(item, schema["items"])


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _show(value: object) -> str:
    return json.dumps(value) if not isinstance(value, (dict, list)) else f'"{_type_of(value)}"'


def _type_of(value: object) -> str:
    for name in ("boolean", "integer", "number", "string", "object", "array"):
        kind = PYTHON_TYPES[name]
        if isinstance(value, kind) and not (name in ("integer", "number") and isinstance(value, bool)):
            return name
    return "null" if value is None else type(value).__name__


def _has_type(value: object, schema: dict) -> bool:
    if schema.get("x-kubernetes-int-or-string"):
        return _type_of(value) in ("integer", "string")
    wanted = schema.get("type")
    return not wanted or _type_of(value) == wanted or (wanted == "number" and _type_of(value) == "integer")


def _check(value: object, schema: dict, path: str, errors: list[str], refusals: list[str],
           resource: bool = False) -> None:
    """Schema errors into `errors`, CEL refusals into `refusals`."""
    where = path or ROOT
    if value is None:
        if not schema.get("nullable"):
            errors.append(f'{where}: Invalid value: "null": {where} in body must be of type {schema.get("type")}')
        return
    if not _has_type(value, schema):
        wanted = "integer or string" if schema.get("x-kubernetes-int-or-string") else schema["type"]
        errors.append(f'{where}: Invalid value: "{_type_of(value)}": {where} in body must be of type {wanted}: '
                      f'{_show(value)}')
        return
    if isinstance(value, str) and isinstance(schema.get("pattern"), str):
        matched = _matches(schema["pattern"], value)
        if matched is not True:
            errors.append(f"{where}: Invalid value: {_show(value)}: {where} in body should match "
                          f"'{schema['pattern']}'" + ("" if matched is False else f" ({matched})"))
    if isinstance(value, str) and not _format_ok(value, schema.get("format")):
        errors.append(f"{where}: Invalid value: {_show(value)}: {where} in body must be of type "
                      f"{schema['format']}: {_show(value)}")
    if isinstance(value, dict):
        embedded = resource or schema.get("x-kubernetes-embedded-resource", False)
        _check_object(value, schema, path, errors, refusals, embedded)
    elif isinstance(value, list):
        _check_list(value, schema, path, errors, refusals)
    _check_values(value, schema, path, errors)
    refusals.extend(rule_errors(value, schema, path))


def _check_object(value: dict, schema: dict, path: str, errors: list[str], refusals: list[str], resource: bool) -> None:
    properties = schema.get("properties") or {}
    extra = schema.get("additionalProperties")
    for key in schema.get("required", []):
        if value.get(key) is None:
            errors.append(f"{_join(path, key)}: Required value")
    if resource and schema.get("x-kubernetes-embedded-resource"):
        for key in ("apiVersion", "kind"):
            if not value.get(key):
                errors.append(f"{_join(path, key)}: Required value: must not be empty")
    for key, item in value.items():
        here = _join(path, key)
        if resource and key == "metadata":
            _check_metadata(item, here, errors, root=not path)
            continue
        sub = properties.get(key)
        if sub is None and resource and key in ("apiVersion", "kind"):
            sub = {"type": "string"}
        if sub is None and isinstance(extra, dict):
            sub = extra
        if sub is None:
            if not (extra is True or schema.get("x-kubernetes-preserve-unknown-fields")):
                errors.append(f".{here}: field not declared in schema")
            continue
        if item is None and not sub.get("nullable"):
            continue  # the server prunes a null it may not store
        _check(item, sub, here, errors, refusals)


def _check_metadata(meta: object, path: str, errors: list[str], root: bool) -> None:
    """ObjectMeta, whatever the CRD declares for it: its own fields only, a DNS subdomain name, valid label values."""
    if not isinstance(meta, dict):
        errors.append(f'{path}: Invalid value: "{_type_of(meta)}": {path} in body must be of type object')
        return
    for key in meta:
        if key not in OBJECT_META:
            errors.append(f".{path}.{key}: field not declared in schema")
    name = meta.get("name")
    if root and not name and not meta.get("generateName"):
        errors.append(f"{path}.name: Required value: name or generateName is required")
    if isinstance(name, str) and name and (len(name) > 253 or not DNS1123_SUBDOMAIN.fullmatch(name)):
        errors.append(f"{path}.name: Invalid value: {_show(name)}: a lowercase RFC 1123 subdomain must consist of "
                      "lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric "
                      "character")
    for label in (meta.get("labels") or {}).values():
        if not isinstance(label, str) or len(label) > 63 or not LABEL_VALUE.fullmatch(label):
            errors.append(f"{path}.labels: Invalid value: {_show(label)}: a valid label must be an empty string or "
                          "consist of alphanumeric characters, '-', '_' or '.', at most 63 characters")


def _check_list(value: list, schema: dict, path: str, errors: list[str], refusals: list[str]) -> None:
    items = schema.get("items")
    kind = schema.get("x-kubernetes-list-type")
    if kind in ("set", "map"):
        keys = schema.get("x-kubernetes-list-map-keys", [])
        seen = []
        for index, item in enumerate(value):
            key = [item.get(k) for k in keys] if kind == "map" and isinstance(item, dict) else item
            if key in seen:
                shown = dict(zip(keys, key, strict=True)) if kind == "map" and isinstance(item, dict) else key
                errors.append(f"{path}[{index}]: Duplicate value: {json.dumps(shown)}")
            seen.append(key)
    if isinstance(items, dict):
        for index, item in enumerate(value):
            _check(item, items, f"{path}[{index}]", errors, refusals)


_patterns: dict[str, re.Pattern | str] = {}


def _matches(pattern: str, value: str) -> bool | str:
    """Go's regexp.MatchString in Python: `^(?i)…` (a flag after the anchor, fine in Go) becomes `(?i)^…`, and a final
    `$` is the end of the text (`\\Z`), not also before a last newline. A pattern Python still cannot compile is
    reported (fail closed), never skipped."""
    if pattern not in _patterns:
        python = re.sub(r"^\^\(\?([imsU]+)\)", r"(?\1)^", pattern)
        if python.endswith("$") and not python.endswith("\\$"):
            python = python[:-1] + r"\Z"
        try:
            _patterns[pattern] = re.compile(python)
        except re.error as error:
            _patterns[pattern] = f"the pattern cannot be checked offline: {error}"
    compiled = _patterns[pattern]
    return compiled if isinstance(compiled, str) else compiled.search(value) is not None


def _format_ok(value: str, fmt: str | None) -> bool:
    """The formats the API server checks among those these CRDs use (int32, int64 and double it does not)."""
    if fmt == "date-time":
        try:
            datetime.datetime.fromisoformat(value.replace("z", "Z"))
        except ValueError:
            return False
        return "T" in value.upper() or " " in value
    if fmt == "byte":
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return False
    return True


def _check_values(value: object, schema: dict, path: str, errors: list[str]) -> None:
    local = {k: schema[k] for k in VALUE_KEYWORDS if k in schema}
    if not local:
        return
    if id(schema) not in _validators:
        _validators[id(schema)] = (schema, jsonschema.Draft4Validator(local))
    try:
        found = list(_validators[id(schema)][1].iter_errors(value))
    except re.error as error:  # a Go-only pattern inside anyOf/oneOf/allOf/not
        errors.append(f"{path or ROOT}: Invalid value: {_show(value)}: cannot be checked offline: {error}")
        return
    for error in sorted(found, key=lambda e: (list(map(str, e.absolute_path)), e.validator)):
        here = path
        for part in error.absolute_path:
            here = f"{here}[{part}]" if isinstance(part, int) else _join(here, part)
        errors.append(_worded(error, here or ROOT))


def _worded(error: jsonschema.ValidationError, where: str) -> str:
    """A jsonschema error in the API server's words (k8s.io/apimachinery field errors via kube-openapi)."""
    value, limit, keyword = error.instance, error.validator_value, error.validator
    shown = _show(value)
    if keyword == "enum":
        return f"{where}: Unsupported value: {shown}: supported values: {', '.join(map(_show, limit))}"
    if keyword == "pattern":
        return f"{where}: Invalid value: {shown}: {where} in body should match '{limit}'"
    if keyword == "minLength":
        return f"{where}: Invalid value: {shown}: {where} in body should be at least {limit} chars long"
    if keyword == "maxLength":
        return f"{where}: Too long: may not be more than {limit} bytes"
    if keyword == "minimum":
        return f"{where}: Invalid value: {shown}: {where} in body should be greater than or equal to {limit}"
    if keyword == "maximum":
        return f"{where}: Invalid value: {shown}: {where} in body should be less than or equal to {limit}"
    if keyword == "minItems":
        return f"{where}: Invalid value: {len(value)}: {where} in body should have at least {limit} items"
    if keyword == "maxItems":
        return f"{where}: Too many: {len(value)}: must have at most {limit} items"
    if keyword == "minProperties":
        return f"{where}: Invalid value: {len(value)}: {where} in body should have at least {limit} properties"
    if keyword == "maxProperties":
        return f"{where}: Too many: {len(value)}: must have at most {limit} properties"
    return f"{where}: Invalid value: {shown}: {where} in body {error.message}"
