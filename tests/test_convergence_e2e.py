"""Convergence: a plain run finishes whatever an earlier run left undone, and two runs never race.

A run killed hard (SIGKILL of its process group: a lost runner, `timeout-minutes`) uploads nothing, so the next
ordinary push run (`scope: changed`, nothing changed in git, no replay) has only what GitHub shows. It must still
end with the issues a clean sync leaves: each item's parent, blockers, labels and state, and no duplicate.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

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
