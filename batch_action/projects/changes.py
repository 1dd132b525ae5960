"""What one item needs on the board, decided like an issue's writes: from what the file says now, what the sync
last wrote (the hashes in the issue's marker), and what the board shows. Pure.

- Not on the board: add it, and set every field the file gives a value (an item added fresh is empty).
- On the board, a field whose value the marker records as written: left alone, whatever the board shows now; a
  person's change on the board stays until the file's field changes.
- Otherwise (the file's field changed, or nothing was recorded): written when the board differs (set, or cleared
  when the file has no value any more), and only recorded when it already shows the file's value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from batch_action.projects.board import Board, BoardItem
from batch_action.sync.render import field_hash

__all__ = ["FieldWrite", "ItemWork", "item_work"]


@dataclass(frozen=True, slots=True)
class FieldWrite:
    name: str  # the board field's name
    value: str  # normal form; "" clears the field
    was: str  # what the board showed ("" none), for the dry run and the report


@dataclass(frozen=True, slots=True)
class ItemWork:
    add: bool  # the issue is not on the board yet
    writes: tuple[FieldWrite, ...]

    @property
    def mutations(self) -> int:
        return int(self.add) + len(self.writes)

    @property
    def requests(self) -> int:
        """One request adds the item; one more sets all its fields (aliased mutations in one document)."""
        return int(self.add) + int(bool(self.writes))

    def summary(self) -> str:
        """`add; Status, Priority`: what the operation does, for the plan and its journal."""
        names = ", ".join(write.name for write in self.writes)
        return "; ".join(part for part in ("add" if self.add else "", names) if part)


def item_work(
    wanted: Sequence[tuple[str, str]],
    recorded: frozenset[str] | None,
    item: BoardItem | None,
    board: Board,
) -> ItemWork | None:
    """The board work of one item, or None when there is none. `recorded`: the marker's hashes (None: none)."""
    if item is None:
        return ItemWork(True, tuple(FieldWrite(name, value, "") for name, value in wanted if value))
    writes: list[FieldWrite] = []
    for name, value in wanted:
        if recorded is not None and field_hash(name, value) in recorded:
            continue  # the file says what the sync wrote: the board's value is the board's business
        board_field = board.fields.get(name)
        shown = item.values.get(board_field.id, "") if board_field is not None else ""
        if shown != value:
            writes.append(FieldWrite(name, value, shown))
    return ItemWork(False, tuple(writes)) if writes else None


def board_values(item: BoardItem | None, board: Board) -> Mapping[str, str]:
    """An item's values by field name, for the report."""
    if item is None:
        return {}
    by_id = board.field_by_id()
    return {by_id[fid].name: value for fid, value in item.values.items() if fid in by_id}
