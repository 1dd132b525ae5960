"""The engine end to end: whole runs (`cli.main`, real PyGithub over HTTP) against a misbehaving fake GitHub.

Every run must end with each item synced or reported, and never with a duplicate issue. Waits go through an
injected sleep that records what was asked and sleeps a thousandth of it, so a `retry-after: 7` is shown to be
honoured without waiting seven seconds.
"""

from __future__ import annotations

import io
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from batch_action.cli import main
from batch_action.engine.journal import load_journal
from batch_action.sync.render import read_marker
from tests.fake_github import SECONDARY_MESSAGE, FakeGitHub, SecondaryLimits
from tests.replay_harness import LEASE_PATH
from tests.sync_harness import TOKEN, RunResult, Workspace, action_env, by_key, read_outputs

Factory = Callable[..., FakeGitHub]
ITEMS = 44  # planning items in examples/.claude
ISSUES = r"^/repos/octo/repo/issues$"
LINKS = r"/(sub_issues|dependencies/blocked_by)$"


# ----------------------------------------------------------------------------------------------- harness


@dataclass
class Sleeps:
    """The engine's sleep: records every requested delay and really sleeps `scale` of it."""

    scale: float = 1e-3
    delays: list[float] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, seconds: float) -> None:
        with self._lock:
            self.delays.append(seconds)
        time.sleep(seconds * self.scale)

    def at_least(self, low: float, high: float = float("inf")) -> list[float]:
        return [d for d in self.delays if low <= d <= high]


def sync(gh: FakeGitHub, workspace: Path, out: Path, sleeps: Sleeps | None = None, **inputs: str) -> RunResult:
    """One whole run as the container runs it, with `INPUT_*` settings and the real PyGithub adapter."""
    env = action_env(gh, workspace, out, **inputs)
    stream = io.StringIO()
    started = time.monotonic()
    code = main([], env, stream, sleep=sleeps or Sleeps())
    seconds = time.monotonic() - started
    outputs = read_outputs(out)
    summary_file = out / "gh_summary"
    summary = summary_file.read_text() if summary_file.exists() else ""
    return RunResult(code, stream.getvalue(), outputs, summary, out / "files", seconds)


def state(gh: FakeGitHub) -> dict[str, tuple[Any, ...]]:
    """Everything the sync controls, per item, with issue numbers replaced by item keys (numbering varies)."""
    issues = by_key(gh)
    key_of = {issue["number"]: key for key, issue in issues.items()}

    def named(number: int | None) -> str | None:
        return None if number is None else key_of.get(number, f"#{number}")

    out: dict[str, tuple[Any, ...]] = {}
    for key, issue in issues.items():
        body = re.sub(r"#(\d+)\b", lambda m: f"<{named(int(m.group(1)))}>", issue["body"])
        out[key] = (
            issue["title"],
            body,
            issue["state"],
            issue["state_reason"],
            sorted(label["name"] for label in issue["labels"]),
            named(gh.parent_of(issue["number"])),
            sorted(str(named(n)) for n in gh.blocked_by(issue["number"])),
        )
    return out


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Any, ...]]:
    """What the example tree looks like on GitHub after a run with no fault at all."""
    tmp = tmp_path_factory.mktemp("reference")
    with FakeGitHub(token=TOKEN) as gh:
        result = sync(gh, Workspace(tmp / "ws").path, tmp / "run")
        assert result.code == 0, result.log
        expected = state(gh)
    assert len(expected) == ITEMS
    return expected


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")


def assert_all_synced(gh: FakeGitHub, reference: dict[str, tuple[Any, ...]], result: RunResult) -> None:
    assert result.code == 0, result.log
    assert result.outputs["resumable"] == "false" and result.outputs["failed"] == "0"
    assert len(gh.issues()) == ITEMS, "an extra issue was created"
    assert state(gh) == reference


def assert_nothing_left(gh: FakeGitHub, ws: Workspace, out: Path) -> None:
    """A plain re-run finds nothing to do: every content and link write landed."""
    gh.clear_faults()
    gh.clear_requests()
    again = sync(gh, ws.path, out)
    assert again.code == 0, again.log
    assert [(r.method, r.path) for r in gh.requests if r.method != "GET"] == []


def engine(result: RunResult) -> dict[str, Any]:
    figures: dict[str, Any] = result.report()["engine"]
    return figures


# ----------------------------------------------------------------------------------------------- faults


def test_bursts_of_5xx_end_synced_without_duplicates(
    fake_github: Factory, ws: Workspace, tmp_path: Path, reference: dict[str, tuple[Any, ...]]
) -> None:
    gh = fake_github(token=TOKEN, latency=0.002)
    # Creates: a burst of plain 500s, then 502s after the issue was made (the outcome is unknown: reconcile).
    gh.fault("POST", ISSUES, status=500, times=3, skip=4)
    gh.fault("POST", ISSUES, action="commit_then_respond", status=502, times=3, skip=15)
    gh.fault("PATCH", r"/issues/\d+$", status=503, times=2)
    gh.fault("POST", LINKS, status=500, times=4, skip=10)
    gh.fault("POST", LINKS, action="commit_then_respond", status=504, times=3, skip=30)  # linked, then a 504
    gh.fault("POST", r"/labels$", status=502, times=1)
    sleeps = Sleeps()
    result = sync(gh, ws.path, tmp_path / "run", sleeps)
    assert_all_synced(gh, reference, result)
    figures = engine(result)
    assert figures["retries_by_class"]["server"] >= 10
    # the three creates committed before their 502 were found by marker, not sent again
    assert gh.count("POST", ISSUES, status=201) == ITEMS - 3
    assert gh.peak_in_flight <= 4
    assert_nothing_left(gh, ws, tmp_path / "again")


@pytest.mark.parametrize(
    ("message", "cls"),
    [(SECONDARY_MESSAGE.format(rid="X"), "secondary-limit"), ("Too Many Requests", "too-many")],
    ids=["secondary-wording", "bare"],
)
def test_429_with_retry_after_is_honoured(
    fake_github: Factory,
    ws: Workspace,
    tmp_path: Path,
    reference: dict[str, tuple[Any, ...]],
    message: str,
    cls: str,
) -> None:
    gh = fake_github(token=TOKEN)
    retry_after = {"retry-after": "7"}
    gh.fault("POST", ISSUES, status=429, body={"message": message}, headers=retry_after, times=2, skip=6)
    sleeps = Sleeps()
    result = sync(gh, ws.path, tmp_path / "run", sleeps)
    assert_all_synced(gh, reference, result)
    assert gh.count(status=429) == 2
    # retry-after 7 (plus up to 1 s of jitter) before each retry; the others paused meanwhile
    assert len(sleeps.at_least(7.0, 8.0)) >= 2, sleeps.delays
    assert not sleeps.at_least(8.0), "a retry-after of 7 s is not a minute"
    figures = engine(result)
    assert figures["retries_by_class"] == {cls: 2}
    assert figures["limit_hits"] == 2 and figures["limit_wait_seconds"] >= 14
    assert len(sleeps.delays) < 50, "each wait is one sleep, not a poll in small steps"
    assert result.seconds < 5


def test_403_secondary_limit_without_retry_after_waits_a_minute(
    fake_github: Factory, ws: Workspace, tmp_path: Path, reference: dict[str, tuple[Any, ...]]
) -> None:
    gh = fake_github(token=TOKEN)
    gh.secondary_limit(None, method="POST", path_regex=ISSUES, times=1, skip=8)
    sleeps = Sleeps()
    result = sync(gh, ws.path, tmp_path / "run", sleeps)
    assert_all_synced(gh, reference, result)
    assert gh.count(status=403) == 1
    # GitHub: without retry-after, wait at least a minute (our backoff adds up to 10 % jitter)
    assert sleeps.at_least(60.0, 66.0), sleeps.delays
    assert not sleeps.at_least(66.0)
    figures = engine(result)
    assert figures["retries_by_class"] == {"secondary-limit": 1}
    assert figures["limit_hits"] == 1
    assert result.seconds < 5


def test_a_short_outage_is_retried_with_backoff_and_the_run_completes(
    fake_github: Factory, ws: Workspace, tmp_path: Path, reference: dict[str, tuple[Any, ...]]
) -> None:
    gh = fake_github(token=TOKEN)
    gh.fault("*", r"^/repos/", status=503, times=6, skip=20)  # six requests in a row fail, whatever they are
    sleeps = Sleeps()
    result = sync(gh, ws.path, tmp_path / "run", sleeps)
    assert_all_synced(gh, reference, result)
    figures = engine(result)
    assert figures["retries_by_class"] == {"server": 6}
    assert figures["breaker"] == "closed"
    assert sleeps.at_least(2.0, 2.2), "a first 5xx is retried after ~2 s"
    assert result.seconds < 5
    assert_nothing_left(gh, ws, tmp_path / "again")


def test_a_long_outage_trips_the_breaker_the_run_stops_resumable_and_the_next_completes(
    fake_github: Factory, ws: Workspace, tmp_path: Path, reference: dict[str, tuple[Any, ...]]
) -> None:
    gh = fake_github(token=TOKEN)
    gh.fault("*", r"^/repos/", status=503, times=None, skip=30)  # down until further notice
    first = sync(gh, ws.path, tmp_path / "run1", Sleeps())
    assert first.code == 1
    assert first.outputs["resumable"] == "true"
    assert first.report()["stopped_reason"] == "breaker"
    assert engine(first)["breaker"] == "tripped"
    down = gh.count(status=503)
    assert down < 20, "the breaker stops the hammering: a few probes, not every job's retries"
    assert first.seconds < 5
    gh.clear_faults()  # GitHub is back
    second = sync(gh, ws.path, tmp_path / "run2", Sleeps())
    assert_all_synced(gh, reference, second)
    assert_no_repeated_write(gh)


@pytest.mark.parametrize("how", ["budget-runs-out", "403-remaining-0"])
def test_primary_limit_with_a_far_reset_stops_resumable_and_a_second_run_completes(
    fake_github: Factory, ws: Workspace, tmp_path: Path, reference: dict[str, tuple[Any, ...]], how: str
) -> None:
    if how == "budget-runs-out":
        gh = fake_github(token=TOKEN, primary_limit=100, reset_in=3600)
    else:
        gh = fake_github(token=TOKEN, reset_in=3600)
        far = str(int(time.time()) + 3600)
        gh.fault(
            "POST", ISSUES, status=403, times=None, skip=12,
            body={"message": "API rate limit exceeded for user ID 1.", "documentation_url": "https://docs"},
            headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": far},
        )  # fmt: skip
    sleeps = Sleeps()
    first = sync(gh, ws.path, tmp_path / "run1", sleeps)
    assert first.code == 1, first.log
    assert first.outputs["resumable"] == "true"
    assert first.report()["stopped_reason"] == "rate-limit"
    assert not sleeps.at_least(60), "an hour's reset is not waited for: the run stops instead"
    assert 0 < len(by_key(gh)) < ITEMS
    assert first.seconds < 5

    gh.clear_faults()
    gh.reset_primary()  # the budget is refilled (the hour has passed)
    second = sync(gh, ws.path, tmp_path / "run2", Sleeps())
    assert_all_synced(gh, reference, second)
    # nothing done by the first run was done again
    creates = [r for r in gh.requests if r.method == "POST" and re.search(ISSUES, r.path) and r.status == 201]
    assert len(creates) == ITEMS
    assert_no_repeated_write(gh)


def assert_no_repeated_write(gh: FakeGitHub) -> None:
    """Every successful write happened once: no create, link, label or edit was sent twice."""
    writes = Counter(
        (r.method, r.path, json.dumps(r.body, sort_keys=True))
        for r in gh.requests
        if r.method != "GET" and r.status is not None and r.status < 300 and r.path != LEASE_PATH
    )
    repeated = {k: n for k, n in writes.items() if n > 1}
    assert not repeated, repeated


def test_connection_resets_and_lost_responses_end_synced_without_duplicates(
    fake_github: Factory, ws: Workspace, tmp_path: Path, reference: dict[str, tuple[Any, ...]]
) -> None:
    gh = fake_github(token=TOKEN, latency=0.002)
    gh.fault("POST", ISSUES, action="reset", times=2, skip=3)  # never reached the handler
    gh.fault("POST", ISSUES, action="commit_then_drop", times=2, skip=20)  # created, the answer lost
    gh.fault("PATCH", r"/issues/\d+$", action="reset", times=1)
    gh.fault("POST", LINKS, action="reset", times=2, skip=5)
    gh.fault("POST", LINKS, action="commit_then_drop", times=1, skip=30)
    gh.fault("GET", ISSUES, action="reset", times=1, skip=1)  # a reconcile listing, inside a job
    sleeps = Sleeps()
    result = sync(gh, ws.path, tmp_path / "run", sleeps)
    assert_all_synced(gh, reference, result)
    assert engine(result)["retries_by_class"]["connection"] >= 8
    assert gh.count("POST", ISSUES, status=201) == ITEMS - 2  # the two lost answers were found by marker
    assert gh.peak_in_flight <= 4
    assert_nothing_left(gh, ws, tmp_path / "again")


def test_a_create_slower_than_the_timeout_is_reconciled_by_marker(
    fake_github: Factory, ws: Workspace, tmp_path: Path, reference: dict[str, tuple[Any, ...]]
) -> None:
    gh = fake_github(token=TOKEN)
    slow = gh.fault("POST", ISSUES, action="delay", delay=1.5, skip=10)
    # Real time here: the server commits 1.5 s after the request, the client gives up at 1 s and retries after
    # its ~1 s backoff, by when the issue exists. (A scaled backoff would look before the server committed.)
    sleeps = Sleeps(scale=1.0)
    result = sync(gh, ws.path, tmp_path / "run", sleeps, request_timeout="1")
    assert slow.fired == 1
    assert_all_synced(gh, reference, result)
    assert engine(result)["retries_by_class"] == {"timeout": 1}
    delayed = next(r for r in gh.requests if r.outcome.startswith("fault:delay"))
    marker = read_marker(delayed.body["body"])
    assert marker is not None
    journal = load_journal(result.out_dir / "journal.jsonl")
    assert journal.done[f"create:{marker.key}"]["reconciled"] is True
    assert result.seconds < 8


def test_a_secondary_limit_of_80_writes_a_minute_is_not_reached_when_paced(
    fake_github: Factory, ws: Workspace, tmp_path: Path, reference: dict[str, tuple[Any, ...]]
) -> None:
    scale = 60.0  # a fake "minute" lasts one real second; the engine's waits are scaled the same way
    gh = fake_github(token=TOKEN, secondary_limits=SecondaryLimits(time_scale=scale, retry_after=False))
    sleeps = Sleeps(scale=1 / scale)
    result = sync(gh, ws.path, tmp_path / "run", sleeps, writes_per_minute="60")
    assert_all_synced(gh, reference, result)
    posts = gh.count("POST")
    assert posts > 80, "enough content-creating requests to cross the limit unpaced"
    assert gh.stats.get("secondary_limited", 0) <= 2
    assert engine(result)["retries"] <= 2
    assert sleeps.at_least(0.5, 60), "creates were paced"
    assert result.seconds < 10


def test_an_unpaced_run_meets_the_enforced_secondary_limit_backs_off_and_completes(
    fake_github: Factory, ws: Workspace, tmp_path: Path, reference: dict[str, tuple[Any, ...]]
) -> None:
    scale = 30.0  # a two-second "minute": the ~120 POSTs of an unpaced run land well inside one
    gh = fake_github(token=TOKEN, secondary_limits=SecondaryLimits(time_scale=scale, retry_after=False))
    sleeps = Sleeps(scale=1 / scale)
    result = sync(gh, ws.path, tmp_path / "run", sleeps, writes_per_minute="0")
    assert_all_synced(gh, reference, result)
    assert gh.stats.get("secondary_writes", 0) > 0, "the fake does enforce 80 writes a minute"
    figures = engine(result)
    assert figures["limit_hits"] >= 1 and figures["retries_by_class"]["secondary-limit"] >= 1
    assert sleeps.at_least(60.0), "no retry-after: at least a minute"
    assert result.seconds < 15


def test_a_bad_token_stops_at_once_with_one_clear_error(
    fake_github: Factory,
    ws: Workspace,
    tmp_path: Path,
) -> None:
    gh = fake_github(token="the-right-token")
    sleeps = Sleeps()
    result = sync(gh, ws.path, tmp_path / "run", sleeps)
    assert result.code == 1
    assert len(gh.requests) == 1 and gh.requests[0].status == 401, "no retry of a 401"
    assert sleeps.delays == []
    assert len(result.errors) == 1, result.errors
    assert "github-token" in result.errors[0] and "401" in result.errors[0]
    assert result.seconds < 3
    assert gh.issues() == []


def test_a_token_without_issues_write_stops_at_the_first_write_with_one_clear_error(
    fake_github: Factory, ws: Workspace, tmp_path: Path
) -> None:
    gh = fake_github(token=TOKEN)
    denied = {"message": "Resource not accessible by integration", "documentation_url": "https://docs"}
    gh.fault("POST", r"^/repos/", status=403, body=denied, times=None)
    gh.fault("PATCH", r"^/repos/", status=403, body=denied, times=None)
    sleeps = Sleeps()
    result = sync(gh, ws.path, tmp_path / "run", sleeps)
    assert result.code == 1
    # The first refusal stops the run: only the writes already in flight (max-concurrency 4) were sent, none twice.
    posts = [(r.path, str(r.body)) for r in gh.requests if r.method == "POST"]
    assert 1 <= len(posts) <= 4 and len(set(posts)) == len(posts), posts
    assert len(result.errors) == 1, result.errors
    assert "issues: write" in result.errors[0]
    assert result.report()["stopped_reason"] == "auth"
    assert gh.issues() == []


def test_a_404_on_updating_a_deleted_issue_fails_that_item_only(
    fake_github: Factory, ws: Workspace, tmp_path: Path
) -> None:
    gh = fake_github(token=TOKEN)
    assert sync(gh, ws.path, tmp_path / "run1").code == 0
    edited = [".claude/epics/search/004.md", ".claude/epics/billing/003.md", ".claude/prds/auth.md"]
    for rel in edited:
        path = ws.path / rel
        path.write_text(path.read_text() + "\nOne more line.\n")
    ws.commit("edit three items")
    issues = {issue["body"].split("Source:** [")[1].split("]")[0]: issue for issue in gh.issues()}
    gone = issues[edited[0]]["number"]
    gh.fault("PATCH", rf"/issues/{gone}$", status=404, body={"message": "Not Found"}, times=None)
    gh.clear_requests()
    result = sync(gh, ws.path, tmp_path / "run2")
    assert result.code == 1
    assert result.outputs["failed"] == "1" and result.outputs["updated"] == "2"
    assert result.outputs["resumable"] == "false", "a missing issue does not get better by retrying"
    assert gh.count("PATCH", rf"/issues/{gone}$") == 1, "a 404 is not retried"
    (failure,) = result.report()["failures"]
    assert failure["path"] == edited[0] and failure["status"] == 404 and failure["class"] == "item"
    assert len(result.errors) == 1 and f"file={edited[0]}" in result.errors[0]
    for rel in edited[1:]:
        assert "One more line." in gh.issue(issues[rel]["number"])["body"]  # type: ignore[index]


def test_the_concurrency_ceiling_holds_under_faults(
    fake_github: Factory, ws: Workspace, tmp_path: Path, reference: dict[str, tuple[Any, ...]]
) -> None:
    gh = fake_github(token=TOKEN, latency=0.01)
    gh.fault("POST", ISSUES, status=502, action="commit_then_respond", times=2, skip=5)
    gh.fault("POST", LINKS, status=500, times=3, skip=3)
    result = sync(gh, ws.path, tmp_path / "run", Sleeps(), max_concurrency="3")
    assert_all_synced(gh, reference, result)
    assert 2 <= gh.peak_in_flight <= 3
    assert engine(result)["peak_concurrency"] <= 3


def test_faults_while_listing_the_issues_before_any_write_are_retried(
    fake_github: Factory, ws: Workspace, tmp_path: Path, reference: dict[str, tuple[Any, ...]]
) -> None:
    gh = fake_github(token=TOKEN)
    gh.fault("GET", ISSUES, status=502, times=1)  # the first listing, outside the engine's jobs
    gh.fault("GET", ISSUES, action="reset", times=1)
    gh.secondary_limit(3, method="GET", path_regex=ISSUES, times=1)
    sleeps = Sleeps()
    result = sync(gh, ws.path, tmp_path / "run", sleeps)
    assert_all_synced(gh, reference, result)
    assert sleeps.at_least(3.0, 4.0), "the listing's retry-after was honoured"
    assert gh.count("GET", ISSUES) == 5  # three failed, one plan, one more with the lease held


def test_a_done_item_whose_closing_patch_never_landed_is_closed_by_the_next_run(
    fake_github: Factory, ws: Workspace, tmp_path: Path, reference: dict[str, tuple[Any, ...]]
) -> None:
    gh = fake_github(token=TOKEN)
    # Issues are created open, then closed by a PATCH. Here every PATCH fails and nothing is retried: the
    # state a run leaves when it stops (signal, breaker, deadline) between a create and its closing PATCH.
    gh.fault("PATCH", r"/issues/\d+$", status=503, times=None)
    first = sync(gh, ws.path, tmp_path / "run1", Sleeps(), max_retries="0")
    assert first.code == 1 and first.outputs["resumable"] == "true"
    done = {key for key, item in reference.items() if item[2] == "closed"}
    left_open = [issue for key, issue in by_key(gh).items() if key in done and issue["state"] == "open"]
    assert left_open, "some done items were created but not closed"
    gh.clear_faults()
    second = sync(gh, ws.path, tmp_path / "run2", Sleeps())
    assert_all_synced(gh, reference, second)
    for issue in left_open:
        assert gh.issue(issue["number"])["state_reason"] == "completed"  # type: ignore[index]
    assert_nothing_left(gh, ws, tmp_path / "again")


def test_an_issue_reopened_by_a_person_stays_open(
    fake_github: Factory,
    ws: Workspace,
    tmp_path: Path,
) -> None:
    gh = fake_github(token=TOKEN)
    assert sync(gh, ws.path, tmp_path / "run1").code == 0
    done = by_key(gh)["task:billing/001"]
    assert done["state"] == "closed"
    reply = requests.patch(
        f"{gh.base_url}/repos/octo/repo/issues/{done['number']}",
        json={"state": "open"},
        headers={"Authorization": f"token {TOKEN}"},
        timeout=5,
    )
    assert reply.json()["state_reason"] == "reopened"
    assert_nothing_left(gh, ws, tmp_path / "run2")  # the file did not change: the person's reopen stands
    assert gh.issue(done["number"])["state"] == "open"  # type: ignore[index]
