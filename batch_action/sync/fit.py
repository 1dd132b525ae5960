"""What the plan does at GitHub's hard limits (`batch_action.limits`), before anything is sent. Pure.

Most limits are met where each spec is made (`render`: a title cut to 256, a long `epic:` label shortened,
blockers past 50 listed in the body, a body cut to 65,536 with the file linked); `limit_notices` says where,
once per item, as notices on the file. The 100 sub-issues of a parent need the whole tree and what GitHub
already holds: `group_children` adds grouping issues.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from batch_action import limits
from batch_action.model import Document, Kind, Problem, Severity, text_digest
from batch_action.sync.plan import Observed
from batch_action.sync.render import IssueSpec, body_room, content_digest, epic_label, links_digest


def limit_notices(
    documents: Mapping[str, Document], specs: Mapping[str, IssueSpec], source_url: Callable[[str], str]
) -> list[Problem]:
    found: list[Problem] = []
    for key, spec in sorted(specs.items()):
        doc = documents.get(key)
        if doc is None:
            continue
        said: list[str] = []
        if len(doc.title) > limits.TITLE_CHARS.value:
            said.append(
                f"the title has {len(doc.title)} characters, more than GitHub's {limits.TITLE_CHARS.value}; "
                f"the issue's title is its first {limits.TITLE_CHARS.value}"
            )
        if doc.kind is Kind.EPIC and doc.epic and (label := epic_label(doc.epic)) != f"epic:{doc.epic}":
            said.append(
                f"`epic:{doc.epic}` is longer than GitHub's {limits.LABEL_NAME_CHARS.value} characters for a "
                f"label; the epic's issues carry `{label}` instead"
            )
        if spec.listed_blockers:
            linked = len(spec.blockers)
            said.append(
                f"depends on {linked + len(spec.listed_blockers)} items and GitHub links at most {linked} to an "
                f"issue: the first {linked} are linked as blocked-by, the other {len(spec.listed_blockers)} "
                "are listed in the issue body"
            )
        room = body_room(spec, source_url(spec.path))
        if doc.body_chars > room:
            said.append(
                f"the text has {doc.body_chars:,} characters and an issue body holds "
                f"{limits.BODY_CHARS.value:,} with its metadata: the issue shows about the first {room:,} and "
                "links to the file for the rest"
            )
        found.extend(Problem(doc.path, message, severity=Severity.NOTICE) for message in said)
    return found


@dataclass
class Grouped:
    """The specs with grouping issues where a parent would hold more than GitHub's 100 sub-issues."""

    specs: dict[str, IssueSpec]
    observed: Observed  # grouping issues found in the listing count as issues, not orphans
    touched: frozenset[str]  # the items under a grouped parent: compared whatever the scope, since they move
    problems: list[Problem]


def group_children(specs: Mapping[str, IssueSpec], observed: Observed) -> Grouped:
    """Keep every item reachable from its parent through native sub-issues within 100 a parent.

    A parent keeps its first children (in file-name order) directly and the rest go, 100 at a time, under
    grouping issues that are themselves its sub-issues (`Epic: billing — tasks 100` to `199`). The slots GitHub
    already fills with issues that are not the parent's items (closed children of deleted files, children a
    person added) count. The layout depends on the order of the files only, so task 101 moves one task, not
    one hundred, and a re-run finds every link where it left it.
    """
    limit = limits.SUB_ISSUES_PER_PARENT.value
    remote = {**observed.orphans, **observed.issues}
    by_parent: dict[str, list[str]] = defaultdict(list)
    for key, spec in specs.items():
        if spec.parent:
            by_parent[spec.parent].append(key)
    out = dict(specs)
    touched: set[str] = set()
    problems: list[Problem] = []

    def taken_by_others(key: str, members: Sequence[str]) -> int:
        issue = remote.get(key)
        if issue is None or issue.sub_issues_total is None:
            return 0
        ours = sum(1 for m in members if (r := remote.get(m)) is not None and r.parent_number == issue.number)
        return max(0, issue.sub_issues_total - ours)

    for parent_key, children in sorted(by_parent.items()):
        parent = specs.get(parent_key)
        if parent is None:
            continue
        children.sort(key=_natural)
        group_key = f"group:{parent_key}/".__add__
        existing = [k for k in remote if k.startswith(group_key(""))]
        room = limit - taken_by_others(parent_key, [*children, *existing])
        if len(children) <= room:
            continue
        groups = 1
        while True:
            direct = room - groups
            rooms = [max(0, limit - taken_by_others(group_key(str(i)), children)) for i in range(1, groups + 1)]
            if direct < 0 or direct + sum(rooms) >= len(children):
                break
            groups += 1
        if direct < 0:
            problems.append(
                Problem(parent.path, f"{len(children)} sub-issues do not fit under one issue even in groups")
            )
            continue
        touched.update(children, [parent_key])
        problems.append(
            Problem(
                parent.path,
                f"{len(children)} sub-issues and GitHub holds {limit} under one issue (closed ones count): "
                f"{direct} stay directly under it, the others under {groups} grouping issue(s)",
                severity=Severity.NOTICE,
            )
        )
        start = direct
        for number, size in enumerate(rooms, 1):
            members = children[start : start + size]
            start += size
            key = group_key(str(number))
            out[key] = _grouping_issue(key, parent, [specs[m] for m in members])
            touched.add(key)
            for member in members:
                spec = specs[member]
                out[member] = replace(
                    spec, parent=key, links_digest=links_digest(key, spec.blockers, spec.listed_blockers)
                )
    moved = {key: issue for key, issue in observed.orphans.items() if key in out}
    if moved:
        observed = replace(
            observed,
            issues={**observed.issues, **moved},
            orphans={key: issue for key, issue in observed.orphans.items() if key not in out},
        )
    return Grouped(out, observed, frozenset(touched), problems)


def _grouping_issue(key: str, parent: IssueSpec, members: Sequence[IssueSpec]) -> IssueSpec:
    word = "tasks" if parent.kind is Kind.EPIC else "epics"
    first, last = _name(members[0].key), _name(members[-1].key)
    title = f"{parent.title} — {word} {first}{_DASH}{last}"[: limits.TITLE_CHARS.value]
    text = (
        f"{word.capitalize()} {first}{_DASH}{last} of {parent.title}. An issue holds at most "
        f"{limits.SUB_ISSUES_PER_PARENT.value} sub-issues on GitHub, so the sync groups the rest under issues like "
        "this one, which it keeps in step and closes when all of its sub-issues are closed."
    )
    closed = all(member.closed for member in members)
    status = "closed" if closed else "open"
    body = text_digest(text)
    return IssueSpec(
        key=key,
        kind=parent.kind,
        path=parent.path,
        title=title,
        body_digest=body,
        labels=parent.labels,
        closed=closed,
        parent=parent.key,
        blockers=(),
        digest=content_digest(title, body, status, parent.labels, parent.path),
        links_digest=links_digest(parent.key, ()),
        status=status,
        source_body=text,  # no file: the text is made here, and a replay's checkpoint keeps it
    )


_DASH = "\u2013"  # an en dash, as a range is written in a title


def _name(key: str) -> str:
    return key.split(":", 1)[1].rsplit("/", 1)[-1]


def _natural(key: str) -> list[int | str]:
    """`task:e/9` before `task:e/10`; the split alternates text and digits, so the parts always compare."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", key)]
