"""Issue types (organisation-level: Feature, Epic, Task, Bug…) for the items of each kind: the `issue-types` input.

`prd=Feature,epic=Epic,task=Task` names a type per kind; a kind left out keeps whatever type its issues have. The
names are checked once per run against the organisation's types (`GET /orgs/{org}/issue-types`): an unknown one
is a settings problem naming the valid ones; a personal repository has no types, and the run goes on without
them after one notice. The type counts in an item's digest only while the input is set (`sync.render`), so a
user who never sets it keeps every digest, and no issue is written again because of this feature.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from batch_action.model import Kind

__all__ = ["IssueTypes", "check_issue_types", "parse_issue_types", "type_not_kept"]


@dataclass(frozen=True)
class IssueTypes:
    """The run's verdict: the type name to give each kind (empty: types off), or why there are none."""

    by_kind: Mapping[Kind, str] = field(default_factory=dict)
    notice: str = ""  # said once when the input was set but the repository has no types

    def of(self, kind: Kind) -> str | None:
        return self.by_kind.get(kind)


def parse_issue_types(text: str) -> tuple[dict[Kind, str], list[str]]:
    """`prd=Feature,epic=Epic` -> {Kind.PRD: "Feature", Kind.EPIC: "Epic"}, and the problems found, each naming
    the input and what it accepts."""
    wanted: dict[Kind, str] = {}
    problems: list[str] = []
    kinds = {kind.value: kind for kind in Kind}
    for part in (piece.strip() for piece in text.split(",")):
        if not part:
            continue
        name, sep, value = (side.strip() for side in part.partition("="))
        kind = kinds.get(name.lower())
        if not sep or kind is None or not value:
            problems.append(
                f"input `issue-types`: {part!r} is not of the form kind=Type with kind one of "
                f"{', '.join(kinds)} (e.g. prd=Feature,epic=Epic,task=Task)"
            )
            continue
        if kind in wanted and wanted[kind] != value:
            problems.append(f"input `issue-types`: {kind.value} is given twice ({wanted[kind]!r} and {value!r})")
            continue
        wanted[kind] = value
    return wanted, problems


def check_issue_types(
    wanted: Mapping[Kind, str], owner: str, available: Callable[[str], list[str] | None]
) -> tuple[IssueTypes, list[str]]:
    """The names in `wanted` against the owner's types (`available(owner)`: the names, None for no
    organisation), read once. Returns the verdict and the settings problems (unknown names)."""
    if not wanted:
        return IssueTypes(), []
    found = available(owner)
    if found is None:
        return (
            IssueTypes(
                notice=f"input `issue-types` is set, but {owner} is not an organisation with issue types "
                "(a personal repository has none): issues get no type"
            ),
            [],
        )
    canonical = {name.lower(): name for name in found}
    problems = [
        f"input `issue-types`: {kind.value}={name!r} is not an issue type of {owner}; "
        f"its types are {', '.join(sorted(found)) or '(none enabled)'}"
        for kind, name in wanted.items()
        if name.lower() not in canonical
    ]
    if problems:
        return IssueTypes(), problems
    return IssueTypes({kind: canonical[name.lower()] for kind, name in wanted.items()}), []


def type_not_kept(wanted: str, number: int, got: str | None) -> str:
    """The failure when GitHub answered a write without the type it was sent: it drops `type` silently for a
    token without push access (github-api.md §3)."""
    return (
        f"GitHub left the issue type {wanted!r} off issue #{number} (it shows {got or 'none'}): the token needs "
        "push access to set issue types (`issues: write` for GITHUB_TOKEN; Issues: read and write for a "
        "fine-grained token, or a GitHub App with that permission)"
    )
