"""Which front-matter value goes into which project field, checked against the board before anything is written.

The default mapping (the `project-fields` input left empty) names the fields GitHub's project templates have:

| board field | from the front matter | kind |
|---|---|---|
| Status | `status`: done → Done, in-progress → In Progress, others → Todo (an option named so wins) | single select |
| Priority | `priority`, matched to an option by name | single select |
| Estimate | `effort`, `estimate` or `estimated_hours` (the first present) | number |
| Start date | `start`, `start_date` or `started` | date |
| Target date | `due`, `due_date` or `target` | date |

A default field the board lacks is left out, with one notice. `project-fields` (`Status=status, Size=estimate`)
replaces the whole mapping, and each field it names must exist. Either way, a value the board cannot hold (an
option it does not have, a number or date that is none) is a settings problem naming what it accepts: nothing is
ever created on the board, and the run writes nothing until the files and the board agree.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from batch_action.model import PROJECT_SOURCES, Document
from batch_action.projects.board import WRITABLE, Board, BoardField, number_text

__all__ = ["DEFAULT_MAPPING", "FieldMap", "Resolved", "parse_mapping", "resolve_mapping", "values_for"]

SOURCES = ("status", *PROJECT_SOURCES)
DEFAULT_MAPPING: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Status", ("status",)),
    ("Priority", ("priority",)),
    ("Estimate", ("effort", "estimate", "estimated_hours")),
    ("Start date", ("start", "start_date", "started")),
    ("Target date", ("due", "due_date", "target")),
)
# Statuses (parsing.documents) and the option of GitHub's default Status field each means.
_DONE = frozenset({"closed", "completed", "complete", "done", "resolved", "merged"})
_IN_PROGRESS = frozenset({"in-progress", "in_progress", "active", "started", "doing", "review", "in-review"})
STATUS_OPTIONS = {"done": "Done", "in-progress": "In Progress", "todo": "Todo"}
_DATE_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ].*)?$")
_MAX_PROBLEMS = 20  # per kind of problem: a tree of 10,000 files with one bad board option says so 20 times


@dataclass(frozen=True)
class FieldMap:
    """One mapped board field: its name, the front-matter fields read (first present wins), and the board's field."""

    name: str
    sources: tuple[str, ...]
    field: BoardField


@dataclass(frozen=True)
class Resolved:
    fields: tuple[FieldMap, ...]
    problems: list[str]
    notice: str = ""


def parse_mapping(text: str) -> tuple[tuple[tuple[str, tuple[str, ...]], ...] | None, list[str]]:
    """`Status=status, Size=effort|estimate` -> the mapping, or None for the default (empty input)."""
    if not text.strip():
        return None, []
    found: dict[str, tuple[str, ...]] = {}
    problems: list[str] = []
    for part in (piece.strip() for piece in text.split(",")):
        if not part:
            continue
        name, sep, value = (side.strip() for side in part.partition("="))
        sources = tuple(source.strip().lower() for source in value.split("|") if source.strip())
        unknown = [source for source in sources if source not in SOURCES]
        if not sep or not name or not sources or unknown:
            problems.append(
                f"input `project-fields`: {part!r} is not of the form Field=source (sources joined by |, each one "
                f"of {', '.join(SOURCES)})"
            )
            continue
        if name in found:
            problems.append(f"input `project-fields`: the field {name!r} is named twice")
            continue
        found[name] = sources
    return tuple(found.items()), problems


def resolve_mapping(mapping: Sequence[tuple[str, tuple[str, ...]]] | None, board: Board, url: str) -> Resolved:
    """The mapping against the board's fields: strict for a mapping the input gave, lenient for the default."""
    explicit = mapping is not None
    wanted = mapping if mapping is not None else DEFAULT_MAPPING
    fields: list[FieldMap] = []
    problems: list[str] = []
    left_out: list[str] = []
    writable = sorted(name for name, f in board.fields.items() if f.kind in WRITABLE)
    for name, sources in wanted:
        found = board.fields.get(name) or next(
            (f for known, f in board.fields.items() if known.lower() == name.lower()), None
        )
        if found is None or found.kind not in WRITABLE:
            why = "no field" if found is None else f"a {found.kind.lower()} field, which the action cannot set:"
            if explicit:
                problems.append(
                    f"input `project-fields`: the project {url} has {why} {name!r}; the fields it can set are "
                    f"{', '.join(writable) or '(none)'}"
                )
            else:
                left_out.append(name)
            continue
        fields.append(FieldMap(found.name, sources, found))
    notice = (
        f"the project {url} has no field {', '.join(map(repr, left_out))} of the default mapping: "
        "those are not set (the `project-fields` input names others)"
        if left_out
        else ""
    )
    return Resolved(tuple(fields), problems, notice)


def values_for(
    fields: Sequence[FieldMap], documents: Iterable[Document]
) -> tuple[dict[str, tuple[tuple[str, str], ...]], list[str]]:
    """Each document's (field, value) pairs in the board's normal form ("" for none), and the problems: values
    the board cannot hold, each naming the file and what the field accepts (at most 20 of each kind)."""
    values: dict[str, tuple[tuple[str, str], ...]] = {}
    problems: dict[tuple[str, str], list[str]] = {}
    for doc in documents:
        pairs: list[tuple[str, str]] = []
        for mapped in fields:
            source, raw = next(((s, doc.field(s)) for s in mapped.sources if doc.field(s)), ("", ""))
            if not raw and "status" in mapped.sources:
                source, raw = "status", "open"  # no status is an open item: Todo
            value, problem = _normal(mapped, source, raw)
            if problem:
                found = problems.setdefault((mapped.name, problem.split(":", 1)[0]), [])
                found.append(f"{doc.path}: {problem}")
            pairs.append((mapped.name, value))
        values[doc.key] = tuple(pairs)
    said: list[str] = []
    for found in problems.values():
        said.extend(found[:_MAX_PROBLEMS])
        if len(found) > _MAX_PROBLEMS:
            said.append(f"… and {len(found) - _MAX_PROBLEMS} more files like these")
    return values, said


def _normal(mapped: FieldMap, source: str, raw: str) -> tuple[str, str]:
    """The value in normal form, or ("", why not)."""
    if not raw:
        return "", ""
    f = mapped.field
    if f.kind == "SINGLE_SELECT":
        option = f.option_named(raw) or f.option_named(raw.replace("_", " ").replace("-", " "))
        if option is None and source == "status":
            option = f.option_named(status_option(raw))
        if option is None:
            choices = ", ".join(f.options) or "(none)"
            return "", f"`{source}: {raw}` has no option on the project's field {f.name!r}; its options are {choices}"
        return option, ""
    if f.kind == "NUMBER":
        try:
            number = float(raw)
        except ValueError:
            return "", f"`{source}: {raw}` is not a number, which the project's field {f.name!r} holds"
        if number != number or number in (float("inf"), float("-inf")):
            return "", f"`{source}: {raw}` is not a number, which the project's field {f.name!r} holds"
        return number_text(number), ""
    if f.kind == "DATE":
        match = _DATE_RE.match(raw)
        try:
            day = datetime.date.fromisoformat(match.group(1)) if match else None
        except ValueError:
            day = None
        if day is None:
            return "", f"`{source}: {raw}` is not a date (YYYY-MM-DD), which the project's field {f.name!r} holds"
        return day.isoformat(), ""
    return raw, ""


def status_option(status: str) -> str:
    """The option of GitHub's default Status field a status means."""
    lowered = status.strip().lower()
    if lowered in _DONE:
        return STATUS_OPTIONS["done"]
    if lowered in _IN_PROGRESS:
        return STATUS_OPTIONS["in-progress"]
    return STATUS_OPTIONS["todo"]


def mapping_text(fields: Iterable[FieldMap]) -> Mapping[str, str]:
    """For the report: each mapped field and where its value comes from."""
    return {mapped.name: " | ".join(mapped.sources) for mapped in fields}
