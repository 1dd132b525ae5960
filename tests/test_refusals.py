"""Every 422 classified by what GitHub said; only a missing label is cured by making labels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from github.GithubException import GithubException

from batch_action.engine.failures import FailureClass
from batch_action.sync.refusals import Refusal, refusal_error, refusal_of
from tests.fake_github import FakeGitHub
from tests.sync_harness import TOKEN, Workspace, is_lease_write, run_sync
from tests.test_limits_e2e import epic_files, write_tree


def unprocessable(message: str, *errors: dict[str, Any]) -> GithubException:
    return GithubException(422, {"message": message, "errors": list(errors)}, None)


@pytest.mark.parametrize(
    ("exc", "refusal"),
    [
        (
            unprocessable("Validation Failed", {"resource": "Issue", "field": "labels", "code": "invalid"}),
            Refusal.LABEL_MISSING,
        ),
        (
            unprocessable(
                "Validation Failed",
                {"field": "labels", "code": "custom", "message": "too many labels (maximum is 100)"},
            ),
            Refusal.TOO_MANY_LABELS,
        ),
        (
            unprocessable(
                "Validation Failed",
                {"field": "body", "code": "custom", "message": "body is too long (maximum is 65536 characters)"},
            ),
            Refusal.BODY_TOO_LONG,
        ),
        (
            unprocessable(
                "Validation Failed",
                {"field": "title", "code": "custom", "message": "title is too long (maximum is 256 characters)"},
            ),
            Refusal.TITLE_TOO_LONG,
        ),
        (
            unprocessable(
                "Validation Failed",
                {
                    "resource": "Label",
                    "field": "name",
                    "code": "custom",
                    "message": "name is too long (maximum is 50 characters)",
                },
            ),
            Refusal.LABEL_TOO_LONG,
        ),
        (
            unprocessable("Validation Failed", {"field": "sub_issue_id", "message": "Parent has too many sub issues"}),
            Refusal.TOO_MANY_SUB_ISSUES,
        ),
        (unprocessable("Parent cannot have more than 100 sub-issues"), Refusal.TOO_MANY_SUB_ISSUES),
        (
            unprocessable(
                "Validation Failed", {"field": "sub_issue_id", "message": "Sub issue may only have one parent"}
            ),
            Refusal.OTHER_PARENT,
        ),
        (
            unprocessable(
                "Validation Failed", {"field": "issue_id", "message": "Issue cannot be blocked by more than 50 issues"}
            ),
            Refusal.TOO_MANY_BLOCKERS,
        ),
        (unprocessable("Validation failed, or the endpoint has been spammed."), Refusal.SPAMMED),
        (unprocessable("Validation Failed", {"field": "state", "code": "invalid"}), Refusal.VALIDATION),
    ],
)
def test_a_422_is_classified_by_what_github_said(exc: GithubException, refusal: Refusal) -> None:
    assert refusal_of(exc) is refusal


def test_only_a_422_is_a_refusal_and_spam_is_waited_out() -> None:
    assert refusal_of(GithubException(404, {"message": "Not Found"}, None)) is None
    assert refusal_of(ValueError("x")) is None
    spam = refusal_error(unprocessable("the endpoint has been spammed"), Refusal.SPAMMED)
    assert spam.cls is FailureClass.SECONDARY_LIMIT
    long = refusal_error(
        unprocessable(
            "Validation Failed", {"field": "body", "message": "body is too long (maximum is 65536 characters)"}
        ),
        Refusal.BODY_TOO_LONG,
    )
    assert long.cls is FailureClass.ITEM and long.message.startswith(
        "body too long (an issue body holds at most 65,536"
    )


def test_a_refusal_that_is_no_missing_label_makes_no_label(fake_github: Any, tmp_path: Path) -> None:
    gh: FakeGitHub = fake_github(token=TOKEN)
    ws = Workspace(tmp_path / "ws", write_tree(tmp_path / "tree", epic_files("web", ["001"])))
    too_long = {
        "message": "Validation Failed",
        "errors": [{"field": "body", "code": "custom", "message": "body is too long (maximum is 65536 characters)"}],
    }
    gh.fault("POST", r"^/repos/octo/repo/issues$", status=422, body=too_long, skip=1)
    result = run_sync(gh, ws.path, tmp_path / "run")
    assert result.code == 1
    assert gh.count("POST", r"/issues$") == 2  # each create sent once: the refused one was not sent again
    made = [r for r in gh.requests if r.method == "POST" and r.path.endswith("/labels") and not is_lease_write(r)]
    assert len(made) == 3  # the styled labels only (epic, task, issue-sync); the lease is no label of an issue
    assert any("body too long" in line and "001.md" in line for line in result.errors), result.errors


def test_the_endpoint_has_been_spammed_is_retried(fake_github: Any, tmp_path: Path) -> None:
    gh: FakeGitHub = fake_github(token=TOKEN)
    ws = Workspace(tmp_path / "ws", write_tree(tmp_path / "tree", epic_files("web", ["001"])))
    gh.fault("POST", r"^/repos/octo/repo/issues$", status=422, body={"message": "The endpoint has been spammed."})
    result = run_sync(gh, ws.path, tmp_path / "run")
    assert result.code == 0, result.errors
    assert gh.count("POST", r"/issues$") == 3 and len(gh.issues()) == 2
