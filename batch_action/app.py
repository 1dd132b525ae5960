"""The run, phase by phase: discover, parse, graph, observe, plan, then apply (or stop at the plan in a dry run).

Effects come in through arguments (the Actions I/O object, a tracker factory, the clock, git discovery), so tests
run the whole program against fakes or the loopback GitHub server. `cli.main` is the one place that builds the
real ones.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from batch_action.actions_io import ActionsIO, Annotation
from batch_action.artifacts import ArtifactClient
from batch_action.checkpoint import JOURNAL_FILE, STATE_FILE, SUMMARY_FILE, StoredState, write_state
from batch_action.discovery import ChangeSet, discover_changes
from batch_action.engine.failures import FailureClass, JobError
from batch_action.engine.journal import Journal
from batch_action.engine.policy import GaveUp, RetrySettings, StopReason, standard_retrier
from batch_action.engine.scheduler import Engine, EngineSettings, JobStatus, RunResult, SkippingClock
from batch_action.forecast import ASSUMED_BUDGET, Budget, Forecast, forecast, run_split
from batch_action.graph import GraphPicture, TaskGraph, build_graph
from batch_action.model import Document, Problem, Severity, Skipped
from batch_action.outcome import Outcome, followed_by, merge_counts, replay_section, summarise
from batch_action.parsing.documents import BodyChanged, load_tree, read_body
from batch_action.projects.client import GraphQL
from batch_action.projects.run import RunExtras
from batch_action.publish import Publisher
from batch_action.replay import MAX_LISTED, Checkpoint, locate_checkpoint, plan_replay
from batch_action.report.files import write_json, write_text
from batch_action.report.forecast_view import forecast_json, forecast_lines, forecast_markdown
from batch_action.report.markdown import plan_lines, render_report
from batch_action.report.performance import (
    dry_run_performance_markdown,
    peak_rss_mib,
    performance_data,
    performance_markdown,
)
from batch_action.report.plan_view import plan_view
from batch_action.report.requests import RequestLog
from batch_action.scope import ItemChanges, item_changes
from batch_action.settings import Settings, SettingsError
from batch_action.sync.apply import Applier, IssueRegistry
from batch_action.sync.features import Feature, ServerFeatures
from batch_action.sync.fit import group_children, limit_notices
from batch_action.sync.github_failures import classify_github
from batch_action.sync.lease import Lease
from batch_action.sync.observe import Observation, observe, probe_features
from batch_action.sync.plan import Action, Observed, Operation, Plan, Scope, make_plan
from batch_action.sync.render import IssueSpec, build_specs, source_url, with_children_listed
from batch_action.sync.tracker import IssueTracker, Response, ResponseListener

EXIT_OK = 0
EXIT_INCOMPLETE = 1
EXIT_SETTINGS = 2
# Mermaid refuses diagrams over 50,000 characters (its default maxTextSize); a larger tree's report shows epics.
MERMAID_LIMIT = 50_000

T = TypeVar("T")
TrackerFactory = Callable[[Settings, ResponseListener | None], IssueTracker]
# The GraphQL of the project's own token (`project-token`), with the run's response listener.
GraphQLFactory = Callable[[Settings, ResponseListener | None], GraphQL]
Discover = Callable[[Path, str | None, str], ChangeSet]


def _git_discover(workspace: Path, base: str | None, under: str) -> ChangeSet:
    return discover_changes(workspace, base, under=under)


@dataclass
class Phases:
    """Wall time of each phase, for the report."""

    clock: Callable[[], float] = time.monotonic
    seconds: dict[str, float] = field(default_factory=dict)

    @contextlib.contextmanager
    def timed(self, name: str) -> Iterator[None]:
        start = self.clock()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + self.clock() - start


@dataclass
class Prepared:
    """Everything known before the first write: the input to a dry run's report and to the apply phase.

    The task graph and the parsed documents are not kept (~20 MB at 10,000 items): `prepare` writes the graph's
    files, and the report needs only its picture; each operation carries its scheduling order.
    """

    specs: dict[str, IssueSpec]
    scope: ItemChanges
    observation: Observation
    plan: Plan
    problems: list[Problem]
    picture: GraphPicture
    skipped: list[Skipped]
    failed_files: list[str]  # files that could not be read, and the first file of each dependency cycle
    paths: dict[str, Path]  # the plan and graph files written
    commit: str = ""  # the commit the files came from, when known
    missing: frozenset[Feature] = frozenset()  # the link features the plan knew this server lacks

    @property
    def items(self) -> int:
        return len(self.picture.nodes)


class ReadRetries:
    """The reads before the engine starts (the observe listing) under the same retry policy as every job.

    A 5xx, a reset or a rate limit while listing is waited out and retried; a 401/403/404 is not, and `GaveUp`
    reaches `run()`, which ends the run with one clear error instead of a traceback.
    """

    def __init__(
        self, settings: Settings, sleep: Callable[[float], None] | None, stop_event: threading.Event | None
    ) -> None:
        self._stop = stop_event or threading.Event()
        timebase = SkippingClock(sleep) if sleep is not None else None
        self.retrier = standard_retrier(
            RetrySettings(max_retries=settings.max_retries),
            classifier=classify_github,
            clock=timebase.time if timebase else time.time,
            sleep=timebase.sleep if timebase else self._wait,
        )

    def _wait(self, seconds: float) -> None:
        self._stop.wait(seconds)  # a real wait ends early on a signal, as the engine's do

    def __call__(self, read: Callable[[], T], *, writes: bool = False) -> T:
        return self.retrier.call(lambda _attempt: read(), writes=writes, halted=self._stop.is_set)


def prepare(
    settings: Settings,
    io: ActionsIO,
    phases: Phases,
    tracker: IssueTracker | None,
    discover: Discover = _git_discover,
    reads: ReadRetries | None = None,
    features: ServerFeatures | None = None,
    extras: RunExtras | None = None,
) -> Prepared:
    """`features`: the run's verdict on the link endpoints, decided here from the listing when it can be.
    `extras`: the run's issue types and project (projects/run.py); the board is read here, for each plan."""
    features = features or ServerFeatures()
    changes: ChangeSet | None = None
    with phases.timed("discover"):
        if settings.scope == "changed":
            changes = discover(settings.workspace, settings.base_sha or None, settings.relative_path)
    scope = item_changes(changes, settings.relative_path)
    io.log(f"discover: {scope.reason}")
    with phases.timed("parse"):
        tree = load_tree(settings.path, settings.workspace)
    io.log(
        f"parse: {len(tree.documents)} items, {len(tree.skipped)} files skipped, "
        f"{len(tree.unreadable)} unreadable, in {settings.relative_path}"
    )
    io.log_lines(f"parse: skipped {refused.path} ({refused.reason})" for refused in tree.refused)
    with phases.timed("graph"):
        graph = build_graph(tree.documents)
        specs = build_specs(
            graph,
            settings.labels,
            sub_issues=settings.sub_issues,
            dependencies=settings.dependencies,
            mentions=settings.mentions,
        )
        if extras is not None:
            specs = extras.typed(specs)
    with phases.timed("observe"):
        if tracker is not None:
            read = functools.partial(observe, tracker, specs, graph.documents, settings.repository, scope.renames)
            observation = reads(read) if reads is not None else read()
            del read  # it holds the documents, let go below
            io.log(f"observe: {observation.listed} synced issues listed, {len(observation.adopted)} adopted")
            listed = [*observation.observed.issues.values(), *observation.observed.orphans.values()]
            wanted = [
                feature
                for feature, on in (
                    (Feature.SUB_ISSUES, settings.sub_issues),
                    (Feature.DEPENDENCIES, settings.dependencies),
                )
                if on
            ]
            probe = functools.partial(probe_features, tracker, listed, features, wanted)
            reads(probe) if reads is not None else probe()
            if extras is not None:
                specs = extras.observe(io, specs, graph.documents.values(), reads or (lambda read: read()))
        else:
            observation = Observation(Observed())
            io.log("observe: no token, so the remote state is not read; every item in scope would be created")
        grouped = group_children(specs, observation.observed)
        specs, observation.observed = grouped.specs, grouped.observed
        missing = features.missing
        if Feature.SUB_ISSUES in missing:
            specs = with_children_listed(specs)
    link = functools.partial(source_url, settings.server_url, settings.repository)
    fitted = limit_notices(graph.documents, specs, link)
    problems = [*tree.problems, *graph.problems, *graph.notes, *fitted, *grouped.problems, *observation.problems]
    picture = graph.picture()
    paths = write_graph_files(settings, graph, picture)
    order = graph.order()
    skipped = tree.skipped
    # A cycle is the file's error as much as an unreadable file is: its items sync, without the cycle's links,
    # and the run says "failed" (exit 1) until someone fixes the file.
    cycles = [problem.path for problem in graph.problems if problem.severity is Severity.ERROR]
    failed_files = list(dict.fromkeys([*tree.unreadable, *cycles]))
    # What follows needs neither the graph nor the documents: let them go before the plan is made.
    del graph, tree
    gc.collect()  # a networkx graph is a reference cycle (it caches views of itself): free it now, not later
    with phases.timed("plan"):
        plan = make_plan(
            specs,
            observation.observed,
            # Items under a grouped parent may move between groups: compared whatever changed.
            Scope(None if scope.changed is None else scope.changed | grouped.touched, scope.removed),
            order=order,
            close_removed=settings.close_removed,
            missing=missing,
            project=extras.plan_work(specs, observation.observed) if extras is not None else None,
        )
    paths["plan"] = write_plan_file(settings, plan, scope)
    commit = (changes.head if changes else None) or settings.sha
    return Prepared(specs, scope, observation, plan, problems, picture, skipped, failed_files, paths, commit, missing)


def planned_counts(prepared: Prepared) -> dict[str, int]:
    plan = prepared.plan
    updated_keys = {op.key for op in plan.operations if op.action in (Action.UPDATE, Action.RELINK)}
    return {
        "created": plan.count(Action.CREATE),
        "updated": len(updated_keys),
        "closed": plan.count(Action.CLOSE),
        "unchanged": len(plan.unchanged),
        "failed": len(prepared.failed_files),
        "skipped": len(prepared.skipped),
    }


def write_graph_files(settings: Settings, graph: TaskGraph, picture: GraphPicture) -> dict[str, Path]:
    out = settings.output_dir
    return {
        "graph": write_json(out / "task-graph.json", graph.to_json()),
        "mermaid": write_text(out / "task-graph.mmd", picture.mermaid()),
    }


def write_plan_file(settings: Settings, plan: Plan, scope: ItemChanges) -> Path:
    return write_json(
        settings.output_dir / "plan.json",
        {
            "repository": settings.repository,
            "scope": settings.scope,
            "scope_reason": scope.reason,
            "dry_run": settings.dry_run,
            **plan.to_json(),
        },
    )


def annotate_problems(io: ActionsIO, problems: list[Problem]) -> None:
    for problem in problems:
        message = problem.message + (f". Fix: {problem.fix}" if problem.fix else "")
        level = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTICE: "notice"}[problem.severity]
        io.annotate(Annotation(level, message, problem.path, problem.line))


def finish(
    settings: Settings,
    io: ActionsIO,
    prepared: Prepared,
    outcome: Outcome,
    paths: dict[str, Path],
    phases: Phases,
    *,
    title: str,
    headline: str,
    sections: list[str] | None = None,
) -> int:
    """Report files, outputs, step summary and the exit code, for every kind of ending."""
    kinds = prepared.picture.kinds
    mermaid = prepared.picture.mermaid(outcome.outcomes or None)
    drawn, note = mermaid, ""
    if len(mermaid) > MERMAID_LIMIT:
        tasks = sum(1 for _, kind, _ in prepared.picture.nodes if kind == "task")
        drawn = prepared.picture.overview(outcome.outcomes or None)
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
        configured={"max_concurrency": settings.max_concurrency, "writes_per_minute": settings.writes_per_minute},
        peak_rss=peak_rss_mib(),
    )
    outcome.extra["performance"] = performance
    shown = dry_run_performance_markdown(performance) if settings.dry_run else performance_markdown(performance)
    sections = [*(sections or []), shown]
    # Failure messages quote GitHub and exceptions: no registered secret may reach a file or an artifact.
    outcome.failures = [
        {**failure, "message": io.redact(str(failure.get("message", "")))} for failure in outcome.failures
    ]
    report = render_report(
        title=title,
        headline=headline,
        counts=outcome.counts,
        plan=prepared.plan,
        view=plan_view(prepared.plan, prepared.specs, prepared.picture),
        kinds=kinds,
        root=settings.relative_path,
        problems=prepared.problems,
        skipped=prepared.skipped,
        mermaid=drawn,
        mermaid_note=note,
        failures=outcome.failures,
        sections=sections,
        overflow=overflow,
    )
    out = settings.output_dir
    paths["mermaid"] = write_text(out / "task-graph.mmd", mermaid)
    paths["report"] = write_text(out / "report.md", report)
    paths["report_json"] = write_json(
        out / "report.json",
        {
            "repository": settings.repository,
            "dry_run": settings.dry_run,
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
    for name in ("created", "updated", "closed", "unchanged", "failed", "skipped"):
        io.set_output(name, str(outcome.counts.get(name, 0)))
    io.set_output("report-path", str(paths["report"]))
    io.set_output("graph-path", str(paths["graph"]))
    io.set_output("journal-path", str(paths.get("journal", "")))
    io.set_output("resumable", "true" if outcome.resumable else "false")
    if not io.add_summary(report + "\n") and io.summary_path:
        io.add_summary(report[:200_000] + f"\n\n…(summary trimmed; the full report is in {paths['report']})\n")
    failed = outcome.counts.get("failed", 0) or outcome.failures
    return EXIT_INCOMPLETE if failed or outcome.resumable else EXIT_OK


def run(
    settings: Settings,
    io: ActionsIO,
    *,
    tracker_factory: TrackerFactory | None = None,
    discover: Discover = _git_discover,
    clock: Callable[[], float] = time.monotonic,
    stop_event: threading.Event | None = None,
    env: Mapping[str, str] | None = None,
    sleep: Callable[[float], None] | None = None,
    artifacts: ArtifactClient | None = None,
    project_graphql: GraphQLFactory | None = None,
) -> int:
    """One whole run; returns the exit code (0 done, 1 failures or stopped early and resumable).

    `sleep` replaces the engine's waits (tests scale time with it; None: real, interruptible). `artifacts` is the
    Artifacts v4 client (None: files stay in output-dir). `project_graphql`: the GraphQL of `project-token`
    (None, or no such token: the tracker's own, with `github-token`).
    """
    phases = Phases(clock)
    started = clock()
    for warning in settings.warnings:
        io.warning(warning, title="input set twice")
    stop_event = stop_event or threading.Event()  # also set when the lease is lost
    settings.output_dir.mkdir(parents=True, exist_ok=True)
    requests = RequestLog(clock)
    listeners: list[ResponseListener] = [requests.record]

    def on_response(response: Response) -> None:
        for listener in listeners:
            listener(response)

    tracker = tracker_factory(settings, on_response) if (tracker_factory and settings.token) else None
    publisher = Publisher(
        artifacts,
        io,
        enabled=settings.upload_artifacts,
        prefix=settings.artifact_name,
        attempt=settings.run_attempt,
        retention_days=settings.retention_days,
        clock=clock,
    )
    reads = ReadRetries(settings, sleep, stop_event)

    def missing_feature(feature: Feature) -> None:
        io.warning(_not_available(feature, settings), title=f"no {feature} on this server")

    features = ServerFeatures(missing_feature)

    def project_client() -> GraphQL:
        own = settings.project_token and settings.project_token != settings.token
        if own and project_graphql is not None:
            return project_graphql(settings, on_response)
        graphql: GraphQL = getattr(tracker, "graphql")  # noqa: B009 - the IssueTracker port has no GraphQL
        return graphql

    try:
        with io.group("Plan"):
            extras = RunExtras.start(settings, io, tracker, project_client if tracker is not None else None, reads)
            prepared = prepare(settings, io, phases, tracker, discover, reads, features, extras)
            paths = dict(prepared.paths)
            io.log_lines(plan_lines(plan_view(prepared.plan, prepared.specs, prepared.picture), settings.relative_path))
            forecasted = None
            if settings.dry_run or tracker is None:
                forecasted = dry_run_forecast(settings, prepared, tracker, reads, requests.summary()["total"])
            if forecasted is not None:
                io.log_lines(forecast_lines(forecasted, _titles(prepared)))
    except SettingsError as exc:  # checked against GitHub: issue types, the project and its fields
        from batch_action.cli import report_invalid_settings

        report_invalid_settings(io, exc.problems)
        return EXIT_SETTINGS
    except GaveUp as exc:
        failure = exc.failure
        io.error(
            f"reading the issues of {settings.repository} failed ({failure.cls}, {exc.attempts} attempt(s)): "
            f"{failure.message}",
            title="issue sync failed",
        )
        io.set_output("resumable", "true" if failure.retryable else "false")
        return EXIT_INCOMPLETE
    annotate_problems(io, prepared.problems)
    with phases.timed("upload"):
        publisher.upload("graph", {p.name: p for p in (paths["graph"], paths["mermaid"], paths["plan"])})
    if settings.dry_run or tracker is None:
        counts = planned_counts(prepared)
        outcome = Outcome(counts, outcomes=dict(prepared.plan.outcome), extra={"requests": requests.summary()})
        sections: list[str] = []
        if forecasted is not None:
            outcome.extra["forecast"] = forecast_json(forecasted)
            sections.append(forecast_markdown(forecasted, _titles(prepared)))
        headline = (
            f"**Dry run** on `{settings.relative_path}`"
            + (f" for `{settings.repository}`" if settings.repository else "")
            + f": {prepared.items} items, {len(prepared.plan.operations)} operations planned, "
            f"nothing written. Made in {clock() - started:.2f} s."
        )
        code = finish(
            settings,
            io,
            prepared,
            outcome,
            paths,
            phases,
            title="Issue sync: dry run",
            headline=headline,
            sections=[*sections, *_features_section(features, settings), *extras.section(dry_run=True)],
        )
        with phases.timed("upload"):
            publisher.upload("report", {p.name: p for p in (paths["report"], paths["report_json"])})
        return code

    paths["journal"] = settings.output_dir / JOURNAL_FILE
    journal = Journal(paths["journal"])
    checkpoint_files = {
        name: settings.output_dir / name for name in (JOURNAL_FILE, SUMMARY_FILE, STATE_FILE, "plan.json")
    }

    def upload_checkpoint(summary: Mapping[str, Any]) -> None:
        if not summary.get("final"):  # the final one is uploaded once, below, whatever ends the run
            publisher.checkpoint(checkpoint_files, final=False)

    engine = make_engine(settings, io, journal, stop_event, sleep, upload_checkpoint)
    listeners.append(engine.observe)
    sections = []
    replayed: Outcome | None = None
    lease = make_lease(settings, io, tracker, sleep, stop_event)
    try:
        stopped_in_replay = False
        not_held: str | None = None  # why the run stops without the lease ("lease", "auth", …)
        with locate_checkpoint(settings, io, artifacts, settings.output_dir, env) as checkpoint:
            # One sync writes at a time: a plan with writes (or a replay) takes the lease, then looks again, since
            # the run that held it may have just written what this one planned. A plan without writes takes none.
            if checkpoint is not None or prepared.plan.operations:
                not_held = take_lease(settings, io, lease, reads, stop_event)
                if not_held is None:
                    with io.group("Plan (lease held)"):
                        prepared = prepare(settings, io, phases, tracker, discover, reads, features, extras)
                        paths = dict(prepared.paths)
                        if checkpoint is None and not prepared.plan.operations:
                            io.log("lease: nothing left to write (another run wrote what this one planned)")
            if checkpoint is not None and not_held is None:
                with io.group("Replay"), phases.timed("replay"):
                    replayed = replay_checkpoint(
                        settings, io, checkpoint, prepared, tracker, engine, features, extras
                    )
            del checkpoint  # its stored plan (~40 MB at 10,000 items) has no use in the apply phase
        if replayed is not None:
            sections.append(replay_section(replayed))
            stopped_in_replay = replayed.resumable and stop_event is not None and stop_event.is_set()
            if replayed.extra.get("operations") and not stopped_in_replay:
                with io.group("Plan (after replay)"):
                    prepared = prepare(settings, io, phases, tracker, discover, reads, features, extras)
                    paths = dict(prepared.paths)
        if not_held is not None:
            save_state(settings, prepared)  # nothing written: a replay of this run plans afresh
            outcome = Outcome({"skipped": len(prepared.skipped)}, resumable=True, stopped_reason=not_held)
        elif stopped_in_replay:
            # Spend the runner's grace time on the checkpoint, not on a new plan; the next run replays again.
            outcome = Outcome({"skipped": len(prepared.skipped)}, resumable=True, stopped_reason="signal")
        else:
            deferred = keep_to_budget(settings, io, prepared, tracker, reads)
            save_state(settings, prepared)
            outcome = apply_plan(settings, io, prepared, phases, tracker, engine, features, extras)
            if Feature.SUB_ISSUES in features.missing - prepared.missing and not outcome.resumable and not deferred:
                # Learnt from a link's 404, with nothing listed to probe before (a first sync): the parents
                # written before it do not list their children yet. Plan again, knowing, and write them.
                with io.group("Plan (parents list their sub-issues)"):
                    prepared = prepare(settings, io, phases, tracker, discover, reads, features, extras)
                    paths = dict(prepared.paths)
                save_state(settings, prepared)
                again = apply_plan(settings, io, prepared, phases, tracker, engine, features, extras)
                outcome = followed_by(outcome, again)
            if deferred:
                outcome.counts["pending"] = outcome.counts.get("pending", 0) + len(deferred)
                outcome.outcomes.update(dict.fromkeys(deferred, "pending"))
                outcome.resumable = True
                outcome.stopped_reason = outcome.stopped_reason or str(StopReason.RATE_LIMIT)
    finally:
        release_lease(io, lease)
        journal.close()
        with phases.timed("upload"):
            publisher.checkpoint(checkpoint_files, final=True)
    if replayed is not None:
        outcome.counts = merge_counts(outcome.counts, replayed.counts)
        outcome.failures = replayed.failures + outcome.failures
        outcome.resumable = outcome.resumable or replayed.resumable
    outcome.extra["requests"] = requests.summary()
    headline = (
        f"Synced `{settings.relative_path}` to `{settings.repository}` in {clock() - started:.1f} s"
        + (f"; **stopped early ({outcome.stopped_reason}), resumable**" if outcome.resumable else "")
        + "."
    )
    paths["journal"] = settings.output_dir / JOURNAL_FILE
    code = finish(
        settings,
        io,
        prepared,
        outcome,
        paths,
        phases,
        title="Issue sync",
        headline=headline,
        sections=[*sections, *_features_section(features, settings), *extras.section(dry_run=False)],
    )
    with phases.timed("upload"):
        publisher.upload("report", {p.name: p for p in (paths["report"], paths["report_json"])})
    return code


def _not_available(feature: Feature, settings: Settings) -> str:
    shown = "a parent's body lists its sub-issues" if feature is Feature.SUB_ISSUES else "a body lists its blockers"
    return (
        f"{feature} are not available on this server ({settings.api_url}) for {settings.repository}: "
        f"the relations are listed in the issue bodies instead ({shown}), and no link of that kind is sent"
    )


def _features_section(features: ServerFeatures, settings: Settings) -> list[str]:
    missing = sorted(features.missing)
    if not missing:
        return []
    return ["### Server features\n\n" + "\n".join(f"- {_not_available(f, settings)}." for f in missing)]


def _titles(prepared: Prepared) -> dict[str, str]:
    return {key: title for key, _, title in prepared.picture.nodes}


def read_budget(tracker: IssueTracker | None, reads: ReadRetries) -> Budget | None:
    """The primary budget left, from `GET /rate_limit` (free); None where GitHub has no limits (GHES)."""
    if tracker is None:
        return ASSUMED_BUDGET
    found = reads(tracker.rate_limit)
    return Budget(found.limit, found.remaining, found.reset_at) if found is not None else None


def dry_run_forecast(
    settings: Settings, prepared: Prepared, tracker: IssueTracker | None, reads: ReadRetries, reads_sent: int
) -> Forecast | None:
    budget = read_budget(tracker, reads)
    if budget is None:
        return None
    return forecast(
        prepared.plan,
        prepared.specs,
        budget=budget,
        # What looking at GitHub cost this dry run; without a token, the real run's one listing page.
        reads=reads_sent if tracker is not None else 1,
        writes_per_minute=settings.writes_per_minute,
    )


def keep_to_budget(
    settings: Settings, io: ActionsIO, prepared: Prepared, tracker: IssueTracker, reads: ReadRetries
) -> list[str]:
    """Cut the plan to the items the primary budget pays for (forecast.py: the split a dry run forecasts), so a
    run that cannot finish stops cleanly after whole items instead of midway. Returns the items left for later."""
    if not prepared.plan.operations:
        return []
    try:
        budget = read_budget(tracker, reads)
    except GaveUp:
        return []  # the engine's own reserve still stops the run in time
    if budget is None:
        return []
    cut = run_split(prepared.plan, prepared.specs, budget, writes_per_minute=settings.writes_per_minute)
    if cut.whole:
        return []
    plan = prepared.plan
    outcome = {**plan.outcome, **dict.fromkeys(cut.deferred_items, "pending")}
    prepared.plan = Plan(cut.operations, plan.unchanged, plan.out_of_scope, outcome)
    io.warning(
        f"the primary budget ({budget.remaining:,} of {budget.limit:,} requests left) pays for "
        f"{len(cut.first_items)} of {len(cut.first_items) + len(cut.deferred_items)} items: this run does those "
        "and stops resumable; a run after the budget's reset does the rest",
        title="issue sync needs more than one run",
    )
    return cut.deferred_items


def make_lease(
    settings: Settings,
    io: ActionsIO,
    tracker: IssueTracker,
    sleep: Callable[[float], None] | None,
    stop_event: threading.Event,
) -> Lease:
    """The run's lease on the repository. Its expiry is wall-clock time, as other runs read it; a scaled test
    sleep gets a clock that keeps up with it."""
    timebase = SkippingClock(sleep) if sleep is not None else None

    def wait(seconds: float) -> None:
        stop_event.wait(seconds)  # a real wait ends early on a signal

    return Lease(
        tracker,
        run_id=settings.run_id,
        attempt=settings.run_attempt,
        clock=timebase.time if timebase else time.time,
        sleep=timebase.sleep if timebase else wait,
        stopped=stop_event.is_set,
        log=io.log,
        repository=settings.repository,
        server_url=settings.server_url,
    )


def take_lease(
    settings: Settings,
    io: ActionsIO,
    lease: Lease,
    reads: ReadRetries,
    stop_event: threading.Event,
) -> str | None:
    """Take the lease, waiting up to `lease-wait-minutes`. None: held; else why the run stops (said as an error)."""
    try:
        waited = reads(lambda: lease.take(settings.lease_wait_minutes * 60), writes=True)
    except GaveUp as exc:
        failure = exc.failure
        io.error(
            f"the run stopped ({failure.cls}) taking the lease on {settings.repository}: {failure.message}. "
            "Nothing was written",
            title="issue sync stopped",
        )
        return str(StopReason.AUTH) if failure.fatal_for_run else "lease"
    if waited.taken:
        after = f" after waiting {waited.seconds:.0f} s for run {waited.holder.run_id}" if waited.holder else ""
        io.log(f"lease: took the lease on {settings.repository}{after}")

        def lost() -> None:
            io.error(
                f"the lease on {settings.repository} was lost (it could not be renewed): stopping, resumable",
                title="issue sync stopped",
            )
            stop_event.set()

        lease.start_renewing(lost)
        return None
    reason = lease.held_by(waited.holder) if waited.holder else "the lease could not be taken"
    io.error(
        f"{reason}; waited {waited.seconds / 60:.1f} min (`lease-wait-minutes`). Nothing was written: "
        "the next run (or a re-run of this one) does the work. Two syncs of one repository at once would race; "
        "a `concurrency:` group in the workflow keeps them apart",
        title="issue sync waited for another run",
    )
    return "lease"


def release_lease(io: ActionsIO, lease: Lease) -> None:
    try:
        lease.release()
    except Exception as exc:  # never hide how the run ended: the lease expires by itself
        io.warning(f"the lease could not be released ({type(exc).__name__}); it expires within 3 minutes")


def make_engine(
    settings: Settings,
    io: ActionsIO,
    journal: Journal,
    stop_event: threading.Event | None,
    sleep: Callable[[float], None] | None,
    on_checkpoint: Callable[[Mapping[str, Any]], None],
) -> Engine:
    deadline = time.time() + settings.deadline_minutes * 60 if settings.deadline_minutes else None
    timebase = SkippingClock(sleep) if sleep is not None else None
    return Engine(
        EngineSettings(
            max_concurrency=settings.max_concurrency,
            max_retries=settings.max_retries,
            # 0 means unpaced (GHES with rate limits off, or a test server): a rate no run can reach.
            writes_per_minute=settings.writes_per_minute or 1e9,
            checkpoint_every=settings.checkpoint_every,
            stop_on_error=settings.stop_on_error,
            deadline=deadline,
        ),
        classifier=classify_github,
        # x-ratelimit-reset is wall-clock epoch seconds. A scaled test sleep needs a clock that keeps up with it.
        clock=timebase.time if timebase else time.time,
        sleep=timebase.sleep if timebase else None,
        journal=journal,
        progress=io.log,
        stop_event=stop_event,
        on_checkpoint=on_checkpoint,
    )


def save_state(settings: Settings, prepared: Prepared) -> None:
    """What a later replay needs besides the journal: stored before the first write of the apply phase."""
    write_state(
        settings.output_dir,
        commit=prepared.commit,
        repository=settings.repository,
        operations=prepared.plan.operations,
        specs=prepared.specs,
        remote_digests=dict(prepared.observation.observed.digests),
        body_of=lambda spec: _stored_body(settings, spec),
    )


def _stored_body(settings: Settings, spec: IssueSpec) -> str | None:
    try:
        return body_of(settings.path, settings.workspace, spec)
    except JobError:
        return None  # a replay then reads the file itself, and fails that item if it still cannot


def replay_checkpoint(
    settings: Settings,
    io: ActionsIO,
    checkpoint: Checkpoint,
    prepared: Prepared,
    tracker: IssueTracker,
    engine: Engine,
    features: ServerFeatures | None = None,
    extras: RunExtras | None = None,
) -> Outcome:
    """Finish the stored plan of an earlier run; the normal plan runs afterwards on what GitHub then shows."""
    stored = checkpoint.state
    # Until this run stores its own plan, its checkpoints name the plan being finished: a run killed during the
    # replay leaves the next one that plan and its own journal, not a checkpoint without a state.
    own_state = settings.output_dir / STATE_FILE
    if (checkpoint.folder / STATE_FILE).resolve() != own_state.resolve():
        shutil.copyfile(checkpoint.folder / STATE_FILE, own_state)
    observation = observe(tracker, stored.specs, _stub_documents(stored), settings.repository)
    todo = plan_replay(stored, checkpoint.journal, observation.observed)
    io.log_lines(f"replay: {why}; dropped, the plan after the replay decides" for why in todo.unconfirmed[:MAX_LISTED])
    if len(todo.unconfirmed) > MAX_LISTED:
        io.log(f"replay: {len(todo.unconfirmed) - MAX_LISTED} more issue numbers dropped, unconfirmed")
    io.log(
        f"replay: {len(todo.done)} done, {len(todo.landed)} landed unrecorded, {len(todo.superseded)} superseded, "
        f"{len(todo.operations)} to run"
    )
    # Only the listing's numbers: an issue is written to only when it carries the item's marker.
    registry = IssueRegistry(observation.observed.issues)
    plan = Plan(todo.operations, [], [], {})
    result = (
        run_operations(
            settings,
            io,
            plan,
            stored.specs,
            tracker,
            engine,
            registry,
            verify_links=True,
            features=features,
            extras=extras,
        )
        if todo.operations
        else None
    )
    outcome = summarise(plan, result, unchanged=0, unreadable=0, skipped=0)
    outcome.extra.update(
        commit=stored.commit,
        done=todo.done,
        landed=todo.landed,
        superseded=todo.superseded,
        operations=len(todo.operations),
    )
    return outcome


def _stub_documents(stored: StoredState) -> dict[str, Document]:
    # observe() names files in its problems; a replay only has the stored specs.
    return {
        key: Document(
            key=key, kind=spec.kind, path=spec.path, title=spec.title, status=spec.status, body_digest=spec.body_digest
        )
        for key, spec in stored.specs.items()
    }


def apply_plan(
    settings: Settings,
    io: ActionsIO,
    prepared: Prepared,
    phases: Phases,
    tracker: IssueTracker,
    engine: Engine,
    features: ServerFeatures | None = None,
    extras: RunExtras | None = None,
) -> Outcome:
    """Run the plan's operations through the engine and say what happened to every item."""
    registry = IssueRegistry(prepared.observation.observed.issues)
    with phases.timed("apply"):
        result = (
            run_operations(
                settings,
                io,
                prepared.plan,
                prepared.specs,
                tracker,
                engine,
                registry,
                features=features,
                extras=extras,
            )
            if prepared.plan.operations
            else None
        )
    return summarise(
        prepared.plan,
        result,
        unchanged=len(prepared.plan.unchanged),
        unreadable=len(prepared.failed_files),
        skipped=len(prepared.skipped),
    )


def run_operations(
    settings: Settings,
    io: ActionsIO,
    plan: Plan,
    specs: Mapping[str, IssueSpec],
    tracker: IssueTracker,
    engine: Engine,
    registry: IssueRegistry,
    *,
    verify_links: bool = False,
    features: ServerFeatures | None = None,
    extras: RunExtras | None = None,
) -> RunResult:
    """The plan's operations are the engine's jobs (each knows its id, deps and scheduling order)."""
    writer = extras.make_writer(registry.node_id, engine.pace_write) if extras is not None else None
    applier = Applier(
        specs,
        tracker,
        registry,
        lambda path: source_url(settings.server_url, settings.repository, path),
        lambda spec: body_of(settings.path, settings.workspace, spec),
        verify_links=verify_links,
        manage_parents=settings.sub_issues,
        pace=engine.pace_write,
        features=features,
        project=writer.apply if writer is not None else None,
    )
    with io.group(f"Apply: {len(plan.operations)} operations"):
        result = engine.run(plan.operations, applier)
    said: set[str] = set()
    for job_outcome in result.outcomes.values():
        if job_outcome.status is JobStatus.FAILED and job_outcome.failure is not None:
            op = job_outcome.job
            assert isinstance(op, Operation)
            failure = job_outcome.failure
            if failure.fatal_for_run:
                # A token problem is one problem, however many requests were in flight when it showed.
                if failure.message not in said:
                    said.add(failure.message)
                    io.error(f"the run stopped ({failure.cls}): {failure.message}", title="issue sync stopped")
                continue
            io.error(f"{op.action.value} failed ({failure.cls}): {failure.message}", file=op.path or None)
    return result


def body_of(root: Path, workspace: Path, spec: IssueSpec) -> str:
    """An item's markdown for its issue: from the checkpoint in a replay, else read again from its file in the
    planning folder `root` (a checkpoint's path outside it fails the item, unread)."""
    if spec.source_body is not None:
        return spec.source_body
    try:
        return read_body(root, workspace, spec.path, spec.body_digest)
    except BodyChanged as exc:
        raise JobError(FailureClass.ITEM, str(exc)) from exc
