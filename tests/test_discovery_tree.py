"""The planning folder's walk and its safe, bounded reads (`batch_action.discovery.tree`)."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from batch_action.discovery.tree import (
    LINK_REASON,
    MAX_FILE_BYTES,
    RENAME_FIX,
    PlanningFolder,
    Refused,
    UnreadableFile,
    UnsafePath,
    inside_folder,
    printable,
)
from batch_action.engine.failures import FailureClass, JobError
from batch_action.graph import build_graph
from batch_action.model import text_digest
from batch_action.parsing.load import BodyChanged, load_tree, read_body
from batch_action.run.apply import body_of
from batch_action.sync.render import IssueSpec, build_specs

TASK = "---\nname: A task\n---\nThe body.\n"


def make(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)


def test_the_walk_lists_regular_files_and_refuses_every_other_entry(tmp_path: Path) -> None:
    root = tmp_path / ".claude"
    make(root, {"prds/a.md": TASK, "epics/e/epic.md": TASK, "epics/e/001.md": TASK, "epics/e/updates/1/p.md": "x"})
    make(tmp_path / "outside", {"epic.md": TASK})
    os.symlink("001.md", root / "epics/e/002.md")  # inside the folder: refused all the same
    os.symlink(tmp_path / "outside", root / "epics/linked")  # a folder: not entered
    os.symlink("nowhere.md", root / "epics/e/003.md")
    os.symlink("005.md", root / "epics/e/004.md")
    os.symlink("004.md", root / "epics/e/005.md")
    os.mkfifo(root / "epics/e/006.md")
    (root / "epics/e" / os.fsdecode(b"\xff.md")).write_text(TASK)
    (root / "epics" / os.fsdecode(b"caf\xe9")).mkdir()
    (root / "epics" / os.fsdecode(b"caf\xe9") / "epic.md").write_text(TASK)  # never listed: its folder is refused
    (root / "epics/e/back\\slash.md").write_text(TASK)

    with PlanningFolder(root) as folder:
        listing = folder.walk()

    assert listing.files == ["epics/e/001.md", "epics/e/epic.md", "epics/e/updates/1/p.md", "prds/a.md"]
    assert listing.skipped == [
        Refused("epics/e/002.md", LINK_REASON),
        Refused("epics/e/003.md", LINK_REASON),
        Refused("epics/e/004.md", LINK_REASON),
        Refused("epics/e/005.md", LINK_REASON),
        Refused("epics/e/006.md", "named pipe (FIFO): not read"),
        Refused("epics/linked", LINK_REASON),
    ]
    assert listing.failed == [
        Refused(r"epics/caf\xe9", "the name is not valid UTF-8", RENAME_FIX),
        Refused(r"epics/e/\xff.md", "the name is not valid UTF-8", RENAME_FIX),
        Refused("epics/e/back\\slash.md", "the name holds a backslash", "rename the file without a backslash"),
    ]


def test_load_tree_counts_links_as_skipped_and_bad_names_as_unreadable(tmp_path: Path) -> None:
    root = tmp_path / ".claude"
    make(root, {"epics/e/epic.md": TASK, "epics/e/001.md": TASK})
    os.symlink("001.md", root / "epics/e/002.md")
    (root / "epics/e" / os.fsdecode(b"00\xff.md")).write_text(TASK)
    tree = load_tree(root, tmp_path)
    assert [d.path for d in tree.documents] == [".claude/epics/e/001.md", ".claude/epics/e/epic.md"]
    assert [(s.path, s.reason) for s in tree.refused] == [(".claude/epics/e/002.md", LINK_REASON)]
    assert tree.refused[0] in tree.skipped
    assert tree.unreadable == [r".claude/epics/e/00\xff.md"]
    (problem,) = tree.problems
    assert (problem.path, problem.fix) == (r".claude/epics/e/00\xff.md", RENAME_FIX)
    assert str(problem).encode("utf-8")  # printable: a report can hold it


def test_a_file_over_the_cap_is_an_error_with_the_fix_and_is_not_read_whole(tmp_path: Path) -> None:
    root = tmp_path / ".claude"
    make(root, {"epics/e/epic.md": TASK})
    (root / "epics/e/001.md").write_bytes(b"x" * (MAX_FILE_BYTES + 1))
    (root / "epics/e/002.md").write_bytes(b"y" * MAX_FILE_BYTES)  # at the cap: fine
    tree = load_tree(root, tmp_path)
    assert tree.unreadable == [".claude/epics/e/001.md"]
    # (002.md, all `y`, also gets a notice: no title anywhere)
    (problem,) = [problem for problem in tree.problems if problem.path.endswith("001.md")]
    assert "more than the 1,048,576" in problem.message and "split it" in problem.fix
    assert {d.path for d in tree.documents} == {".claude/epics/e/002.md", ".claude/epics/e/epic.md"}


def test_a_file_swapped_for_a_link_after_the_walk_is_refused_not_followed(tmp_path: Path) -> None:
    root = tmp_path / ".claude"
    make(root, {"epics/e/001.md": TASK, "epics/f/001.md": TASK})
    secret = tmp_path / "secret.md"
    secret.write_text(TASK)  # the same bytes: only the open itself can tell
    with PlanningFolder(root) as folder:
        assert folder.walk().files == ["epics/e/001.md", "epics/f/001.md"]
        (root / "epics/e/001.md").unlink()
        os.symlink(secret, root / "epics/e/001.md")
        with pytest.raises(UnreadableFile) as file_link:
            folder.read("epics/e/001.md")
        (root / "epics/f/001.md").unlink()
        (root / "epics/f").rmdir()
        os.symlink(tmp_path / "elsewhere", root / "epics/f")
        make(tmp_path / "elsewhere", {"001.md": TASK})
        with pytest.raises(UnreadableFile) as folder_link:
            folder.read("epics/f/001.md")
    assert file_link.value.reason == folder_link.value.reason == LINK_REASON


def test_a_fifo_swapped_in_after_the_walk_is_refused_without_blocking(tmp_path: Path) -> None:
    root = tmp_path / ".claude"
    make(root, {"epics/e/001.md": TASK})
    with PlanningFolder(root) as folder:
        folder.walk()
        (root / "epics/e/001.md").unlink()
        os.mkfifo(root / "epics/e/001.md")  # a blocking open would hang here: no writer ever comes
        with pytest.raises(UnreadableFile, match="named pipe"):
            folder.read("epics/e/001.md")


def specs_of(root: Path, workspace: Path) -> dict[str, IssueSpec]:
    documents = load_tree(root, workspace).documents
    return build_specs(build_graph(documents), [], sub_issues=True, dependencies=True)


def test_the_body_read_again_for_an_issue_refuses_a_file_now_a_link(tmp_path: Path) -> None:
    root = tmp_path / ".claude"
    make(root, {"epics/e/epic.md": TASK, "epics/e/001.md": TASK})
    secret = tmp_path / "secret.md"
    secret.write_text(TASK)  # the planned digest would match it
    specs = specs_of(root, tmp_path)
    spec = specs["task:e/001"]
    assert body_of(root, tmp_path, spec) == "The body."
    (root / "epics/e/001.md").unlink()
    os.symlink(secret, root / "epics/e/001.md")
    with pytest.raises(JobError) as info:
        body_of(root, tmp_path, spec)
    assert info.value.cls is FailureClass.ITEM and LINK_REASON in info.value.message


@pytest.mark.parametrize(
    "forged",
    [
        "SECRET",  # the absolute path of the secret file
        "/proc/self/environ",
        "../secret.md",
        "../../etc/passwd",
        ".claude/../secret.md",
        ".claude//epics/e/001.md",
        ".claude/./epics/e/001.md",
        ".claude/epics\\e\\001.md",
        ".claude/",
        "",
        ".claudex/epics/e/001.md",
    ],
)
def test_a_forged_checkpoint_path_fails_its_item_unread(
    tmp_path: Path, forged: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / ".claude"
    make(root, {"epics/e/epic.md": TASK, "epics/e/001.md": TASK})
    secret = tmp_path / "secret.md"
    secret.write_text(TASK)
    forged = str(secret) if forged == "SECRET" else forged
    specs = specs_of(root, tmp_path)
    spec = specs["task:e/001"]
    opened: list[object] = []
    real_open = os.open
    monkeypatch.setattr(os, "open", lambda path, *a, **k: opened.append(path) or real_open(path, *a, **k))
    # A replay's spec: no stored body, a path and the digest of the file it names.
    with pytest.raises(JobError) as info:
        body_of(root, tmp_path, replace(spec, path=forged, source_body=None))
    assert info.value.cls is FailureClass.ITEM and "not a plain relative path inside .claude" in info.value.message
    with pytest.raises(BodyChanged):
        read_body(root, tmp_path, forged, text_digest("The body."))
    assert opened == []  # refused before anything is opened


def test_inside_folder_and_printable() -> None:
    assert inside_folder(".claude/epics/e/001.md", ".claude") == "epics/e/001.md"
    assert inside_folder("epics/e/001.md", ".") == "epics/e/001.md"
    assert inside_folder("/abs/plan/prds/a.md", "/abs/plan") == "prds/a.md"  # a folder outside the workspace
    with pytest.raises(UnsafePath):
        inside_folder("/abs/plan/../x.md", "/abs/plan")
    assert printable(os.fsdecode(b"a\xffb.md")) == r"a\xffb.md" and printable("检索.md") == "检索.md"
