"""The progress line's ETA: the content-creating writes still to go take at least their pacing's time."""

from __future__ import annotations

from batch_action.engine.progress import ProgressReporter, ProgressSnapshot


def test_the_eta_is_never_shorter_than_the_pacing_of_the_writes_left() -> None:
    reporter = ProgressReporter(lambda _: None, total=100, clock=lambda: 0.0)
    # Half the jobs done in 10 s (labels and a first burst): the rate so far says 10 s more, but 50 writes at
    # 60 a minute take 50 s.
    snap = ProgressSnapshot(total=100, succeeded=50, writes_per_minute=60.0, paced_left=50)
    assert reporter.line(snap, 10.0).endswith("ETA 50s")


def test_before_the_first_job_ends_the_eta_is_the_pacing() -> None:
    reporter = ProgressReporter(lambda _: None, total=110, clock=lambda: 0.0)
    snap = ProgressSnapshot(total=110, writes_per_minute=60.0, paced_left=110)
    assert reporter.line(snap, 1.0).endswith("ETA 1m50s")


def test_unpaced_writes_leave_the_rate_so_far() -> None:
    reporter = ProgressReporter(lambda _: None, total=100, clock=lambda: 0.0)
    snap = ProgressSnapshot(total=100, succeeded=50, writes_per_minute=1e9, paced_left=50)
    assert reporter.line(snap, 10.0).endswith("ETA 10s")
