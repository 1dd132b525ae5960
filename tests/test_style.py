"""The config file's look of an issue (`sync.render.Style`): labels per kind and from fields, assignees, the
statuses that close an issue and title formats; the default look leaves every spec and digest as it was."""

from __future__ import annotations

from batch_action.graph import build_graph
from batch_action.model import Kind
from batch_action.parsing.documents import parse_document, place
from batch_action.sync.render import DEFAULT_STYLE, Style, bounded_label, build_specs
from tests.helpers import doc

FIELDS = frozenset({"component", "owner"})


def kept(where: str, front: str):  # type: ignore[no-untyped-def]
    parsed, problems = parse_document(f".claude/{where}", place(where), f"---\n{front}\n---\nBody.\n".encode(), FIELDS)
    assert parsed is not None, problems
    return parsed


DOCS = [
    doc("prds/p.md", "name: Payments\nstatus: shipped"),
    kept("epics/e/epic.md", "name: Checkout\nprd: p\ncomponent: web"),
    kept("epics/e/001.md", "name: Card form\ncomponent: [web, ui]\nowner: '@ana, ben, not a login!'"),
    doc("epics/e/002.md", "name: Receipts\nstatus: done"),
]


def specs(style: Style = DEFAULT_STYLE):  # type: ignore[no-untyped-def]
    return build_specs(build_graph(DOCS), ("team",), sub_issues=True, dependencies=True, style=style)


def test_the_parser_keeps_only_the_fields_asked_for() -> None:
    assert DOCS[2].fields == (("component", ("web", "ui")), ("owner", ("@ana", "ben", "not a login!")))
    assert doc("epics/e/003.md", "name: x\ncomponent: web").fields == ()


def test_the_default_style_changes_nothing() -> None:
    plain = build_specs(build_graph(DOCS), ("team",), sub_issues=True, dependencies=True)
    assert specs() == plain
    assert plain["task:e/001"].labels == ("task", "issue-sync", "epic:e", "team")
    assert plain["task:e/001"].assignees == ()


def test_labels_per_kind_and_from_fields() -> None:
    style = Style(kind_labels={Kind.TASK: ("engineering",)}, field_labels=("component",))
    got = specs(style)
    assert got["task:e/001"].labels == (
        "task",
        "issue-sync",
        "epic:e",
        "team",
        "engineering",
        "component:web",
        "component:ui",
    )
    assert got["epic:e"].labels == ("epic", "issue-sync", "epic:e", "team", "component:web")
    assert got["prd:p"].labels == specs()["prd:p"].labels
    assert got["prd:p"].digest == specs()["prd:p"].digest, "an issue that looks the same keeps its digest"
    assert got["task:e/001"].digest != specs()["task:e/001"].digest, "one that looks different is written once"


def test_a_long_field_label_is_cut_with_a_stable_hash() -> None:
    label = bounded_label("component:" + "x" * 60)
    assert len(label) == 50 and label == bounded_label("component:" + "x" * 60)
    assert label != bounded_label("component:" + "x" * 59 + "y")


def test_assignees_are_logins_at_most_ten() -> None:
    got = specs(Style(field_assignees=("owner",)))
    assert got["task:e/001"].assignees == ("ana", "ben"), "the `@` dropped, a value that is no login left out"
    assert got["task:e/001"].digest != specs()["task:e/001"].digest
    many = kept("epics/e/004.md", "name: x\nowner: [" + ", ".join(f"u{n}" for n in range(15)) + "]")
    spec = build_specs(
        build_graph([many]), (), sub_issues=True, dependencies=True, style=Style(field_assignees=("owner",))
    )
    assert spec["task:e/004"].assignees == tuple(f"u{n}" for n in range(10))


def test_close_statuses_replace_the_built_in_list() -> None:
    style = Style(close_statuses=frozenset({"shipped"}))
    got, plain = specs(style), specs()
    assert (got["prd:p"].closed, plain["prd:p"].closed) == (True, False)
    assert (got["task:e/002"].closed, plain["task:e/002"].closed) == (False, True)
    assert got["prd:p"].digest != plain["prd:p"].digest and got["task:e/002"].digest != plain["task:e/002"].digest
    assert got["task:e/001"].digest == plain["task:e/001"].digest, "an open item stays open: same digest"


def test_title_formats_per_kind() -> None:
    got = specs(Style(titles={Kind.TASK: "[{epic}] {title} ({name})", Kind.PRD: "PRD: {title}"}))
    assert got["task:e/001"].title == "[e] Card form (001)"
    assert got["prd:p"].title == "PRD: Payments"
    assert got["epic:e"].title == "Epic: Checkout", "a kind without a format keeps the built-in title"
    assert got["epic:e"].digest == specs()["epic:e"].digest
    long = specs(Style(titles={Kind.TASK: "{title}" * 40}))["task:e/001"].title
    assert len(long) == 256, "within GitHub's 256 characters"


def test_a_status_the_config_file_lists_is_no_unknown_status() -> None:
    text = b"---\nname: x\nstatus: shipped\n---\nBody.\n"
    _, problems = parse_document(".claude/epics/e/001.md", place("epics/e/001.md"), text)
    assert [p.message for p in problems] == ["`status: shipped` is not a known status: the issue stays open"]
    _, problems = parse_document(".claude/epics/e/001.md", place("epics/e/001.md"), text, (), {"shipped"})
    assert problems == []
