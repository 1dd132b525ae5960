"""Finish: the one ending of every run, dry or real: report files, outputs, step summary, report upload, exit code."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from batch_action.exits import EXIT_INCOMPLETE, EXIT_OK
from batch_action.files import write_json, write_lines, write_text
from batch_action.inputs import COUNT_OUTPUTS
from batch_action.outcome import Outcome
from batch_action.report.markdown import render_report
from batch_action.report.mermaid import mermaid_lines, overview
from batch_action.report.performance import (
    dry_run_performance_markdown,
    peak_rss_mib,
    performance_data,
    performance_markdown,
)
from batch_action.report.plan_view import PlanView, plan_view
from batch_action.run.prepare import Prepared
from batch_action.run.timing import Phases
from batch_action.runtime import Runtime
from batch_action.settings import Settings, derived
from batch_action.sync.features import Feature, ServerFeatures

# Mermaid refuses diagrams over 50,000 characters (its default maxTextSize); a larger tree's report shows epics.
MERMAID_LIMIT = 50_000


@dataclass(frozen=True)
class FinishConfig:
    """What the ending reads of the settings."""

    relative_path: str
    repository: str
    api_url: str
    dry_run: bool
    output_dir: Path
    max_concurrency: int
    writes_per_minute: int

    @classmethod
    def of(cls, s: Settings) -> FinishConfig:
        return derived(cls, s)


@dataclass
class Ending:
    """How a run ended, for its report: the last plan made, what happened, and what the report says first."""

    prepared: Prepared
    outcome: Outcome
    paths: dict[str, Path]
    title: str
    headline: str
    sections: list[str] = field(default_factory=list)
    view: PlanView | None = None  # the plan's view, when already made of `prepared.plan` (a dry run's log)


def finish(config: FinishConfig, runtime: Runtime, ending: Ending, phases: Phases, features: ServerFeatures) -> int:
    """Report files, outputs, step summary, the report artifact and the exit code, for every kind of ending."""
    io = runtime.io
    prepared, outcome, paths = ending.prepared, ending.outcome, ending.paths
    out = config.output_dir
    colours = outcome.outcomes or None
    paths["mermaid"], drawing = write_drawing(out / "task-graph.mmd", mermaid_lines(prepared.picture, colours))
    drawn, note = drawing or "", ""
    if drawing is None:
        tasks = sum(1 for _, kind, _ in prepared.picture.nodes if kind == "task")
        drawn = overview(prepared.picture, colours)
        note = (
            f"PRDs and epics only: the whole graph is too large to draw here. The {tasks} tasks are in "
            "`task-graph.mmd` (graph artifact); each epic takes the colour of the most serious outcome among its tasks."
        )
    overflow = [f"{a.level}: {a.file or ''}:{a.line or ''} {a.message}" for a in io.overflow]
    performance = performance_data(
        phases=phases.seconds,
        requests=outcome.extra.get("requests", {}),
        engine=outcome.extra.get("engine"),
        counts=outcome.counts,
        items=prepared.items,
        configured={"max_concurrency": config.max_concurrency, "writes_per_minute": config.writes_per_minute},
        peak_rss=peak_rss_mib(),
    )
    outcome.extra["performance"] = performance
    shown = dry_run_performance_markdown(performance) if config.dry_run else performance_markdown(performance)
    sections = [*ending.sections, *features_section(features, config), shown]
    # Failure messages quote GitHub and exceptions: no registered secret may reach a file or an artifact.
    outcome.failures = [
        {**failure, "message": io.redact(str(failure.get("message", "")))} for failure in outcome.failures
    ]
    report = render_report(
        title=ending.title,
        headline=ending.headline,
        counts=outcome.counts,
        plan=prepared.plan,
        view=ending.view or plan_view(prepared.plan, prepared.specs, prepared.picture),
        kinds=prepared.picture.kinds,
        root=config.relative_path,
        problems=prepared.problems,
        skipped=prepared.skipped,
        mermaid=drawn,
        mermaid_note=note,
        failures=outcome.failures,
        sections=sections,
        overflow=overflow,
    )
    paths["report"] = write_text(out / "report.md", report)
    paths["report_json"] = write_json(
        out / "report.json",
        {
            "repository": config.repository,
            "dry_run": config.dry_run,
            "counts": outcome.counts,
            "resumable": outcome.resumable,
            "stopped_reason": outcome.stopped_reason,
            "phases_seconds": {k: round(v, 4) for k, v in phases.seconds.items()},
            "failures": outcome.failures,
            "problems": [vars(p) | {"severity": str(p.severity)} for p in prepared.problems],
            "skipped": [vars(s) for s in prepared.skipped],
            "outcomes": outcome.outcomes,
            **outcome.extra,
        },
    )
    for name in COUNT_OUTPUTS:
        io.set_output(name, str(outcome.counts.get(name, 0)))
    io.set_output("report-path", str(paths["report"]))
    io.set_output("graph-path", str(paths["graph"]))
    io.set_output("journal-path", str(paths.get("journal", "")))
    io.set_output("resumable", "true" if outcome.resumable else "false")
    if not io.add_summary(report + "\n") and io.summary_path:
        io.add_summary(report[:200_000] + f"\n\n…(summary trimmed; the full report is in {paths['report']})\n")
    with phases.timed("upload"):
        runtime.artifacts.upload("report", {p.name: p for p in (paths["report"], paths["report_json"])})
    failed = outcome.counts.get("failed", 0) or outcome.failures
    return EXIT_INCOMPLETE if failed or outcome.resumable else EXIT_OK


def write_drawing(path: Path, lines: Iterator[str], limit: int = MERMAID_LIMIT) -> tuple[Path, str | None]:
    """The drawing to `path`, written as it is made (10,000 items held whole were ~4 MB); returned as well when it
    has at most `limit` characters, for the report to show."""
    kept: list[str] = []
    size = 0

    def counted() -> Iterator[str]:
        nonlocal size
        for line in lines:
            size += len(line)
            if size <= limit:
                kept.append(line)
            yield line

    written = write_lines(path, counted())
    return written, "".join(kept) if size <= limit else None


def not_available(feature: Feature, repository: str, api_url: str) -> str:
    shown = "a parent's body lists its sub-issues" if feature is Feature.SUB_ISSUES else "a body lists its blockers"
    return (
        f"{feature} are not available on this server ({api_url}) for {repository}: "
        f"the relations are listed in the issue bodies instead ({shown}), and no link of that kind is sent"
    )


def features_section(features: ServerFeatures, config: FinishConfig) -> list[str]:
    missing = sorted(features.missing)
    if not missing:
        return []
    lines = "\n".join(f"- {not_available(f, config.repository, config.api_url)}." for f in missing)
    return ["### Server features\n\n" + lines]
