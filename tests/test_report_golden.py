"""Golden files for the human report: the performance section, and the report the real `finish` writes (the
dry-run report of the example tree, through the entry point, is in test_dry_run_golden.py).

Regenerate after an intended change with `UPDATE_GOLDEN=1 pytest tests/test_report_golden.py`, then read the diff.
"""

from __future__ import annotations

import io
import os
import re
import threading
from dataclasses import replace
from pathlib import Path

from batch_action.actions_io import ActionsIO
from batch_action.cli import build_runtime
from batch_action.outcome import Outcome
from batch_action.report.performance import performance_data, performance_markdown
from batch_action.run.finish import EXIT_INCOMPLETE, Ending, FinishConfig, finish
from batch_action.run.prepare import PrepareConfig, prepare
from batch_action.run.timing import Phases
from batch_action.settings import load_settings
from batch_action.sync.features import ServerFeatures

GOLDEN = Path(__file__).parent / "golden"
REPO = Path(__file__).resolve().parents[1]


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


def test_the_report_of_a_run_through_the_real_finish(tmp_path: Path) -> None:
    """`run.finish.finish`, the one ending of every run, on the example tree's plan with a fixed outcome: the
    report, the outputs and the exit code, as a real run that failed one item leaves them."""
    out = tmp_path / "out"
    env = {
        "GITHUB_WORKSPACE": str(REPO),
        "GITHUB_OUTPUT": str(tmp_path / "gh_output"),
        "INPUT_DRY-RUN": "true",
        "INPUT_SCOPE": "all",
        "INPUT_PATH": "examples/.claude",
        "INPUT_REPOSITORY": "octo/repo",
        "INPUT_UPLOAD-ARTIFACTS": "false",
        "INPUT_OUTPUT-DIR": str(out),
    }
    settings = load_settings(env, [])
    stream = io.StringIO()
    runtime = build_runtime(settings, ActionsIO(stream, env), env, threading.Event())
    runtime.io.mask("s3cret-token-value")
    phases = Phases(runtime.clock)
    features = ServerFeatures()
    prepared = prepare(PrepareConfig.of(settings), runtime, phases, runtime.reads(0), features)
    phases.seconds = {"discover": 0.01, "parse": 0.2, "graph": 0.05, "observe": 0.4, "plan": 0.01, "apply": 12.0}
    keys = sorted(key for key, _, _ in prepared.picture.nodes)
    outcome = Outcome(
        {"created": len(keys) - 1, "updated": 0, "closed": 0, "unchanged": 0, "failed": 1, "skipped": 0},
        failures=[
            {
                "path": "epics/auth/epic.md",
                "operation": f"create:{keys[0]}",
                "class": "item",
                "message": "HTTP 422 with token s3cret-token-value",
                "status": 422,
                "attempts": 1,
            }
        ],
        outcomes={**dict.fromkeys(keys[1:], "created"), keys[0]: "failed"},
        extra={"requests": {"total": 60, "reads": 2, "writes": 58, "by_endpoint": []}, "engine": {"retries": 0}},
    )
    ending = Ending(prepared, outcome, dict(prepared.paths), "Issue sync", "Synced `examples/.claude`.", [])
    config = replace(FinishConfig.of(settings), dry_run=False)
    code = finish(config, runtime, ending, phases, features)
    assert code == EXIT_INCOMPLETE  # one item failed
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "s3cret-token-value" not in report and "s3cret-token-value" not in (out / "report.json").read_text()
    check("finish-report.md", re.sub(r"\d+(\.\d+)? MiB", "M MiB", report))
    outputs = dict(line.split("=", 1) for line in (tmp_path / "gh_output").read_text().splitlines() if "=" in line)
    assert outputs["failed"] == "1" and outputs["created"] == str(len(keys) - 1)
    assert outputs["report-path"] == str(out / "report.md") and outputs["resumable"] == "false"
