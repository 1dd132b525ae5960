"""A signal during a dry run (issue 16, item 6): the dry run stops (exit 1) and says that there is nothing to
resume, since it wrote nothing; `resumable` is false. It does not announce a resumable finish and then ignore it."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import batch_action.run.prepare
from tests.test_dry_run import ROOT, run_action


@pytest.fixture
def handlers_restored() -> Iterator[None]:
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def test_sigterm_stops_a_dry_run_and_says_nothing_is_to_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, handlers_restored: None
) -> None:
    real_load_tree = batch_action.run.prepare.load_tree

    def load_tree_then_cancelled(*args: Any) -> Any:
        os.kill(os.getpid(), signal.SIGTERM)  # the runner cancels the job while the tree is read
        return real_load_tree(*args)

    monkeypatch.setattr(batch_action.run.prepare, "load_tree", load_tree_then_cancelled)
    code, log, outputs, _ = run_action(ROOT, tmp_path, PATH="examples/.claude")
    assert code == 1, log
    assert outputs["resumable"] == "false"
    assert "resumable)" not in log
    assert "received SIGTERM: a dry run writes nothing, so there is nothing to resume; stopped" in log
