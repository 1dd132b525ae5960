"""Sync by kind (the `kinds` input): which of PRDs, epics and tasks a run writes. Pure.

Items of a kind not selected are out of scope: no issue is created, updated or closed for them, not even when
their file is removed, so a run with fewer kinds than the last one closes nothing the last one made. They are
still read, listed and matched, so an item that is selected may link to one that is not, but only to one whose
issue already exists (the listing says so): `select_kinds` drops the other links from the item's spec, and its
links digest with them, so a later run that syncs the missing issue also makes the link (the digest differs).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import replace

from batch_action.limits import BLOCKED_BY_PER_ISSUE
from batch_action.model import Kind
from batch_action.sync.render import IssueSpec, links_digest
from batch_action.sync.tracker import RemoteIssue

ALL_KINDS: frozenset[Kind] = frozenset(Kind)
KIND_NAMES = tuple(kind.value for kind in Kind)  # prd, epic, task: the input's default order
_PLURALS = {f"{kind.value}s": kind for kind in Kind}


def parse_kinds(text: str, name: str = "kinds") -> tuple[frozenset[Kind], list[str]]:
    """The kinds a comma-separated value names (`prd,epic`; plurals and any case too), and the problems, each
    naming the input `name`, the value and the closest kind."""
    chosen: set[Kind] = set()
    problems: list[str] = []
    for part in (piece.strip().lower() for piece in text.split(",")):
        if not part:
            continue
        kind = _PLURALS.get(part) or next((k for k in Kind if k.value == part), None)
        if kind is not None:
            chosen.add(kind)
            continue
        close = difflib.get_close_matches(part, [*KIND_NAMES, *_PLURALS], n=1, cutoff=0.6)
        hint = f" (did you mean {close[0].removesuffix('s')!r}?)" if close else ""
        problems.append(f"input `{name}`: {part!r} is not a kind; use prd, epic or task, comma-separated{hint}")
    if not chosen and not problems:
        problems.append(f"input `{name}`: names no kind; use prd, epic or task, comma-separated (e.g. prd,epic)")
    return frozenset(chosen), problems


def kind_of_key(key: str) -> Kind | None:
    """The kind an item key names (`task:auth/001` -> task): how a removed item's kind is known without its file."""
    prefix = key.removeprefix("group:").split(":", 1)[0]  # a grouping issue (`sync.fit`) is of its parent's kind
    return next((kind for kind in Kind if kind.value == prefix), None)


def selected(key: str, kinds: frozenset[Kind]) -> bool:
    kind = kind_of_key(key)
    return kind is None or kind in kinds  # a key of no known kind is not one `kinds` can leave out


def select_kinds(
    specs: Mapping[str, IssueSpec], issues: Mapping[str, RemoteIssue], kinds: frozenset[Kind]
) -> dict[str, IssueSpec]:
    """The specs, the selected ones linking only to items that are selected or already have an issue (`issues`,
    from the listing). With every kind selected nothing changes, nor any digest."""
    if kinds >= ALL_KINDS:
        return dict(specs)

    def linkable(key: str) -> bool:
        target = specs.get(key)
        kind = target.kind if target is not None else kind_of_key(key)
        return kind in kinds or key in issues

    out = dict(specs)
    for key, spec in specs.items():
        if spec.kind not in kinds:
            continue
        parent = spec.parent if spec.parent is None or linkable(spec.parent) else None
        wanted = tuple(b for b in (*spec.blockers, *spec.listed_blockers) if linkable(b))
        # As `render.build_spec` splits them: the first 50 linked, the rest listed in the body.
        blockers, listed = wanted[: BLOCKED_BY_PER_ISSUE.value], wanted[BLOCKED_BY_PER_ISSUE.value :]
        if (parent, blockers, listed) != (spec.parent, spec.blockers, spec.listed_blockers):
            out[key] = replace(
                spec,
                parent=parent,
                blockers=blockers,
                listed_blockers=listed,
                links_digest=links_digest(parent, blockers, listed),
            )
    return out
