"""Every parsing pitfall of formats.md §1.3 and §4, each with its own fixture."""

from __future__ import annotations

from pathlib import Path

import pytest

from batch_action.model import Kind, Severity, text_digest
from batch_action.parsing.documents import parse_document, place
from batch_action.parsing.frontmatter import split
from batch_action.parsing.load import load_tree

TASK = place("epics/auth/001.md")


def parse(text: str | bytes, where: str = "epics/auth/001.md"):  # type: ignore[no-untyped-def]
    data = text.encode() if isinstance(text, str) else text
    return parse_document(f".claude/{where}", place(where), data)


def test_impossible_timestamp_stays_a_string() -> None:
    text = "---\nname: A\ncreated: 2026-89-23T04:27:55Z\nupdated: 2024-01-15T14:30:45Z\n---\nbody\n"
    doc, problems = parse(text)
    values = split(text).values
    assert doc and values["created"] == "2026-89-23T04:27:55Z" and values["updated"] == "2024-01-15T14:30:45Z"
    assert problems == []


def test_date_only_stays_a_string() -> None:
    doc, _ = parse("---\nname: A\ncreated: 2026-04-09\n---\n")
    assert doc and split("---\nname: A\ncreated: 2026-04-09\n---\n").values["created"] == "2026-04-09"


def test_github_flow_list_placeholder_means_unsynced() -> None:
    doc, problems = parse("---\nname: A\ngithub: [Will be updated when synced to GitHub]\n---\n")
    assert doc and doc.github_number is None and problems == []


def test_github_string_placeholder_means_unsynced() -> None:
    doc, _ = parse("---\nname: A\ngithub: (will be set on sync)\n---\n")
    assert doc and doc.github_number is None


def test_github_url_and_bare_int() -> None:
    doc, _ = parse("---\nname: A\ngithub: https://github.com/octo/repo/issues/87\n---\n")
    assert doc and (doc.github_number, doc.github_repo) == (87, "octo/repo")
    doc, _ = parse("---\nname: A\ngithub: 1\n---\n")
    assert doc and (doc.github_number, doc.github_repo) == (1, None)
    doc, _ = parse("---\ntitle: A\ngithub_issue: null\n---\n", "epics/auth/task-001.md")
    assert doc and doc.github_number is None


def test_zero_padded_ids_are_text_not_octal() -> None:
    doc, _ = parse("---\nname: A\ndepends_on: [001, 002, 007, 008, 009, 010, 011]\n---\n")
    assert doc and doc.depends_on == ("001", "002", "007", "008", "009", "010", "011")


def test_unquoted_colon_falls_back_to_the_line_reader_with_a_warning() -> None:
    text = "---\nname: Refactor: query-scoped storage\nstatus: open\ndepends_on: [003]\n---\nBody\n"
    doc, problems = parse(text)
    assert doc and doc.title == "Refactor: query-scoped storage" and doc.status == "open"
    assert doc.depends_on == ("003",)
    assert [(p.line, p.severity) for p in problems] == [(2, Severity.NOTICE)]
    assert "not valid YAML" in problems[0].message and "quote" in problems[0].fix


def test_progress_percent_is_a_string() -> None:
    doc, _ = parse("---\nname: e\nprogress: 0%\n---\n", "epics/auth/epic.md")
    assert doc and doc.kind is Kind.EPIC and doc.title == "Epic: e"
    assert split("---\nname: e\nprogress: 0%\n---\n").values["progress"] == "0%"


def test_bom_and_crlf() -> None:
    data = b"\xef\xbb\xbf---\r\nname: Bom task\r\nstatus: open\r\ndepends_on: [001]\r\n---\r\nLine one\r\nLine two\r\n"
    doc, problems = parse(data)
    assert doc and doc.title == "Bom task" and problems == []
    assert doc.body_digest == text_digest("Line one\nLine two")
    assert split(data.decode()).lines == {"name": 2, "status": 3, "depends_on": 4}
    assert doc.lines == (("depends_on", 4),) and doc.line_of("depends_on") == 4  # the lines annotations use


def test_no_front_matter_means_no_metadata() -> None:
    doc, problems = parse("# Write the migration\n\nSteps here.\n")
    assert doc and doc.title == "Write the migration" and doc.status == "" and problems == []
    assert doc.ident == "" and doc.lines == () and doc.depends_on == ()


def test_no_front_matter_and_no_heading_uses_the_file_name() -> None:
    doc, _ = parse("just text\n", "epics/auth/004.md")
    assert doc and doc.title == "004"


def test_unclosed_front_matter_is_an_error_with_line_and_fix() -> None:
    doc, problems = parse("---\nname: A\nstatus: open\n\nBody without a closing line\n")
    assert doc is None
    assert [(p.line, p.severity) for p in problems] == [(1, Severity.ERROR)]
    assert "never closed" in problems[0].message and problems[0].fix


def test_invalid_utf8_is_an_error_with_line() -> None:
    doc, problems = parse(b"---\nname: A\n---\nok\n\xff\xfe broken\n")
    assert doc is None and problems[0].line == 5 and "UTF-8" in problems[0].message


def test_cjk_emoji_and_em_dash_titles() -> None:
    doc, _ = parse("---\nname: 检索 — faster search 🚀\n---\n")
    assert doc and doc.title == "检索 — faster search 🚀"


def test_autopm_schema() -> None:
    text = (
        "---\nid: task-epic-001-001\nepic_id: epic-001\ntitle: Set up\nstatus: pending\ndependencies: [001, 002]\n---\n"
    )
    doc, _ = parse(text, "epics/auth/task-001.md")
    assert doc and doc.key == "task:auth/task-001" and doc.title == "Set up" and doc.depends_on == ("001", "002")


def test_list_items_and_comments_in_the_line_reader() -> None:
    front = split("---\nname: X: y\ndepends_on:\n  - 001\n  - '002'\nparallel: true  # comment\n---\n")
    assert front.used_fallback
    assert front.values == {"name": "X: y", "depends_on": ["001", "002"], "parallel": "true"}


@pytest.mark.parametrize(
    ("path", "kind", "key", "archived"),
    [
        ("prds/auth.md", Kind.PRD, "prd:auth", False),
        ("epics/auth/epic.md", Kind.EPIC, "epic:auth", False),
        ("epics/auth/001.md", Kind.TASK, "task:auth/001", False),
        ("epics/auth/1234.md", Kind.TASK, "task:auth/1234", False),
        ("epics/auth/task-003.md", Kind.TASK, "task:auth/task-003", False),
        ("epics/auth/bug-12-login-loop.md", Kind.TASK, "task:auth/bug-12-login-loop", False),
        ("epics/archived/old/epic.md", Kind.EPIC, "epic:old", True),
        ("epics/.archived/old/002.md", Kind.TASK, "task:old/002", True),
    ],
)
def test_places_of_items(path: str, kind: Kind, key: str, archived: bool) -> None:
    where = place(path)
    assert (where.kind, where.key, where.archived) == (kind, key, archived)


@pytest.mark.parametrize(
    "path",
    [
        "epics/auth/12-analysis.md",
        "epics/auth/github-mapping.md",
        "epics/auth/execution-status.md",
        "epics/auth/updates/12/progress.md",
        "epics/auth/analysis/notes.md",
        "epics/auth/migration-roadmap.md",
        "epics/auth/_template-task.md",
        "epics/auth/data.json",
        "epics/archived/README.md",
        "commands/pm/sync.md",
        "prds/drafts/x.md",
    ],
)
def test_non_items_are_skipped_with_a_reason(path: str) -> None:
    where = place(path)
    assert where.kind is None and where.reason


def test_load_tree_accounts_for_every_file(tmp_path: Path) -> None:
    root = tmp_path / ".claude"
    files = {
        "prds/auth.md": "---\nname: auth\n---\n",
        "epics/auth/epic.md": "---\nname: auth\nprd: .claude/prds/auth.md\n---\n",
        "epics/auth/001.md": "---\nname: one\n---\n",
        "epics/auth/002.md": "---\nname: two\n",  # never closed
        "epics/auth/github-mapping.md": "Epic: #1\n",
        "epics/empty/epic.md": "---\nname: empty\n---\n",
        "notes.txt": "x",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    tree = load_tree(root, tmp_path)
    seen = {d.path for d in tree.documents} | {s.path for s in tree.skipped} | set(tree.unreadable)
    assert seen == {f".claude/{rel}" for rel in files}
    assert tree.unreadable == [".claude/epics/auth/002.md"]
    assert [p.path for p in tree.problems] == [".claude/epics/auth/002.md"]


def test_read_body_gives_the_planned_body_again_or_says_the_file_changed(tmp_path: Path) -> None:
    from batch_action.engine.failures import FailureClass, JobError
    from batch_action.graph import build_graph
    from batch_action.parsing.load import BodyChanged, read_body
    from batch_action.run.apply import body_of
    from batch_action.sync.render import build_specs

    file = tmp_path / ".claude/epics/auth/001.md"
    file.parent.mkdir(parents=True)
    file.write_bytes(b"\xef\xbb\xbf---\r\nname: A\r\n---\r\n\r\nFirst line\r\nSecond\r\n\r\n")
    tree = load_tree(tmp_path / ".claude", tmp_path)
    (doc,) = tree.documents
    assert read_body(tmp_path / ".claude", tmp_path, doc.path, doc.body_digest) == "First line\nSecond"
    spec = build_specs(build_graph(tree.documents), [], sub_issues=True, dependencies=True)[doc.key]
    assert body_of(tmp_path / ".claude", tmp_path, spec) == "First line\nSecond"

    file.write_text("---\nname: A\n---\nEdited after planning\n")
    with pytest.raises(BodyChanged, match="changed while the run was writing issues"):
        read_body(tmp_path / ".claude", tmp_path, doc.path, doc.body_digest)
    with pytest.raises(JobError) as info:
        body_of(tmp_path / ".claude", tmp_path, spec)
    assert info.value.cls is FailureClass.ITEM and doc.path in info.value.message
    file.unlink()
    with pytest.raises(BodyChanged, match="could not be read again"):
        read_body(tmp_path / ".claude", tmp_path, doc.path, doc.body_digest)
