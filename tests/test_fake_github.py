"""The loopback fake GitHub server, driven by real PyGithub over HTTP (plain `requests` for raw checks)."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from github import Auth, Github
from github.GithubException import (
    BadCredentialsException,
    GithubException,
    RateLimitExceededException,
    UnknownObjectException,
)
from github.Issue import Issue
from github.Repository import Repository

from tests.fake_github import FakeGitHub, SecondaryLimits, fake_github  # noqa: F401

TOKEN = "t0ken"


def client(gh: FakeGitHub, token: str = TOKEN, timeout: int = 2) -> Github:
    return Github(
        auth=Auth.Token(token),
        base_url=gh.base_url,
        retry=None,
        seconds_between_requests=None,
        seconds_between_writes=None,
        timeout=timeout,
        per_page=100,
        lazy=True,
    )


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with FakeGitHub(token=TOKEN) as server:
        yield server


@pytest.fixture
def repo(gh: FakeGitHub) -> Repository:
    return client(gh).get_repo("octo/repo")


def hdrs(exc: GithubException) -> dict[str, str]:
    return exc.headers or {}


def stub(repo: Repository, issue_id: int) -> Issue:
    """An Issue carrying only its database id: lets add/remove_blocked_by skip the GET."""
    return Issue(repo.requester, {}, {"id": issue_id, "url": "stub"}, completed=True)


# ---------------------------------------------------------------------- issues


def test_create_get_edit_issue(gh: FakeGitHub, repo: Repository) -> None:
    issue = repo.create_issue("First", body="hello", labels=["sync", "kind:task"])
    assert issue.number == 1
    assert issue.id != issue.number and issue.id >= 10_000_000
    assert issue.html_url == f"{gh.base_url}/octo/repo/issues/1"
    assert issue.url == f"{gh.base_url}/repos/octo/repo/issues/1"
    assert issue.repository_url == f"{gh.base_url}/repos/octo/repo"
    assert [lab.name for lab in issue.labels] == ["sync", "kind:task"]
    assert gh.count("POST", r"/issues$") == 1

    gh.clear_requests()
    again = repo.get_issue(1)  # lazy: reading a field sends exactly one GET
    assert again.title == "First" and again.body == "hello" and again.state == "open"
    assert gh.count() == 1

    again.edit(title="Renamed", labels=["sync"], state="closed", state_reason="not_planned")
    stored = gh.issues()[0]
    assert stored["title"] == "Renamed"
    assert [lab["name"] for lab in stored["labels"]] == ["sync"]
    assert stored["state"] == "closed" and stored["state_reason"] == "not_planned"
    assert stored["closed_at"] is not None

    again.edit(state="open")
    stored = gh.issues()[0]
    assert stored["state"] == "open" and stored["closed_at"] is None and stored["state_reason"] == "reopened"
    assert gh.count("PATCH") == 2


def test_missing_issue_and_unknown_route_are_404(gh: FakeGitHub, repo: Repository) -> None:
    with pytest.raises(UnknownObjectException):
        _ = repo.get_issue(99).title
    r = requests.get(f"{gh.base_url}/nope", headers={"Authorization": f"token {TOKEN}"}, timeout=2)
    assert r.status_code == 404 and r.json()["message"] == "Not Found"
    assert r.headers["x-ratelimit-resource"] == "core"


def test_auth_is_required_when_a_token_is_configured(gh: FakeGitHub) -> None:
    with pytest.raises(BadCredentialsException):
        _ = client(gh, token="wrong").get_repo("octo/repo").id
    r = requests.get(f"{gh.base_url}/repos/octo/repo", timeout=2)
    assert r.status_code == 401 and r.json()["message"] == "Bad credentials"
    ok = requests.get(f"{gh.base_url}/repos/octo/repo", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=2)
    assert ok.status_code == 200 and ok.json()["full_name"] == "octo/repo"
    assert gh.stats["unauthorized"] == 2
    auth_headers = [rec.headers["authorization"] for rec in gh.requests if "authorization" in rec.headers]
    assert auth_headers == ["token <redacted>", "Bearer <redacted>"]
    assert TOKEN not in repr(gh.requests)


def test_every_response_has_rate_limit_headers_and_a_request_id(gh: FakeGitHub, repo: Repository) -> None:
    repo.create_issue("x")
    for path in ("/repos/octo/repo/issues/1", "/repos/octo/repo/issues/7", "/rate_limit"):
        r = requests.get(gh.base_url + path, headers={"Authorization": f"token {TOKEN}"}, timeout=2)
        for h in ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-used", "x-ratelimit-reset"):
            assert r.headers[h].isdigit()
        assert r.headers["x-ratelimit-resource"] == "core"
        assert r.headers["x-github-request-id"] == gh.requests[-1].request_id
        assert int(r.headers["content-length"]) == len(r.content)


def test_list_250_issues_and_2_prs_with_a_label_in_3_gets(gh: FakeGitHub, repo: Repository) -> None:
    for n in range(250):
        gh.seed_issue(f"t{n}", labels=["sync"], state="closed" if n % 5 == 0 else "open")
    gh.seed_pull_request("pr1", labels=["sync"])
    gh.seed_pull_request("pr2", labels=["sync"], state="closed")
    gh.seed_issue("unrelated", labels=["other"])
    gh.clear_requests()

    items = list(repo.get_issues(state="all", labels=["sync"]))
    assert len(items) == 252
    assert gh.count("GET") == 3  # no completion GETs while reading fields present in the page
    prs = [i for i in items if "/pull/" in i.html_url]
    assert len(prs) == 2 and all(i._rawData.get("pull_request") for i in prs)
    assert {i.title for i in items} >= {"t0", "t249", "pr1", "pr2"}
    assert gh.count("GET") == 3
    first = gh.requests[0]
    assert first.query == {"state": "all", "labels": "sync", "per_page": "100"}

    assert len(list(repo.get_issues(labels=["sync"]))) == 200 + 1  # default state=open
    assert len(list(repo.get_issues(state="closed", labels=["sync"]))) == 50 + 1
    assert len(list(repo.get_issues(state="all", labels=["sync", "other"]))) == 0  # all labels must match


def test_since_lists_the_issues_updated_at_or_after_it_to_the_second(gh: FakeGitHub) -> None:
    at = 1_800_000_000.0  # 2027-01-15T08:00:00Z
    for title, updated in (("old", at - 1), ("same second", at + 0.9), ("later", at + 60)):
        gh.seed_issue(title, labels=["sync"], updated_at=updated)
    gh.seed_issue("unlabelled", updated_at=at + 60)

    def titles(since: str) -> list[str]:
        r = requests.get(
            f"{gh.base_url}/repos/octo/repo/issues",
            params={"state": "all", "labels": "sync", "since": since},
            headers={"Authorization": f"token {TOKEN}"},
            timeout=2,
        )
        assert r.status_code == 200, r.text
        return sorted(issue["title"] for issue in r.json())

    assert titles("2027-01-15T08:00:00Z") == ["later", "same second"]
    assert titles("2027-01-15T07:59:59Z") == ["later", "old", "same second"]
    assert titles("2027-01-15T08:01:01Z") == []
    bad = requests.get(
        f"{gh.base_url}/repos/octo/repo/issues",
        params={"since": "yesterday"},
        headers={"Authorization": f"token {TOKEN}"},
        timeout=2,
    )
    assert bad.status_code == 422


def test_pagination_links_use_the_servers_own_base_url(gh: FakeGitHub) -> None:
    for n in range(5):
        gh.seed_issue(f"t{n}")
    r = requests.get(
        f"{gh.base_url}/repos/octo/repo/issues",
        params={"per_page": 2, "page": 2},
        headers={"Authorization": f"token {TOKEN}"},
        timeout=2,
    )
    assert [i["number"] for i in r.json()] == [3, 2]
    assert set(r.links) == {"next", "last", "prev", "first"}
    assert all(link["url"].startswith(gh.base_url + "/repos/octo/repo/issues?") for link in r.links.values())
    assert "page=3" in r.links["last"]["url"] and "per_page=2" in r.links["next"]["url"]


def test_api_prefix_like_ghes(fake_github: Callable[..., FakeGitHub]) -> None:  # noqa: F811
    gh = fake_github(token=TOKEN, api_prefix="/api/v3")
    assert gh.base_url.endswith("/api/v3")
    repo = client(gh).get_repo("octo/repo")
    for n in range(120):
        gh.seed_issue(f"t{n}", labels=["sync"])
    assert repo.create_issue("hi").number == 121
    assert len(list(repo.get_issues(state="all", labels=["sync"]))) == 120
    assert gh.count("GET", r"^/repos/octo/repo/issues$") == 2


def test_multiple_repos_have_distinct_ids(gh: FakeGitHub) -> None:
    gh.add_repo("octo/other")
    g = client(gh)
    a = g.get_repo("octo/repo").create_issue("a")
    b = g.get_repo("octo/other").create_issue("b")
    assert a.number == b.number == 1 and a.id != b.id
    assert len(gh.issues("octo/other")) == 1


# ---------------------------------------------------------------------- labels


def test_labels_duplicate_is_422_already_exists(gh: FakeGitHub, repo: Repository) -> None:
    repo.create_label("Sync", "00ff00")
    with pytest.raises(GithubException) as info:
        repo.create_label("sync", "ff0000")
    assert info.value.status == 422
    assert info.value.data["errors"][0]["code"] == "already_exists"
    repo.create_issue("x", labels=["brand-new"])
    by_name = {lab.name: lab.color for lab in repo.get_labels()}
    assert by_name == {"Sync": "00ff00", "brand-new": "ededed"}
    repo.create_issue("y", labels=["SYNC"])  # case-insensitive match keeps the existing label
    assert [lab["name"] for lab in gh.issues()[1]["labels"]] == ["Sync"]


def test_unknown_labels_can_be_dropped_or_refused_instead_of_made(gh: FakeGitHub, repo: Repository) -> None:
    repo.create_label("known", "00ff00")
    gh.unknown_labels = "drop"
    issue = repo.create_issue("x", labels=["known", "new"])
    assert [lab.name for lab in issue.labels] == ["known"] and "new" not in gh.labels()
    issue.edit(labels=["new"])
    assert issue.labels == []
    gh.unknown_labels = "reject"
    with pytest.raises(GithubException) as info:
        repo.create_issue("y", labels=["known", "new"])
    assert info.value.status == 422 and len(gh.issues()) == 1
    with pytest.raises(GithubException):
        issue.add_to_labels("new")
    repo.create_label("new", "0000ff")
    issue.add_to_labels("new")
    assert [lab["name"] for lab in gh.issues()[0]["labels"]] == ["new"]


# ---------------------------------------------------------------------- sub-issues and dependencies


def test_sub_issues(gh: FakeGitHub, repo: Repository) -> None:
    parent = repo.create_issue("parent")
    other = repo.create_issue("other parent")
    child = repo.create_issue("child")

    got = parent.add_sub_issue(child.id)
    assert got.number == parent.number
    assert gh.sub_issues_of(parent.number) == [child.number]
    assert [s.number for s in parent.get_sub_issues()] == [child.number]
    assert gh.issue(child.number)["parent_issue_url"].endswith(f"/issues/{parent.number}")  # type: ignore[index]

    with pytest.raises(GithubException) as info:  # the same parent again
        parent.add_sub_issue(child.id)
    assert info.value.status == 422 and info.value.message == "Sub issue may only have one parent"
    assert info.value.data["errors"][0]["field"] == "sub_issue_id"
    with pytest.raises(GithubException) as info:  # another parent
        other.add_sub_issue(child.id)
    assert info.value.status == 422
    with pytest.raises(GithubException) as info:  # a number is not an id
        other.add_sub_issue(child.number)
    assert info.value.status == 422

    # replace_parent moves the child (PyGithub can't send it: use the requester)
    repo.requester.requestJsonAndCheck(
        "POST", f"{other.url}/sub_issues", input={"sub_issue_id": child.id, "replace_parent": True}
    )
    assert gh.sub_issues_of(parent.number) == [] and gh.parent_of(child.number) == other.number
    _, data = repo.requester.requestJsonAndCheck("GET", f"{child.url}/parent")
    assert data["number"] == other.number

    other.remove_sub_issue(child.id)
    assert gh.sub_issues_of(other.number) == [] and gh.parent_of(child.number) is None
    with pytest.raises(UnknownObjectException):
        other.remove_sub_issue(child.id)


def test_blocked_by(gh: FakeGitHub, repo: Repository) -> None:
    blocked = repo.create_issue("blocked")
    blocker = repo.create_issue("blocker")
    gh.clear_requests()

    blocked.add_blocked_by(stub(repo, blocker.id))
    assert gh.count() == 1
    assert gh.blocked_by(blocked.number) == [blocker.number]
    assert [i.number for i in blocked.get_blocked_by()] == [blocker.number]
    assert [i.number for i in blocker.get_blocking()] == [blocked.number]

    with pytest.raises(GithubException) as info:
        blocked.add_blocked_by(stub(repo, blocker.id))
    assert info.value.status == 422 and info.value.message == "Issue is already blocked by this issue"
    assert info.value.data["errors"][0]["code"] == "already_exists"

    blocked.remove_blocked_by(stub(repo, blocker.id))
    assert gh.blocked_by(blocked.number) == []
    with pytest.raises(UnknownObjectException):
        blocked.remove_blocked_by(stub(repo, blocker.id))


# ---------------------------------------------------------------------- faults


def test_fault_respond_502_raises_githubexception_and_creates_nothing(gh: FakeGitHub, repo: Repository) -> None:
    gh.fault("POST", r"/issues$", status=502)
    with pytest.raises(GithubException) as info:
        repo.create_issue("x")
    assert info.value.status == 502 and "x-ratelimit-remaining" in hdrs(info.value)
    assert gh.issues() == []
    assert repo.create_issue("y").number == 1  # times=1: the next one passes


def test_fault_reset_is_connectionerror_and_nothing_committed(gh: FakeGitHub, repo: Repository) -> None:
    gh.fault("POST", r"/issues$", action="reset")
    with pytest.raises(requests.exceptions.ConnectionError):
        repo.create_issue("x")
    assert gh.issues() == []
    assert gh.requests[-1].outcome == "fault:reset" and gh.requests[-1].status is None


def test_fault_commit_then_drop_is_connectionerror_with_issue_created(gh: FakeGitHub, repo: Repository) -> None:
    gh.fault("POST", r"/issues$", action="commit_then_drop")
    with pytest.raises(requests.exceptions.ConnectionError):
        repo.create_issue("x")
    assert [i["title"] for i in gh.issues()] == ["x"]
    assert repo.create_issue("y").number == 2  # the client reconnects after the drop


def test_fault_commit_then_respond_502_with_issue_created(gh: FakeGitHub, repo: Repository) -> None:
    gh.fault("POST", r"/issues$", action="commit_then_respond")
    with pytest.raises(GithubException) as info:
        repo.create_issue("x")
    assert info.value.status == 502
    assert len(gh.issues()) == 1


def test_fault_delay_beyond_timeout_is_readtimeout_with_issue_committed(gh: FakeGitHub) -> None:
    repo = client(gh, timeout=1).get_repo("octo/repo")
    gh.fault("POST", r"/issues$", action="delay", delay=1.3)
    t0 = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        repo.create_issue("x")
    assert time.monotonic() - t0 < 1.25
    assert gh.wait_idle(3)
    assert len(gh.issues()) == 1


def test_fault_skip_and_times(gh: FakeGitHub, repo: Repository) -> None:
    f = gh.fault("GET", r"/issues/\d+$", skip=1, times=2, status=500)
    gh.seed_issue("a")
    assert repo.get_issue(1).title == "a"
    for _ in range(2):
        with pytest.raises(GithubException):
            _ = repo.get_issue(1).title
    assert repo.get_issue(1).title == "a"
    assert (f.seen, f.fired) == (3, 2)


def test_secondary_limit_403_is_ratelimitexceeded(gh: FakeGitHub, repo: Repository) -> None:
    gh.secondary_limit(retry_after=60, method="POST", path_regex=r"/issues$")
    with pytest.raises(RateLimitExceededException) as info:
        repo.create_issue("x")
    assert info.value.status == 403 and hdrs(info.value)["retry-after"] == "60"
    assert "secondary rate limit" in info.value.data["message"]

    gh.secondary_limit(retry_after=None)
    with pytest.raises(RateLimitExceededException) as info:
        repo.create_issue("x")
    assert "retry-after" not in hdrs(info.value)
    assert gh.issues() == []


def test_429_is_a_plain_githubexception(gh: FakeGitHub, repo: Repository) -> None:
    gh.too_many(retry_after=3)
    with pytest.raises(GithubException) as info:
        repo.create_issue("x")
    assert type(info.value) is GithubException
    assert info.value.status == 429 and hdrs(info.value)["retry-after"] == "3"


# ---------------------------------------------------------------------- budgets and concurrency


def test_primary_budget_exhaustion_and_refill(fake_github: Callable[..., FakeGitHub]) -> None:  # noqa: F811
    gh = fake_github(token=TOKEN, primary_limit=3, reset_in=60)
    repo = client(gh).get_repo("octo/repo")
    for n in range(3):
        repo.create_issue(f"i{n}")
    before = time.time()
    with pytest.raises(RateLimitExceededException) as info:
        repo.create_issue("over")
    assert hdrs(info.value)["x-ratelimit-remaining"] == "0"
    assert before + 50 <= int(hdrs(info.value)["x-ratelimit-reset"]) <= before + 61
    assert "API rate limit exceeded" in info.value.data["message"]
    assert gh.stats["primary_limited"] == 1 and len(gh.issues()) == 3
    # /rate_limit is free and reports the bucket
    _, data = repo.requester.requestJsonAndCheck("GET", "/rate_limit")
    assert data["resources"]["core"]["remaining"] == 0
    gh.reset_primary()
    assert repo.create_issue("after refill").number == 4
    assert gh.primary_remaining == 2


def test_primary_window_rolls_over_by_itself(fake_github: Callable[..., FakeGitHub]) -> None:  # noqa: F811
    gh = fake_github(primary_limit=1, reset_in=0.3)
    r = requests.get(f"{gh.base_url}/repos/octo/repo", timeout=2)
    assert r.status_code == 200 and r.headers["x-ratelimit-remaining"] == "0"
    time.sleep(0.35)
    assert gh.primary_remaining == 1
    assert requests.get(f"{gh.base_url}/repos/octo/repo", timeout=2).status_code == 200


def test_time_scaled_secondary_write_limit(fake_github: Callable[..., FakeGitHub]) -> None:  # noqa: F811
    # time_scale=60: a "minute" lasts 1 s
    limits = SecondaryLimits(writes_per_minute=3, time_scale=60.0, retry_after=True)
    gh = fake_github(token=TOKEN, secondary_limits=limits)
    repo = client(gh).get_repo("octo/repo")
    for n in range(3):
        repo.create_issue(f"i{n}")
    with pytest.raises(RateLimitExceededException) as info:
        repo.create_issue("too fast")
    assert hdrs(info.value)["retry-after"] == "1"
    assert "secondary rate limit" in info.value.data["message"]
    assert gh.stats["secondary_limited"] == 1 and gh.stats["secondary_writes"] == 1
    assert gh.requests[-1].outcome == "secondary_limit"
    assert repo.get_issue(1).title == "i0"  # reads are not content-creating
    time.sleep(int(hdrs(info.value)["retry-after"]))
    assert repo.create_issue("after the window").number == 4


def test_time_scaled_secondary_points_limit(fake_github: Callable[..., FakeGitHub]) -> None:  # noqa: F811
    limits = SecondaryLimits(points_per_minute=30, time_scale=6.0)  # a 10 s "minute": no timing races
    gh = fake_github(token=TOKEN, secondary_limits=limits)
    repo = client(gh).get_repo("octo/repo")
    repo.create_issue("write")  # 5 points
    for _ in range(25):
        repo.requester.requestJsonAndCheck("GET", "/repos/octo/repo/issues/1")
    with pytest.raises(RateLimitExceededException) as info:
        repo.requester.requestJsonAndCheck("GET", "/repos/octo/repo/issues/1")
    assert gh.stats["secondary_points"] == 1
    assert 1 <= int(hdrs(info.value)["retry-after"]) <= 10


def test_secondary_concurrency_limit(fake_github: Callable[..., FakeGitHub]) -> None:  # noqa: F811
    limits = SecondaryLimits(max_concurrent=2, retry_after=False)
    gh = fake_github(token=TOKEN, secondary_limits=limits, latency=0.4)
    results = run_parallel(gh, 4, lambda g: g.get_repo("octo/repo").id)
    refused = [r for r in results if isinstance(r, RateLimitExceededException)]
    assert len(refused) == 2 and all("retry-after" not in hdrs(e) for e in refused)
    assert gh.stats["secondary_concurrency"] == 2


def run_parallel(gh: FakeGitHub, n: int, fn: Callable[[Github], Any]) -> list[Any]:
    """Run fn in n threads at once, each with its own client; returns results or exceptions."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def work(i: int) -> None:
        g = client(gh)
        barrier.wait()
        try:
            results[i] = fn(g)
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return results


def test_latency_and_peak_in_flight(fake_github: Callable[..., FakeGitHub]) -> None:  # noqa: F811
    gh = fake_github(token=TOKEN, latency=0.3)
    t0 = time.monotonic()
    results = run_parallel(gh, 4, lambda g: g.get_repo("octo/repo").id)
    assert results == [1000] * 4
    assert gh.peak_in_flight == 4
    assert time.monotonic() - t0 < 1.0  # 4 x 0.3 s in parallel, not in series
    assert len({r.client for r in gh.requests}) == 4  # one connection per client
    assert all(r.end - r.start >= 0.3 for r in gh.requests)
    gh.clear_requests()
    assert gh.peak_in_flight == 0 and gh.requests == []


def test_keep_alive_reuses_one_connection(gh: FakeGitHub, repo: Repository) -> None:
    for n in range(5):
        repo.create_issue(f"i{n}")
    assert len({r.client for r in gh.requests}) == 1


def test_records_carry_request_details(gh: FakeGitHub, repo: Repository) -> None:
    repo.create_issue("x", body="b", labels=["l"])
    rec = gh.requests[-1]
    assert (rec.method, rec.path, rec.status, rec.outcome) == ("POST", "/repos/octo/repo/issues", 201, "ok")
    assert rec.body == {"title": "x", "body": "b", "labels": ["l"]}
    assert rec.end >= rec.start and rec.thread
    assert gh.count(method="post", path_regex="issues", status=201) == 1


# ---------------------------------------------------------------------- GitHub's hard limits (github-api.md §6)


def _raw(gh: FakeGitHub, method: str, path: str, payload: Any) -> requests.Response:
    return requests.request(
        method, f"{gh.base_url}{path}", json=payload, headers={"Authorization": f"token {TOKEN}"}, timeout=2
    )


def test_title_body_and_label_limits_are_422s_and_counted(gh: FakeGitHub) -> None:
    issues = "/repos/octo/repo/issues"
    assert _raw(gh, "POST", issues, {"title": "t" * 256, "body": "b" * 65_536}).status_code == 201
    too_long = _raw(gh, "POST", issues, {"title": "t", "body": "b" * 65_537})
    assert too_long.status_code == 422
    assert too_long.json()["errors"][0]["message"] == "body is too long (maximum is 65536 characters)"
    assert _raw(gh, "PATCH", f"{issues}/1", {"title": "t" * 257}).json()["errors"][0]["field"] == "title"
    many = _raw(gh, "POST", issues, {"title": "t", "labels": [f"l{n}" for n in range(101)]})
    assert many.status_code == 422 and "too many labels" in many.json()["errors"][0]["message"]
    assert _raw(gh, "POST", issues, {"title": "t", "labels": ["x" * 51]}).status_code == 422
    assert _raw(gh, "POST", "/repos/octo/repo/labels", {"name": "x" * 51, "color": "ededed"}).status_code == 422
    assert _raw(gh, "POST", f"{issues}/1/labels", {"labels": [f"m{n}" for n in range(101)]}).status_code == 422
    assert len(gh.issues()) == 1 and "x" * 51 not in gh.labels()
    assert gh.stats["unprocessable"] == gh.stats["limit_refusals"] == 6


def test_sub_issue_limits_count_closed_children_and_nesting(gh: FakeGitHub) -> None:
    parent = gh.seed_issue("parent")
    for n in range(100):
        child = gh.seed_issue(f"c{n}", state="closed" if n % 2 else "open")
        assert _raw(
            gh, "POST", f"/repos/octo/repo/issues/{parent['number']}/sub_issues", {"sub_issue_id": child["id"]}
        ).ok
    extra = gh.seed_issue("one too many")
    full = _raw(gh, "POST", f"/repos/octo/repo/issues/{parent['number']}/sub_issues", {"sub_issue_id": extra["id"]})
    assert full.status_code == 422 and full.json()["errors"][0]["message"] == "Parent has too many sub issues"
    chain = [gh.seed_issue(f"level {n}") for n in range(9)]
    for upper, lower in itertools.pairwise(chain[:7]):
        path = f"/repos/octo/repo/issues/{upper['number']}/sub_issues"
        assert _raw(gh, "POST", path, {"sub_issue_id": lower["id"]}).ok
    # levels 1-7 linked; an eighth is allowed, a ninth is not
    assert _raw(
        gh, "POST", f"/repos/octo/repo/issues/{chain[6]['number']}/sub_issues", {"sub_issue_id": chain[7]["id"]}
    ).ok
    deep = _raw(
        gh, "POST", f"/repos/octo/repo/issues/{chain[7]['number']}/sub_issues", {"sub_issue_id": chain[8]["id"]}
    )
    assert deep.status_code == 422
    assert gh.stats["limit_refusals"] == 2


def test_blocked_by_holds_at_most_50(gh: FakeGitHub) -> None:
    blocked = gh.seed_issue("blocked")
    path = f"/repos/octo/repo/issues/{blocked['number']}/dependencies/blocked_by"
    for n in range(50):
        assert _raw(gh, "POST", path, {"issue_id": gh.seed_issue(f"b{n}")["id"]}).ok
    assert _raw(gh, "POST", path, {"issue_id": gh.seed_issue("b50")["id"]}).status_code == 422
    assert len(gh.blocked_by(blocked["number"])) == 50 and gh.stats["limit_refusals"] == 1


def test_a_platform_without_sub_issues_or_dependencies(fake_github: Callable[..., FakeGitHub]) -> None:  # noqa: F811
    gh = fake_github(token=TOKEN, api_prefix="/api/v3", sub_issues=False, dependencies=False)
    a, b = gh.seed_issue("a"), gh.seed_issue("b")
    for method, suffix, payload in [
        ("GET", "/sub_issues", None),
        ("POST", "/sub_issues", {"sub_issue_id": b["id"]}),
        ("GET", "/parent", None),
        ("GET", "/dependencies/blocked_by", None),
        ("POST", "/dependencies/blocked_by", {"issue_id": b["id"]}),
    ]:
        assert _raw(gh, method, f"/repos/octo/repo/issues/{a['number']}{suffix}", payload).status_code == 404
    listed = _raw(gh, "GET", "/repos/octo/repo/issues", None).json()
    assert listed and not any("sub_issues_summary" in i or "issue_dependencies_summary" in i for i in listed)
