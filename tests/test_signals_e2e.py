"""SIGTERM / SIGINT half-way through a sync: the container's entry point as a subprocess, against the fake.

The runner sends SIGINT on cancel, then SIGTERM, then kills. The run must stop within seconds, say resumable,
leave a journal in which every started job has an ending (or is listed as unfinished), and the next run must
finish the rest without a duplicate issue or any write sent twice.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from batch_action.engine.journal import load_journal
from batch_action.sync.render import read_marker
from tests.fake_github import FakeGitHub
from tests.replay_harness import LEASE_PATH
from tests.sync_harness import ROOT, TOKEN, Workspace
from tests.test_resilience_e2e import ITEMS, Sleeps, state, sync

Factory = Callable[..., FakeGitHub]
ISSUES = r"^/repos/octo/repo/issues$"
LINKS = r"/(sub_issues|dependencies/blocked_by)$"
CONCURRENCY = 2


def entrypoint(gh: FakeGitHub, workspace: Path, out: Path) -> subprocess.Popen[str]:
    """`python entrypoint.py` as the container runs it, configured through INPUT_* only."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "gh_output").write_text("")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(out),
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_OUTPUT": str(out / "gh_output"),
        "GITHUB_STEP_SUMMARY": str(out / "gh_summary"),
        "INPUT_GITHUB-TOKEN": TOKEN,
        "INPUT_REPOSITORY": "octo/repo",
        "INPUT_API-URL": gh.base_url,
        "INPUT_PATH": ".claude",
        "INPUT_SCOPE": "all",
        "INPUT_MAX-CONCURRENCY": str(CONCURRENCY),
        "INPUT_WRITES-PER-MINUTE": "0",
        "INPUT_REQUEST-TIMEOUT": "5",
        "INPUT_OUTPUT-DIR": str(out / "files"),
    }
    return subprocess.Popen(
        [sys.executable, "entrypoint.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def interrupt(
    proc: subprocess.Popen[str], signum: signal.Signals, ready: Callable[[], bool], what: str, settle: float = 0.0
) -> tuple[str, float]:
    """Send `signum` once `ready()` (and `settle` seconds more); the run's log and how long it took to stop."""
    try:
        give_up = time.monotonic() + 30
        while not ready():
            assert proc.poll() is None, proc.communicate()[0]
            assert time.monotonic() < give_up, f"the run did not {what}"
            time.sleep(0.005)
        time.sleep(settle)
        sent = time.monotonic()
        proc.send_signal(signum)
        log, _ = proc.communicate(timeout=15)
        return log, time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def outputs(out: Path) -> dict[str, str]:
    lines = (out / "gh_output").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


def started_jobs(journal: Path) -> set[str]:
    jobs: set[str] = set()
    for line in journal.read_text().splitlines():
        entry = json.loads(line)
        if entry.get("event") == "started":
            jobs.add(entry["job"])
    return jobs


def successful_writes(gh: FakeGitHub) -> list[tuple[str, str, str]]:
    return [
        (r.method, r.path, json.dumps(r.body, sort_keys=True))
        for r in gh.requests
        if r.method != "GET" and r.status is not None and r.status < 300 and r.path != LEASE_PATH
    ]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_half_way_stops_resumable_and_the_next_run_finishes_the_rest(
    fake_github: Factory, tmp_path: Path, signum: signal.Signals
) -> None:
    gh = fake_github(token=TOKEN, latency=0.03)
    ws = Workspace(tmp_path / "ws")
    first_out = tmp_path / "run1"
    proc = entrypoint(gh, ws.path, first_out)
    # once part of the creates are done
    log, stopped_after = interrupt(proc, signum, lambda: gh.count("POST", ISSUES) >= 12, "start creating issues")
    assert proc.returncode == 1, log
    assert stopped_after < 3, f"took {stopped_after:.1f} s to stop"
    assert f"received {signum.name}" in log
    assert outputs(first_out)["resumable"] == "true"
    report = json.loads((first_out / "files" / "report.json").read_text())
    assert report["stopped_reason"] == "signal"
    done_before = len(gh.issues())
    assert 12 <= done_before < ITEMS, "stopped half-way, not at the end"

    # The journal is consistent: every job that started has an ending, or is listed as unfinished.
    journal_path = first_out / "files" / "journal.jsonl"
    journal = load_journal(journal_path)
    assert journal.torn_lines == 0 and journal.stopped_reason == "signal"
    for job in started_jobs(journal_path):
        assert job in journal.done or job in journal.failed or job in journal.unfinished, job
    assert journal.not_started, "the stop left work for the next run"
    # what the journal says was created is exactly what GitHub has
    created = {job.split(":", 1)[1] for job in journal.done if job.startswith("create:")}
    assert created == {read_marker(issue["body"]).key for issue in gh.issues()}  # type: ignore[union-attr]

    # The next run finishes the rest (less latency: the ceiling was shown under load already).
    gh.latency = 0.005
    second = sync(gh, ws.path, tmp_path / "run2", Sleeps(), max_concurrency=str(CONCURRENCY))
    assert second.code == 0, second.log
    assert second.outputs["resumable"] == "false"
    assert int(second.outputs["created"]) == ITEMS - done_before
    assert len(gh.issues()) == ITEMS
    assert_complete(gh, tmp_path)

    # Across both runs: each create body went out in exactly one successful POST, and no write was repeated.
    markers = Counter(
        read_marker(r.body["body"]).key  # type: ignore[union-attr]
        for r in gh.requests
        if r.method == "POST" and re.search(ISSUES, r.path) and r.status == 201
    )
    assert len(markers) == ITEMS and set(markers.values()) == {1}
    writes = Counter(successful_writes(gh))
    assert {w: n for w, n in writes.items() if n > 1} == {}
    links = [w for w in writes if re.search(LINKS, w[1])]
    assert links, "the links were made"
    assert gh.count("POST", LINKS) == len(links), "no link POST was sent twice, not even a refused one"
    # the concurrency ceiling held in both runs, as the server counted it
    assert gh.peak_in_flight <= CONCURRENCY


def assert_complete(gh: FakeGitHub, tmp_path: Path) -> None:
    """The issues look exactly as a run without interruption leaves them."""
    with FakeGitHub(token=TOKEN) as clean:
        assert sync(clean, Workspace(tmp_path / "clean-ws").path, tmp_path / "clean").code == 0
        expected: dict[str, Any] = state(clean)
    assert state(gh) == expected


def test_a_signal_during_a_rate_limit_wait_stops_at_once_not_after_the_wait(
    fake_github: Factory, tmp_path: Path
) -> None:
    gh = fake_github(token=TOKEN, latency=0.01)
    gh.secondary_limit(None, method="POST", path_regex=ISSUES, skip=5)  # no retry-after: a minute's wait
    ws = Workspace(tmp_path / "ws")
    first_out = tmp_path / "run1"
    proc = entrypoint(gh, ws.path, first_out)
    # 0.3 s after the limit is hit, everyone is waiting: the limited job to retry, the others for the pause
    log, stopped_after = interrupt(proc, signal.SIGTERM, lambda: gh.count(status=403) > 0, "hit the limit", settle=0.3)
    assert proc.returncode == 1, log
    assert stopped_after < 3, f"took {stopped_after:.1f} s to stop: the wait was not interrupted"
    assert outputs(first_out)["resumable"] == "true"
    (limited,) = [r for r in gh.requests if r.status == 403]
    # (a create in flight alongside may still send its closing PATCH: that is the same attempt)
    after = [r.path for r in gh.requests if r.method == "POST" and r.start > limited.end + 0.05]
    assert after == [], "no POST after the limit: everyone paused, then stopped"

    second = sync(gh, ws.path, tmp_path / "run2", Sleeps(), max_concurrency=str(CONCURRENCY))
    assert second.code == 0, second.log
    assert len(gh.issues()) == ITEMS
    assert {w: n for w, n in Counter(successful_writes(gh)).items() if n > 1} == {}
