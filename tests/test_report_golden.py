"""Golden files for the human report: the performance section (the dry-run report of the example tree, through
the entry point, is in test_dry_run_golden.py).

Regenerate after an intended change with `UPDATE_GOLDEN=1 pytest tests/test_report_golden.py`, then read the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

from batch_action.report.performance import performance_data, performance_markdown

GOLDEN = Path(__file__).parent / "golden"


def check(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} differs; UPDATE_GOLDEN=1 rewrites it"


def test_performance_section() -> None:
    data = performance_data(
        phases={"discover": 0.012, "parse": 0.31, "graph": 0.05, "observe": 0.4, "plan": 0.01, "apply": 60.0},
        requests={
            "total": 1106,
            "reads": 12,
            "writes": 1094,
            "limit_responses": 1,
            "latency_seconds": {"p50": 0.051, "p90": 0.063, "p95": 0.07, "p99": 0.11, "max": 0.4},
            "writes_per_minute_timeline": [
                {"t": 0.0, "writes_per_minute": 60.0},
                {"t": 10.0, "writes_per_minute": 72.0},
                {"t": 20.0, "writes_per_minute": 36.0},
            ],
            "rate_limits": {"core": {"limit": 5000, "remaining": 3894}},
            "by_endpoint": [
                {"method": "GET", "endpoint": "/repos/{o}/{r}/issues", "status": 200, "count": 11},
                {"method": "POST", "endpoint": "/repos/{o}/{r}/issues", "status": 201, "count": 1000},
                {"method": "POST", "endpoint": "/repos/{o}/{r}/issues", "status": 403, "count": 1},
            ],
        },
        engine={
            "peak_concurrency": 4,
            "retries": 1,
            "retries_by_class": {"secondary_limit": 1},
            "limit_wait_seconds": 61.0,
            "waited_seconds": {"secondary-limit": 61.0, "server": 0.0},
            "final_writes_per_minute": 30.0,
        },
        counts={"created": 1000, "updated": 0, "closed": 0, "unchanged": 25, "failed": 0, "skipped": 3},
        items=1025,
        configured={"max_concurrency": 4, "writes_per_minute": 60},
        peak_rss=48.5,
    )
    check("performance.md", performance_markdown(data))
