"""GitHubTracker (the PyGithub adapter) against the loopback fake GitHub: results and exact request counts."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from github.GithubException import GithubException, RateLimitExceededException

from batch_action.sync.github_tracker import GitHubTracker
from batch_action.sync.tracker import IssueFields, IssueTracker, RemoteIssue, Response
from tests.fake_github import FakeGitHub, fake_github  # noqa: F401

TOKEN = "s3cret-t0ken-value"


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with FakeGitHub(token=TOKEN) as server:
        yield server


class Seen:
    """A response listener that remembers what it was given, and in which thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.responses: list[Response] = []
        self.threads: list[str] = []

    def __call__(self, response: Response) -> None:
        with self.lock:
            self.responses.append(response)
            self.threads.append(threading.current_thread().name)


@pytest.fixture
def seen() -> Seen:
    return Seen()


@pytest.fixture
def tracker(gh: FakeGitHub, seen: Seen) -> Iterator[GitHubTracker]:
    with GitHubTracker(TOKEN, "octo/repo", gh.base_url, timeout=2, on_response=seen) as t:
        yield t


def methods(gh: FakeGitHub) -> list[str]:
    return [f"{r.method} {r.path}" for r in gh.requests]


def test_satisfies_the_port(tracker: GitHubTracker) -> None:
    port: IssueTracker = tracker
    assert port is tracker


# ---------------------------------------------------------------------- reads


def test_list_synced_250_issues_is_3_gets_and_skips_prs(gh: FakeGitHub, tracker: GitHubTracker) -> None:
    for n in range(250):
        gh.seed_issue(
            f"t{n}",
            body=f"<!-- sync-id: {n} -->",
            labels=["sync", "kind:task"],
            state="closed" if n % 7 == 0 else "open",
        )
    gh.seed_pull_request("pr", labels=["sync"])
    gh.seed_pull_request("pr2", labels=["sync"])
    gh.seed_issue("not ours", labels=["other"])
    gh.clear_requests()

    issues = list(tracker.list_synced("sync"))
    assert len(issues) == 250
    assert gh.count() == 3 and gh.count("GET", r"^/repos/octo/repo/issues$") == 3
    by_title = {i.title: i for i in issues}
    first = by_title["t0"]
    stored = gh.issue(1)
    assert stored is not None
    assert first == RemoteIssue(
        number=1,
        id=stored["id"],
        title="t0",
        body="<!-- sync-id: 0 -->",
        state="closed",
        labels=("sync", "kind:task"),
        state_reason="completed",
        html_url=stored["html_url"],
        parent_number=None,  # the listing says: no parent, no blockers, no sub-issues
        blocked_by_total=0,
        sub_issues_total=0,
        node_id=stored["node_id"],  # a project item is made from it
        type=None,  # no issue type
    )
    assert by_title["t1"].state == "open" and by_title["t1"].state_reason is None


def test_list_synced_is_lazy_and_empty_is_one_get(gh: FakeGitHub, tracker: GitHubTracker) -> None:
    it = tracker.list_synced("sync")
    assert gh.count() == 0
    assert list(it) == []
    assert gh.count() == 1


def test_listed_at_is_the_date_of_this_threads_latest_listing(gh: FakeGitHub, tracker: GitHubTracker) -> None:
    assert tracker.listed_at() is None
    list(tracker.list_synced("issue-sync"))
    here = tracker.listed_at()
    assert here is not None and abs(here - time.time()) < 30
    elsewhere: list[float | None] = []
    thread = threading.Thread(target=lambda: elsewhere.append(tracker.listed_at()))
    thread.start()
    thread.join()
    assert elsewhere == [None], "a listing read in another thread is not this thread's"


def test_get_issue(gh: FakeGitHub, tracker: GitHubTracker) -> None:
    gh.seed_issue("a", body="b", labels=["sync"])
    gh.seed_pull_request("pr")
    gh.clear_requests()
    got = tracker.get_issue(1)
    assert got is not None and (got.number, got.title, got.body, got.labels) == (1, "a", "b", ("sync",))
    assert tracker.get_issue(2) is None  # a pull request
    assert tracker.get_issue(99) is None  # 404
    assert gh.count() == 3 and gh.count("GET") == 3

    gh.fault("GET", r"/issues/1$", status=410, body={"message": "Issues are disabled for this repo"})
    assert tracker.get_issue(1) is None
    gh.fault("GET", r"/issues/1$", status=500)
    with pytest.raises(GithubException) as info:
        tracker.get_issue(1)
    assert info.value.status == 500


# ---------------------------------------------------------------------- writes


def test_create_issue_is_one_post(gh: FakeGitHub, tracker: GitHubTracker) -> None:
    created = tracker.create_issue("Title", "Body", ["sync", "kind:epic"])
    assert methods(gh) == ["POST /repos/octo/repo/issues"]
    assert gh.requests[0].body == {"title": "Title", "body": "Body", "labels": ["sync", "kind:epic"]}
    assert created.number == 1 and created.id == gh.issues()[0]["id"] and created.id != created.number
    assert created.labels == ("sync", "kind:epic") and created.state == "open"
    assert created.html_url.endswith("/octo/repo/issues/1")


def test_update_issue_is_one_patch_with_only_given_fields(gh: FakeGitHub, tracker: GitHubTracker) -> None:
    gh.seed_issue("old", body="old body", labels=["sync", "stale"])
    gh.clear_requests()
    updated = tracker.update_issue(1, IssueFields(title="new", labels=("sync",)))
    assert methods(gh) == ["PATCH /repos/octo/repo/issues/1"]
    assert gh.requests[0].body == {"title": "new", "labels": ["sync"]}
    assert (updated.title, updated.body, updated.labels) == ("new", "old body", ("sync",))

    closed = tracker.update_issue(1, IssueFields(state="closed", state_reason="not_planned"))
    assert (closed.state, closed.state_reason) == ("closed", "not_planned")
    cleared = tracker.update_issue(1, IssueFields(labels=(), body=""))
    assert cleared.labels == () and cleared.body == ""
    assert gh.count("PATCH") == 3 and gh.count() == 3


def test_add_labels_is_one_post_and_gives_the_labels_the_issue_has_now(gh: FakeGitHub, tracker: GitHubTracker) -> None:
    gh.seed_issue("a", labels=["sync"])
    gh.clear_requests()
    assert tracker.add_labels(1, ["epic:billing"]) == ("sync", "epic:billing")
    assert methods(gh) == ["POST /repos/octo/repo/issues/1/labels"]
    assert gh.requests[0].body == {"labels": ["epic:billing"]}


def test_labels_are_listed_by_page_and_created_one_post_each(gh: FakeGitHub, tracker: GitHubTracker) -> None:
    for n in range(150):
        gh.seed_label(f"existing-{n}")
    gh.seed_label("Sync")
    gh.clear_requests()
    names = tracker.list_labels()
    assert "Sync" in names and len(names) == 151
    assert gh.count("GET", r"/labels$") == 2  # 151 labels: two pages
    assert tracker.create_label("kind:task", "#0000ff") and tracker.create_label("kind:epic", "ff0000")
    assert gh.count("POST", r"/labels$") == 2 and gh.count() == 4
    assert {r.body["name"]: r.body["color"] for r in gh.requests if r.method == "POST"} == {
        "kind:task": "0000ff",
        "kind:epic": "ff0000",
    }


def test_label_race_422_already_exists_is_fine(gh: FakeGitHub, tracker: GitHubTracker) -> None:
    # Another writer creates the label between our listing and our POST.
    gh.fault(
        "POST",
        r"/labels$",
        action="commit_then_respond",
        status=422,
        body={"message": "Validation Failed", "errors": [{"resource": "Label", "code": "already_exists"}]},
    )
    assert tracker.create_label("x", "ededed") is False
    gh.fault(
        "POST",
        r"/labels$",
        status=422,
        body={"message": "Validation Failed", "errors": [{"code": "invalid"}]},
    )
    with pytest.raises(GithubException):
        tracker.create_label("y", "zzzzzz")


# ---------------------------------------------------------------------- links


def test_sub_issues(gh: FakeGitHub, tracker: GitHubTracker) -> None:
    parent = tracker.create_issue("parent", "", [])
    children = [tracker.create_issue(f"child {n}", "", []) for n in range(3)]
    gh.clear_requests()

    for c in children:
        tracker.add_sub_issue(parent.number, c.id)
    assert methods(gh) == ["POST /repos/octo/repo/issues/1/sub_issues"] * 3
    assert gh.requests[0].body == {"sub_issue_id": children[0].id, "replace_parent": True}
    assert gh.sub_issues_of(parent.number) == [c.number for c in children]

    gh.clear_requests()
    assert [i.number for i in tracker.list_sub_issues(parent.number)] == [c.number for c in children]
    assert methods(gh) == ["GET /repos/octo/repo/issues/1/sub_issues"]

    gh.clear_requests()
    tracker.remove_sub_issue(parent.number, children[0].id)
    tracker.remove_sub_issue(parent.number, children[0].id)  # 404: already removed
    assert methods(gh) == ["DELETE /repos/octo/repo/issues/1/sub_issue"] * 2
    assert [r.status for r in gh.requests] == [200, 404]
    assert gh.sub_issues_of(parent.number) == [c.number for c in children[1:]]

    gh.clear_requests()
    got = tracker.get_parent(children[1].number)
    assert got is not None and (got.number, got.id) == (parent.number, parent.id)
    assert tracker.get_parent(children[0].number) is None  # 404: no parent
    assert methods(gh) == [f"GET /repos/octo/repo/issues/{c.number}/parent" for c in children[1::-1]]


def test_add_sub_issue_again_is_success_and_moves_from_another_parent(gh: FakeGitHub, tracker: GitHubTracker) -> None:
    old_parent = tracker.create_issue("old parent", "", [])
    parent = tracker.create_issue("parent", "", [])
    child = tracker.create_issue("child", "", [])
    tracker.add_sub_issue(old_parent.number, child.id)

    tracker.add_sub_issue(parent.number, child.id)  # files are the source of truth: re-parent
    assert gh.parent_of(child.number) == parent.number and gh.sub_issues_of(old_parent.number) == []

    tracker.add_sub_issue(parent.number, child.id)  # same link again
    assert gh.sub_issues_of(parent.number) == [child.number]


def test_add_sub_issue_422_is_checked_against_the_parents_children(gh: FakeGitHub, tracker: GitHubTracker) -> None:
    parent = tracker.create_issue("parent", "", [])
    child = tracker.create_issue("child", "", [])
    other = tracker.create_issue("other", "", [])
    tracker.add_sub_issue(parent.number, child.id)
    one_parent = {
        "message": "Sub issue may only have one parent",
        "errors": [{"resource": "Issue", "field": "sub_issue_id", "code": "invalid"}],
    }
    gh.fault("POST", r"/sub_issues$", status=422, body=one_parent, times=2)
    gh.clear_requests()

    tracker.add_sub_issue(parent.number, child.id)  # already this parent's child: success
    assert methods(gh) == [
        "POST /repos/octo/repo/issues/1/sub_issues",
        "GET /repos/octo/repo/issues/1/sub_issues",
    ]
    with pytest.raises(GithubException) as info:  # not linked here: the 422 stands
        tracker.add_sub_issue(parent.number, other.id)
    assert info.value.status == 422
    with pytest.raises(GithubException):  # an unknown id (e.g. a number) is a real error
        tracker.add_sub_issue(parent.number, other.number)


def test_blocked_by(gh: FakeGitHub, tracker: GitHubTracker) -> None:
    blocked = tracker.create_issue("blocked", "", [])
    blockers = [tracker.create_issue(f"blocker {n}", "", []) for n in range(2)]
    gh.clear_requests()

    for b in blockers:
        tracker.add_blocked_by(blocked.number, b.id)
    assert methods(gh) == ["POST /repos/octo/repo/issues/1/dependencies/blocked_by"] * 2
    assert gh.requests[0].body == {"issue_id": blockers[0].id}
    assert gh.blocked_by(blocked.number) == [b.number for b in blockers]

    gh.clear_requests()
    tracker.add_blocked_by(blocked.number, blockers[0].id)  # 422 already_exists: success, no extra GET
    assert [r.status for r in gh.requests] == [422]

    assert [i.id for i in tracker.list_blocked_by(blocked.number)] == [b.id for b in blockers]

    gh.clear_requests()
    tracker.remove_blocked_by(blocked.number, blockers[0].id)
    tracker.remove_blocked_by(blocked.number, blockers[0].id)  # 404: already removed
    assert methods(gh) == [f"DELETE /repos/octo/repo/issues/1/dependencies/blocked_by/{blockers[0].id}"] * 2
    assert gh.blocked_by(blocked.number) == [blockers[1].number]

    with pytest.raises(GithubException) as info:
        tracker.add_blocked_by(blocked.number, 424242)  # unknown id: 422, not linked, raised
    assert info.value.status == 422


# ---------------------------------------------------------------------- errors, listener, threads


def test_errors_propagate_unchanged(gh: FakeGitHub, tracker: GitHubTracker) -> None:
    gh.secondary_limit(retry_after=30, method="POST")
    with pytest.raises(RateLimitExceededException):
        tracker.create_issue("x", "", [])
    gh.fault("POST", r"/issues$", action="commit_then_drop")
    with pytest.raises(requests.exceptions.ConnectionError):
        tracker.create_issue("x", "", [])
    gh.fault("PATCH", r"/issues/1$", status=502)
    with pytest.raises(GithubException) as info:
        tracker.update_issue(1, IssueFields(title="y"))
    assert info.value.status == 502
    assert gh.count("POST") == 2 and gh.count("PATCH") == 1  # nothing re-sent by PyGithub
    assert len(gh.issues()) == 1


def test_bad_token_and_empty_token(gh: FakeGitHub) -> None:
    with (
        GitHubTracker("", "octo/repo", gh.base_url, timeout=2) as anonymous,
        pytest.raises(GithubException) as info,
    ):
        anonymous.get_issue(1)
    assert info.value.status == 401
    assert "authorization" not in gh.requests[-1].headers


def test_listener_sees_every_response_with_rate_limit_headers(
    gh: FakeGitHub, tracker: GitHubTracker, seen: Seen
) -> None:
    for n in range(120):
        gh.seed_issue(f"t{n}", labels=["sync"])
    list(tracker.list_synced("sync"))
    tracker.create_issue("x", "", ["sync"])
    tracker.get_issue(999)  # 404 is a response too
    tracker.add_blocked_by(1, gh.issues()[1]["id"])
    tracker.add_blocked_by(1, gh.issues()[1]["id"])  # 422

    records = gh.requests
    assert len(seen.responses) == len(records) == 6
    assert [r.status for r in seen.responses] == [r.status for r in records] == [200, 200, 201, 404, 201, 422]
    assert [r.method for r in seen.responses] == [r.method for r in records]
    assert [r.headers["x-github-request-id"] for r in seen.responses] == [r.request_id for r in records]
    for r in seen.responses:
        assert r.headers["x-ratelimit-resource"] == "core"
        assert int(r.headers["x-ratelimit-remaining"]) <= 5000
        assert r.url.startswith(gh.base_url + "/repos/octo/repo/")
        assert 0 <= r.elapsed < 2
    assert seen.responses[1].url.endswith("page=2") or "page=2" in seen.responses[1].url
    assert set(seen.threads) == {threading.current_thread().name}
    assert [int(r.headers["x-ratelimit-remaining"]) for r in seen.responses] == list(range(4999, 4993, -1))


def test_listener_elapsed_covers_server_latency(fake_latency: FakeGitHub) -> None:
    seen = Seen()
    with GitHubTracker(TOKEN, "octo/repo", fake_latency.base_url, timeout=2, on_response=seen) as t:
        t.create_issue("x", "", [])
    assert len(seen.responses) == 1 and 0.05 <= seen.responses[0].elapsed < 1


@pytest.fixture
def fake_latency() -> Iterator[FakeGitHub]:
    with FakeGitHub(token=TOKEN, latency=0.05) as server:
        yield server


def test_listeners_are_per_tracker(gh: FakeGitHub) -> None:
    a, b = Seen(), Seen()
    gh.add_repo("octo/other")
    with (
        GitHubTracker(TOKEN, "octo/repo", gh.base_url, timeout=2, on_response=a) as ta,
        GitHubTracker(TOKEN, "octo/other", gh.base_url, timeout=2, on_response=b) as tb,
        GitHubTracker(TOKEN, "octo/repo", gh.base_url, timeout=2) as silent,
    ):
        ta.create_issue("a", "", [])
        tb.create_issue("b1", "", [])
        tb.create_issue("b2", "", [])
        silent.create_issue("c", "", [])
        # interleaved pagination of two trackers in one thread
        for n in range(150):
            gh.seed_issue(f"s{n}", labels=["sync"], repo="octo/other")
        it = tb.list_synced("sync")
        next(it)
        ta.get_issue(1)
        rest = list(it)
    assert len(rest) == 149
    assert [r.status for r in a.responses] == [201, 200]
    assert [r.status for r in b.responses] == [201, 201, 200, 200]
    assert all("/octo/other/" in r.url for r in b.responses)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_pygithub_debug_records_reach_no_log_handler(gh: FakeGitHub, tracker: GitHubTracker) -> None:
    # PyGithub puts a StreamHandler on the "github" logger; the runner's log handlers sit on the root.
    root, parent = logging.getLogger(), logging.getLogger("github")
    sinks = _Collect(), _Collect()
    old_level = root.level
    root.addHandler(sinks[0])
    parent.addHandler(sinks[1])
    root.setLevel(logging.DEBUG)
    try:
        tracker.create_issue("title", "a body that must not reach the job log", [])
    finally:
        root.removeHandler(sinks[0])
        parent.removeHandler(sinks[1])
        root.setLevel(old_level)
    leaked = [r for sink in sinks for r in sink.records if r.name.startswith("github")]
    assert leaked == []
    assert logging.getLogger("github.Requester").propagate is False


def test_token_never_in_repr(gh: FakeGitHub, tracker: GitHubTracker) -> None:
    tracker.create_issue("x", "", [])
    assert TOKEN not in repr(tracker) and TOKEN not in str(tracker)
    assert TOKEN not in repr(vars(tracker))
    assert repr(tracker) == f"GitHubTracker(repository='octo/repo', api_url='{gh.base_url}')"


def test_per_thread_clients_under_concurrency(gh: FakeGitHub, seen: Seen) -> None:
    tracker = GitHubTracker(TOKEN, "octo/repo", gh.base_url, timeout=5, on_response=seen)
    threads, calls = 8, 50
    for n in range(threads * 4):
        gh.seed_issue(f"seed {n}", body=f"seed body {n}", labels=["sync"])

    def worker(w: int) -> int:
        rng = random.Random(w)
        mine: list[RemoteIssue] = []
        for c in range(calls):
            roll = rng.random()
            if roll < 0.3 or not mine:
                issue = tracker.create_issue(f"w{w}-c{c}", f"body w{w} c{c}", ["sync", f"w{w}"])
                assert issue.title == f"w{w}-c{c}" and issue.labels == ("sync", f"w{w}")
                mine.append(issue)
            elif roll < 0.6:
                n = rng.randrange(1, threads * 4 + 1)
                got = tracker.get_issue(n)
                assert got is not None and got.title == f"seed {n - 1}" and got.body == f"seed body {n - 1}"
            elif roll < 0.85:
                target = rng.choice(mine)
                new_title = f"{target.title} u{c}"
                updated = tracker.update_issue(target.number, IssueFields(title=new_title))
                assert (updated.number, updated.title) == (target.number, new_title)
                mine[mine.index(target)] = updated
            else:
                listed = list(tracker.list_synced(f"w{w}"))
                assert sorted(i.number for i in listed) == sorted(i.number for i in mine)
        return len(mine)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        created = sum(pool.map(worker, range(threads)))
    tracker.close()

    assert len(gh.issues()) == threads * 4 + created
    records = gh.requests
    assert len(seen.responses) == len(records) == threads * calls
    assert sorted(r.headers["x-github-request-id"] for r in seen.responses) == sorted(r.request_id for r in records)
    assert len({r.client for r in records}) == threads  # one keep-alive connection per worker thread


def test_listener_errors_surface(gh: FakeGitHub) -> None:
    def broken(_: Response) -> None:
        raise RuntimeError("listener bug")

    with (
        GitHubTracker(TOKEN, "octo/repo", gh.base_url, timeout=2, on_response=broken) as t,
        pytest.raises(RuntimeError, match="listener bug"),
    ):
        t.get_issue(1)


def test_rejects_bad_repository() -> None:
    with pytest.raises(ValueError):
        GitHubTracker(TOKEN, "no-slash", "http://127.0.0.1:1")


def test_listener_calls_are_not_serialised(fake_latency: FakeGitHub) -> None:
    """A slow listener in one thread must not hold up responses in another (no logging handler lock)."""
    gate = threading.Event()
    entered = threading.Event()

    def slow(response: Response) -> None:
        if threading.current_thread().name == "slow":
            entered.set()
            gate.wait(2)

    tracker = GitHubTracker(TOKEN, "octo/repo", fake_latency.base_url, timeout=2, on_response=slow)
    t = threading.Thread(target=lambda: tracker.create_issue("a", "", []), name="slow")
    t.start()
    assert entered.wait(2)
    tracker.create_issue("b", "", [])  # completes while the other thread sits in the listener
    assert t.is_alive()
    gate.set()
    t.join(2)
    tracker.close()
    assert len(fake_latency.issues()) == 2


def test_ghes_style_api_url_with_path_prefix(fake_github: Callable[..., FakeGitHub], seen: Seen) -> None:  # noqa: F811
    gh = fake_github(token=TOKEN, api_prefix="/api/v3")
    for n in range(130):
        gh.seed_issue(f"t{n}", labels=["sync"])
    with GitHubTracker(TOKEN, "octo/repo", gh.base_url + "/", timeout=2, on_response=seen) as t:
        assert len(list(t.list_synced("sync"))) == 130
        child = t.create_issue("child", "", ["sync"])
        t.add_sub_issue(1, child.id)
    assert gh.sub_issues_of(1) == [child.number]
    assert gh.count() == 4 and len(seen.responses) == 4
    assert all(r.url.startswith(gh.base_url + "/repos/octo/repo/") for r in seen.responses)


# -- environment: proxies and CA bundle are read once per client, and still honoured ------------------------


def test_proxy_settings_are_read_once_and_still_honoured(gh: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    # A proxy that refuses connections: a request that goes through it fails, one that bypasses it works.
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with GitHubTracker(TOKEN, "octo/repo", gh.base_url, timeout=2) as proxied:
        with pytest.raises(requests.exceptions.ConnectionError):
            proxied.create_issue("through the proxy", "", [])
        session = proxied._github().requester._Requester__connection.session  # type: ignore[attr-defined]
        assert session.trust_env is False  # the environment is not walked again per request
        assert session.proxies.get("http") == "http://127.0.0.1:9"
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with GitHubTracker(TOKEN, "octo/repo", gh.base_url, timeout=2) as direct:
        direct.create_issue("direct", "", [])
    assert [issue["title"] for issue in gh.issues()] == ["direct"]


def test_ca_bundle_from_the_environment_is_used(gh: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    with GitHubTracker(TOKEN, "octo/repo", gh.base_url, timeout=2) as tracker:
        connection = tracker._github().requester._Requester__connection  # type: ignore[attr-defined]
        assert connection.verify == "/etc/ssl/certs/ca-certificates.crt"
        assert connection.session.trust_env is False


def test_a_write_reply_without_an_issue_is_an_error_not_a_wrong_number() -> None:
    from batch_action.sync.github_tracker import _remote_from_reply

    reply = {"number": 7, "id": 70, "title": "t", "body": None, "state": "open", "labels": [{"name": "task"}]}
    remote = _remote_from_reply(reply)
    assert (remote.number, remote.id, remote.body, remote.labels) == (7, 70, "", ("task",))
    with pytest.raises(GithubException) as info:
        _remote_from_reply({"message": "ok"})
    assert info.value.status == 502


def test_listing_follows_the_link_header_page_by_page(gh: FakeGitHub, tracker: GitHubTracker) -> None:
    from batch_action.sync.github_tracker import _next_page

    for n in range(250):
        gh.seed_issue(f"t{n}", labels=["sync"] if n % 5 else ["other"])
    listed = list(tracker.list_synced("sync"))
    assert len(listed) == 200 and len({i.number for i in listed}) == 200
    assert [r.method for r in gh.requests] == ["GET", "GET"]  # 200 issues: two pages of 100
    link = '<https://api.github.com/repositories/1/issues?page=3>; rel="next", <https://x/issues?page=9>; rel="last"'
    assert _next_page({"Link": link}) == "https://api.github.com/repositories/1/issues?page=3"
    assert _next_page({"link": '<https://x/issues?page=1>; rel="prev"'}) is None and _next_page({}) is None
