"""`mlgitops schema`: the exported JSON Schemas are current, editors can use them, and they agree with the models."""

from __future__ import annotations

import json

import jsonschema
import pytest
from ruamel.yaml import YAML

from compiler.errors import Code
from helpers import ROOT, run_cli


@pytest.mark.parametrize("kind, file", [("MLSystem", "mlsystem"), ("Environment", "environment")])
def test_committed_schema_is_current(kind: str, file: str, tmp_path) -> None:
    out = tmp_path / "schema.json"
    assert run_cli(ROOT, "schema", "--kind", kind, "--out", str(out)).exit_code == 0
    assert out.read_text() == (ROOT / "schemas" / f"{file}.schema.json").read_text(), "run `make schemas`"


@pytest.mark.parametrize("folder, file", [("spec", "mlsystem"), ("environments", "environment")])
def test_examples_validate_against_exported_schema_and_carry_the_modeline(folder: str, file: str) -> None:
    schema = json.loads((ROOT / "schemas" / f"{file}.schema.json").read_text())
    jsonschema.validators.validator_for(schema).check_schema(schema)
    for path in sorted((ROOT / folder).glob("*.yaml")):
        text = path.read_text()
        assert text.startswith(f"# yaml-language-server: $schema=../schemas/{file}.schema.json\n"), path
        jsonschema.validate(json.loads(json.dumps(YAML(typ="safe").load(text), default=str)), schema)


def test_schema_describes_fields_and_refuses_unknown_ones() -> None:
    schema = json.loads((ROOT / "schemas" / "mlsystem.schema.json").read_text())
    serving = schema["$defs"]["Serving"]
    assert serving["additionalProperties"] is False
    assert "allowedCallers" in serving["properties"]
    assert serving["properties"]["image"]["description"].startswith("Required for runtime: deployment")
    assert schema["$defs"]["SecretRef"]["required"] == ["name", "from", "keys"]


def test_schema_to_stdout() -> None:
    result = run_cli(ROOT, "schema")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["title"] == "MLSystem"


def test_schema_out_starts_at_the_root(tmp_path) -> None:
    """`--root` works like `git -C` here too: `--out x.json` is the root's x.json, whatever the current directory."""
    assert run_cli(tmp_path, "schema", "--kind", "Environment", "--out", "x.json").exit_code == 0
    assert (tmp_path / "x.json").read_bytes() == (ROOT / "schemas" / "environment.schema.json").read_bytes()


def test_diagnostic_codes_are_unique() -> None:
    values = [member.value for member in Code.__members__.values()]
    assert len(values) == len(set(values)), "two diagnostic names share a code"
