"""The project's GraphQL calls, through the tracker's `graphql` (the same PyGithub client, auth, timeout and
request log as REST: `GitHubTracker.graphql`). Each method is one request, or a paginated read."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from batch_action.projects import queries
from batch_action.projects.board import Board, BoardField, BoardItem, ProjectRef, board_from_json, item_from_json
from batch_action.projects.changes import FieldWrite

__all__ = ["GraphQL", "ProjectClient"]

GraphQL = Callable[[str, Mapping[str, Any]], dict[str, Any]]
_MAX_PAGES = 600  # 60,000 items: past GitHub's 50,000 a project, so a cursor that never ends stops


class ProjectClient:
    def __init__(self, graphql: GraphQL) -> None:
        self._graphql = graphql

    def lookup(self, ref: ProjectRef) -> tuple[Board, list[BoardItem], str | None] | None:
        """The project with its fields and first page of items, and the cursor of the next page; None when
        the owner has no such project (or the token cannot see it)."""
        document = queries.PROJECT_OF_USER if ref.user else queries.PROJECT_OF_ORGANIZATION
        data = self._graphql(document, {"owner": ref.owner, "number": ref.number})
        owner = data.get("user" if ref.user else "organization")
        node = owner.get("projectV2") if isinstance(owner, dict) else None
        if not isinstance(node, dict):
            return None
        board = board_from_json(node)
        items, cursor = _page(node.get("items"), board)
        return board, items, cursor

    def items(self, board: Board, cursor: str | None) -> Iterator[BoardItem]:
        """The items after `cursor`, page by page (100 each)."""
        for _ in range(_MAX_PAGES):
            if cursor is None:
                return
            data = self._graphql(queries.ITEMS_PAGE, {"project": board.id, "after": cursor})
            node = data.get("node")
            items, cursor = _page(node.get("items") if isinstance(node, dict) else None, board)
            yield from items

    def add_item(self, board: Board, content_id: str) -> str:
        """Put the issue (its GraphQL id) on the board; its item id. GitHub returns the existing item for an
        issue already there, so sending it again is harmless."""
        data = self._graphql(queries.ADD_ITEM, {"project": board.id, "content": content_id})
        item = (data.get("addProjectV2ItemById") or {}).get("item") or {}
        item_id = item.get("id") if isinstance(item, dict) else None
        if not isinstance(item_id, str) or not item_id:
            raise ValueError("addProjectV2ItemById answered without an item")
        return item_id

    def write_fields(self, board: Board, item_id: str, writes: Sequence[FieldWrite]) -> None:
        """Every write of one item in one request: a set or a clear per field, in order."""
        variables: dict[str, Any] = {"project": board.id, "item": item_id}
        for n, write in enumerate(writes):
            board_field = board.fields[write.name]
            variables[f"f{n}"] = board_field.id
            if write.value:
                variables[f"v{n}"] = field_value(board_field, write.value)
        self._graphql(queries.set_fields([not write.value for write in writes]), variables)


def field_value(board_field: BoardField, value: str) -> dict[str, Any]:
    """A `ProjectV2FieldValue` for a value in normal form (projects/board.py)."""
    if board_field.kind == "SINGLE_SELECT":
        return {"singleSelectOptionId": board_field.options[value]}
    if board_field.kind == "NUMBER":
        return {"number": float(value)}
    if board_field.kind == "DATE":
        return {"date": value}
    return {"text": value}


def _page(connection: object, board: Board) -> tuple[list[BoardItem], str | None]:
    if not isinstance(connection, dict):
        return [], None
    kinds = board.field_by_id()
    items = [item for node in connection.get("nodes") or [] if (item := item_from_json(node, kinds)) is not None]
    info = connection.get("pageInfo") or {}
    cursor = info.get("endCursor") if isinstance(info, dict) and info.get("hasNextPage") is True else None
    return items, cursor if isinstance(cursor, str) and cursor else None
