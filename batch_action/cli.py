"""Composition root: builds the real effects (environment, stdout, PyGithub, git, signals) and runs the action.

Exit codes: 0 done; 1 some items failed or the run stopped early (resumable); 2 invalid settings.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import traceback
from collections.abc import Sequence
from types import FrameType

from batch_action.actions_io import ActionsIO
from batch_action.app import EXIT_INCOMPLETE, EXIT_SETTINGS, run
from batch_action.artifacts import ArtifactClient
from batch_action.projects.client import GraphQL
from batch_action.settings import Settings, SettingsError, load_settings
from batch_action.sync.tracker import IssueTracker, ResponseListener

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


def _project_graphql(settings: Settings, listener: ResponseListener | None) -> GraphQL:
    """The GraphQL of `project-token`: its own tracker (clients, auth), the same response listener."""
    from batch_action.sync.github_tracker import GitHubTracker

    return GitHubTracker(
        settings.project_token,
        settings.repository,
        settings.api_url,
        timeout=settings.request_timeout,
        on_response=listener,
    ).graphql


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


def _mask_token(io: ActionsIO, token: str) -> None:
    """Mask the token before anything can print it, and each line of it too: a value pasted with a line break is
    refused by the settings, but the runner masks line by line, so every piece must be a secret of its own."""
    io.mask(token.strip())
    for piece in token.split():
        if len(piece) >= 8:  # shorter pieces would blank out ordinary words in the log
            io.mask(piece)


def report_invalid_settings(io: ActionsIO, problems: Sequence[str]) -> None:
    """Each problem as an error, and what later steps read: the step summary says what was wrong, and the count
    outputs are 0 (nothing was synced) rather than empty, so `if: always()` steps can still compare them."""
    for problem in problems:
        io.error(problem, title="Invalid settings")
    lines = "".join(f"- {problem}\n" for problem in problems)
    io.add_summary(f"## Issue sync: invalid settings\n\nNothing was synced. Fix these inputs:\n\n{lines}")
    for name in ("created", "updated", "closed", "unchanged", "failed", "skipped"):
        io.set_output(name, "0")
    io.set_output("resumable", "false")


def main(argv: Sequence[str] | None = None, env: dict[str, str] | None = None) -> int:
    environment = dict(os.environ if env is None else env)
    io = ActionsIO(sys.stdout, environment)
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
    artifacts = (
        ArtifactClient.from_env(environment, mask=io.mask) if settings.upload_artifacts or settings.replay else None
    )
    try:
        return run(
            settings,
            io,
            tracker_factory=_github_tracker,
            stop_event=stop,
            env=environment,
            artifacts=artifacts,
            project_graphql=_project_graphql,
        )
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
