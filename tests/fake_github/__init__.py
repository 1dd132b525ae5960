"""Loopback fake GitHub REST server for tests and benchmarks.

    from tests.fake_github import FakeGitHub
    with FakeGitHub(token="t0ken") as gh:
        Github(auth=Auth.Token("t0ken"), base_url=gh.base_url, ...)

`fake_github` is a pytest fixture returning a factory: `gh = fake_github(token="t", latency=0.01)` starts a
server with those keyword arguments, and every server it started is stopped at teardown. To use it, import it
into a test module (`from tests.fake_github import fake_github  # noqa: F401`) or into `tests/conftest.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.fake_github.server import (
    SECONDARY_MESSAGE,
    FakeGitHub,
    Fault,
    Grant,
    RequestRecord,
    SecondaryLimits,
    UnknownLabels,
)

__all__ = [
    "SECONDARY_MESSAGE",
    "FakeGitHub",
    "Fault",
    "Grant",
    "RequestRecord",
    "SecondaryLimits",
    "UnknownLabels",
    "fake_github",
]


@pytest.fixture
def fake_github() -> Iterator[Callable[..., FakeGitHub]]:
    """Factory fixture: call it with FakeGitHub's keyword arguments to get a started server."""
    started: list[FakeGitHub] = []

    def make(**kwargs: Any) -> FakeGitHub:
        gh = FakeGitHub(**kwargs).start()
        started.append(gh)
        return gh

    yield make
    for gh in started:
        gh.stop()
