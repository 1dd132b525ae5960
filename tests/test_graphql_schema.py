"""Every GraphQL document the action sends, validated against GitHub's published schema; and the fake's subset
checked to be GitHub's (same types, fields and arguments), so a misspelt field fails here, not in a user's run.

The schema comes from `scripts/install-graphql-schema.sh` (npm `@octokit/graphql-schema`, pinned by version and
integrity; `scripts/test.sh` runs it, and CI fails without it). Elsewhere, without it, these tests are skipped.
"""

from __future__ import annotations

import os
import subprocess
from functools import cache
from pathlib import Path

import pytest
from graphql import GraphQLInterfaceType, GraphQLObjectType, GraphQLSchema, build_schema, parse, validate

from batch_action.projects import queries
from tests.fake_github.graphql import SDL

ROOT = Path(__file__).resolve().parents[1]


def _schema_path() -> Path:
    given = os.environ.get("BATCH_ACTION_GRAPHQL_SCHEMA")
    if given:
        return Path(given)
    tools = os.environ.get("BATCH_ACTION_TOOLS_DIR") or str(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "batch-action-tools"
    )
    script = (ROOT / "scripts" / "install-graphql-schema.sh").read_text(encoding="utf-8")
    version = next(line.split("=", 1)[1] for line in script.splitlines() if line.startswith("version="))
    return Path(tools) / "graphql-schema" / version / "schema.graphql"


@cache
def github_schema() -> GraphQLSchema:
    path = _schema_path()
    if not path.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"GitHub's GraphQL schema is not installed at {path}: run scripts/install-graphql-schema.sh")
        pytest.skip(f"GitHub's GraphQL schema is not installed ({path}); scripts/install-graphql-schema.sh does it")
    # The published SDL repeats a few enterprise fields; graphql-core refuses that unless told the SDL is valid.
    return build_schema(path.read_text(encoding="utf-8"), assume_valid_sdl=True)


@pytest.mark.parametrize(("name", "document"), list(queries.documents()), ids=[n for n, _ in queries.documents()])
def test_each_document_the_action_sends_is_valid_against_githubs_schema(name: str, document: str) -> None:
    errors = validate(github_schema(), parse(document))
    assert not errors, f"{name}: {[error.message for error in errors]}"


def test_a_misspelt_field_is_caught() -> None:
    wrong = queries.ADD_ITEM.replace("contentId", "contentID")
    assert validate(github_schema(), parse(wrong))


def test_the_fakes_subset_is_githubs() -> None:
    """Each type and field of the fake's SDL is GitHub's, with the same type and arguments (GitHub has more)."""
    github, fake = github_schema(), build_schema(SDL)
    problems: list[str] = []
    for name, fake_type in fake.type_map.items():
        if name.startswith("__"):
            continue
        real = github.type_map.get(name)
        if real is None:
            problems.append(f"{name}: no such type at GitHub")
            continue
        fields = fake_type.fields if isinstance(fake_type, GraphQLObjectType | GraphQLInterfaceType) else {}
        for field_name, fake_field in fields.items():
            real_field = getattr(real, "fields", {}).get(field_name)
            if real_field is None:
                problems.append(f"{name}.{field_name}: no such field at GitHub")
                continue
            if str(real_field.type) != str(fake_field.type):
                problems.append(f"{name}.{field_name}: {fake_field.type} here, {real_field.type} at GitHub")
            for arg, fake_arg in getattr(fake_field, "args", {}).items():
                real_arg = real_field.args.get(arg) if hasattr(real_field, "args") else None
                if real_arg is None or str(real_arg.type) != str(fake_arg.type):
                    problems.append(f"{name}.{field_name}({arg}): not GitHub's argument")
    assert not problems, "\n".join(problems)


def test_the_install_script_is_idempotent_and_pinned() -> None:
    script = (ROOT / "scripts" / "install-graphql-schema.sh").read_text(encoding="utf-8")
    assert "integrity=sha512-" in script and "version=" in script
    if not _schema_path().is_file():
        pytest.skip("the schema is not installed")
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "install-graphql-schema.sh")], capture_output=True, text=True, check=True
    )
    assert "already installed" in done.stdout
