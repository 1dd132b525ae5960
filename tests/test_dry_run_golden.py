"""What a person sees of a dry run of the example tree, through the real entry point: the plan in the log and the
report (golden files; `UPDATE_GOLDEN=1` rewrites them, then read the diff).

The plan is grouped PRD > epic > task, titles first, every write of every item on its line (a done item's close
too), and a forecast of the real run; the report holds the same, and no section of zeros.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.test_dry_run import ROOT, run_action
from tests.test_report_golden import check


def _group(log: str, name: str) -> str:
    lines = log.splitlines()
    start = lines.index(f"::group::{name}") + 1
    return "\n".join(lines[start : lines.index("::endgroup::", start)]) + "\n"


def _steady(report: str) -> str:
    """The report without what changes from run to run: times and memory."""
    report = re.sub(r"\d+\.\d+ s\b", "T s", report)
    return re.sub(r"\d+(\.\d+)? MiB", "M MiB", report)


def test_the_logged_plan_of_the_example_tree(tmp_path: Path) -> None:
    code, log, _, _ = run_action(ROOT, tmp_path, PATH="examples/.claude")
    assert code == 0, log
    plan = _group(log, "Plan")
    check("example-dry-run-plan.log", plan)
    assert not [line for line in plan.splitlines() if line != line.rstrip()], "no trailing blanks"
    # every operation of plan.json is on a line: 44 creates, 37 sub-issue links, 25 blocked-by links, 4 labels
    assert plan.count(" — create") == 44 and plan.count("sub-issue of ") == 37
    assert "then close it (status: closed)" in plan and "blocked by 008, 009, 010" in plan


def test_the_report_of_the_example_tree(tmp_path: Path) -> None:
    code, log, outputs, summary = run_action(ROOT, tmp_path, PATH="examples/.claude")
    assert code == 0, log
    report = Path(outputs["report-path"]).read_text(encoding="utf-8")
    assert summary.startswith(report)
    check("example-dry-run-report.md", _steady(report))
    assert "task: Task:" not in report
    assert "| 0 |" not in report.split("### Performance", 1)[-1].split("###", 1)[0], "no figures of zero"
