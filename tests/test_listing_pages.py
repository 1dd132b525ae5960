"""The listing read concurrently: page 1, then pages 2..last (named by page 1's Link header) several at a time,
each from its own thread's client. It must yield exactly what reading page after page yields, in the same order,
request each page once, keep to its concurrency, and fail as a sequential listing fails."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import pytest
from github.GithubException import GithubException

from batch_action.sync.github_tracker import GitHubTracker, _last_page, _with_page
from tests.fake_github import FakeGitHub

TOKEN = "s3cret-t0ken-value"
ISSUES = 1_050  # 11 pages of 100


@pytest.fixture(scope="module")
def gh() -> Iterator[FakeGitHub]:
    with FakeGitHub(token=TOKEN) as server:
        for n in range(ISSUES):
            server.seed_issue(f"task {n}", body=f"body {n}", labels=["issue-sync"], state="closed" if n % 7 else "open")
        server.seed_issue("not synced", labels=["other"])
        yield server


def _listed(gh: FakeGitHub, concurrency: int) -> list[int]:
    with GitHubTracker(TOKEN, "octo/repo", gh.base_url, timeout=5, listing_concurrency=concurrency) as tracker:
        return [issue.number for issue in tracker.list_synced("issue-sync")]


def _pages_requested(gh: FakeGitHub) -> list[str]:
    return sorted(r.query.get("page", "1") for r in gh.requests if r.method == "GET")


@pytest.mark.parametrize("concurrency", [2, 4, 10])
def test_concurrent_pages_yield_what_page_after_page_yields(gh: FakeGitHub, concurrency: int) -> None:
    gh.clear_requests()
    one_by_one = _listed(gh, 1)
    gh.clear_requests()
    at_once = _listed(gh, concurrency)
    assert len(one_by_one) == ISSUES and len(set(one_by_one)) == ISSUES
    assert at_once == one_by_one
    assert _pages_requested(gh) == sorted(str(page) for page in range(1, 12)), "each page exactly once"
    assert len({r.client for r in gh.requests}) > 1, "pages 2.. come from the pool's own connections"
    assert gh.peak_in_flight <= concurrency


def test_a_failed_page_fails_the_listing(gh: FakeGitHub) -> None:
    gh.clear_requests()
    gh.fault("GET", r"/repos/octo/repo/issues$", skip=5, status=500)
    try:
        with pytest.raises(GithubException) as failed:
            _listed(gh, 4)
        assert failed.value.status == 500
    finally:
        gh.clear_faults()


def test_the_last_page_is_read_from_the_link_header() -> None:
    last = '<https://api.github.com/repositories/1/issues?state=all&labels=issue-sync&per_page=100&page=11>; rel="last"'
    nxt = '<https://api.github.com/repositories/1/issues?state=all&per_page=100&page=2>; rel="next"'
    assert _last_page({"Link": f"{nxt}, {last}"}) == (last[1:].split(">")[0], 11)
    assert _last_page({"link": nxt}) is None, "no rel=last: page after page"
    assert _last_page({"Link": '<https://h/x?after=Y3Vyc29y&per_page=100>; rel="last"'}) is None, "a cursor"
    assert _last_page({"Link": '<https://h/x?page=1>; rel="last"'}) is None, "one page: nothing more to read"
    assert _last_page({}) is None


def test_a_page_url_keeps_every_other_parameter() -> None:
    url = _with_page("https://h/api/v3/repos/o/r/issues?state=all&labels=issue-sync&per_page=100&page=11", 3)
    parts = urlsplit(url)
    assert (parts.netloc, parts.path) == ("h", "/api/v3/repos/o/r/issues")
    assert dict(parse_qsl(parts.query)) == {"state": "all", "labels": "issue-sync", "per_page": "100", "page": "3"}


def test_listing_concurrency_must_be_positive(gh: FakeGitHub) -> None:
    with pytest.raises(ValueError, match="listing_concurrency"):
        GitHubTracker(TOKEN, "octo/repo", gh.base_url, listing_concurrency=0)
