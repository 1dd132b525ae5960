"""GitHub's hard limits, as data, each with where the number comes from (github-api.md §6).

The planner reads these and never plans an operation GitHub must refuse: a tree that meets a limit is fitted
within it (README "How the sync decides", the limits), not refused with a 422 on every run. Nothing here does
I/O; `sync/fit.py` applies them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    value: int
    what: str
    source: str


SUB_ISSUES_PER_PARENT = Limit(
    100,
    "sub-issues one parent holds, closed ones included",
    "docs.github.com adding-sub-issues (sub_issue_limit: 100, since GA 2025-04); closed children count: "
    "community discussion #207865",
)
SUB_ISSUE_NESTING = Limit(8, "levels of nested sub-issues", "docs.github.com adding-sub-issues")
BLOCKED_BY_PER_ISSUE = Limit(
    50,
    "issues in one dependency relationship (blocked by)",
    "GitHub changelog 2025-08-21, dependencies GA: 'Link up to 50 issues for each relationship type'",
)
TITLE_CHARS = Limit(256, "characters of an issue title", "GitHub's 422 on create/update (github-api.md §6)")
BODY_CHARS = Limit(
    65_536,
    "characters of an issue body, text and anything appended",
    "422 'body is too long (maximum is 65536 characters)': JasonEtco/create-an-issue#123",
)
LABEL_NAME_CHARS = Limit(50, "characters of a label name", "GitHub's 422 on label create (github-api.md §6)")
LABELS_PER_ISSUE = Limit(100, "labels on one issue", "actions/labeler#115")
ASSIGNEES_PER_ISSUE = Limit(
    10, "assignees of one issue", "docs.github.com REST 'Add assignees to an issue': 'Adds up to 10 assignees'"
)

ALL = (
    SUB_ISSUES_PER_PARENT,
    SUB_ISSUE_NESTING,
    BLOCKED_BY_PER_ISSUE,
    TITLE_CHARS,
    BODY_CHARS,
    LABEL_NAME_CHARS,
    LABELS_PER_ISSUE,
    ASSIGNEES_PER_ISSUE,
)
