"""What the plan does at GitHub's hard limits (`batch_action.limits`), said before anything is sent. Pure.

The specs are already made to fit (`render`: a title cut to 256, a long `epic:` label shortened, blockers past 50
listed in the body, a body cut to 65,536 with the file linked); this says where, once per item, as notices on
the file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from batch_action import limits
from batch_action.model import Document, Kind, Problem, Severity
from batch_action.sync.render import IssueSpec, body_room, epic_label


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
