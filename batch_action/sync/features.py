"""Which of GitHub's link endpoints this server answers: sub-issues and issue dependencies.

The sub-issues REST endpoints exist on github.com and GHEC only; issue dependencies from GHES 3.20; a repository
can have a feature turned off. Such a server answers 404 for the endpoint (github-api.md §6). A run decides once,
here, and every worker reads the verdict: after it no request goes to a missing endpoint, and the relation is
shown in the issue bodies instead (a parent lists its children as a task list; a blocked issue lists its
blockers, which every body does anyway).

How a run learns it (README, "On a server without sub-issues or dependencies"):
- before planning, from the listing: an issue carrying the feature's summary proves it there, at no cost. A
  listing without any is only a hint, so one GET of a listed issue's links decides: a 404 for an issue that was
  just listed means the endpoint is missing (`observe.probe_features`);
- with nothing listed (a first sync into the repository) the plan assumes the feature; the first link that gets
  a 404 asks `confirm_missing`, which reads the issue once to tell a missing endpoint from a missing issue.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from enum import StrEnum


class Feature(StrEnum):
    SUB_ISSUES = "sub-issues"
    DEPENDENCIES = "issue dependencies"


class ServerFeatures:
    """The run's verdict on each feature, shared by every worker thread. A feature is assumed present until
    shown missing; `on_missing` is called once per missing feature, by the thread that found it."""

    def __init__(self, on_missing: Callable[[Feature], None] = lambda _feature: None) -> None:
        self._on_missing = on_missing
        self._lock = threading.Lock()
        self._decided: set[Feature] = set()
        self._missing: set[Feature] = set()
        # One check at a time per feature: of several links that get the 404 at once, one reads the issue and
        # the others wait for its verdict instead of each spending a request on it.
        self._checking = {feature: threading.Lock() for feature in Feature}

    def has(self, feature: Feature) -> bool:
        with self._lock:
            return feature not in self._missing

    @property
    def missing(self) -> frozenset[Feature]:
        with self._lock:
            return frozenset(self._missing)

    def decided(self, feature: Feature) -> bool:
        with self._lock:
            return feature in self._decided

    def learn(self, feature: Feature, *, present: bool) -> None:
        with self._lock:
            if feature in self._decided:
                return
            self._decided.add(feature)
            if present:
                return
            self._missing.add(feature)
        self._on_missing(feature)

    def confirm_missing(self, feature: Feature, issue_exists: Callable[[], bool]) -> bool:
        """After a 404 from the feature's endpoint for an issue the run knows: True when the feature is missing,
        False when the issue itself is gone (that item fails, as any 404 does)."""
        with self._checking[feature]:
            if not self.has(feature):
                return True
            if not issue_exists():
                return False
            self.learn(feature, present=False)
            return True
