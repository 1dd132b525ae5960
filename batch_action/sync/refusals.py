"""What a 422 from GitHub means, read from what GitHub said: its message and its `errors` list.

"Validation Failed" covers very different refusals, and each wants its own handling: a missing label is made and
the write sent again (`apply.Labels`); "the endpoint has been spammed" is a content-creation limit, waited out
like a secondary limit; every other refusal fails the item with a message that says what to change. The engine
knows nothing of GitHub's wording: this is the sync layer's knowledge, turned into `JobError`s.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from github.GithubException import GithubException

from batch_action import limits
from batch_action.engine.failures import FailureClass, JobError


class Refusal(StrEnum):
    LABEL_MISSING = "label missing"
    TOO_MANY_LABELS = "too many labels"
    BODY_TOO_LONG = "body too long"
    TITLE_TOO_LONG = "title too long"
    LABEL_TOO_LONG = "label name too long"
    TOO_MANY_SUB_ISSUES = "too many sub-issues"
    TOO_DEEP = "sub-issues nested too deep"
    OTHER_PARENT = "already a sub-issue of another parent"
    TOO_MANY_BLOCKERS = "too many blockers"
    SPAMMED = "endpoint has been spammed"
    VALIDATION = "validation failed"


def refusal_of(exc: BaseException) -> Refusal | None:
    """The kind of a 422; None for anything else."""
    if not isinstance(exc, GithubException) or exc.status != 422:
        return None
    data, errors = _said(exc)
    fields = {str(e.get("field") or "").lower() for e in errors}
    said = " ".join([str(data.get("message") or ""), *(str(e.get("message") or "") for e in errors)]).lower()
    if "spammed" in said:
        return Refusal.SPAMMED
    if "too long" in said or any(e.get("code") == "too_long" for e in errors):
        if "body" in fields or "body is" in said:
            return Refusal.BODY_TOO_LONG
        if "title" in fields or "title is" in said:
            return Refusal.TITLE_TOO_LONG
        return Refusal.LABEL_TOO_LONG if "name" in fields or "label" in said else Refusal.VALIDATION
    if "too many labels" in said or ("labels" in fields and ("too many" in said or "maximum" in said)):
        return Refusal.TOO_MANY_LABELS
    if "labels" in fields or "label does not exist" in said:
        return Refusal.LABEL_MISSING
    if "too many sub" in said or "more than 100 sub" in said:
        return Refusal.TOO_MANY_SUB_ISSUES
    if "nest" in said or "depth" in said:
        return Refusal.TOO_DEEP
    if "one parent" in said or "already has a parent" in said:
        return Refusal.OTHER_PARENT
    if "blocked by more than" in said or ("issue_id" in fields and "more than" in said):
        return Refusal.TOO_MANY_BLOCKERS
    return Refusal.VALIDATION


def _said(exc: GithubException) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The reply's JSON and its `errors` entries ({resource, field, code[, message]})."""
    data = exc.data if isinstance(exc.data, dict) else {}
    errors = data.get("errors")
    return data, [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


_ADVICE = {
    Refusal.LABEL_MISSING: "a label it names does not exist and GitHub did not make it",
    Refusal.TOO_MANY_LABELS: f"an issue holds at most {limits.LABELS_PER_ISSUE.value} labels; name fewer in `labels`",
    Refusal.BODY_TOO_LONG: f"an issue body holds at most {limits.BODY_CHARS.value:,} characters",
    Refusal.TITLE_TOO_LONG: f"a title holds at most {limits.TITLE_CHARS.value} characters; shorten the `name`",
    Refusal.LABEL_TOO_LONG: f"a label name holds at most {limits.LABEL_NAME_CHARS.value} characters",
    Refusal.TOO_MANY_SUB_ISSUES: (
        f"the parent already holds {limits.SUB_ISSUES_PER_PARENT.value} sub-issues (closed ones count); "
        "the next run groups them"
    ),
    Refusal.TOO_DEEP: f"sub-issues nest at most {limits.SUB_ISSUE_NESTING.value} levels",
    Refusal.OTHER_PARENT: "the issue is a sub-issue of another parent, which GitHub would not replace",
    Refusal.TOO_MANY_BLOCKERS: f"an issue is blocked by at most {limits.BLOCKED_BY_PER_ISSUE.value} issues",
    Refusal.SPAMMED: "GitHub's content-creation limit; the write is retried after a pause",
    Refusal.VALIDATION: "GitHub refused the values sent",
}


def refusal_error(exc: GithubException, refusal: Refusal) -> JobError:
    """The item's failure for a 422 the sync could not avoid, saying what GitHub refused and why."""
    data, errors = _said(exc)
    detail = "; ".join(
        str(e.get("message") or e.get("code") or "") for e in errors if e.get("message") or e.get("code")
    )
    said = str(data.get("message") or "Validation Failed") + (f": {detail}" if detail else "")
    # A 422 is a definite refusal (nothing was written), so the spammed write is safe to send again.
    cls = FailureClass.SECONDARY_LIMIT if refusal is Refusal.SPAMMED else FailureClass.ITEM
    return JobError(cls, f"{refusal} ({_ADVICE[refusal]}): {said} (HTTP 422)", status=422)
