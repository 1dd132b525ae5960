"""A project board as the action sees it: where it is (its URL), its fields and options, its items' values.

Everything here reads untrusted JSON (GraphQL replies) and keeps only plain, bounded values. Values are kept in one
normal form per field kind, so the file's value and the board's compare as strings: an option by its name, a
number as `%g` text ("3", "2.5"), a date as YYYY-MM-DD, text as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

__all__ = ["Board", "BoardField", "BoardItem", "ProjectRef", "item_from_json", "parse_project_url"]

# https://github.com/orgs/ORG/projects/5, https://github.com/users/USER/projects/5 (a view's /views/1 may follow)
_PROJECT_PATH_RE = re.compile(r"^/(orgs|users)/([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))/projects/(\d{1,9})(?:/.*)?$")
# The kinds of field the action can write (updateProjectV2ItemFieldValue takes these values).
WRITABLE = ("SINGLE_SELECT", "NUMBER", "DATE", "TEXT")
_MAX_TEXT = 1_024


@dataclass(frozen=True)
class ProjectRef:
    """Where the project is: its owner (an organisation or a user) and number, on which host."""

    host: str
    owner: str
    number: int
    user: bool  # False: an organisation's project

    @property
    def url(self) -> str:
        return f"https://{self.host}/{'users' if self.user else 'orgs'}/{self.owner}/projects/{self.number}"


def parse_project_url(text: str) -> ProjectRef | None:
    """The project a URL names, or None when it names none (the settings say what a URL looks like)."""
    parts = urlsplit(text.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return None
    match = _PROJECT_PATH_RE.fullmatch(parts.path.rstrip("/"))
    if match is None:
        return None
    place, owner, number = match.groups()
    return ProjectRef(parts.hostname, owner, int(number), user=place == "users")


@dataclass(frozen=True)
class BoardField:
    id: str
    name: str
    kind: str  # GitHub's dataType: SINGLE_SELECT, NUMBER, DATE, TEXT, TITLE, ITERATION, …
    options: Mapping[str, str] = field(default_factory=dict)  # option name -> id

    def option_named(self, name: str) -> str | None:
        """The option's name as the board spells it, matched without regard to case, or None."""
        lowered = name.strip().lower()
        return next((option for option in self.options if option.lower() == lowered), None)


@dataclass(frozen=True)
class Board:
    id: str
    title: str
    url: str
    can_update: bool
    fields: Mapping[str, BoardField]  # by name

    def field_by_id(self) -> dict[str, BoardField]:
        return {f.id: f for f in self.fields.values()}


@dataclass(frozen=True, slots=True)
class BoardItem:
    """One item of the board that shows an issue: its id, the issue's GraphQL id, and field values (by field
    id, in normal form)."""

    id: str
    issue_node_id: str
    values: Mapping[str, str]


def board_from_json(data: Mapping[str, Any]) -> Board:
    """A `ProjectV2` node as queries.PROJECT_FIELDS asks for it."""
    fields: dict[str, BoardField] = {}
    nodes = (data.get("fields") or {}).get("nodes") or []
    for node in nodes:
        if not isinstance(node, dict) or not isinstance(node.get("id"), str) or not isinstance(node.get("name"), str):
            continue
        options = {
            str(option["name"]): str(option["id"])
            for option in node.get("options") or []
            if isinstance(option, dict) and isinstance(option.get("name"), str) and isinstance(option.get("id"), str)
        }
        fields[node["name"]] = BoardField(node["id"], node["name"], str(node.get("dataType") or ""), options)
    return Board(
        id=str(data.get("id") or ""),
        title=str(data.get("title") or ""),
        url=str(data.get("url") or ""),
        can_update=data.get("viewerCanUpdate") is True,
        fields=fields,
    )


def item_from_json(node: object, kinds: Mapping[str, BoardField]) -> BoardItem | None:
    """A listed item, or None for a draft, a pull request or an item of no issue. `kinds`: fields by id."""
    if not isinstance(node, dict) or not isinstance(node.get("id"), str):
        return None
    content = node.get("content")
    if not isinstance(content, dict) or not isinstance(content.get("id"), str) or "number" not in content:
        return None
    values: dict[str, str] = {}
    for value in (node.get("fieldValues") or {}).get("nodes") or []:
        if not isinstance(value, dict):
            continue
        field_id = (value.get("field") or {}).get("id")
        known = kinds.get(field_id) if isinstance(field_id, str) else None
        if known is None:
            continue
        shown = _value_of(value, known)
        if shown:
            values[known.id] = shown
    return BoardItem(node["id"], content["id"], values)


def _value_of(value: Mapping[str, Any], known: BoardField) -> str:
    if known.kind == "SINGLE_SELECT":
        option_id = value.get("optionId")
        return next((name for name, oid in known.options.items() if oid == option_id), "")
    if known.kind == "NUMBER":
        number = value.get("number")
        return number_text(number) if isinstance(number, int | float) and not isinstance(number, bool) else ""
    if known.kind == "DATE":
        date = value.get("date")
        return str(date)[:10] if isinstance(date, str) else ""
    text = value.get("text")
    return str(text)[:_MAX_TEXT] if isinstance(text, str) else ""


def number_text(number: float) -> str:
    return f"{float(number):.12g}"


def issue_ids(items: Iterable[BoardItem]) -> dict[str, BoardItem]:
    """Items by the GraphQL id of their issue (the first, should a board show an issue twice)."""
    found: dict[str, BoardItem] = {}
    for item in items:
        found.setdefault(item.issue_node_id, item)
    return found
