"""Composition root: builds the real effects (environment, the output stream, PyGithub, git, signals, clocks,
artifact uploads, the journal and retry factories) into one `Runtime` and runs the action with it.

Exit codes: 0 done; 1 some items failed or the run stopped early (resumable); 2 invalid settings.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from types import FrameType
from typing import TextIO

from batch_action.actions_io import ActionsIO
from batch_action.artifacts import ArtifactClient
from batch_action.discovery import ChangeSet, discover_changes
from batch_action.exits import EXIT_INCOMPLETE, EXIT_SETTINGS, report_invalid_settings
from batch_action.hooks import NO_HOOKS, Hooks
from batch_action.projects.client import GraphQL
from batch_action.publish import Publisher
from batch_action.report.requests import RequestLog
from batch_action.runtime import Responses, Runtime, Sleep
from batch_action.settings import Settings, SettingsError, load_settings
from batch_action.sync.github_failures import classify_github
from batch_action.sync.observe import list_synced
from batch_action.sync.tracker import IssueTracker, ResponseListener

TrackerFactory = Callable[[Settings, ResponseListener | None], IssueTracker]

# Pages of a listing read at once. More threads each hold a malloc arena with the bodies they parsed: at 10, a
# re-run of 10,000 synced issues peaked at 105 MB instead of 92; 4 read the 9 pages after a 1,000-item first
# page in three round trips.
LISTING_CONCURRENCY = 4


def _github_tracker(settings: Settings, listener: ResponseListener | None) -> IssueTracker:
    from batch_action.sync.github_tracker import GitHubTracker

    return GitHubTracker(
        settings.token,
        settings.repository,
        settings.api_url,
        timeout=settings.request_timeout,
        on_response=listener,
        listing_concurrency=min(settings.max_concurrency, LISTING_CONCURRENCY),
    )


class DryRunCancelled(Exception):
    """A signal ended a dry run: nothing was written, so there is nothing to finish or resume."""


def _install_signal_handlers(stop: threading.Event, io: ActionsIO, *, dry_run: bool) -> None:
    """The runner sends SIGINT, then SIGTERM 7.5 s later, then kills: stop scheduling at the first of them.

    A dry run writes nothing, so it has nothing to finish: it stops where it is (exit 1, `resumable=false`).
    Python as PID 1 in a container ignores SIGTERM unless a handler is installed, hence this.
    """

    def handler(signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if dry_run:
            raise DryRunCancelled(f"received {name}: a dry run writes nothing, so there is nothing to resume; stopped")
        if not stop.is_set():
            io.log(f"received {name}: finishing in-flight requests, then stopping (resumable)")
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, handler)


def _project_graphql(settings: Settings, tracker: IssueTracker | None, listener: ResponseListener) -> GraphQL | None:
    """The GraphQL the project is read and written with: `project-token`'s own client (the same response
    listener), else the tracker's (`github-token`); None without a project or a token."""
    if settings.project is None:
        return None
    if settings.project_token and settings.project_token != settings.token:
        from batch_action.sync.github_tracker import GitHubTracker

        return GitHubTracker(
            settings.project_token,
            settings.repository,
            settings.api_url,
            timeout=settings.request_timeout,
            on_response=listener,
        ).graphql
    graphql = getattr(tracker, "graphql", None)  # the IssueTracker port has no GraphQL; PyGithub's adapter has
    return graphql if callable(graphql) else None


def _mask_token(io: ActionsIO, token: str) -> None:
    """Mask the token before anything can print it, and each line of it too: a value pasted with a line break is
    refused by the settings, but the runner masks line by line, so every piece must be a secret of its own."""
    io.mask(token.strip())
    for piece in token.split():
        if len(piece) >= 8:  # shorter pieces would blank out ordinary words in the log
            io.mask(piece)


def _git_discover(workspace: Path, base: str | None, under: str) -> ChangeSet:
    return discover_changes(workspace, base, under=under)


def build_runtime(
    settings: Settings,
    io: ActionsIO,
    env: Mapping[str, str],
    stop: threading.Event,
    *,
    sleep: Sleep | None = None,
    tracker_factory: TrackerFactory = _github_tracker,
    hooks: Hooks = NO_HOOKS,
) -> Runtime:
    """Every effect of the run, once. `sleep` replaces every wait (tests scale time with it; None: real waits,
    interrupted by a signal)."""
    clock = time.monotonic
    requests = RequestLog(clock)
    responses = Responses(requests.record)
    artifacts = ArtifactClient.from_env(env, mask=io.mask) if settings.upload_artifacts or settings.replay else None
    publisher = Publisher(
        artifacts,
        io,
        enabled=settings.upload_artifacts,
        prefix=settings.artifact_name,
        attempt=settings.run_attempt,
        retention_days=settings.retention_days,
        clock=clock,
    )
    tracker = tracker_factory(settings, responses) if settings.token else None
    return Runtime(
        io=io,
        env=env,
        clock=clock,
        wall_clock=time.time,
        sleep=sleep,
        stop=stop,
        tracker=tracker,
        project_graphql=_project_graphql(settings, tracker, responses),
        discover=_git_discover,
        classifier=classify_github,
        artifacts=publisher,
        artifact_client=artifacts,
        requests=requests,
        responses=responses,
        hooks=hooks,
    )


def main(
    argv: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
    stream: TextIO | None = None,
    *,
    sleep: Sleep | None = None,
    tracker_factory: TrackerFactory = _github_tracker,
    hooks: Hooks = NO_HOOKS,
) -> int:
    """The action: settings from `env` and `argv`, workflow commands to `stream` (default: stdout).

    `sleep` and `tracker_factory` are the test seams: a scaled sleep, and a tracker other than PyGithub's.
    `hooks`: the library's (`batch_action.sync`), none for the action.
    """
    environment = dict(os.environ if env is None else env)
    io = ActionsIO(sys.stdout if stream is None else stream, environment)
    for name in ("GITHUB-TOKEN", "PROJECT-TOKEN"):
        _mask_token(io, environment.get(f"INPUT_{name}") or environment.get(f"INPUT_{name.replace('-', '_')}") or "")
    try:
        settings = load_settings(environment, argv)
    except SettingsError as exc:
        report_invalid_settings(io, exc.problems)
        return EXIT_SETTINGS
    io.mask(settings.token)
    if settings.project_token:
        io.mask(settings.project_token)
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        _install_signal_handlers(stop, io, dry_run=settings.dry_run)
    try:
        runtime = build_runtime(
            settings, io, environment, stop, sleep=sleep, tracker_factory=tracker_factory, hooks=hooks
        )
        if runtime.tracker is not None:  # on the wire while the run's modules load and the tree is parsed
            listing = partial(list_synced, runtime.tracker)
            runtime.read_ahead(runtime.first_listing, listing, "first-listing", settings.max_retries)
        try:
            from batch_action.run import run  # the task graph, the planner and the reports: after the request

            return run(settings, runtime)
        finally:
            runtime.first_listing.settle()
    except DryRunCancelled as exc:
        io.log(str(exc))
        io.set_output("resumable", "false")
        return EXIT_INCOMPLETE
    except Exception as exc:  # the last line of defence: one clear error, the trace in the debug log
        io.error(f"internal error: {type(exc).__name__}: {exc}", title="issue sync failed")
        io.debug(traceback.format_exc())
        if not io.in_actions:
            traceback.print_exc()
        return EXIT_INCOMPLETE


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
