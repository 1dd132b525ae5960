"""One sync at a time per repository: a lease held as a label, through calls `issues: write` allows.

Taking it is creating the label `issue-sync-lease`: GitHub makes a label name exist once, so of two runs creating
it at once exactly one gets 201 and the other 422 `already_exists`. Its description names the holder and the
expiry (`run=… attempt=… until=<epoch> nonce=…`); the holder renews it (a PATCH of the description) well before
then, and deletes it at every ending it lives to see. A run killed hard leaves it behind: once expired it may be
broken by a later run.

Breaking is the delicate part: two runs may see the same expired lease, and a plain delete-and-create would let
the slower one delete the lease the faster one had just taken. So a run breaks a lease by renaming it to a
tombstone named after the exact description it read (`issue-sync-lease-broken-<hash>`). A name exists once, so
of the runs that read the same description, one rename succeeds; the others get 422 and look again. The rename's
answer shows the description the label had: should it not be the one read (the lease was taken anew in between),
the run gives it its name back and waits. The tombstone is deleted with the new lease, at the end of the run.

The description was written by another run or a person: it is parsed strictly (digits only) and never printed;
a description that does not parse counts as expired, and so does the lease of an earlier attempt of the same run.
Clock and sleep are injected.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from batch_action.sync.tracker import IssueTracker

LEASE_LABEL = "issue-sync-lease"
LEASE_COLOUR = "b60205"
TTL = 180.0  # seconds a lease holds without renewal: how long a killed run blocks the repository at most
RENEW_EVERY = 60.0
CLOCK_SKEW = 30.0  # runners' clocks differ a little: an expiry counts only this long after it passed
_BROKEN_PREFIX = f"{LEASE_LABEL}-broken-"
_DESCRIPTION_RE = re.compile(r"run=(?P<run>\d{1,20}) attempt=(?P<attempt>\d{1,5}) until=(?P<until>\d{1,12})\b")


@dataclass(frozen=True)
class Holder:
    """Who holds a lease, as far as its description can be trusted: digits only, or nothing."""

    run_id: str
    attempt: int
    until: float
    description: str

    def expired(self, now: float) -> bool:
        return now > self.until + CLOCK_SKEW


def parse_holder(description: str) -> Holder | None:
    found = _DESCRIPTION_RE.search(description[:100])
    if found is None:
        return None
    return Holder(found["run"], int(found["attempt"]), float(found["until"]), description)


def describe(run_id: str, attempt: int, until: float, nonce: str) -> str:
    return f"issue-sync lease: run={run_id} attempt={attempt} until={int(until)} nonce={nonce}"


def tombstone(description: str) -> str:
    return _BROKEN_PREFIX + hashlib.sha256(description.encode()).hexdigest()[:16]


@dataclass
class Waited:
    """How taking the lease went: `holder` is the run it waited for (None: it was free)."""

    taken: bool
    seconds: float = 0.0
    holder: Holder | None = None


class Lease:
    """The lease of one run. `take` waits at most `wait` seconds; `release` is safe to call at any ending."""

    def __init__(
        self,
        tracker: IssueTracker,
        *,
        run_id: str,
        attempt: int,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        stopped: Callable[[], bool] = lambda: False,
        log: Callable[[str], None] = lambda _line: None,
        repository: str = "",
        server_url: str = "https://github.com",
    ) -> None:
        self.tracker = tracker
        self.repository = repository
        self.server_url = server_url
        self.run_id = run_id if run_id.isdigit() else "0"  # outside Actions a run has no id
        self.attempt = attempt
        self.clock = clock
        self.sleep = sleep
        self.stopped = stopped
        self.log = log
        self.until = 0.0  # of the lease this run holds (0: none)
        self._broken: str | None = None  # the tombstone this run made, deleted at release
        self._written: dict[str, float] = {}  # descriptions this run sent in creates -> their expiry
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._renewer: threading.Thread | None = None

    @property
    def held(self) -> bool:
        return self.until > 0

    def take(self, wait: float) -> Waited:
        started = self.clock()
        outcome = Waited(False)
        poll = 1.0
        while True:
            if self._try_create():
                outcome.taken, outcome.seconds = True, self.clock() - started
                return outcome
            current = self.tracker.get_label(LEASE_LABEL)
            if current is None:
                continue  # released between the two calls: try again at once
            if current.description in self._written:
                # A create of this run landed though its answer was lost (the call was retried): it is ours.
                self.until = self._written[current.description]
                outcome.taken, outcome.seconds = True, self.clock() - started
                return outcome
            holder = parse_holder(current.description)
            if holder is None or holder.expired(self.clock()) or self._earlier_attempt(holder):
                if self._break(current.description):
                    self.log(
                        "lease: broke the expired lease of "
                        + (self.who(holder) if holder else "an unknown holder (its description does not parse)")
                    )
                continue
            if outcome.holder is None or outcome.holder.run_id != holder.run_id:
                self.log(f"lease: {self.held_by(holder)}; waiting up to {wait / 60:g} min")
            outcome.holder = holder
            left = wait - (self.clock() - started)
            if left <= 0 or self.stopped():
                outcome.seconds = self.clock() - started
                return outcome
            # Poll slowly (a few reads a minute), but never past the holder's expiry or the end of the wait.
            self.sleep(max(0.0, min(poll, left, holder.until + CLOCK_SKEW - self.clock() + 1)))
            poll = min(poll * 2, 15.0)

    def _earlier_attempt(self, holder: Holder) -> bool:
        """A lease of an earlier attempt of this very run is dead: GitHub re-runs a job only once the whole run
        has ended, so "Re-run failed jobs" after a kill need not wait for the lease to expire."""
        return self.run_id != "0" and holder.run_id == self.run_id and holder.attempt < self.attempt

    def who(self, holder: Holder) -> str:
        """The holder as the log shows it: built from its digits only, never from the description's text."""
        url = f"{self.server_url}/{self.repository}/actions/runs/{holder.run_id}"
        return f"run {holder.run_id} (attempt {holder.attempt}, {url})"

    def held_by(self, holder: Holder) -> str:
        until = time.strftime("%H:%M:%S UTC", time.gmtime(holder.until))
        return f"the lease on {self.repository} is held by {self.who(holder)} until {until}"

    def _try_create(self) -> bool:
        until = self.clock() + TTL
        description = describe(self.run_id, self.attempt, until, secrets.token_hex(4))
        self._written[description] = until
        if not self.tracker.create_label(LEASE_LABEL, LEASE_COLOUR, description):
            return False
        self.until = until
        return True

    def _break(self, seen: str) -> bool:
        """Rename the lease described by `seen` to its tombstone; True when this run did (and it was that one)."""
        grave = tombstone(seen)
        renamed = self.tracker.update_label(LEASE_LABEL, new_name=grave)
        if renamed is None:
            return False  # another run broke it first (or it was released): look again
        if renamed.description != seen:
            # Taken anew between the read and the rename: give the new holder its lease back.
            self.tracker.update_label(grave, new_name=LEASE_LABEL)
            return False
        self._broken = grave
        return True

    def start_renewing(self, on_lost: Callable[[], None]) -> None:
        """Renew the lease every `RENEW_EVERY` seconds (real time) in a thread of its own until release."""

        def renew_until_released() -> None:
            while not self._done.wait(RENEW_EVERY):
                if not self.renew():
                    on_lost()
                    return

        self._renewer = threading.Thread(target=renew_until_released, name="lease-renewal", daemon=True)
        self._renewer.start()

    def renew(self) -> bool:
        """Push the expiry out; False when the lease is lost (expired before this, or gone)."""
        with self._lock:
            if not self.held:
                return False
            now = self.clock()
            if now >= self.until:
                self.until = 0.0  # another run may have broken it already: never touch it again
                return False
            until = now + TTL
            try:
                renewed = self.tracker.update_label(
                    LEASE_LABEL, description=describe(self.run_id, self.attempt, until, secrets.token_hex(4))
                )
            except Exception as exc:  # a failed renewal is retried on the next tick, while the lease holds
                self.log(f"lease: renewal failed ({type(exc).__name__}); trying again")
                return True
            if renewed is None:
                self.until = 0.0
                return False
            self.until = until
            return True

    def release(self) -> None:
        """Delete the lease (and the tombstone of one this run broke); nothing when it is not held any more."""
        self._done.set()
        if self._renewer is not None:
            self._renewer.join(timeout=10)
        with self._lock:
            # Before its expiry the lease can only be this run's: nobody breaks an unexpired lease.
            if self.held and self.clock() < self.until:
                self.tracker.delete_label(LEASE_LABEL)
            self.until = 0.0
            if self._broken is not None:
                self.tracker.delete_label(self._broken)
                self._broken = None
