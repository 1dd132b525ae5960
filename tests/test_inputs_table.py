"""action.yml and the README's tables agree with `batch_action/inputs.py`, where inputs and outputs are declared.

A new input fails here until its row is in all three; a changed default or range fails until every copy of it
says the same.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from batch_action.inputs import INPUTS, OUTPUTS, Kind
from batch_action.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
EMPTY = "*(empty)*"
EN_DASH = "\u2013"  # the README writes ranges as 1\u201332


@pytest.fixture(scope="module")
def action() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    return data


def readme_table(heading: str) -> dict[str, list[str]]:
    """The rows of the table under `## heading`, by their first cell (a `name` in backticks)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, list[str]] = {}
    for line in section.splitlines():
        if match := re.match(r"^\| `([a-z0-9-]+)` \|(.*)\|$", line):
            rows[match.group(1)] = [cell.strip() for cell in match.group(2).split(" | ")]
    return rows


def test_action_yml_declares_the_table_in_its_order(action: dict[str, Any]) -> None:
    assert list(action["inputs"]) == [spec.name for spec in INPUTS]
    assert list(action["outputs"]) == [out.name for out in OUTPUTS]


def test_action_yml_defaults_and_descriptions_are_the_tables(action: dict[str, Any]) -> None:
    problems = []
    for spec in INPUTS:
        declared = action["inputs"][spec.name]
        if str(declared["default"]) != spec.declared_default:
            problems.append(f"{spec.name}: default {declared['default']!r}, the table says {spec.declared_default!r}")
        if declared["description"] != spec.description:
            problems.append(f"{spec.name}: description differs from inputs.py")
    for out in OUTPUTS:
        if action["outputs"][out.name]["description"] != out.description:
            problems.append(f"output {out.name}: description differs from inputs.py")
    assert not problems, "\n".join(problems)


def test_readme_inputs_table_has_each_default_range_and_choice() -> None:
    rows = readme_table("Inputs")
    assert list(rows) == [spec.name for spec in INPUTS]
    problems = []
    for spec in INPUTS:
        default, description = rows[spec.name]
        shown = f"`{spec.declared_default}`" if spec.declared_default else EMPTY
        if default != shown:
            problems.append(f"{spec.name}: README default {default}, the table says {shown}")
        if spec.low is not None and spec.range_text(EN_DASH) not in description:
            problems.append(f"{spec.name}: README does not give the range {spec.range_text(EN_DASH)}")
        for choice in spec.choices:
            if f"`{choice}`" not in description:
                problems.append(f"{spec.name}: README does not name the choice `{choice}`")
    assert not problems, "\n".join(problems)


def test_action_yml_descriptions_give_each_range_and_choice() -> None:
    problems = [
        f"{spec.name}: no range {spec.range_text()}"
        for spec in INPUTS
        if spec.low is not None and spec.range_text() not in spec.description
    ]
    problems += [
        f"{spec.name}: no choice '{choice}'"
        for spec in INPUTS
        for choice in spec.choices
        if f"'{choice}'" not in spec.description
    ]
    assert not problems, "\n".join(problems)


def test_readme_outputs_table_is_the_tables() -> None:
    assert list(readme_table("Outputs")) == [out.name for out in OUTPUTS]


def test_every_input_has_a_settings_field_and_a_sound_row() -> None:
    fields = set(Settings.__dataclass_fields__)
    for spec in INPUTS:
        attribute = "token" if spec.name == "github-token" else spec.name.replace("-", "_")
        assert attribute in fields, f"{spec.name}: no field `{attribute}` on Settings"
        ranged = spec.kind in (Kind.INTEGER, Kind.NUMBER)
        assert ranged == (spec.low is not None and spec.high is not None), f"{spec.name}: a range iff a number"
        assert (spec.kind is Kind.CHOICE) == bool(spec.choices), f"{spec.name}: choices iff a choice"
        if spec.kind is Kind.BOOLEAN:
            assert spec.default in ("true", "false"), spec.name
        if spec.kind is Kind.CHOICE:
            assert spec.default in spec.choices, spec.name
        if ranged and spec.default:
            assert spec.low is not None and spec.high is not None
            assert spec.low <= float(spec.default) <= spec.high, f"{spec.name}: default out of its range"
