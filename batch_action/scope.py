"""From git's changed paths to planning-item keys: what changed, what was removed, what was renamed."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath

from batch_action.model import ChangeSet
from batch_action.parsing.documents import place


@dataclass(frozen=True)
class ItemChanges:
    changed: frozenset[str] | None  # None: compare every item
    removed: frozenset[str] = frozenset()
    renames: dict[str, str] = field(default_factory=dict)  # old key -> new key
    reason: str = ""


def item_changes(changes: ChangeSet | None, planning_folder: str) -> ItemChanges:
    """`planning_folder` is workspace-relative (e.g. `.claude`), as the paths in the change set are."""
    if changes is None:
        return ItemChanges(None, reason="scope 'all': every item is compared")
    if changes.changes is None:
        return ItemChanges(None, reason=changes.reason)
    changed: set[str] = set()
    removed: set[str] = set()
    renames: dict[str, str] = {}
    for change in changes.changes:
        new_key = _key(change.path, planning_folder)
        if change.status == "D":
            if new_key:
                removed.add(new_key)
            continue
        if change.status == "R" and change.old_path:
            old_key = _key(change.old_path, planning_folder)
            if old_key and new_key and old_key != new_key:
                renames[old_key] = new_key
            elif old_key and not new_key:
                removed.add(old_key)  # renamed to something that is no longer an item
        if new_key:
            changed.add(new_key)
    return ItemChanges(frozenset(changed), frozenset(removed - changed), renames, changes.reason)


def _key(path: str, planning_folder: str) -> str | None:
    folder = PurePosixPath(planning_folder)
    try:
        relative = PurePosixPath(path).relative_to(folder) if planning_folder not in ("", ".") else PurePosixPath(path)
    except ValueError:
        return None
    where = place(relative.as_posix())
    return where.key if where.kind else None
