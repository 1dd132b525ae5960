"""The main job a newcomer runs: a dry run on the bundled example tree, through the real entry point."""

from __future__ import annotations

import io
import json
import shutil
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from batch_action.cli import main

ROOT = Path(__file__).resolve().parents[1]


def run_action(workspace: Path, tmp_path: Path, **inputs: str) -> tuple[int, str, dict[str, str], str]:
    out_file, summary = tmp_path / "gh_output", tmp_path / "gh_summary"
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": str(workspace),
        "RUNNER_TEMP": str(tmp_path / "runner_temp"),
        "GITHUB_OUTPUT": str(out_file),
        "GITHUB_STEP_SUMMARY": str(summary),
        "INPUT_DRY-RUN": "true",
        "INPUT_SCOPE": "all",
        "INPUT_GITHUB-TOKEN": "",
        "INPUT_REPOSITORY": "octo/repo",
    }
    env.update({f"INPUT_{k.upper()}": v for k, v in inputs.items()})
    stream = io.StringIO()
    with redirect_stdout(stream):
        code = main([], env)
    outputs = dict(line.split("=", 1) for line in out_file.read_text().splitlines() if "=" in line)
    return code, stream.getvalue(), outputs, summary.read_text() if summary.exists() else ""


def test_dry_run_on_the_example_tree(tmp_path: Path) -> None:
    code, log, outputs, summary = run_action(ROOT, tmp_path, PATH="examples/.claude")
    assert code == 0, log
    assert "Traceback" not in log
    out_dir = tmp_path / "runner_temp" / "issue-sync"
    assert outputs["report-path"] == str(out_dir / "report.md")
    assert outputs["graph-path"] == str(out_dir / "task-graph.json")
    assert outputs["resumable"] == "false" and outputs["failed"] == "0"
    assert int(outputs["created"]) >= 25 and int(outputs["skipped"]) >= 5
    for name in ("plan.json", "task-graph.json", "task-graph.mmd", "report.md", "report.json"):
        assert (out_dir / name).stat().st_size > 0
    assert "```mermaid\nflowchart TD" in summary
    plan = json.loads((out_dir / "plan.json").read_text())
    assert plan["counts"]["create"] == int(outputs["created"])
    # the stale `depends_on: [001]` after CCPM's rename is explained at its line
    assert "::notice file=examples/.claude/epics/auth/002.md" in log


def test_every_file_of_the_broken_tree_is_accounted_for(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    shutil.copytree(ROOT / "examples" / "broken", workspace)
    code, log, outputs, summary = run_action(workspace, tmp_path, PATH=".claude")
    assert code == 1, log  # unreadable files and a cycle are failures, reported; the rest is planned
    assert "Traceback" not in log and "internal error" not in log
    report = json.loads((tmp_path / "runner_temp" / "issue-sync" / "report.json").read_text())
    files = {p.relative_to(workspace).as_posix() for p in (workspace / ".claude").rglob("*") if p.is_file()}
    graph = json.loads((tmp_path / "runner_temp" / "issue-sync" / "task-graph.json").read_text())
    planned = {node["path"] for node in graph["nodes"]}
    skipped = {s["path"] for s in report["skipped"]}
    reported = {p["path"] for p in report["problems"] if p["severity"] == "error"}
    assert files == planned | skipped | reported
    assert int(outputs["failed"]) >= 1
    assert "cycle" in summary and "::error file=.claude/" in log


@pytest.mark.parametrize("bad", [{"SCOPE": "sometimes"}, {"MAX-CONCURRENCY": "x", "DRY-RUN": "perhaps"}])
def test_invalid_settings_exit_2_with_one_error_per_problem(tmp_path: Path, bad: dict[str, str]) -> None:
    out_file = tmp_path / "gh_output"
    out_file.touch()
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": str(ROOT),
        "GITHUB_OUTPUT": str(out_file),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "gh_summary"),
        "INPUT_PATH": "examples/.claude",
    } | {f"INPUT_{k}": v for k, v in bad.items()}
    stream = io.StringIO()
    with redirect_stdout(stream):
        assert main([], env) == 2
    errors = [line for line in stream.getvalue().splitlines() if line.startswith("::error")]
    assert len(errors) >= len(bad) and all("title=Invalid settings" in e for e in errors)
    # Later steps (`if: always()`) see what went wrong and numbers they can compare, not empty strings.
    outputs = dict(line.split("=", 1) for line in out_file.read_text().splitlines())
    assert outputs == {n: "0" for n in ("created", "updated", "closed", "unchanged", "failed", "skipped")} | {
        "resumable": "false"
    }
    summary = (tmp_path / "gh_summary").read_text()
    assert summary.startswith("## Issue sync: invalid settings") and summary.count("\n- input `") == len(errors)


def test_output_to_a_closed_pipe_ends_quietly_and_the_work_is_done(tmp_path: Path) -> None:
    """`batch-action --dry-run | head -1`: the reader goes away; the run finishes its files without a traceback."""
    import os
    import subprocess
    import sys

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line is written
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "RUNNER_"))}
    flags = ["--dry-run", "--scope", "all", "--path", "examples/.claude", "--output-dir", str(tmp_path / "out")]
    done = subprocess.run(
        [sys.executable, "entrypoint.py", *flags],
        cwd=ROOT,
        env=env,
        stdout=write_end,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
    )
    os.close(write_end)
    assert done.returncode == 0 and done.stderr == ""
    assert (tmp_path / "out" / "report.md").stat().st_size > 0
