"""Convergence: a plain run finishes whatever an earlier run left undone, and two runs never race.

A run killed hard (SIGKILL of its process group: a lost runner, `timeout-minutes`) uploads nothing, so the next
ordinary push run (`scope: changed`, nothing changed in git, no replay) has only what GitHub shows. It must still
end with the issues a clean sync leaves: each item's parent, blockers, labels and state, and no duplicate.
"""

from __future__ import annotations

import calendar
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from batch_action.run.apply import SINCE_MARGIN
from tests.fake_github import FakeGitHub
from tests.replay_harness import ROOT
from tests.replay_harness import action_env as subprocess_env
from tests.sync_harness import TOKEN, Workspace
from tests.test_resilience_e2e import ITEMS, Sleeps, state, sync

Factory = Callable[..., FakeGitHub]
EDITED = ["billing/003.md", "billing/007.md", "billing/011.md", "search/002.md", "search/005.md", "auth/004.md"]


def start_killable(gh: FakeGitHub, ws: Path, root: Path, **inputs: str) -> subprocess.Popen[str]:
    """`python entrypoint.py` in a process group of its own, with no artifact service (a killed job uploads
    nothing)."""
    env = subprocess_env(gh, None, ws, root, run_id="9001", token=TOKEN, max_concurrency="2", **inputs)
    return subprocess.Popen(
        [sys.executable, str(ROOT / "entrypoint.py")],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )


def kill_after_writes(gh: FakeGitHub, proc: subprocess.Popen[str], writes: int) -> None:
    """SIGKILL the run's process group once the fake has seen `writes` writes (nothing else is written before)."""
    import time

    try:
        give_up = time.monotonic() + 60
        while sum(1 for r in gh.requests if r.method != "GET") < writes:
            assert proc.poll() is None, f"the run ended (exit {proc.returncode}) before {writes} writes"
            assert time.monotonic() < give_up, f"no {writes} writes within a minute"
            time.sleep(0.002)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=10)
    gh.wait_idle()


def clean_state(tmp: Path, ws: Workspace) -> dict[str, tuple[Any, ...]]:
    """What a run with no interruption leaves on GitHub for the tree `ws` holds now."""
    with FakeGitHub(token=TOKEN) as clean:
        result = sync(clean, ws.path, tmp, Sleeps())
        assert result.code == 0, result.log
        return state(clean)


def push_run(gh: FakeGitHub, ws: Workspace, out: Path) -> Any:
    """The next ordinary push run: `scope: changed` with nothing changed in git (base = HEAD), no replay."""
    return sync(gh, ws.path, out, Sleeps(), scope="changed", base_sha=ws.head(), replay="")


@pytest.mark.parametrize("writes", [30, 60, 90])
def test_a_run_killed_during_a_first_sync_is_finished_by_the_next_push_run(
    fake_github: Factory, tmp_path: Path, writes: int
) -> None:
    gh = fake_github(token=TOKEN, latency=0.01)
    ws = Workspace(tmp_path / "ws")
    kill_after_writes(gh, start_killable(gh, ws.path, tmp_path / "killed"), writes)
    assert 0 < len(gh.issues()) < ITEMS or writes > 44, "killed half-way"

    after = push_run(gh, ws, tmp_path / "push")
    assert after.code == 0, after.log
    assert state(gh) == clean_state(tmp_path / "clean", ws)  # state() fails on a duplicate issue
    assert len(gh.issues()) == ITEMS

    gh.clear_requests()
    again = push_run(gh, ws, tmp_path / "again")
    assert again.code == 0, again.log
    assert [(r.method, r.path) for r in gh.requests if r.method != "GET"] == [], "converged: nothing left to write"


def test_a_run_killed_during_an_update_wave_is_finished_by_the_next_push_run(
    fake_github: Factory, tmp_path: Path
) -> None:
    gh = fake_github(token=TOKEN, latency=0.01)
    ws = Workspace(tmp_path / "ws")
    first = sync(gh, ws.path, tmp_path / "first", Sleeps())
    assert first.code == 0, first.log
    base = ws.head()
    epics = ws.path / ".claude" / "epics"
    for name in EDITED:
        path = epics / name
        path.write_text(path.read_text() + "\nEdited for the update wave.\n")
    # one task drops its dependencies and one gets done: links and state change too
    done = epics / "search" / "006.md"
    done.write_text(done.read_text().replace("status: open", "status: done", 1))
    unlinked = epics / "billing" / "011.md"
    text = unlinked.read_text()
    unlinked.write_text("\n".join(line for line in text.splitlines() if not line.startswith("depends_on")) + "\n")
    ws.commit("edit several files")
    gh.clear_requests()

    kill_after_writes(gh, start_killable(gh, ws.path, tmp_path / "killed", scope="changed", base_sha=base), 3)

    after = push_run(gh, ws, tmp_path / "push")
    assert after.code == 0, after.log
    assert state(gh) == clean_state(tmp_path / "clean", ws)
    assert len(gh.issues()) == ITEMS


def test_labels_github_left_off_an_issue_are_put_on_by_the_next_push_run(fake_github: Factory, tmp_path: Path) -> None:
    # A repository that drops unknown labels, and one add-labels answer that keeps none (a token GitHub will
    # not let label): the create landed, its labels did not.
    gh = fake_github(token=TOKEN, unknown_labels="drop")
    gh.fault("POST", r"/issues/\d+/labels$", status=200, body=[], times=1)
    ws = Workspace(tmp_path / "ws")
    first = sync(gh, ws.path, tmp_path / "first", Sleeps())
    assert first.code == 1 and first.outputs["failed"] == "1", first.log
    assert "left the labels" in first.log

    gh.clear_faults()
    after = push_run(gh, ws, tmp_path / "push")
    assert after.code == 0, after.log
    assert state(gh) == clean_state(tmp_path / "clean", ws)


# -- one sync at a time ------------------------------------------------------------------------------------------

LEASE = "issue-sync-lease"


def lease_description(run_id: str, until: float) -> str:
    return f"issue-sync lease: run={run_id} attempt=1 until={int(until)} nonce=0a1b2c3d"


def test_two_runs_at_once_never_race_and_the_second_says_why_it_waited(fake_github: Factory, tmp_path: Path) -> None:
    import time

    gh = fake_github(token=TOKEN, latency=0.005)
    ws = Workspace(tmp_path / "ws")
    runs = {
        run_id: subprocess.Popen(
            [sys.executable, str(ROOT / "entrypoint.py")],
            cwd=ROOT,
            env=subprocess_env(gh, None, ws.path, tmp_path / run_id, run_id=run_id, token=TOKEN),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for run_id in ("7001", "7002")
    }
    logs = {run_id: proc.communicate(timeout=90)[0] for run_id, proc in runs.items()}
    codes = {run_id: proc.returncode for run_id, proc in runs.items()}
    assert codes == {"7001": 0, "7002": 0}, logs
    assert len(gh.issues()) == ITEMS
    assert state(gh) == clean_state(tmp_path / "clean", ws)  # state() fails on a duplicate issue
    created = {run_id: int(subprocess_outputs(tmp_path / run_id)["created"]) for run_id in runs}
    assert sorted(created.values()) == [0, ITEMS], created
    (second,) = [run_id for run_id, n in created.items() if n == 0]
    (first,) = [run_id for run_id in runs if run_id != second]
    assert f"the lease on octo/repo is held by run {first}" in logs[second], logs[second]
    assert "took the lease" in logs[second] and "nothing left to write" in logs[second], logs[second]
    assert LEASE not in gh.labels(), "released at the end"

    gh.clear_requests()
    time.sleep(0)  # a third run, in-process: no write at all, and no lease taken for a plan without writes
    third = sync(gh, ws.path, tmp_path / "third", Sleeps())
    assert third.code == 0, third.log
    assert [(r.method, r.path) for r in gh.requests if r.method != "GET"] == []


def test_under_the_lease_one_since_page_shows_nothing_changed_and_the_first_plan_stands(
    fake_github: Factory, tmp_path: Path
) -> None:
    gh = fake_github(token=TOKEN)
    ws = Workspace(tmp_path / "ws")
    result = sync(gh, ws.path, tmp_path / "run", Sleeps())
    assert result.code == 0, result.log
    assert "the plan stands" in result.log and "nothing left to write" not in result.log
    listings = [r for r in gh.requests if r.method == "GET" and r.path == "/repos/octo/repo/issues"]
    assert len(listings) == 2, listings
    assert "since" not in listings[0].query
    # The second asks only for what changed since the first (less the margin), by the server's clock.
    since = listings[1].query["since"]
    listed_at = calendar.timegm(time.strptime(since, "%Y-%m-%dT%H:%M:%SZ")) + SINCE_MARGIN
    assert abs(listed_at - time.time()) < 30, since
    assert len(gh.issues()) == ITEMS
    assert state(gh) == clean_state(tmp_path / "clean", ws)


def test_an_issue_another_run_wrote_after_the_plan_is_seen_under_the_lease_and_not_made_twice(
    fake_github: Factory, tmp_path: Path
) -> None:
    ws = Workspace(tmp_path / "ws")
    with FakeGitHub(token=TOKEN) as other:  # what the other run wrote: one item's issue, marker and all
        assert sync(other, ws.path, tmp_path / "other", Sleeps()).code == 0
        (theirs,) = [issue for issue in other.issues() if "prd" in {label["name"] for label in issue["labels"]}][:1]
    gh = fake_github(token=TOKEN)
    labels = [label["name"] for label in theirs["labels"]]
    # It lands after this run's listing, just before this run takes the lease (the lease's label POST).
    gh.fault(
        "POST",
        r"^/repos/octo/repo/labels$",
        action="delay",
        hook=lambda: gh.seed_issue(theirs["title"], theirs["body"], labels),
        times=1,
    )
    result = sync(gh, ws.path, tmp_path / "run", Sleeps())
    assert result.code == 0, result.log
    assert "the plan stands" not in result.log, result.log
    assert int(result.outputs["created"]) == ITEMS - 1, result.outputs
    assert len(gh.issues()) == ITEMS  # by_key in state() fails on a duplicate
    assert state(gh) == clean_state(tmp_path / "clean", ws)


def subprocess_outputs(root: Path) -> dict[str, str]:
    lines = (root / "gh_output").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


def test_a_run_that_finds_the_lease_held_waits_then_stops_resumable_naming_the_holder(
    fake_github: Factory, tmp_path: Path
) -> None:
    import time

    gh = fake_github(token=TOKEN)
    # Written by another run (or a person): untrusted text, never printed as it is.
    hostile = lease_description("4242", time.time() + 3600) + "\n::warning::pwned"
    gh.seed_label(LEASE, description=hostile[:100])
    ws = Workspace(tmp_path / "ws")
    sleeps = Sleeps()
    result = sync(gh, ws.path, tmp_path / "run", sleeps, lease_wait_minutes="2")
    assert result.code == 1 and result.outputs["resumable"] == "true", result.log
    assert gh.issues() == [], "nothing written without the lease"
    assert "the lease on octo/repo is held by run 4242" in result.log
    assert "https://github.com/octo/repo/actions/runs/4242" in result.log
    assert "pwned" not in result.log
    assert 110 <= sum(sleeps.delays) <= 125, sleeps.delays
    assert gh.labels() == [LEASE], "another run's lease is left alone"

    dry = sync(gh, ws.path, tmp_path / "dry", Sleeps(), dry_run="true")
    assert dry.code == 0, dry.log  # a dry run takes no lease, so it does not wait


def test_a_lease_left_by_a_killed_run_is_broken_once_it_has_expired(fake_github: Factory, tmp_path: Path) -> None:
    import time

    gh = fake_github(token=TOKEN)
    gh.seed_label(LEASE, description=lease_description("4343", time.time() + 100))
    ws = Workspace(tmp_path / "ws")
    sleeps = Sleeps()
    result = sync(gh, ws.path, tmp_path / "run", sleeps)
    assert result.code == 0, result.log
    assert "broke the expired lease of run 4343" in result.log
    assert 100 <= sum(sleeps.delays) <= 200, sleeps.delays
    assert len(gh.issues()) == ITEMS
    assert not [name for name in gh.labels() if name.startswith(LEASE)], "lease and its tombstone are gone"


def test_a_dependency_cycle_is_a_failed_item_and_the_items_still_sync(fake_github: Factory, tmp_path: Path) -> None:
    gh = fake_github(token=TOKEN)
    ws = Workspace(tmp_path / "ws")
    task = ws.path / ".claude" / "epics" / "billing" / "008.md"
    task.write_text(task.read_text().replace("depends_on: [001]", "depends_on: [001, 011]", 1))
    ws.commit("a cycle: 008 -> 011 -> 008")
    result = sync(gh, ws.path, tmp_path / "run", Sleeps())
    assert result.code == 1 and result.outputs["failed"] == "1", result.log
    assert "dependency cycle" in result.log
    assert len(gh.issues()) == ITEMS, "the items still sync, without the cycle's links"
