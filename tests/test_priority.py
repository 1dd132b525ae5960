"""The work order (batch_action/priority.py): what a run cut short does first, and the spellings of `priority:`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from batch_action.graph import build_graph
from batch_action.model import Document, Severity
from batch_action.parsing.documents import parse_document, place
from batch_action.priority import DEFAULT_PRIORITY, PRIORITY_WORDS, parse_priority, unblocked_counts, work_order
from tests.helpers import doc


@pytest.mark.parametrize(
    ("text", "rank"),
    [
        ("P0", 0),
        ("p1", 1),
        ("P-2", 2),
        ("P 3", 3),
        ("p4", 4),
        ("0", 0),
        ("3", 3),
        ("9", 4),  # past the scale: the least urgent
        ("Critical", 0),
        ("urgent", 0),
        ("blocker", 0),
        ("highest", 0),
        ("HIGH", 1),
        ("major", 1),
        ("medium", 2),
        ("normal", 2),
        ("low", 3),
        ("minor", 3),
        ("lowest", 4),
        ("trivial", 4),
        ("", DEFAULT_PRIORITY),
        ("  ", DEFAULT_PRIORITY),
    ],
)
def test_the_common_spellings_of_a_priority(text: str, rank: int) -> None:
    assert parse_priority(text) == rank


@pytest.mark.parametrize("text", ["whenever", "P", "high-ish", "-1", "1.5"])
def test_an_unknown_priority_is_none(text: str) -> None:
    assert parse_priority(text) is None


def test_an_unknown_priority_is_a_notice_with_its_line_and_counts_as_medium() -> None:
    parsed, problems = parse_document(
        ".claude/epics/e/001.md", place("epics/e/001.md"), b"---\nname: one\npriority: whenever\n---\nBody.\n"
    )
    assert parsed is not None and parsed.priority == DEFAULT_PRIORITY
    [problem] = problems
    assert (problem.line, problem.severity) == (3, Severity.NOTICE)
    assert "`priority: whenever` is not a known priority: the item is ranked medium" in problem.message


def test_a_known_priority_is_read_into_the_document_without_a_notice() -> None:
    parsed, problems = parse_document(
        ".claude/epics/e/001.md", place("epics/e/001.md"), b"---\nname: one\npriority: P0\n---\nBody.\n"
    )
    assert parsed is not None and parsed.priority == 0 and problems == []


def tree(*tasks: tuple[str, str]) -> list[Document]:
    """A PRD, two epics and the given tasks (`(where under epics/, front matter)`)."""
    return [
        doc("prds/p.md", "name: p"),
        doc("epics/a/epic.md", "name: a\nprd: p"),
        doc("epics/b/epic.md", "name: b\nprd: p"),
        *(doc(f"epics/{where}", f"name: {where}\n{front}".rstrip()) for where, front in tasks),
    ]


def ordered(documents: list[Document]) -> list[str]:
    order = work_order(build_graph(documents))
    return sorted(order, key=order.__getitem__)


def test_prds_and_epics_first_then_tasks_by_priority() -> None:
    keys = ordered(
        tree(
            ("a/001.md", "priority: low"),
            ("a/002.md", ""),
            ("b/001.md", "priority: P0"),
            ("b/002.md", "priority: high"),
        )
    )
    assert keys == [
        "prd:p",
        "epic:b",  # the epic holding the P0 task first
        "epic:a",
        "task:b/001",
        "task:b/002",
        "task:a/002",  # no field: medium
        "task:a/001",
    ]


def test_among_equal_priorities_the_task_that_unblocks_most_goes_first() -> None:
    keys = ordered(
        tree(
            ("a/001.md", ""),
            ("a/002.md", ""),
            ("a/003.md", "depends_on: [002]"),
            ("a/004.md", "depends_on: [003]"),
            ("b/001.md", "depends_on: [a/002]"),
        )
    )
    tasks = [key for key in keys if key.startswith("task:")]
    assert tasks[0] == "task:a/002", "it unblocks three tasks, transitively"
    assert tasks.index("task:a/003") < tasks.index("task:a/001"), "one task waits for 003, none for 001"


def test_a_blocker_ranks_with_the_most_urgent_task_waiting_for_it_and_always_comes_first() -> None:
    keys = ordered(
        tree(
            ("a/001.md", "priority: P4"),
            ("a/002.md", "priority: P1"),
            ("b/001.md", "priority: P0\ndepends_on: [a/001]"),
        )
    )
    tasks = [key for key in keys if key.startswith("task:")]
    assert tasks == ["task:a/001", "task:b/001", "task:a/002"]


def test_the_order_never_puts_an_item_before_its_parent_or_blockers() -> None:
    documents = tree(
        *((f"a/{n:03}.md", f"priority: P{n % 5}\ndepends_on: [{n - 1:03}]") for n in range(2, 12)),
        ("a/001.md", "priority: P4"),
        *((f"b/{n:03}.md", f"priority: P{(n * 3) % 5}") for n in range(1, 8)),
        ("b/008.md", "priority: P0\ndepends_on: [a/011, 007]"),
    )
    graph = build_graph(documents)
    order = graph.order()
    assert sorted(order.values()) == list(range(len(documents)))
    for source, target in graph.graph.edges:
        assert order[source] < order[target], f"{source} must come before {target}"


def test_without_priorities_or_dependencies_the_order_is_the_wave_order() -> None:
    graph = build_graph(tree(("a/001.md", ""), ("a/002.md", ""), ("b/001.md", "")))
    assert graph.order() == graph.wave_order()


def test_unblocked_counts_are_transitive_and_count_tasks_only() -> None:
    graph = build_graph(
        tree(
            ("a/001.md", ""),
            ("a/002.md", "depends_on: [001]"),
            ("a/003.md", "depends_on: [001, 002]"),
            ("b/001.md", "depends_on: [a/003]"),
        )
    )
    counts = unblocked_counts(graph)
    assert counts["task:a/001"] == 3  # 002, 003, and b/001 through 003; 003 counted once
    assert counts["task:a/002"] == 2
    assert counts["task:b/001"] == 0
    assert counts["epic:a"] == 0, "parent edges unblock nothing: only depends_on counts"


def test_the_readme_lists_exactly_the_accepted_spellings() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme[readme.index("**Work order.**") :]
    rows = re.findall(r"^\| (\d) [^|]*\| (.+) \|$", section[: section.index("\n\n", section.index("| rank |"))], re.M)
    listed = {
        word: int(rank) for rank, words in rows for word in re.findall(r"`([^`]+)`", words) if word != "priority:"
    }
    assert len(rows) == 5
    assert all(parse_priority(word) == rank for word, rank in listed.items()), listed
    assert set(PRIORITY_WORDS) <= set(listed), "every word the code accepts is documented"
