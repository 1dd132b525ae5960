"""The run's effects, built once by `cli.main` (the composition root) and handed to the run as one frozen object.

Nothing under `batch_action/run/` builds an effect of its own: it writes to `runtime.io`, reads GitHub through
`runtime.tracker`, times phases with `runtime.clock`, waits with `runtime.timebase()`, and gets its retriers,
journal and engine from the factories here. Tests build the whole program through `cli.main(argv, env, stream)`,
swapping only the effects `main` lets them (a scaled sleep, a tracker factory).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from batch_action.actions_io import ActionsIO
from batch_action.artifacts import ArtifactClient
from batch_action.discovery import ChangeSet
from batch_action.engine.failures import Classifier
from batch_action.engine.journal import Journal
from batch_action.engine.policy import Retrier, RetrySettings, standard_retrier
from batch_action.engine.scheduler import Engine, EngineSettings, SkippingClock
from batch_action.hooks import NO_HOOKS, Hooks
from batch_action.projects.client import GraphQL
from batch_action.publish import Publisher
from batch_action.report.requests import RequestLog
from batch_action.sync.tracker import IssueTracker, Response, ResponseListener

if TYPE_CHECKING:
    from batch_action.sync.observe import Listing

T = TypeVar("T")
Discover = Callable[[Path, str | None, str], ChangeSet]
Clock = Callable[[], float]
Sleep = Callable[[float], None]


class Responses:
    """The tracker's one response listener, fanning each response out to those added (the request log, then the
    engine's governor once it exists)."""

    def __init__(self, *listeners: ResponseListener) -> None:
        self._listeners = list(listeners)

    def add(self, listener: ResponseListener) -> None:
        self._listeners.append(listener)

    def __call__(self, response: Response) -> None:
        for listener in self._listeners:
            listener(response)


class Prefetch(Generic[T]):
    """A read started before the run asks for it, in a thread of its own: `cli.main` starts the first listing as
    soon as the tracker exists, and it is on the wire while the rest of the program is imported and the tree
    parsed. `take()` gives its result (or raises its error) once; after that, and when nothing was started, None:
    every later read is made afresh."""

    def __init__(self) -> None:
        self._future: Future[T] | None = None
        self.unwanted = threading.Event()  # set by `settle`: a read that retries can stop waiting (`Runtime.reads`)

    def start(self, read: Callable[[], T], name: str) -> None:
        future: Future[T] = Future()

        def work() -> None:
            try:
                future.set_result(read())
            except BaseException as exc:  # handed to whoever takes it, in the run's thread
                future.set_exception(exc)

        self._future = future
        threading.Thread(target=work, name=name, daemon=True).start()

    def take(self) -> T | None:
        future, self._future = self._future, None
        return future.result() if future is not None else None

    def wait(self) -> None:
        """Wait until the read has ended, without taking its result."""
        if self._future is not None:
            self._future.exception()

    def settle(self) -> None:
        """Wait for a read no one took (the run ended before it needed it): no request outlives the run. A read
        built with `Runtime.reads(until=unwanted)` stops retrying at once."""
        future, self._future = self._future, None
        if future is not None:
            self.unwanted.set()
            future.exception()


@dataclass(frozen=True)
class Runtime:
    io: ActionsIO
    env: Mapping[str, str]  # the runner's environment (replay reads the workflow's own repository from it)
    clock: Clock  # monotonic: phase timings and the headline's seconds
    wall_clock: Clock  # epoch seconds: x-ratelimit-reset, lease expiry and the deadline are wall-clock times
    sleep: Sleep | None  # an injected sleep (tests scale time with it); None: real waits that end on `stop`
    stop: threading.Event  # set by a signal, or when the lease is lost
    tracker: IssueTracker | None  # None without a token: a dry run plans against nothing
    discover: Discover  # git: what changed since a commit
    classifier: Classifier  # what the adapters' exceptions mean to the engine and the retriers
    artifacts: Publisher  # the run's artifact uploads
    artifact_client: ArtifactClient | None  # the Artifacts v4 client, for replay's downloads (None: none)
    requests: RequestLog
    responses: Responses
    journal_factory: Callable[[Path], Journal] = Journal
    # The `project`'s GraphQL (`project-token`'s client, else the tracker's); None without a project or a token.
    project_graphql: GraphQL | None = None
    hooks: Hooks = NO_HOOKS  # the library's transform and progress callback (`batch_action.sync`)
    # The first listing of the synced issues, started by `cli.main` before the tree is read (observe.Listing).
    first_listing: Prefetch[Listing] = field(default_factory=Prefetch)

    def timebase(self) -> tuple[Clock, Sleep]:
        """A wall clock and a sleep for one consumer (the lease, the reads before the engine). A scaled test
        sleep gets a clock that keeps up with it; a real wait ends early on a signal."""
        if self.sleep is not None:
            skipping = SkippingClock(self.sleep, self.wall_clock)
            return skipping.time, skipping.sleep
        return self.wall_clock, self.wait

    def background(self, read: Callable[[], T], name: str) -> Prefetch[T]:
        """Start `read` now in a thread of its own; its caller takes the result when it needs it (the reads that
        can be on the wire while the run does something else)."""
        prefetch: Prefetch[T] = Prefetch()
        prefetch.start(read, name)
        return prefetch

    def read_ahead(self, into: Prefetch[T], read: Callable[[], T], name: str, max_retries: int) -> Prefetch[T]:
        """Start `read` in `into`'s thread under the reads' retries, which end once it is no longer wanted."""
        into.start(functools.partial(self.reads(max_retries, until=into.unwanted), read), name)
        return into

    def wait(self, seconds: float) -> None:
        self.stop.wait(seconds)

    def _wait_or(self, until: threading.Event) -> Sleep:
        """A real wait that ends early at a stop or at `until` (looked at every 50 ms, `until` at once)."""

        def wait(seconds: float) -> None:
            end = self.clock() + seconds
            while not self.stop.is_set() and not until.is_set() and (left := end - self.clock()) > 0:
                until.wait(min(left, 0.05))

        return wait

    def retrier(self, settings: RetrySettings, *, until: threading.Event | None = None) -> Retrier:
        """The retry factory: the one policy (engine/policy.py) the engine's jobs and the reads before it share.
        `until`: its waits end early there too (a read ahead no longer wanted)."""
        clock, sleep = self.timebase()
        if until is not None and self.sleep is None:
            sleep = self._wait_or(until)
        return standard_retrier(settings, classifier=self.classifier, clock=clock, sleep=sleep)

    def reads(self, max_retries: int, *, until: threading.Event | None = None) -> ReadRetries:
        """The reads' retries; they end at a stop, and at `until` (a read ahead no longer wanted)."""
        stops = (self.stop,) if until is None else (self.stop, until)
        return ReadRetries(self.retrier(RetrySettings(max_retries=max_retries), until=until), *stops)

    def engine(
        self, settings: EngineSettings, journal: Journal, on_checkpoint: Callable[[Mapping[str, Any]], None]
    ) -> Engine:
        """The engine factory. Its real waits are its own (they end early at a stop or at the end of a run)."""
        skipping = SkippingClock(self.sleep, self.wall_clock) if self.sleep is not None else None
        engine = Engine(
            settings,
            classifier=self.classifier,
            clock=skipping.time if skipping else self.wall_clock,
            sleep=skipping.sleep if skipping else None,
            journal=journal,
            progress=self.io.log,
            stop_event=self.stop,
            on_checkpoint=on_checkpoint,
        )
        self.responses.add(engine.observe)
        return engine


class ReadRetries:
    """The reads before the engine starts (the observe listing, the budget, the lease) under the same retry
    policy as every job.

    A 5xx, a reset or a rate limit is waited out and retried; a 401/403/404 is not, and `GaveUp` reaches the run,
    which ends with one clear error instead of a traceback.
    """

    def __init__(self, retrier: Retrier, *stops: threading.Event) -> None:
        self.retrier = retrier
        self._stops = stops  # the run's stop (a signal), and a read ahead's end (`Prefetch.settle`)

    def __call__(self, read: Callable[[], T], *, writes: bool = False) -> T:
        return self.retrier.call(lambda _attempt: read(), writes=writes, halted=self._halted)

    def _halted(self) -> bool:
        return any(stop.is_set() for stop in self._stops)
