"""Prepare: discover → parse → graph → observe → plan. Everything known before the first write.

Reads GitHub (the listing, the link probes) and writes only the output folder's graph and plan files.
"""

from __future__ import annotations

import contextlib
import functools
import gc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from batch_action.actions_io import ActionsIO, Annotation
from batch_action.discovery import ChangeSet
from batch_action.files import write_json, write_lines
from batch_action.forecast import ASSUMED_BUDGET, Budget, Forecast, forecast
from batch_action.graph import GraphPicture, TaskGraph, build_graph
from batch_action.hooks import transformed
from batch_action.model import Kind, Problem, Severity, Skipped
from batch_action.parsing.load import load_tree
from batch_action.projects.run import RunExtras
from batch_action.report.mermaid import mermaid_lines
from batch_action.run.timing import Phases
from batch_action.runtime import ReadRetries, Runtime
from batch_action.scope import ItemChanges, item_changes
from batch_action.settings import Settings, derived
from batch_action.sync.features import Feature, ServerFeatures
from batch_action.sync.fit import group_children, limit_notices
from batch_action.sync.kinds import select_kinds
from batch_action.sync.observe import Observation, list_synced, observe, probe_features
from batch_action.sync.plan import Action, Observed, Plan, Scope, make_plan
from batch_action.sync.render import IssueSpec, Style, build_specs, source_url, with_children_listed
from batch_action.sync.tracker import IssueTracker, RateLimit


@dataclass(frozen=True)
class PrepareConfig:
    """What the prepare phase reads of the settings."""

    workspace: Path
    path: Path
    relative_path: str
    repository: str
    server_url: str
    scope: str
    base_sha: str
    labels: tuple[str, ...]
    sub_issues: bool
    dependencies: bool
    mentions: str
    close_removed: bool
    output_dir: Path
    dry_run: bool
    sha: str
    writes_per_minute: int
    kinds: frozenset[Kind]
    style: Style

    @classmethod
    def of(cls, s: Settings) -> PrepareConfig:
        return derived(cls, s)


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

    def titles(self) -> dict[str, str]:
        return {key: title for key, _, title in self.picture.nodes}


def prepare(
    config: PrepareConfig,
    runtime: Runtime,
    phases: Phases,
    reads: ReadRetries,
    features: ServerFeatures,
    extras: RunExtras | None = None,
) -> Prepared:
    """`features`: the run's verdict on the link endpoints, decided here from the listing when it can be.
    `extras`: the run's issue types and project (projects/run.py); the board is read here, for each plan, and a
    problem with it is a `SettingsError`."""
    io, tracker = runtime.io, runtime.tracker
    changes: ChangeSet | None = None
    with phases.timed("discover"):
        if config.scope == "changed":
            changes = runtime.discover(config.workspace, config.base_sha or None, config.relative_path)
    scope = item_changes(changes, config.relative_path)
    io.log(f"discover: {scope.reason}")
    with _collector_paused():  # the parse and the graph (the first listing may be read meanwhile, in its thread)
        with phases.timed("parse"):
            statuses = config.style.close_statuses or ()
            tree = load_tree(config.path, config.workspace, config.style.fields, statuses)
        io.log(
            f"parse: {len(tree.documents)} items, {len(tree.skipped)} files skipped, "
            f"{len(tree.unreadable)} unreadable, in {config.relative_path}"
        )
        io.log_lines(f"parse: skipped {refused.path} ({refused.reason})" for refused in tree.refused)
        with phases.timed("graph"):
            graph = build_graph(tree.documents)
            # What the graph gives besides the specs, made before them: their working memory (~4 MB at 10,000
            # items) is then not on top of the specs'. The graph is complete: nothing below changes an edge.
            order = graph.order()
            picture = graph.picture()
            paths = write_graph_files(config.output_dir, graph, picture)
            specs = build_specs(
                graph,
                config.labels,
                sub_issues=config.sub_issues,
                dependencies=config.dependencies,
                mentions=config.mentions,
                style=config.style,
            )
            if extras is not None:
                specs = extras.typed(specs)
            specs = transformed(specs, runtime.hooks.transform)
    with phases.timed("observe"):
        if tracker is not None:
            # The run's first listing was started by cli.main before the tree was read; a re-plan lists afresh.
            listing = runtime.first_listing.take()
            if listing is None:
                listing = reads(functools.partial(list_synced, tracker))
            read = functools.partial(
                observe, tracker, listing, specs, graph.documents, config.repository, scope.renames
            )
            observation = reads(read)
            del read  # it holds the documents, let go below
            io.log(f"observe: {observation.listed} synced issues listed, {len(observation.adopted)} adopted")
            listed = [*observation.observed.issues.values(), *observation.observed.orphans.values()]
            wanted = [
                feature
                for feature, on in (
                    (Feature.SUB_ISSUES, config.sub_issues),
                    (Feature.DEPENDENCIES, config.dependencies),
                )
                if on
            ]
            reads(functools.partial(probe_features, tracker, listed, features, wanted))
            if extras is not None:
                specs = extras.observe(io, specs, graph.documents.values(), reads)
        else:
            observation = Observation(Observed())
            io.log("observe: no token, so the remote state is not read; every item in scope would be created")
        grouped = group_children(specs, observation.observed)
        specs, observation.observed = grouped.specs, grouped.observed
        # Only the kinds synced are written; they link to another kind's item only when its issue exists.
        specs = select_kinds(specs, observation.observed.issues, config.kinds)
        missing = features.missing
        if Feature.SUB_ISSUES in missing:
            specs = with_children_listed(specs)
    with _collector_paused():  # and here, from the fitting of the specs to the plan file
        link = functools.partial(source_url, config.server_url, config.repository)
        fitted = limit_notices(graph.documents, specs, link)
        problems = [*tree.problems, *graph.problems, *graph.notes, *fitted, *grouped.problems, *observation.problems]
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
                close_removed=config.close_removed,
                missing=missing,
                project=extras.plan_work(specs, observation.observed) if extras is not None else None,
                kinds=config.kinds,
            )
        paths["plan"] = write_plan_file(config, plan, scope)
    commit = (changes.head if changes else None) or config.sha
    return Prepared(specs, scope, observation, plan, problems, picture, skipped, failed_files, paths, commit, missing)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """No automatic garbage collection while the tree, graph, specs and plan are made: what they make lives on,
    and for 10,000 items three full collections walked it all and freed nothing (~70 ms, plus the young ones).
    The one cycle made, the networkx graph, is collected by hand once it is let go. Not over the observe phase:
    its reads of GitHub leave garbage of their own."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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


def write_graph_files(out: Path, graph: TaskGraph, picture: GraphPicture) -> dict[str, Path]:
    return {
        "graph": write_json(out / "task-graph.json", graph.to_json()),
        "mermaid": write_lines(out / "task-graph.mmd", mermaid_lines(picture)),
    }


def write_plan_file(config: PrepareConfig, plan: Plan, scope: ItemChanges) -> Path:
    return write_json(
        config.output_dir / "plan.json",
        {
            "repository": config.repository,
            "scope": config.scope,
            "scope_reason": scope.reason,
            "dry_run": config.dry_run,
            **plan.to_json(),
        },
    )


def annotate_problems(io: ActionsIO, problems: list[Problem]) -> None:
    for problem in problems:
        message = problem.message + (f". Fix: {problem.fix}" if problem.fix else "")
        level = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTICE: "notice"}[problem.severity]
        io.annotate(Annotation(level, message, problem.path, problem.line))


def read_budget(
    tracker: IssueTracker | None, reads: ReadRetries, seen: Callable[[], RateLimit | None] | None = None
) -> Budget | None:
    """The primary budget left: as the latest reply's headers report it (`seen`), else from `GET /rate_limit`
    (free); None where GitHub has no limits (GHES)."""
    if tracker is None:
        return ASSUMED_BUDGET
    found = seen() if seen is not None else None
    if found is None:
        found = reads(tracker.rate_limit)
    return Budget(found.limit, found.remaining, found.reset_at) if found is not None else None


def dry_run_forecast(
    config: PrepareConfig, prepared: Prepared, tracker: IssueTracker | None, reads: ReadRetries, reads_sent: int
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
        writes_per_minute=config.writes_per_minute,
    )
