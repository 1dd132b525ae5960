"""Apply: plan → engine → outcome, for a real run: the lease, a replay of an earlier run's checkpoint, the plan's
operations through the engine, and the checkpoint files at every ending."""

from __future__ import annotations

import contextlib
import functools
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from batch_action.engine.failures import FailureClass, JobError
from batch_action.engine.governor import GovernorSettings
from batch_action.engine.policy import Attempt, GaveUp, StopReason
from batch_action.engine.scheduler import Engine, EngineSettings, Execute, JobStatus, RunResult
from batch_action.forecast import run_split
from batch_action.hooks import ProgressCounter
from batch_action.model import Document
from batch_action.outcome import Outcome, followed_by, merge_counts, replay_section, summarise
from batch_action.parsing.load import BodyChanged, read_body
from batch_action.projects.run import RunExtras
from batch_action.resume import (
    JOURNAL_FILE,
    MAX_LISTED,
    STATE_FILE,
    SUMMARY_FILE,
    Checkpoint,
    StoredState,
    plan_replay,
    write_state,
)
from batch_action.run.finish import Ending
from batch_action.run.lease import make_lease, release_lease, take_lease
from batch_action.run.prepare import Prepared, read_budget
from batch_action.run.timing import Phases
from batch_action.runtime import Prefetch, ReadRetries, Runtime
from batch_action.settings import Settings, derived
from batch_action.sync.apply import Applier, IssueRegistry
from batch_action.sync.features import Feature, ServerFeatures
from batch_action.sync.observe import list_synced, observe
from batch_action.sync.plan import Action, Operation, Plan
from batch_action.sync.render import SYNC_LABEL, IssueSpec, source_url
from batch_action.sync.tracker import IssueTracker, RemoteIssue

Locate = Callable[[], contextlib.AbstractContextManager[Checkpoint | None]]


@dataclass(frozen=True)
class ApplyConfig:
    """What the apply phase reads of the settings."""

    repository: str
    server_url: str
    relative_path: str
    path: Path
    workspace: Path
    output_dir: Path
    sub_issues: bool
    max_concurrency: int
    max_retries: int
    writes_per_minute: int
    checkpoint_every: int
    stop_on_error: bool
    deadline_minutes: float
    lease_wait_minutes: float
    run_id: str
    run_attempt: int

    @classmethod
    def of(cls, s: Settings) -> ApplyConfig:
        return derived(cls, s)

    def engine_settings(self, now: float) -> EngineSettings:
        return EngineSettings(
            GovernorSettings(
                max_concurrency=self.max_concurrency,
                # 0 means unpaced (GHES with rate limits off, or a test server): a rate no run can reach.
                writes_per_minute=self.writes_per_minute or 1e9,
            ),
            max_retries=self.max_retries,
            checkpoint_every=self.checkpoint_every,
            stop_on_error=self.stop_on_error,
            deadline=now + self.deadline_minutes * 60 if self.deadline_minutes else None,
        )


def apply(
    config: ApplyConfig,
    runtime: Runtime,
    tracker: IssueTracker,
    prepared: Prepared,
    phases: Phases,
    reads: ReadRetries,
    features: ServerFeatures,
    *,
    replan: Callable[[], Prepared],
    locate: Locate,
    started: float,
    extras: RunExtras | None = None,
) -> Ending:
    """A real run from its first plan on. `replan` makes the plan again (after the lease, a replay, or a server
    found to lack sub-issues); `locate` finds the checkpoint to replay, if any."""
    io = runtime.io
    out = config.output_dir
    journal = runtime.journal_factory(out / JOURNAL_FILE)
    checkpoint_files = {name: out / name for name in (JOURNAL_FILE, SUMMARY_FILE, STATE_FILE, "plan.json")}

    def upload_checkpoint(summary: Mapping[str, Any]) -> None:
        if not summary.get("final"):  # the final one is uploaded once, below, whatever ends the run
            runtime.artifacts.checkpoint(checkpoint_files, final=False)

    engine = runtime.engine(config.engine_settings(runtime.wall_clock()), journal, upload_checkpoint)
    sections: list[str] = []
    replayed: Outcome | None = None
    labels: Prefetch[list[str]] | None = None  # the repository's labels, listed once the lease is held
    saved: Plan | None = None  # the plan whose state.json is written
    lease = make_lease(
        runtime,
        tracker,
        run_id=config.run_id,
        attempt=config.run_attempt,
        repository=config.repository,
        server_url=config.server_url,
    )
    try:
        stopped_in_replay = False
        not_held: str | None = None  # why the run stops without the lease ("lease", "auth", …)
        with locate() as checkpoint:
            # One sync writes at a time: a plan with writes (or a replay) takes the lease, then looks again, since
            # the run that held it may have just written what this one planned. A plan without writes takes none.
            if checkpoint is not None or prepared.plan.operations:
                not_held = take_lease(
                    runtime, lease, reads, wait_minutes=config.lease_wait_minutes, repository=config.repository
                )
                if not_held is None:
                    if prepared.plan.count(Action.LABELS):  # listed while the run looks again: its label jobs need it
                        labels = runtime.read_ahead(Prefetch(), tracker.list_labels, "labels", config.max_retries)
                    with io.group("Plan (lease held)"):
                        stands = False
                        if checkpoint is None:
                            # The page is on the wire while the state of the plan, which most runs keep, is saved.
                            look = functools.partial(unchanged_since_listed, prepared, tracker, reads)
                            since = runtime.background(look, "since-listed")
                            saved = save_state(config, prepared)
                            stands = bool(since.take())
                        if stands:
                            io.log("lease: no synced issue changed since the plan's listing: the plan stands")
                        else:
                            prepared = replan()
                            if checkpoint is None and not prepared.plan.operations:
                                io.log("lease: nothing left to write (another run wrote what this one planned)")
            if checkpoint is not None and not_held is None:
                with io.group("Replay"), phases.timed("replay"):
                    replayed = replay_checkpoint(config, runtime, checkpoint, tracker, engine, features, extras)
            del checkpoint  # its stored plan (~40 MB at 10,000 items) has no use in the apply phase
        if replayed is not None:
            sections.append(replay_section(replayed))
            stopped_in_replay = replayed.resumable and runtime.stop.is_set()
            if replayed.extra.get("operations") and not stopped_in_replay:
                with io.group("Plan (after replay)"):
                    prepared = replan()
        if not_held is not None:
            saved = save_state(config, prepared)  # nothing written: a replay of this run plans afresh
            outcome = Outcome({"skipped": len(prepared.skipped)}, resumable=True, stopped_reason=not_held)
        elif stopped_in_replay:
            # Spend the runner's grace time on the checkpoint, not on a new plan; the next run replays again.
            outcome = Outcome({"skipped": len(prepared.skipped)}, resumable=True, stopped_reason="signal")
        else:
            if labels is not None:
                labels.wait()  # its request is in the budget the split below reads (forecast.LABEL_LISTING)
            deferred = keep_to_budget(config, runtime, prepared, tracker, reads)
            if prepared.plan is not saved:  # planned again, or cut to the budget
                saved = save_state(config, prepared)
            listed_labels = labels.take if labels is not None else None
            outcome = apply_plan(config, runtime, prepared, phases, tracker, engine, features, extras, listed_labels)
            if Feature.SUB_ISSUES in features.missing - prepared.missing and not outcome.resumable and not deferred:
                # Learnt from a link's 404, with nothing listed to probe before (a first sync): the parents
                # written before it do not list their children yet. Plan again, knowing, and write them.
                with io.group("Plan (parents list their sub-issues)"):
                    prepared = replan()
                saved = save_state(config, prepared)
                again = apply_plan(config, runtime, prepared, phases, tracker, engine, features, extras)
                outcome = followed_by(outcome, again)
            if deferred:
                outcome.counts["pending"] = outcome.counts.get("pending", 0) + len(deferred)
                outcome.outcomes.update(dict.fromkeys(deferred, "pending"))
                outcome.resumable = True
                outcome.stopped_reason = outcome.stopped_reason or str(StopReason.RATE_LIMIT)
    finally:
        if labels is not None:
            labels.settle()
        release_lease(runtime, lease)
        journal.close()
        with phases.timed("upload"):
            runtime.artifacts.checkpoint(checkpoint_files, final=True)
    if replayed is not None:
        outcome.counts = merge_counts(outcome.counts, replayed.counts)
        outcome.failures = replayed.failures + outcome.failures
        outcome.resumable = outcome.resumable or replayed.resumable
    outcome.extra["requests"] = runtime.requests.summary()
    headline = (
        f"Synced `{config.relative_path}` to `{config.repository}` in {runtime.clock() - started:.1f} s"
        + (f"; **stopped early ({outcome.stopped_reason}), resumable**" if outcome.resumable else "")
        + "."
    )
    paths = {**prepared.paths, "journal": out / JOURNAL_FILE}
    return Ending(prepared, outcome, paths, title="Issue sync", headline=headline, sections=sections)


# How long before the plan's listing (by the server's clock) a change still makes the plan look again: a write
# landing while the listing's pages were read, and replicas a little behind. Too long costs only a re-plan.
SINCE_MARGIN = 120.0


def unchanged_since_listed(prepared: Prepared, tracker: IssueTracker, reads: ReadRetries) -> bool:
    """Whether no issue with the sync label was updated since the plan's listing (less `SINCE_MARGIN`): then no
    other run wrote one (every write of a sync changes the issue, its marker included), and the plan stands.
    One page of GitHub's `since` listing instead of parsing, listing and planning the whole tree again."""
    listed_at = prepared.observation.listed_at
    if listed_at is None:
        return False

    def first_changed() -> RemoteIssue | None:
        return next(iter(tracker.list_synced(SYNC_LABEL, since=listed_at - SINCE_MARGIN)), None)

    return reads(first_changed) is None


def keep_to_budget(
    config: ApplyConfig, runtime: Runtime, prepared: Prepared, tracker: IssueTracker, reads: ReadRetries
) -> list[str]:
    """Cut the plan to the items the primary budget pays for (forecast.py: the split a dry run forecasts), so a
    run that cannot finish stops cleanly after whole items instead of midway. Returns the items left for later."""
    if not prepared.plan.operations:
        return []
    try:
        budget = read_budget(tracker, reads, runtime.requests.latest_budget)
    except GaveUp:
        return []  # the engine's own reserve still stops the run in time
    if budget is None:
        return []
    cut = run_split(prepared.plan, prepared.specs, budget, writes_per_minute=config.writes_per_minute)
    if cut.whole:
        return []
    plan = prepared.plan
    outcome = {**plan.outcome, **dict.fromkeys(cut.deferred_items, "pending")}
    prepared.plan = Plan(cut.operations, plan.unchanged, plan.out_of_scope, outcome)
    runtime.io.warning(
        f"the primary budget ({budget.remaining:,} of {budget.limit:,} requests left) pays for "
        f"{len(cut.first_items)} of {len(cut.first_items) + len(cut.deferred_items)} items: this run does those "
        "and stops resumable; a run after the budget's reset does the rest",
        title="issue sync needs more than one run",
    )
    return cut.deferred_items


def save_state(config: ApplyConfig, prepared: Prepared) -> Plan:
    """What a later replay needs besides the journal: stored before the first write of the apply phase.
    Returns the plan stored."""
    write_state(
        config.output_dir,
        commit=prepared.commit,
        repository=config.repository,
        operations=prepared.plan.operations,
        specs=prepared.specs,
        remote_digests=dict(prepared.observation.observed.digests),
        body_of=lambda spec: _stored_body(config, spec),
    )
    return prepared.plan


def _stored_body(config: ApplyConfig, spec: IssueSpec) -> str | None:
    try:
        return body_of(config.path, config.workspace, spec)
    except JobError:
        return None  # a replay then reads the file itself, and fails that item if it still cannot


def replay_checkpoint(
    config: ApplyConfig,
    runtime: Runtime,
    checkpoint: Checkpoint,
    tracker: IssueTracker,
    engine: Engine,
    features: ServerFeatures | None = None,
    extras: RunExtras | None = None,
) -> Outcome:
    """Finish the stored plan of an earlier run; the normal plan runs afterwards on what GitHub then shows."""
    io = runtime.io
    stored = checkpoint.state
    # Until this run stores its own plan, its checkpoints name the plan being finished: a run killed during the
    # replay leaves the next one that plan and its own journal, not a checkpoint without a state.
    own_state = config.output_dir / STATE_FILE
    if (checkpoint.folder / STATE_FILE).resolve() != own_state.resolve():
        shutil.copyfile(checkpoint.folder / STATE_FILE, own_state)
    observation = observe(tracker, list_synced(tracker), stored.specs, _stub_documents(stored), config.repository)
    todo = plan_replay(stored, checkpoint.journal, observation.observed)
    io.log_lines(f"replay: {why}; dropped, the plan after the replay decides" for why in todo.unconfirmed[:MAX_LISTED])
    if len(todo.unconfirmed) > MAX_LISTED:
        io.log(f"replay: {len(todo.unconfirmed) - MAX_LISTED} more issue numbers dropped, unconfirmed")
    io.log(
        f"replay: {len(todo.done)} done, {len(todo.landed)} landed unrecorded, {len(todo.superseded)} superseded, "
        f"{len(todo.operations)} to run"
    )
    # Only the listing's numbers: an issue is written to only when it carries the item's marker.
    plan = Plan(todo.operations, [], [], {})
    registry = IssueRegistry(observation.observed.issues, node_ids=bool(plan.count(Action.PROJECT)))
    result = (
        run_operations(
            config,
            runtime,
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
    config: ApplyConfig,
    runtime: Runtime,
    prepared: Prepared,
    phases: Phases,
    tracker: IssueTracker,
    engine: Engine,
    features: ServerFeatures | None = None,
    extras: RunExtras | None = None,
    listed_labels: Callable[[], list[str] | None] | None = None,
) -> Outcome:
    """Run the plan's operations through the engine and say what happened to every item. `listed_labels`: the
    repository's labels, read already (None: the first label job lists them)."""
    issues, projected = prepared.observation.observed.issues, bool(prepared.plan.count(Action.PROJECT))
    registry = IssueRegistry(issues, node_ids=projected)  # GraphQL ids only for the project's writes
    with phases.timed("apply"):
        result = (
            run_operations(
                config,
                runtime,
                prepared.plan,
                prepared.specs,
                tracker,
                engine,
                registry,
                features=features,
                extras=extras,
                listed_labels=listed_labels,
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
    config: ApplyConfig,
    runtime: Runtime,
    plan: Plan,
    specs: Mapping[str, IssueSpec],
    tracker: IssueTracker,
    engine: Engine,
    registry: IssueRegistry,
    *,
    verify_links: bool = False,
    features: ServerFeatures | None = None,
    extras: RunExtras | None = None,
    listed_labels: Callable[[], list[str] | None] | None = None,
) -> RunResult:
    """The plan's operations are the engine's jobs (each knows its id, deps and scheduling order). `extras`:
    the run's issue types and project; its board work is written by the `project` operations."""
    io = runtime.io
    writer = extras.make_writer(registry.node_id, engine.pace_write) if extras is not None else None
    applier = Applier(
        specs,
        tracker,
        registry,
        lambda path: source_url(config.server_url, config.repository, path),
        lambda spec: body_of(config.path, config.workspace, spec),
        verify_links=verify_links,
        manage_parents=config.sub_issues,
        pace=engine.pace_write,
        features=features,
        project=writer.apply if writer is not None else None,
        listed_labels=listed_labels,
    )
    execute: Execute = applier
    on_progress = runtime.hooks.on_progress
    if on_progress is not None:
        counter = ProgressCounter(on_progress, (op.key for op in plan.operations if op.key))

        def execute(op: Operation, attempt: Attempt) -> object:
            done = applier(op, attempt)
            counter.landed(op.key)
            return done

    with io.group(f"Apply: {len(plan.operations)} operations"):
        result = engine.run(plan.operations, execute)
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
