"""The planning folder read and parsed: `discovery.tree` walks it and reads each file (bounded, following no link),
`parsing.documents` turns the bytes into documents. Also the re-read of one body when its issue is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from batch_action.discovery.tree import PlanningFolder, UnreadableFile, UnsafePath, inside_folder, read_file
from batch_action.model import Document, Problem, Skipped, text_digest
from batch_action.parsing.documents import body_text, parse_document, place
from batch_action.parsing.frontmatter import FrontMatterError, body_of


@dataclass
class Tree:
    """The parsed planning tree: every file is in exactly one of documents, skipped, or (for errors) problems."""

    documents: list[Document] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # paths that produced an error and no document
    refused: list[Skipped] = field(default_factory=list)  # links, FIFOs and such (also in skipped): for the log


def load_tree(root: Path, workspace: Path) -> Tree:
    """Parse every file under `root` (the planning folder). Paths in the result are workspace-relative.

    The folder is listed and read by `discovery.tree`, which follows no link and opens nothing but regular files.
    """
    tree = Tree()
    if not root.is_dir():
        return tree
    prefix = _shown_prefix(root, workspace)
    with PlanningFolder(root) as folder:
        listing = folder.walk()
        for relative in listing.files:
            shown = prefix + relative
            where = place(relative)
            if where.kind is None:
                tree.skipped.append(Skipped(shown, where.reason))
                continue
            try:
                data = folder.read(relative)
            except UnreadableFile as exc:
                tree.problems.append(Problem(shown, exc.reason, fix=exc.fix))
                tree.unreadable.append(shown)
                continue
            document, problems = parse_document(shown, where, data)
            tree.problems.extend(problems)
            if document is None:
                tree.unreadable.append(shown)
            else:
                tree.documents.append(document)
    for refused in listing.skipped:
        tree.refused.append(Skipped(prefix + refused.path, refused.reason))
    tree.skipped = sorted([*tree.skipped, *tree.refused], key=lambda skipped: skipped.path.split("/"))
    for refused in listing.failed:
        tree.problems.append(Problem(prefix + refused.path, refused.reason, fix=refused.fix))
        tree.unreadable.append(prefix + refused.path)
    return tree


def _shown_prefix(root: Path, workspace: Path) -> str:
    """What goes before a path relative to the planning folder to make it workspace-relative (`.claude/`)."""
    try:
        shown = root.relative_to(workspace).as_posix()
    except ValueError:
        shown = root.as_posix()
    return "" if shown == "." else shown + "/"


class BodyChanged(Exception):
    """The file no longer holds the body that was planned (it changed during the run, or cannot be read)."""


def read_body(root: Path, workspace: Path, path: str, digest: str) -> str:
    """The body of the file at workspace-relative `path` in the planning folder `root`, as `parse_document` saw it
    when its digest was taken.

    `path` may come from a checkpoint an earlier run left, so it is not trusted: anything but a plain relative
    path inside the folder is refused unread. Raises `BodyChanged` when the file cannot be read or parsed, or its
    body is no longer the one planned: writing the new text under the old plan's marker would hide the change
    from the next run.
    """
    try:
        relative = inside_folder(path, _shown_prefix(root, workspace).rstrip("/"))
    except UnsafePath as exc:
        raise BodyChanged(f"refused to read the file of an issue: {exc}") from exc
    try:
        body = body_text(body_of(read_file(root, relative).decode("utf-8")))
    except UnreadableFile as exc:
        raise BodyChanged(f"{path} could not be read again to write its issue ({exc.reason})") from exc
    except (OSError, UnicodeDecodeError, FrontMatterError) as exc:
        raise BodyChanged(f"{path} could not be read again to write its issue ({exc})") from exc
    if text_digest(body) != digest:
        raise BodyChanged(f"{path} changed while the run was writing issues; the next run syncs the new content")
    return body
