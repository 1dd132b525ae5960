"""Checkpoints of a long run: every `checkpoint_every` jobs at first, then at least 10 % of the finished jobs
apart, so that writing them (each lists every finished job) stays linear in the run, not quadratic."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from batch_action.engine import Engine, EngineSettings, GovernorSettings, Job, Journal, load_journal
from batch_action.engine.policy import Attempt
from tests.engine_faults import classify_faults


def _finished_at_checkpoints(tmp_path: Path, jobs: int, every: int) -> list[int]:
    journal = Journal(tmp_path / "journal.jsonl")
    seen: list[int] = []

    def note(summary: object) -> None:
        assert isinstance(summary, dict)
        if not summary["final"]:
            seen.append(len(summary["done"]))

    def execute(job: Job, attempt: Attempt) -> object:
        return None

    engine = Engine(
        EngineSettings(GovernorSettings(max_concurrency=1), checkpoint_every=every),
        classifier=classify_faults,
        journal=journal,
        on_checkpoint=note,
    )
    result = engine.run([Job(f"j{i:05d}") for i in range(jobs)], execute)
    journal.close()
    assert result.counts["succeeded"] == jobs
    cp = json.loads((tmp_path / "checkpoint.json").read_text())
    assert cp["final"] is True and cp["done"] == [f"j{i:05d}" for i in range(jobs)]  # input order
    assert load_journal(tmp_path / "journal.jsonl").checkpoints == len(seen) + 1
    return seen


def test_every_n_jobs_while_the_run_is_short(tmp_path: Path) -> None:
    assert _finished_at_checkpoints(tmp_path, 107, 25) == [25, 50, 75, 100]


def test_spacing_grows_with_the_run(tmp_path: Path) -> None:
    seen = _finished_at_checkpoints(tmp_path, 3000, 25)
    assert seen[:10] == [25 * i for i in range(1, 11)]  # up to 10 x checkpoint_every: unchanged
    gaps = [b - a for a, b in itertools.pairwise(seen)]
    assert all(gap >= 25 and gap >= a // 10 for gap, a in zip(gaps, seen, strict=False))
    assert len(seen) < 40  # 120 with a fixed spacing of 25
