"""Mistakes a file can make that parsing would otherwise accept silently: each is a notice with file, line and the
fix that fits it (issue 16, item 5)."""

from __future__ import annotations

import pytest

from batch_action.model import Problem, Severity
from batch_action.parsing.documents import parse_document, place

PATH = ".claude/epics/e/014.md"


def problems(text: str) -> list[Problem]:
    document, found = parse_document(PATH, place("epics/e/014.md"), text.encode())
    assert document is not None
    return found


def test_an_unknown_status_says_which_statuses_are_known() -> None:
    [notice] = problems("---\nname: Ship it\nstatus: finished\n---\n\nBody.\n")
    assert notice.severity is Severity.NOTICE and notice.line == 3
    assert "`status: finished` is not a known status: the issue stays open" in notice.message
    assert "closed" in notice.fix and "completed" in notice.fix and "in-progress" in notice.fix


@pytest.mark.parametrize("status", ["open", "in_progress", "In-Progress", "pending", "backlog", "done", "closed", ""])
def test_known_statuses_pass_quietly(status: str) -> None:
    assert problems(f"---\nname: Ship it\nstatus: {status}\n---\n\nBody.\n") == []


def test_fields_without_fences_are_named() -> None:
    [notice] = problems("name: Ship it\nstatus: open\n\nBody.\n")
    assert notice.line == 1 and "no `---` lines around it" in notice.message
    assert notice.fix == "put a line `---` before the first field and another after the last"


def test_a_duplicate_key_names_both_lines() -> None:
    [notice] = problems("---\nname: Ship it\nstatus: open\nstatus: closed\n---\n\nBody.\n")
    assert notice.line == 4 and "`status` is given twice (lines 3 and 4); the last one is used" in notice.message


def test_no_title_anywhere_says_what_the_issue_will_be_called() -> None:
    [notice] = problems("---\n---\n\nJust text.\n")
    assert notice.line == 1 and "the issue is titled `014`" in notice.message
    assert "name:" in notice.fix


@pytest.mark.parametrize(
    ("front", "line", "fix"),
    [
        ("name: Bug: sign-in is slow", 2, 'quote values that contain `: `, e.g. name: "Refactor: storage"'),
        ("depends_on: [001, 002", 2, "close the list with `]`, e.g. depends_on: [001, 002]"),
        ("name: x\n\tstatus: open", 3, "indent with spaces: YAML does not allow tabs"),
    ],
)
def test_each_yaml_error_gets_the_hint_that_fits_it(front: str, line: int, fix: str) -> None:
    found = [p for p in problems(f"---\n{front}\n---\n\nBody.\n") if "not valid YAML" in p.message]
    assert [(p.line, p.fix) for p in found] == [(line, fix)]
