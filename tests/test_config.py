"""The config file reader (batch_action/config.py): values with their lines, problems with file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from batch_action.config import (
    DEFAULT_CONFIG,
    MAX_CONFIG_BYTES,
    Located,
    explicit,
    layer,
    load_config,
    read_config,
    relabel,
    title_format_problem,
)
from batch_action.model import Kind
from batch_action.sync.render import format_title
from tests.helpers import doc

NAMES = ("scope", "kinds", "labels", "dry-run", "max-concurrency", "path")
PATH = ".github/issue-sync.yml"


def read(text: str):  # type: ignore[no-untyped-def]
    return read_config(text, PATH, NAMES)


def test_inputs_keep_the_text_they_were_written_as_and_their_lines() -> None:
    config = read(
        "# comments are fine\n"
        "scope: all\n"
        "dry-run: true\n"
        "max-concurrency: 08\n"
        "kinds: [prd, epic]\n"
        "labels:\n"
        "  - planning\n"
        "  - q3\n"
        "path: ~\n"
    )
    assert config.problems == []
    assert config.inputs == {
        "scope": Located("all", 2),
        "dry-run": Located("true", 3),
        "max-concurrency": Located("08", 4),  # as written: the input's own check reads it
        "kinds": Located("prd,epic", 5),
        "labels": Located("planning,q3", 6),
        "path": Located("", 9),  # null: unset, as an empty input is
    }
    assert config.where("labels") == f"{PATH}:6"


def test_the_sections() -> None:
    config = read(
        "kind-labels:\n"
        "  prd: [roadmap]\n"
        "  task: engineering\n"
        "close-statuses: [Done, shipped]\n"
        "titles:\n"
        '  task: "{epic}: {title}"\n'
    )
    assert config.problems == []
    assert config.kind_labels == {Kind.PRD: ("roadmap",), Kind.TASK: ("engineering",)}
    assert config.close_statuses == frozenset({"done", "shipped"})
    assert config.titles == {Kind.TASK: "{epic}: {title}"}


def test_an_empty_file_sets_nothing() -> None:
    for text in ("", "# nothing\n", "~\n"):
        config = read(text)
        assert config.problems == [] and config.inputs == {} and config.close_statuses is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("scpoe: all\n", f"{PATH}:1: key `scpoe`: is not a key of the config file; did you mean `scope`?"),
        (
            "scope: all\nkind-label:\n  prd: [x]\n",
            f"{PATH}:2: key `kind-label`: is not a key of the config file; did you mean `kind-labels`?",
        ),
        (
            "kind-labels:\n  tasks: [x]\n",
            f"{PATH}:2: key `kind-labels.tasks`: is not a kind; did you mean `task`?",
        ),
        (
            "titles:\n  epic: 3\n  bogus: x\n",
            f"{PATH}:3: key `titles.bogus`: is not a kind; use one of epic, prd, task",
        ),
        ("scope: all\nscope: changed\n", f"{PATH}:2: key `scope`: is given twice (first at line 1); keep one"),
        ("labels: {a: b}\n", f"{PATH}:1: key `labels`: is not a value or a list of values"),
        ("- scope\n", f"{PATH}:1: is a list; write a mapping of `key: value` lines"),
        ("kind-labels: [a]\n", f"{PATH}:1: key `kind-labels`: is a list; write a mapping of `key: value` lines"),
        (
            "titles:\n  task: '{title} ({priority})'\n",
            f"{PATH}:2: key `titles.task`: names {{priority}}, which is not a field of a title; use "
            "{title}, {name}, {key}, {kind}, {epic}",
        ),
        (
            "titles:\n  task: '{titel}'\n",
            f"{PATH}:2: key `titles.task`: names {{titel}}, which is not a field of a title; did you mean {{title}}?",
        ),
        (
            "titles:\n  task: '{title:>99999}'\n",
            f"{PATH}:2: key `titles.task`: {{title}} has a conversion or format spec; write {{title}} alone",
        ),
        (
            "kind-labels:\n  task: [" + "x" * 51 + "]\n",
            f"{PATH}:2: key `kind-labels.task`: '{'x' * 51}' is longer than GitHub's 50 characters for a label",
        ),
    ],
)
def test_problems_name_file_line_and_key(text: str, problem: str) -> None:
    assert read(text).problems == [problem]


def test_anchors_and_aliases_are_refused_where_each_is() -> None:
    assert read("labels: &l [a]\nkinds: *l\n").problems == [
        f"{PATH}:1: key `labels`: anchors and aliases (&, *) are not read; write it out",
        f"{PATH}:2: key `kinds`: anchors and aliases (&, *) are not read; write it out",
    ]


def test_invalid_yaml_names_its_line() -> None:
    [problem] = read("scope: all\nlabels: [a, b\n").problems
    assert problem.startswith(f"{PATH}:3: not valid YAML (")


def test_every_problem_is_reported_together() -> None:
    problems = read("scpoe: all\nkind-labels:\n  epics: [a]\ntitles:\n  task: '{x}'\n").problems
    assert [p.split(":")[1] for p in problems] == ["1", "3", "5"]


def test_a_file_over_the_cap_is_refused_unparsed() -> None:
    [problem] = read("# " + "x" * MAX_CONFIG_BYTES + "\n").problems
    assert "larger than 64 KiB" in problem


def test_the_billion_laughs_do_not_expand() -> None:
    text = 'a: &a ["x"]\n' + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(9)
    )
    problems = read_config(text, PATH, [chr(97 + i) for i in range(10)]).problems
    assert len(problems) == 10 and all("anchors and aliases" in p for p in problems)


def test_title_formats() -> None:
    assert title_format_problem("{epic}: {title} {{braces}}") == ""
    assert "write braces as" in title_format_problem("{title")
    task = doc("epics/auth/001.md", "name: Login")
    assert format_title("[{kind}] {epic}/{name}: {title} {{x}}", task) == "[task] auth/001: Login {x}"


def test_fields_map_front_matter_to_labels_or_assignees() -> None:
    config = read("fields:\n  component: label\n  owner: assignee\n  area: labels\n")
    assert config.problems == []
    assert config.field_labels == ("component", "area") and config.field_assignees == ("owner",)
    assert read("fields:\n  owner: asignee\n").problems == [
        f"{PATH}:2: key `fields.owner`: is not `label` or `assignee`; did you mean `assignee`?"
    ]
    assert read("fields:\n  'a b': label\n").problems == [
        f"{PATH}:2: key `fields.a b`: is not a front-matter field name (letters, digits, _ and -, 40 at most)"
    ]


def test_the_token_and_the_config_input_are_never_read_from_the_file() -> None:
    names = (*NAMES, "github-token", "config")
    problems = read_config("github-token: ghp_x\nconfig: other.yml\n", PATH, names).problems
    assert problems == [
        f"{PATH}:1: key `github-token`: is not read from the config file: a token is a secret, and a file in the "
        "repository is no place for one; pass it in the workflow",
        f"{PATH}:2: key `config`: is not read from the config file: the file cannot name another file; set the "
        "`config` input in the workflow",
    ]


@pytest.mark.parametrize(
    ("value", "default", "given"),
    [(None, "changed", False), ("", "changed", False), ("changed", "changed", False), (" all ", "changed", True)],
)
def test_an_input_equal_to_its_default_counts_as_not_given(value: str | None, default: str, given: bool) -> None:
    assert explicit(value, default) is given


def test_the_workflow_wins_over_the_file_and_the_file_over_the_default() -> None:
    config = read("scope: all\ndry-run: true\nlabels: [a, b]\n")
    raw = {"scope": "changed", "dry-run": "false", "labels": "mine", "path": ".claude"}
    values, origins = layer(raw, {"labels"}, config)
    assert values == {"scope": "all", "dry-run": "true", "labels": "mine", "path": ".claude"}
    assert origins == {"scope": f"{PATH}:1", "dry-run": f"{PATH}:2"}


def test_a_problem_with_a_value_from_the_file_names_the_file_line_and_key() -> None:
    problems = ["input `scope`: 'sometimes' is not one of 'changed', 'all'", "input `path`: folder 'x' does not exist"]
    assert relabel(problems, {"scope": f"{PATH}:4"}) == [
        f"{PATH}:4: key `scope`: 'sometimes' is not one of 'changed', 'all'",
        "input `path`: folder 'x' does not exist",
    ]


def test_load_config_reads_the_default_file_when_present(tmp_path: Path) -> None:
    assert load_config(tmp_path, DEFAULT_CONFIG, NAMES, given=False) == (None, [])
    config_file = tmp_path / DEFAULT_CONFIG
    config_file.parent.mkdir()
    config_file.write_text("scope: all\n")
    config, problems = load_config(tmp_path, "", NAMES, given=False)
    assert problems == [] and config is not None and config.inputs == {"scope": Located("all", 1)}
    assert config.path == DEFAULT_CONFIG


def test_load_config_refuses_what_it_should_not_read(tmp_path: Path) -> None:
    assert load_config(tmp_path, "missing.yml", NAMES, given=True) == (
        None,
        ["input `config`: file 'missing.yml' does not exist in the workspace"],
    )
    assert load_config(tmp_path, "../x.yml", NAMES, given=True)[1] == [
        "input `config`: '../x.yml' leads outside the workspace; name a file in the checkout"
    ]
    (tmp_path / "big.yml").write_bytes(b"#" * (MAX_CONFIG_BYTES + 10))
    assert load_config(tmp_path, "big.yml", NAMES, given=True)[1] == [
        "big.yml:1: the file is larger than 64 KiB; keep it a short list"
    ]
    (tmp_path / "latin.yml").write_bytes(b"scope: all\nlabels: [caf\xe9]\n")
    assert load_config(tmp_path, "latin.yml", NAMES, given=True)[1] == [
        "latin.yml:2: not valid UTF-8 (byte 23); save the file as UTF-8"
    ]
    outside = tmp_path.parent / f"{tmp_path.name}-outside.yml"
    outside.write_text("scope: all\n")
    (tmp_path / "link.yml").symlink_to(outside)
    assert "leads outside the workspace" in load_config(tmp_path, "link.yml", NAMES, given=True)[1][0]


def test_the_readme_documents_every_key_of_the_config_file() -> None:
    from batch_action.config import FIELD_TARGETS, NOT_IN_FILE, SECTIONS, TITLE_FIELDS
    from batch_action.sync.render import DONE_STATUSES

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme[readme.index("## Config file") : readme.index("## Outputs")]
    rows = {cells.split("|")[1].strip().strip("`") for cells in section.splitlines() if cells.startswith("| `")}
    assert rows == set(SECTIONS), "one row per section of the file"
    assert all(f"`{name}`" in section for name in NOT_IN_FILE), "the inputs a file may not set are named"
    assert all(f"{{{name}}}" in section for name in TITLE_FIELDS)
    assert all(f"`{target}`" in section for target in FIELD_TARGETS)
    assert all(f"`{status}`" in section for status in DONE_STATUSES)
    assert ".github/issue-sync.yml" in section and DEFAULT_CONFIG == ".github/issue-sync.yml"
    example = section[section.index("```yaml\n") + 8 : section.index("```\n", section.index("```yaml"))]
    config = read_config(example, DEFAULT_CONFIG, ("kinds", "labels"))
    assert config.problems == [] and config.inputs and config.field_labels and config.field_assignees
