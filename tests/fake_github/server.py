"""A loopback fake of the GitHub REST API, stdlib only, for driving real PyGithub (and `requests`) over HTTP.

It covers the endpoints the sync uses (repos, issues, labels, sub-issues, issue dependencies, rate_limit), the
rate-limit headers GitHub sends, a primary budget, optional time-scaled secondary limits, and scripted faults
(error replies, connection resets, lost responses after a commit, slow replies). Every request is recorded so
tests and benchmarks can count exactly what a client sent.

Paths in records and in fault patterns are API paths without the optional `api_prefix`
(e.g. `/repos/octo/repo/issues`).

GitHub's hard limits (github-api.md §6) are enforced with 422 answers shaped like GitHub's, and every 422 is
counted (`stats["unprocessable"]`, those of a limit also `stats["limit_refusals"]`), so a test can say that no
limit was ever hit. The numbers are written out here rather than imported from `batch_action.limits`: the fake
plays GitHub, and must not agree with the code under test by construction. `sub_issues=False` /
`dependencies=False` remove those endpoints (404), as on a GHES without the feature, and the issue JSON then has
no summary of them.
"""

from __future__ import annotations

import calendar
import contextlib
import dataclasses
import io
import json
import math
import re
import socket
import struct
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal, get_args
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

FaultAction = Literal["respond", "reset", "commit_then_drop", "commit_then_respond", "delay"]
# What a write naming a label the repository lacks does. GitHub's behaviour is undocumented (github-api.md §2):
# "create" makes the label (colour ededed), as observed on github.com; "drop" silently leaves it off the issue;
# "reject" fails the whole request with 422.
UnknownLabels = Literal["create", "drop", "reject"]
_ACTIONS: frozenset[str] = frozenset(get_args(FaultAction))
ProjectAccess = Literal["none", "read", "write"]


@dataclass(frozen=True)
class Grant:
    """What a token may do. `push`: set issue types (GitHub silently drops `type` without push access).
    `projects`: "none" is GITHUB_TOKEN and an organisation project ("Resource not accessible by integration"),
    "read" may look but not write, "write" both."""

    push: bool = True
    projects: ProjectAccess = "write"


# GitHub's default types of a new organisation.
DEFAULT_ISSUE_TYPES = ("Task", "Bug", "Feature")

SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID {rid}."
)
_DOCS = "https://docs.github.com/rest"
_STATE_REASONS = {"completed", "not_planned", "reopened", "duplicate"}
# GitHub's hard limits (github-api.md §6).
_MAX_SUB_ISSUES = 100  # closed children included
_MAX_NESTING = 8
_MAX_BLOCKED_BY = 50
_MAX_TITLE = 256
_MAX_BODY = 65_536
_MAX_LABEL_NAME = 50
_MAX_LABELS = 100


_REPO = r"/repos/([^/]+)/([^/]+)"
_ISSUE = _REPO + r"/issues/(\d+)"
# (method, path, FakeGitHub method name)
_ROUTES: tuple[tuple[str, re.Pattern[str], str], ...] = tuple(
    (m, re.compile(p), fn)
    for m, p, fn in [
        ("GET", r"/rate_limit", "_get_rate_limit"),
        ("GET", r"/orgs/([^/]+)/issue-types", "_list_issue_types"),
        ("GET", _REPO, "_get_repo"),
        ("GET", _REPO + "/issues", "_list_issues"),
        ("POST", _REPO + "/issues", "_create_issue"),
        ("GET", _ISSUE, "_get_issue"),
        ("PATCH", _ISSUE, "_edit_issue"),
        ("GET", _REPO + "/labels", "_list_labels"),
        ("POST", _REPO + "/labels", "_create_label"),
        ("GET", _REPO + "/labels/([^/]+)", "_get_label"),
        ("PATCH", _REPO + "/labels/([^/]+)", "_update_label"),
        ("DELETE", _REPO + "/labels/([^/]+)", "_delete_label"),
        ("POST", _ISSUE + "/labels", "_add_labels"),
        ("GET", _ISSUE + "/sub_issues", "_list_sub_issues"),
        ("POST", _ISSUE + "/sub_issues", "_add_sub_issue"),
        ("DELETE", _ISSUE + "/sub_issue", "_remove_sub_issue"),
        ("GET", _ISSUE + "/parent", "_get_parent"),
        ("GET", _ISSUE + "/dependencies/blocked_by", "_list_blocked_by"),
        ("POST", _ISSUE + "/dependencies/blocked_by", "_add_blocked_by"),
        ("DELETE", _ISSUE + r"/dependencies/blocked_by/(\d+)", "_remove_blocked_by"),
        ("GET", _ISSUE + "/dependencies/blocking", "_list_blocking"),
    ]
)


@dataclass(frozen=True)
class SecondaryLimits:
    """GitHub's documented secondary limits, optionally sped up.

    `time_scale=10` makes a "minute" last 6 real seconds. Rejected requests get a 403 secondary-limit reply,
    with a `retry-after` header (real seconds until the window frees, ceiling, at least 1) when `retry_after`.
    """

    writes_per_minute: int = 80  # content-creating requests (POST)
    points_per_minute: int = 900  # GET/HEAD/OPTIONS cost 1, other verbs 5
    max_concurrent: int = 100
    time_scale: float = 1.0
    retry_after: bool = True

    @property
    def window(self) -> float:
        return 60.0 / self.time_scale


@dataclass
class Fault:
    """A scripted misbehaviour; `seen`/`fired` count matching requests and injected faults."""

    method: str
    pattern: re.Pattern[str]
    action: FaultAction
    times: int | None = 1  # None: forever
    skip: int = 0
    status: int | None = None
    body: Any = None
    headers: Mapping[str, str] | None = None
    delay: float = 0.0
    hook: Callable[[], None] | None = None  # run before the request is handled (another client's doing)
    seen: int = 0
    fired: int = 0

    def _matches(self, method: str, path: str) -> bool:
        return (self.method == "*" or self.method == method) and self.pattern.search(path) is not None

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def _reply(self, default_status: int) -> _Reply:
        body = self.body if self.body is not None else {"message": "Server Error"}
        return _Reply(self.status or default_status, body, dict(self.headers or {}))


@dataclass(frozen=True)
class RequestRecord:
    """One request as the server saw it. `status` is None when no response was sent."""

    method: str
    path: str
    query: dict[str, str]
    status: int | None
    headers: dict[str, str]  # lower-case keys; the Authorization value is redacted
    body: Any
    start: float  # time.monotonic()
    end: float
    thread: str
    client: str  # "host:port" of the client socket: one per connection
    request_id: str
    outcome: str  # "ok", "fault:<action>", "secondary_limit", "primary_limit", "unauthorized"


@dataclass
class _Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    limit: bool = False  # a refusal because one of GitHub's hard limits was met


@dataclass
class _Issue:
    number: int
    id: int
    title: str
    body: str | None
    state: str
    state_reason: str | None
    labels: list[str]
    is_pr: bool
    created_at: float
    updated_at: float
    closed_at: float | None
    parent: int | None = None  # database id of the parent
    type: str | None = None  # the issue type's name
    children: list[int] = field(default_factory=list)  # database ids, in the order added
    blockers: list[int] = field(default_factory=list)  # database ids of the issues blocking this one
    blocking: list[int] = field(default_factory=list)  # reverse index of `blockers`
    assignees: list[str] = field(default_factory=list)  # logins


@dataclass
class _Repo:
    owner: str
    name: str
    index: int
    next_number: int = 1
    next_label_id: int = 1
    issues: dict[int, _Issue] = field(default_factory=dict)
    labels: dict[str, dict[str, Any]] = field(default_factory=dict)  # lower-case name -> label

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


_GRAPHQL = "/graphql"


def _iso(t: float | None) -> str | None:
    return None if t is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def _logins(value: Any) -> bool:
    """At most GitHub's 10 assignees, each a login."""
    return (
        isinstance(value, list)
        and len(value) <= 10
        and all(
            isinstance(x, str) and re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}", x) for x in value
        )
    )


def _parse_iso(text: str) -> int | None:
    try:
        return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        return None


def _validation(resource: str, field_name: str, code: str, message: str | None = None) -> _Reply:
    err: dict[str, str] = {"resource": resource, "field": field_name, "code": code}
    if message:
        err["message"] = message
    return _Reply(
        422,
        {
            "message": message or "Validation Failed",
            "errors": [err],
            "documentation_url": _DOCS,
            "status": "422",
        },
    )


def _over_limit(resource: str, field_name: str, message: str) -> _Reply:
    reply = _validation(resource, field_name, "custom", message)
    reply.limit = True
    return reply


def _too_long(resource: str, field_name: str, maximum: int) -> _Reply:
    # The wording of github.com's "is too long" validation errors (JasonEtco/create-an-issue#123).
    return _over_limit(resource, field_name, f"{field_name} is too long (maximum is {maximum} characters)")


def _issue_limits(title: Any, body: Any, labels: list[str] | None) -> _Reply | None:
    """The 422 GitHub gives a create or update over a hard limit, or None."""
    if isinstance(title, str) and len(title) > _MAX_TITLE:
        return _too_long("Issue", "title", _MAX_TITLE)
    if isinstance(body, str) and len(body) > _MAX_BODY:
        return _too_long("Issue", "body", _MAX_BODY)
    if labels is not None:
        if len({name.lower() for name in labels}) > _MAX_LABELS:
            # Wording unverified (actions/labeler#115 reports the 422, not its text).
            return _over_limit("Issue", "labels", f"too many labels (maximum is {_MAX_LABELS})")
        if any(len(name) > _MAX_LABEL_NAME for name in labels):
            return _too_long("Label", "name", _MAX_LABEL_NAME)
    return None


def _not_found() -> _Reply:
    return _Reply(404, {"message": "Not Found", "documentation_url": _DOCS, "status": "404"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # benchmarks open many connections at once; the default backlog of 5 stalls them
    fake: FakeGitHub

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up (timeouts, tests) are normal here; anything else is a bug in the fake.
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so requests' pooled connections are reused
    # One buffered write per response and no Nagle: otherwise delayed ACKs add ~40 ms to every reply.
    wbufsize = -1
    disable_nagle_algorithm = True
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.fake._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.fake._track(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _dispatch(self) -> None:
        self.server.fake._serve(self)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _dispatch


class FakeGitHub:
    """A fake GitHub REST API on 127.0.0.1 (random port). Use as a context manager, or start()/stop()."""

    def __init__(
        self,
        *,
        token: str | None = None,
        repos: Iterable[str] = ("octo/repo",),
        primary_limit: int = 5000,
        reset_in: float = 3600.0,
        latency: float = 0.0,
        secondary_limits: SecondaryLimits | None = None,
        api_prefix: str = "",
        unknown_labels: UnknownLabels = "create",
        sub_issues: bool = True,
        dependencies: bool = True,
        grant: Grant | None = None,
        tokens: Mapping[str, Grant] | None = None,
        users: Iterable[str] = (),
        issue_types: Mapping[str, Iterable[str]] | None = None,
        graphql_limit: int = 5000,
    ) -> None:
        """`grant`: what `token` may do; `tokens`: more tokens and theirs. `users`: owners that are personal
        accounts (no issue types; their projects live under /users/); every other owner is an organisation with
        `issue_types[owner]` (default: GitHub's Task, Bug, Feature). `graphql_limit`: the GraphQL bucket."""
        from tests.fake_github.graphql import FakeGraphQL

        self.token = token
        self.grant = grant or Grant()
        self.tokens = dict(tokens or {})
        self.users = {user.lower() for user in users}
        self.issue_types = {org.lower(): list(names) for org, names in (issue_types or {}).items()}
        self.graphql_limit = graphql_limit
        self._graphql_used = 0
        self.graphql = FakeGraphQL(self, lambda: self.html_base)
        self.sub_issues = sub_issues  # False: the sub-issues endpoints answer 404 (GHES without the feature)
        self.dependencies = dependencies
        self.unknown_labels = unknown_labels
        self.primary_limit = primary_limit
        self.reset_in = reset_in
        self.latency = latency
        self.secondary_limits = secondary_limits
        self.api_prefix = api_prefix.rstrip("/")
        self._lock = threading.RLock()
        self._repos: dict[str, _Repo] = {}
        self._by_id: dict[int, tuple[_Repo, _Issue]] = {}
        self._faults: list[Fault] = []
        self._records: list[RequestRecord] = []
        self._seq = 0
        self._in_flight = 0
        self._peak = 0
        self._used = 0
        self._window_reset = time.time() + reset_in
        self._points: deque[tuple[float, int]] = deque()
        self._writes: deque[float] = deque()
        self._stats: dict[str, int] = {}
        self._sockets: set[socket.socket] = set()
        self._server: _Server | None = None
        self._grant = self.grant  # the grant of the request being handled (under the lock)
        self._thread: threading.Thread | None = None
        self._port = 0
        for name in repos:
            self.add_repo(name)

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> FakeGitHub:
        if self._server is not None:
            return self
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._port = int(server.server_address[1])
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-github", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        # Idle keep-alive connections block their handler threads in readline(): wake them up.
        with self._lock:
            socks = list(self._sockets)
        for s in socks:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        """What to pass as PyGithub's `base_url`."""
        return f"http://127.0.0.1:{self._port}{self.api_prefix}"

    @property
    def graphql_path(self) -> str:
        """Where GraphQL is served: /graphql, or /api/graphql beside a GHES-like /api/v3 prefix."""
        return self.api_prefix.removesuffix("/v3") + _GRAPHQL

    @property
    def html_base(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def _track(self, sock: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._sockets.add(sock)
            else:
                self._sockets.discard(sock)

    # ----------------------------------------------------------------- state setup and inspection

    def add_repo(self, full_name: str) -> None:
        owner, _, name = full_name.partition("/")
        if not owner or not name:
            raise ValueError(f"repository must be 'owner/name', got {full_name!r}")
        with self._lock:
            key = full_name.lower()
            if key not in self._repos:
                self._repos[key] = _Repo(owner, name, index=len(self._repos))

    def _is_user(self, login: str) -> bool:
        return login.lower() in self.users

    def types_of(self, owner: str) -> list[str] | None:
        """The issue types of `owner`: None for a personal account."""
        if self._is_user(owner):
            return None
        return self.issue_types.get(owner.lower(), list(DEFAULT_ISSUE_TYPES))

    def set_issue_type(self, number: int, name: str | None, repo: str = "octo/repo") -> None:
        """What a person does on GitHub: give an issue another type (None: none)."""
        with self._lock:
            self._repo(repo).issues[number].type = name

    def _repo(self, full_name: str) -> _Repo:
        try:
            return self._repos[full_name.lower()]
        except KeyError:
            raise KeyError(f"no such repository in the fake: {full_name}") from None

    def seed_issue(
        self,
        title: str,
        body: str = "",
        labels: Iterable[str] = (),
        state: str = "open",
        repo: str = "octo/repo",
        state_reason: str | None = None,
        updated_at: float | None = None,
    ) -> dict[str, Any]:
        """Create an issue directly (no request recorded); returns its JSON. `updated_at`: epoch seconds (now)."""
        with self._lock:
            r = self._repo(repo)
            issue = self._new_issue(r, title, body, self._seed_labels(r, labels), is_pr=False)
            if updated_at is not None:
                issue.created_at = issue.updated_at = updated_at
            if state == "closed":
                issue.state, issue.closed_at = "closed", issue.created_at
                issue.state_reason = state_reason or "completed"
            return self._issue_json(r, issue)

    def seed_pull_request(
        self,
        title: str,
        body: str = "",
        labels: Iterable[str] = (),
        state: str = "open",
        repo: str = "octo/repo",
    ) -> dict[str, Any]:
        """Create a pull request: it shows up in issue listings with a `pull_request` key."""
        with self._lock:
            r = self._repo(repo)
            issue = self._new_issue(r, title, body, self._seed_labels(r, labels), is_pr=True)
            if state == "closed":
                issue.state, issue.closed_at = "closed", issue.created_at
            return self._issue_json(r, issue)

    def _seed_labels(self, repo: _Repo, labels: Iterable[str]) -> list[str]:
        names = list(labels)
        for name in names:
            self._ensure_label(repo, name)  # a seeded issue has its labels, whatever `unknown_labels` says
        return names

    def seed_label(
        self, name: str, color: str = "ededed", repo: str = "octo/repo", description: str | None = None
    ) -> dict[str, Any]:
        with self._lock:
            r = self._repo(repo)
            label = self._ensure_label(r, name, color)
            if description is not None:
                label["description"] = description
            return self._label_json(r, label)

    def issues(self, repo: str = "octo/repo") -> list[dict[str, Any]]:
        """Current issues (pull requests excluded) as GitHub JSON, by number."""
        with self._lock:
            r = self._repo(repo)
            return [self._issue_json(r, i) for _, i in sorted(r.issues.items()) if not i.is_pr]

    def issue(self, number: int, repo: str = "octo/repo") -> dict[str, Any] | None:
        with self._lock:
            r = self._repo(repo)
            i = r.issues.get(number)
            return None if i is None else self._issue_json(r, i)

    def labels(self, repo: str = "octo/repo") -> list[str]:
        with self._lock:
            return [lab["name"] for lab in self._repo(repo).labels.values()]

    def sub_issues_of(self, number: int, repo: str = "octo/repo") -> list[int]:
        """Numbers of the children of issue `number`, in the order they were added."""
        with self._lock:
            issue = self._repo(repo).issues[number]
            return [self._by_id[c][1].number for c in issue.children]

    def parent_of(self, number: int, repo: str = "octo/repo") -> int | None:
        with self._lock:
            issue = self._repo(repo).issues[number]
            return None if issue.parent is None else self._by_id[issue.parent][1].number

    def blocked_by(self, number: int, repo: str = "octo/repo") -> list[int]:
        """Numbers of the issues blocking issue `number`."""
        with self._lock:
            issue = self._repo(repo).issues[number]
            return [self._by_id[b][1].number for b in issue.blockers]

    @property
    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    def count(self, method: str | None = None, path_regex: str | None = None, status: int | None = None) -> int:
        pattern = re.compile(path_regex) if path_regex is not None else None
        with self._lock:
            return sum(
                1
                for r in self._records
                if (method is None or r.method == method.upper())
                and (pattern is None or pattern.search(r.path))
                and (status is None or r.status == status)
            )

    def clear_requests(self) -> None:
        """Forget recorded requests and reset `peak_in_flight` (state and budgets are kept)."""
        with self._lock:
            self._records.clear()
            self._peak = self._in_flight

    @property
    def peak_in_flight(self) -> int:
        with self._lock:
            return self._peak

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until no request is being handled (e.g. a delayed one the client gave up on)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.in_flight == 0:
                return True
            time.sleep(0.005)
        return self.in_flight == 0

    @property
    def stats(self) -> dict[str, int]:
        """Counters: requests, primary_limited, secondary_limited (+ _concurrency/_points/_writes), faults,
        unauthorized, unprocessable (422s), limit_refusals (422s of a hard limit)."""
        with self._lock:
            return dict(self._stats)

    def _bump(self, key: str) -> None:
        self._stats[key] = self._stats.get(key, 0) + 1

    def _count_refusal(self, reply: _Reply) -> None:
        with self._lock:
            self._bump("unprocessable")
            if reply.limit:
                self._bump("limit_refusals")

    # ----------------------------------------------------------------- budgets and faults

    def reset_primary(self) -> None:
        """Refill the primary budget and start a new window."""
        with self._lock:
            self._used = 0
            self._window_reset = time.time() + self.reset_in

    @property
    def primary_remaining(self) -> int:
        with self._lock:
            self._roll_primary()
            return max(0, self.primary_limit - self._used)

    def fault(
        self,
        method: str,
        path_regex: str,
        *,
        times: int | None = 1,
        skip: int = 0,
        status: int | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
        action: FaultAction = "respond",
        hook: Callable[[], None] | None = None,
    ) -> Fault:
        """Script a fault for requests whose method (or "*") and API path (regex search) match.

        respond: answer `status`/`body`/`headers` (default 500) without handling. reset: close the socket
        with a TCP reset before handling. commit_then_drop: handle, then close without answering.
        commit_then_respond: handle, then answer `status` (default 502). delay: sleep `delay`, then handle.
        `delay` also postpones the other actions. `skip` lets that many matching requests pass first. `hook` is
        called (after the delay, before anything else) in the server's thread: what another client did meanwhile.
        """
        if action not in _ACTIONS:
            raise ValueError(f"unknown fault action {action!r}")
        f = Fault(
            method=method.upper(),
            pattern=re.compile(path_regex),
            action=action,
            times=times,
            skip=skip,
            status=status,
            body=body,
            headers=dict(headers) if headers else None,
            delay=delay,
            hook=hook,
        )
        with self._lock:
            self._faults.append(f)
        return f

    def secondary_limit(
        self,
        retry_after: int | None = 60,
        *,
        method: str = "*",
        path_regex: str = ".*",
        times: int | None = 1,
        skip: int = 0,
    ) -> Fault:
        """403 secondary-rate-limit reply, with `retry-after` unless None."""
        headers = {"retry-after": str(retry_after)} if retry_after is not None else {}
        body = {"message": SECONDARY_MESSAGE.format(rid="FAKE"), "documentation_url": _DOCS}
        return self.fault(method, path_regex, times=times, skip=skip, status=403, body=body, headers=headers)

    def too_many(
        self,
        retry_after: int | None = None,
        *,
        method: str = "*",
        path_regex: str = ".*",
        times: int | None = 1,
        skip: int = 0,
    ) -> Fault:
        """429 reply (secondary-limit message), with `retry-after` unless None."""
        headers = {"retry-after": str(retry_after)} if retry_after is not None else {}
        body = {"message": SECONDARY_MESSAGE.format(rid="FAKE"), "documentation_url": _DOCS}
        return self.fault(method, path_regex, times=times, skip=skip, status=429, body=body, headers=headers)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, method: str, path: str) -> Fault | None:
        chosen: Fault | None = None
        with self._lock:
            for f in self._faults:
                if f.exhausted or not f._matches(method, path):
                    continue
                f.seen += 1
                if chosen is None and f.seen > f.skip:
                    f.fired += 1
                    chosen = f
            if chosen is not None:
                self._bump("faults")
        return chosen

    def _roll_primary(self) -> None:
        now = time.time()
        if now >= self._window_reset:
            self._used = 0
            self._window_reset = now + self.reset_in

    def _rate_headers(self) -> dict[str, str]:
        self._roll_primary()
        return {
            "x-ratelimit-limit": str(self.primary_limit),
            "x-ratelimit-remaining": str(max(0, self.primary_limit - self._used)),
            "x-ratelimit-used": str(self._used),
            "x-ratelimit-reset": str(math.ceil(self._window_reset)),
            "x-ratelimit-resource": "core",
        }

    def _secondary_check(self, method: str, arrived_in_flight: int) -> tuple[str, float] | None:
        """Returns (reason, real seconds until it would pass) when the request must be refused."""
        lim = self.secondary_limits
        if lim is None:
            return None
        now = time.monotonic()
        horizon = now - lim.window
        while self._points and self._points[0][0] <= horizon:
            self._points.popleft()
        while self._writes and self._writes[0] <= horizon:
            self._writes.popleft()
        if arrived_in_flight > lim.max_concurrent:
            return "concurrency", 1.0
        cost = 1 if method in ("GET", "HEAD", "OPTIONS") else 5
        used = sum(p for _, p in self._points)
        if used + cost > lim.points_per_minute:
            # wait until enough of the oldest points leave the window
            need, freed, wait = used + cost - lim.points_per_minute, 0, lim.window
            for t, p in self._points:
                freed += p
                if freed >= need:
                    wait = t + lim.window - now
                    break
            return "points", wait
        if method == "POST" and len(self._writes) + 1 > lim.writes_per_minute:
            return "writes", self._writes[0] + lim.window - now
        self._points.append((now, cost))
        if method == "POST":
            self._writes.append(now)
        return None

    # ----------------------------------------------------------------- request handling

    def _serve(self, h: _Handler) -> None:
        start = time.monotonic()
        with self._lock:
            self._seq += 1
            rid = f"FAKE:{self._seq:06X}"
            self._in_flight += 1
            arrived_in_flight = self._in_flight
            self._peak = max(self._peak, self._in_flight)
            self._bump("requests")
        method = h.command.upper()
        split = urlsplit(h.path)
        path = split.path
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        headers = {k.lower(): v for k, v in h.headers.items()}
        raw_auth = headers.get("authorization", "")
        if "authorization" in headers:
            scheme = headers["authorization"].split(" ", 1)[0]
            headers["authorization"] = f"{scheme} <redacted>"
        outcome = "ok"
        body: Any = None
        reply: _Reply | None = None
        abort: str | None = None  # "rst" or "fin"
        recorded = False

        def record(status: int | None, outcome: str) -> RequestRecord:
            rec = RequestRecord(
                method=method,
                path=path,
                query=query,
                status=status,
                headers=headers,
                body=body,
                start=start,
                end=time.monotonic(),
                thread=threading.current_thread().name,
                client="{}:{}".format(*h.client_address[:2]),
                request_id=rid,
                outcome=outcome,
            )
            with self._lock:
                self._in_flight -= 1
                self._records.append(rec)
            return rec

        try:
            length = int(h.headers.get("Content-Length") or 0)
            raw = h.rfile.read(length) if length > 0 else b""
            parsed_ok = True
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    parsed_ok = False
            if path == self.graphql_path:
                path = _GRAPHQL
            elif self.api_prefix:
                path = path[len(self.api_prefix) :] if path.startswith(self.api_prefix + "/") else "/\0"
            if self.latency > 0:
                time.sleep(self.latency)
            fault = self._take_fault(method, path)
            if fault is not None:
                outcome = f"fault:{fault.action}"
                if fault.delay > 0:
                    time.sleep(fault.delay)
                if fault.hook is not None:
                    fault.hook()
            if fault is not None and fault.action == "respond":
                reply = fault._reply(500)
            elif fault is not None and fault.action == "reset":
                abort = "rst"
            else:
                if not parsed_ok:
                    reply = _Reply(400, {"message": "Problems parsing JSON", "documentation_url": _DOCS})
                else:
                    reply, limited = self._handle(method, path, query, body, raw_auth, arrived_in_flight, rid)
                    outcome = limited or outcome
                if fault is not None and fault.action == "commit_then_drop":
                    reply, abort = None, "fin"
                elif fault is not None and fault.action == "commit_then_respond":
                    reply = fault._reply(502)
            if reply is not None and reply.status == 422:
                self._count_refusal(reply)
            # Record before answering, so a client that has its answer always finds the record.
            rec = record(reply.status if reply is not None else None, outcome)
            recorded = True
            if abort is not None:
                self._abort(h, rst=abort == "rst")
            elif reply is not None and not self._send(h, reply, rid):
                with self._lock:  # the client had gone (e.g. it timed out on a delayed reply)
                    i = self._records.index(rec)
                    self._records[i] = dataclasses.replace(rec, status=None, outcome=outcome + ":client_gone")
        finally:
            if not recorded:
                record(None, "error")

    def _send(self, h: _Handler, reply: _Reply, rid: str) -> bool:
        if isinstance(reply.body, (bytes, str)):
            payload = reply.body.encode() if isinstance(reply.body, str) else reply.body
        else:
            payload = json.dumps(reply.body).encode()
        with self._lock:
            headers = self._rate_headers()
        headers["x-github-request-id"] = rid
        headers["content-type"] = "application/json; charset=utf-8"
        headers.update({k.lower(): v for k, v in reply.headers.items()})
        try:
            h.send_response(reply.status)
            for k, v in headers.items():
                h.send_header(k, v)
            h.send_header("Content-Length", str(len(payload)))
            h.end_headers()
            h.wfile.write(payload)
            h.wfile.flush()
        except OSError:
            h.close_connection = True
            return False
        return True

    @staticmethod
    def _abort(h: _Handler, *, rst: bool) -> None:
        """Close the client's socket now: a TCP reset (rst) or a plain FIN (looks like a lost response)."""
        sock = h.connection
        try:
            if rst:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        h.close_connection = True
        # rfile holds a reference to the socket: release it so close() really closes now.
        h.rfile.close()
        h.wfile.close()
        h.wfile = io.BytesIO()  # handle_one_request() flushes wfile after we return
        sock.close()

    def _handle(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        body: Any,
        authorization: str,
        arrived_in_flight: int,
        rid: str,
    ) -> tuple[_Reply, str | None]:
        with self._lock:
            grant = self.grant
            if self.token is not None:
                scheme, _, credential = authorization.partition(" ")
                credential = credential.strip()
                known = credential == self.token or credential in self.tokens
                if scheme.lower() not in ("token", "bearer") or not known:
                    self._bump("unauthorized")
                    denied = {"message": "Bad credentials", "documentation_url": _DOCS, "status": "401"}
                    return _Reply(401, denied), "unauthorized"
                grant = self.grant if credential == self.token else self.tokens[credential]
            refused = self._secondary_check(method, arrived_in_flight)
            if refused is not None:
                reason, wait = refused
                self._bump("secondary_limited")
                self._bump(f"secondary_{reason}")
                extra = {}
                if self.secondary_limits is not None and self.secondary_limits.retry_after:
                    extra["retry-after"] = str(max(1, math.ceil(wait)))
                msg = SECONDARY_MESSAGE.format(rid=rid)
                return _Reply(403, {"message": msg, "documentation_url": _DOCS}, extra), "secondary_limit"
            if path == _GRAPHQL:
                return self._serve_graphql(method, body, grant, rid)
            counts = path != "/rate_limit"
            if counts:
                self._roll_primary()
                if self._used >= self.primary_limit:
                    self._bump("primary_limited")
                    msg = (
                        "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, "
                        f"please include the request ID {rid}."
                    )
                    return _Reply(403, {"message": msg, "documentation_url": _DOCS}), "primary_limit"
                self._used += 1
            self._grant = grant
            return self._route(method, path, query, body), None

    def _serve_graphql(self, method: str, body: Any, grant: Grant, rid: str) -> tuple[_Reply, str | None]:
        """GraphQL: its own primary bucket (a point a request; GitHub's cost is per query, at least 1), its
        `RATE_LIMITED` answer (HTTP 200, as GitHub's), then the query (tests/fake_github/graphql.py)."""
        if method != "POST":
            return _not_found(), None
        now = time.time()
        if now >= self._window_reset:
            self._roll_primary()
            self._graphql_used = 0
        headers = {
            "x-ratelimit-limit": str(self.graphql_limit),
            "x-ratelimit-reset": str(math.ceil(self._window_reset)),
            "x-ratelimit-resource": "graphql",
        }
        if self._graphql_used >= self.graphql_limit:
            self._bump("graphql_limited")
            headers.update({"x-ratelimit-remaining": "0", "x-ratelimit-used": str(self._graphql_used)})
            limited = {"errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded for user ID 1."}]}
            return _Reply(200, limited, headers), "primary_limit"
        self._graphql_used += 1
        headers.update(
            {
                "x-ratelimit-remaining": str(self.graphql_limit - self._graphql_used),
                "x-ratelimit-used": str(self._graphql_used),
            }
        )
        self._bump("graphql")
        return _Reply(200, self.graphql.execute(body, grant), headers), None

    # ----------------------------------------------------------------- routes

    def _route(self, method: str, path: str, query: dict[str, str], body: Any) -> _Reply:
        for m, pattern, fn in _ROUTES:
            match = pattern.fullmatch(path)
            if match is None or m != method:
                continue
            args = [unquote(a) for a in match.groups()]
            if fn == "_get_rate_limit":
                return self._get_rate_limit()
            if fn == "_list_issue_types":
                return self._list_issue_types(args[0])
            repo = self._repos.get(f"{args[0]}/{args[1]}".lower())
            if repo is None or not self._has_feature(fn):
                return _not_found()
            handler: Callable[..., _Reply] = getattr(self, fn)
            return handler(repo, *args[2:], query=query, body=body)
        return _not_found()

    def _has_feature(self, route: str) -> bool:
        if "sub_issue" in route or route == "_get_parent":
            return self.sub_issues
        if "blocked_by" in route or "blocking" in route:
            return self.dependencies
        return True

    def _get_rate_limit(self) -> _Reply:
        h = self._rate_headers()
        core = {
            "limit": self.primary_limit,
            "remaining": int(h["x-ratelimit-remaining"]),
            "reset": int(h["x-ratelimit-reset"]),
            "used": self._used,
            "resource": "core",
        }
        search = {
            "limit": 30,
            "remaining": 30,
            "reset": int(time.time()) + 60,
            "used": 0,
            "resource": "search",
        }
        return _Reply(200, {"resources": {"core": core, "search": search}, "rate": core})

    def _list_issue_types(self, org: str) -> _Reply:
        names = self.types_of(org)
        if names is None:
            return _not_found()
        return _Reply(200, [self._type_json(org, name) for name in names])

    def _type_json(self, org: str, name: str) -> dict[str, Any]:
        names = self.types_of(org) or []
        index = next((i for i, known in enumerate(names) if known.lower() == name.lower()), 0)
        return {
            "id": 900 + index,
            "node_id": f"IT_fake{org}{index}",
            "name": name,
            "description": None,
            "color": "gray",
            "is_enabled": True,
        }

    def _issue_type_problem(self, repo: _Repo, body: dict[str, Any]) -> tuple[_Reply | None, str | None, bool]:
        """(a refusal, the canonical type, whether to set it) for a write's `type`."""
        if "type" not in body:
            return None, None, False
        wanted = body["type"]
        if not self._grant.push:
            return None, None, False  # GitHub drops it silently for a token without push access
        if wanted is None:
            return None, None, True
        names = self.types_of(repo.owner)
        if not isinstance(wanted, str) or names is None:
            return _validation("Issue", "type", "invalid"), None, False
        found = next((name for name in names if name.lower() == wanted.lower()), None)
        if found is None:
            return _validation("Issue", "type", "invalid", f"Issue type {wanted!r} does not exist"), None, False
        return None, found, True

    def _get_repo(self, repo: _Repo, **_: Any) -> _Reply:
        return _Reply(200, self._repo_json(repo))

    # issues

    def _list_issues(self, repo: _Repo, *, query: dict[str, str], **_: Any) -> _Reply:
        state = query.get("state", "open")
        if state not in ("open", "closed", "all"):
            return _validation("Issue", "state", "invalid")
        wanted = [w.strip().lower() for w in query.get("labels", "").split(",") if w.strip()]
        since = _parse_iso(query["since"]) if "since" in query else None
        if "since" in query and since is None:
            return _validation("Issue", "since", "invalid")
        items = []
        for issue in repo.issues.values():
            if state != "all" and issue.state != state:
                continue
            # GitHub's `since`: "only issues updated at or after this time", both to the second.
            if since is not None and int(issue.updated_at) < since:
                continue
            have = {lab.lower() for lab in issue.labels}
            if any(w not in have for w in wanted):
                continue
            items.append(issue)
        items.sort(key=lambda i: i.number, reverse=query.get("direction", "desc") != "asc")
        return self._page(repo, f"/repos/{repo.full_name}/issues", query, items)

    def _create_issue(self, repo: _Repo, *, body: Any, **_: Any) -> _Reply:
        if not isinstance(body, dict):
            return _Reply(400, {"message": "Problems parsing JSON", "documentation_url": _DOCS})
        title = body.get("title")
        if not isinstance(title, str) or not title:
            return _validation("Issue", "title", "missing_field")
        labels = body.get("labels", [])
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            return _validation("Issue", "labels", "invalid")
        refused = _issue_limits(title, body.get("body"), labels)
        if refused is not None:
            return refused
        if self._rejects_labels(repo, labels):
            return _validation("Issue", "labels", "invalid", "Label does not exist")
        typing, type_name, set_type = self._issue_type_problem(repo, body)
        if typing is not None:
            return typing
        assignees = body.get("assignees", [])
        if not _logins(assignees):
            return _validation("Issue", "assignees", "invalid")
        text = body.get("body")
        issue = self._new_issue(repo, title, text if isinstance(text, str) else None, labels, is_pr=False)
        issue.assignees = list(assignees)
        if set_type:
            issue.type = type_name
        data = self._issue_json(repo, issue)
        return _Reply(201, data, {"location": data["url"]})

    def _get_issue(self, repo: _Repo, number: str, **_: Any) -> _Reply:
        issue = repo.issues.get(int(number))
        return _not_found() if issue is None else _Reply(200, self._issue_json(repo, issue))

    def _edit_issue(self, repo: _Repo, number: str, *, body: Any, **_: Any) -> _Reply:
        issue = repo.issues.get(int(number))
        if issue is None:
            return _not_found()
        if not isinstance(body, dict):
            body = {}
        if "title" in body and (not isinstance(body["title"], str) or not body["title"]):
            return _validation("Issue", "title", "invalid")
        if "labels" in body and (
            not isinstance(body["labels"], list) or not all(isinstance(x, str) for x in body["labels"])
        ):
            return _validation("Issue", "labels", "invalid")
        refused = _issue_limits(body.get("title"), body.get("body"), body.get("labels"))
        if refused is not None:
            return refused
        if "labels" in body and self._rejects_labels(repo, body["labels"]):
            return _validation("Issue", "labels", "invalid", "Label does not exist")
        if "assignees" in body and not _logins(body["assignees"]):
            return _validation("Issue", "assignees", "invalid")
        state = body.get("state")
        if state is not None and state not in ("open", "closed"):
            return _validation("Issue", "state", "invalid")
        reason = body.get("state_reason")
        if reason is not None and reason not in _STATE_REASONS:
            return _validation("Issue", "state_reason", "invalid")
        typing, type_name, set_type = self._issue_type_problem(repo, body)
        if typing is not None:
            return typing
        if set_type:
            issue.type = type_name
        if "title" in body:
            issue.title = body["title"]
        if "body" in body:
            issue.body = body["body"] if isinstance(body["body"], str) else None
        if "labels" in body:
            issue.labels = self._resolve_labels(repo, body["labels"])
        if "assignees" in body:
            issue.assignees = list(body["assignees"])  # replaces the set, as GitHub does
        now = time.time()
        if state == "closed" and issue.state != "closed":
            issue.state, issue.closed_at = "closed", now
            issue.state_reason = reason or "completed"
        elif state == "open" and issue.state != "open":
            issue.state, issue.closed_at = "open", None
            issue.state_reason = reason or "reopened"
        elif reason is not None:
            issue.state_reason = reason
        issue.updated_at = now
        return _Reply(200, self._issue_json(repo, issue))

    # labels

    def _list_labels(self, repo: _Repo, *, query: dict[str, str], **_: Any) -> _Reply:
        return self._page(repo, f"/repos/{repo.full_name}/labels", query, list(repo.labels.values()))

    def _create_label(self, repo: _Repo, *, body: Any, **_: Any) -> _Reply:
        if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"]:
            return _validation("Label", "name", "missing_field")
        color = str(body.get("color", "ededed")).lstrip("#")
        if not re.fullmatch(r"[0-9a-fA-F]{6}", color):
            return _validation("Label", "color", "invalid")
        if len(body["name"]) > _MAX_LABEL_NAME:
            return _too_long("Label", "name", _MAX_LABEL_NAME)
        if body["name"].lower() in repo.labels:
            return _validation("Label", "name", "already_exists")
        label = self._ensure_label(repo, body["name"], color)
        if isinstance(body.get("description"), str):
            label["description"] = body["description"]
        return _Reply(201, self._label_json(repo, label))

    def _add_labels(self, repo: _Repo, number: str, *, body: Any, **_: Any) -> _Reply:
        issue = repo.issues.get(int(number))
        if issue is None:
            return _not_found()
        labels = body.get("labels") if isinstance(body, dict) else body
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            return _validation("Issue", "labels", "invalid")
        refused = _issue_limits(None, None, issue.labels + labels)
        if refused is not None:
            return refused
        if self._rejects_labels(repo, labels):
            return _validation("Issue", "labels", "invalid", "Label does not exist")
        issue.labels = self._resolve_labels(repo, issue.labels + labels)
        issue.updated_at = time.time()
        return _Reply(200, [self._label_json(repo, repo.labels[name.lower()]) for name in issue.labels])

    def _get_label(self, repo: _Repo, name: str, **_: Any) -> _Reply:
        label = repo.labels.get(name.lower())
        return _not_found() if label is None else _Reply(200, self._label_json(repo, label))

    def _update_label(self, repo: _Repo, name: str, *, body: Any, **_: Any) -> _Reply:
        label = repo.labels.get(name.lower())
        if label is None:
            return _not_found()
        if not isinstance(body, dict):
            body = {}
        new_name = body.get("new_name")
        if new_name is not None:
            if not isinstance(new_name, str) or not new_name or len(new_name) > 50:
                return _validation("Label", "name", "invalid")
            if new_name.lower() != name.lower() and new_name.lower() in repo.labels:
                return _validation("Label", "name", "already_exists")
            del repo.labels[name.lower()]
            label["name"] = new_name
            repo.labels[new_name.lower()] = label
            for issue in repo.issues.values():  # issues keep their label under its new name
                issue.labels = [new_name if n.lower() == name.lower() else n for n in issue.labels]
        if "description" in body:
            description = body["description"]
            if description is not None and (not isinstance(description, str) or len(description) > 100):
                return _validation("Label", "description", "invalid")
            label["description"] = description
        if "color" in body:
            color = str(body["color"]).lstrip("#")
            if not re.fullmatch(r"[0-9a-fA-F]{6}", color):
                return _validation("Label", "color", "invalid")
            label["color"] = color.lower()
        return _Reply(200, self._label_json(repo, label))

    def _delete_label(self, repo: _Repo, name: str, **_: Any) -> _Reply:
        if repo.labels.pop(name.lower(), None) is None:
            return _not_found()
        for issue in repo.issues.values():
            issue.labels = [n for n in issue.labels if n.lower() != name.lower()]
        return _Reply(204, "")

    # sub-issues

    def _list_linked(self, repo: _Repo, number: str, query: dict[str, str], field: str, suffix: str) -> _Reply:
        """A paginated list of the issues linked to issue `number` through `field` (children, blockers, …)."""
        issue = repo.issues.get(int(number))
        if issue is None:
            return _not_found()
        items = [self._by_id[i][1] for i in getattr(issue, field)]
        return self._page(repo, f"/repos/{repo.full_name}/issues/{number}/{suffix}", query, items)

    def _list_sub_issues(self, repo: _Repo, number: str, *, query: dict[str, str], **_: Any) -> _Reply:
        return self._list_linked(repo, number, query, "children", "sub_issues")

    def _add_sub_issue(self, repo: _Repo, number: str, *, body: Any, **_: Any) -> _Reply:
        parent = repo.issues.get(int(number))
        if parent is None:
            return _not_found()
        cid = body.get("sub_issue_id") if isinstance(body, dict) else None
        if not isinstance(cid, int) or isinstance(cid, bool):
            return _validation("Issue", "sub_issue_id", "invalid")
        found = self._by_id.get(cid)
        if found is None:
            return _validation("Issue", "sub_issue_id", "invalid", f"No issue found with sub_issue_id {cid}")
        child = found[1]
        if child.id == parent.id:
            return _validation("Issue", "sub_issue_id", "invalid", "Issue cannot be a sub issue of itself")
        ancestor = parent.parent
        while ancestor is not None:  # no cycles
            if ancestor == child.id:
                return _validation("Issue", "sub_issue_id", "invalid", "Sub issue cannot be an ancestor")
            ancestor = self._by_id[ancestor][1].parent
        if child.parent is not None:
            if not body.get("replace_parent"):
                return _validation("Issue", "sub_issue_id", "invalid", "Sub issue may only have one parent")
            # Unverified against GitHub: re-adding under the same parent with replace_parent is a no-op here.
            if child.parent != parent.id:
                self._by_id[child.parent][1].children.remove(child.id)
                child.parent = None
        if child.parent is None:
            if len(parent.children) >= _MAX_SUB_ISSUES:
                return _over_limit("Issue", "sub_issue_id", "Parent has too many sub issues")
            if self._depth(parent) + self._height(child) > _MAX_NESTING:
                # Wording unverified: the docs state the limit, not the answer.
                too_deep = f"Sub issues cannot be nested more than {_MAX_NESTING} levels"
                return _over_limit("Issue", "sub_issue_id", too_deep)
            parent.children.append(child.id)
            child.parent = parent.id
        return _Reply(201, self._issue_json(repo, parent))

    def _depth(self, issue: _Issue) -> int:
        """Levels from the top of its tree down to `issue` (a root is level 1)."""
        depth = 1
        while issue.parent is not None:
            issue, depth = self._by_id[issue.parent][1], depth + 1
        return depth

    def _height(self, issue: _Issue) -> int:
        """Levels of the tree under `issue`, itself included."""
        return 1 + max((self._height(self._by_id[c][1]) for c in issue.children), default=0)

    def _remove_sub_issue(self, repo: _Repo, number: str, *, body: Any, **_: Any) -> _Reply:
        parent = repo.issues.get(int(number))
        cid = body.get("sub_issue_id") if isinstance(body, dict) else None
        if parent is None or not isinstance(cid, int) or cid not in parent.children:
            return _not_found()
        parent.children.remove(cid)
        self._by_id[cid][1].parent = None
        return _Reply(200, self._issue_json(repo, parent))

    def _get_parent(self, repo: _Repo, number: str, **_: Any) -> _Reply:
        issue = repo.issues.get(int(number))
        if issue is None or issue.parent is None:
            return _not_found()
        prepo, parent = self._by_id[issue.parent]
        return _Reply(200, self._issue_json(prepo, parent))

    # dependencies

    def _list_blocked_by(self, repo: _Repo, number: str, *, query: dict[str, str], **_: Any) -> _Reply:
        return self._list_linked(repo, number, query, "blockers", "dependencies/blocked_by")

    def _list_blocking(self, repo: _Repo, number: str, *, query: dict[str, str], **_: Any) -> _Reply:
        return self._list_linked(repo, number, query, "blocking", "dependencies/blocking")

    def _add_blocked_by(self, repo: _Repo, number: str, *, body: Any, **_: Any) -> _Reply:
        issue = repo.issues.get(int(number))
        if issue is None:
            return _not_found()
        bid = body.get("issue_id") if isinstance(body, dict) else None
        if not isinstance(bid, int) or isinstance(bid, bool) or bid not in self._by_id:
            return _validation("Issue", "issue_id", "invalid", f"No issue found with issue_id {bid}")
        if bid == issue.id:
            return _validation("Issue", "issue_id", "invalid", "Issue cannot be blocked by itself")
        if bid in issue.blockers:
            return _validation("Issue", "issue_id", "already_exists", "Issue is already blocked by this issue")
        if len(issue.blockers) >= _MAX_BLOCKED_BY:
            # Wording unverified: the changelog states the limit, not the answer.
            return _over_limit("Issue", "issue_id", f"Issue cannot be blocked by more than {_MAX_BLOCKED_BY} issues")
        issue.blockers.append(bid)
        self._by_id[bid][1].blocking.append(issue.id)
        return _Reply(201, self._issue_json(repo, issue))

    def _remove_blocked_by(self, repo: _Repo, number: str, blocker: str, **_: Any) -> _Reply:
        issue = repo.issues.get(int(number))
        bid = int(blocker)
        if issue is None or bid not in issue.blockers:
            return _not_found()
        issue.blockers.remove(bid)
        self._by_id[bid][1].blocking.remove(issue.id)
        return _Reply(200, self._issue_json(repo, issue))

    # ----------------------------------------------------------------- JSON and helpers

    def _page(self, repo: _Repo, path: str, query: dict[str, str], items: list[Any]) -> _Reply:
        try:
            per_page = min(100, max(1, int(query.get("per_page", "30"))))
        except ValueError:
            per_page = 30
        try:
            page = max(1, int(query.get("page", "1")))
        except ValueError:
            page = 1
        last = max(1, math.ceil(len(items) / per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        data = [
            self._issue_json(self._by_id[i.id][0], i) if isinstance(i, _Issue) else self._label_json(repo, i)
            for i in chunk
        ]

        def link(p: int) -> str:
            return f"<{self.base_url}{path}?{urlencode({**query, 'page': str(p)})}>"

        rels = []
        if page < last:
            rels += [f'{link(page + 1)}; rel="next"', f'{link(last)}; rel="last"']
        if page > 1:
            rels += [f'{link(page - 1)}; rel="prev"', f'{link(1)}; rel="first"']
        return _Reply(200, data, {"link": ", ".join(rels)} if rels else {})

    def _new_issue(self, repo: _Repo, title: str, body: str | None, labels: list[str], *, is_pr: bool) -> _Issue:
        number = repo.next_number
        repo.next_number += 1
        now = time.time()
        issue = _Issue(
            number=number,
            id=10_000_000 * (repo.index + 1) + 7 * number,  # never equal to a number, unique across repos
            title=title,
            body=body,
            state="open",
            state_reason=None,
            labels=self._resolve_labels(repo, labels),
            is_pr=is_pr,
            created_at=now,
            updated_at=now,
            closed_at=None,
        )
        repo.issues[number] = issue
        self._by_id[issue.id] = (repo, issue)
        return issue

    def _ensure_label(self, repo: _Repo, name: str, color: str = "ededed") -> dict[str, Any]:
        key = name.lower()
        if key not in repo.labels:
            lid = 5_000_000 * (repo.index + 1) + repo.next_label_id
            repo.next_label_id += 1
            repo.labels[key] = {
                "id": lid,
                "node_id": f"LA_fake{lid}",
                "name": name,
                "color": color.lstrip("#").lower(),
                "default": False,
                "description": None,
            }
        return repo.labels[key]

    def _rejects_labels(self, repo: _Repo, names: list[str]) -> bool:
        return self.unknown_labels == "reject" and any(name.lower() not in repo.labels for name in names)

    def _resolve_labels(self, repo: _Repo, names: list[str]) -> list[str]:
        out: list[str] = []
        for name in names:
            if self.unknown_labels != "create" and name.lower() not in repo.labels:
                continue  # "drop" (a "reject" request never gets here)
            canonical = self._ensure_label(repo, name)["name"]  # unknown labels are created (colour ededed)
            if canonical not in out:
                out.append(canonical)
        return out

    def _label_json(self, repo: _Repo, label: dict[str, Any]) -> dict[str, Any]:
        # URLs are rendered per response: labels may be seeded before the port is known.
        url = f"{self.base_url}/repos/{repo.full_name}/labels/{quote(label['name'], safe='')}"
        return {**label, "url": url}

    def _user_json(self, login: str, kind: str = "User") -> dict[str, Any]:
        return {
            "login": login,
            "id": 1 if kind == "User" else 2,
            "node_id": f"U_fake{login}",
            "type": kind,
            "url": f"{self.base_url}/users/{login}",
            "html_url": f"{self.html_base}/{login}",
            "site_admin": False,
        }

    def _repo_json(self, repo: _Repo) -> dict[str, Any]:
        api = f"{self.base_url}/repos/{repo.full_name}"
        return {
            "id": 1000 + repo.index,
            "node_id": f"R_fake{repo.index}",
            "name": repo.name,
            "full_name": repo.full_name,
            "owner": self._user_json(repo.owner, "User" if self._is_user(repo.owner) else "Organization"),
            "private": False,
            "html_url": f"{self.html_base}/{repo.full_name}",
            "url": api,
            "issues_url": f"{api}/issues{{/number}}",
            "labels_url": f"{api}/labels{{/name}}",
            "has_issues": True,
            "default_branch": "main",
            "open_issues_count": sum(1 for i in repo.issues.values() if i.state == "open"),
        }

    def _issue_json(self, repo: _Repo, issue: _Issue) -> dict[str, Any]:
        api = f"{self.base_url}/repos/{repo.full_name}"
        kind = "pull" if issue.is_pr else "issues"
        completed = sum(1 for c in issue.children if self._by_id[c][1].state == "closed")
        total = len(issue.children)
        blocking = sum(1 for b in issue.blocking if self._by_id[b][1].state == "open")
        data: dict[str, Any] = {
            "id": issue.id,
            "node_id": f"I_fake{issue.id}",
            "url": f"{api}/issues/{issue.number}",
            "repository_url": api,
            "labels_url": f"{api}/issues/{issue.number}/labels{{/name}}",
            "comments_url": f"{api}/issues/{issue.number}/comments",
            "events_url": f"{api}/issues/{issue.number}/events",
            "html_url": f"{self.html_base}/{repo.full_name}/{kind}/{issue.number}",
            "number": issue.number,
            "state": issue.state,
            "state_reason": issue.state_reason,
            "title": issue.title,
            "body": issue.body,
            "user": self._user_json("fake-bot"),
            "labels": [self._label_json(repo, repo.labels[name.lower()]) for name in issue.labels],
            "assignee": self._user_json(issue.assignees[0]) if issue.assignees else None,
            "assignees": [self._user_json(login) for login in issue.assignees],
            "milestone": None,
            "locked": False,
            "active_lock_reason": None,
            "comments": 0,
            "created_at": _iso(issue.created_at),
            "updated_at": _iso(issue.updated_at),
            "closed_at": _iso(issue.closed_at),
            "author_association": "OWNER",
            "type": self._type_json(repo.owner, issue.type) if issue.type is not None else None,
        }
        if self.sub_issues:
            data["sub_issues_summary"] = {
                "total": total,
                "completed": completed,
                "percent_completed": (100 * completed // total) if total else 0,
            }
        if self.dependencies:
            data["issue_dependencies_summary"] = {
                "blocked_by": sum(1 for b in issue.blockers if self._by_id[b][1].state == "open"),
                "total_blocked_by": len(issue.blockers),
                "blocking": blocking,
                "total_blocking": len(issue.blocking),
            }
        if issue.parent is not None:
            prepo, parent = self._by_id[issue.parent]
            data["parent_issue_url"] = f"{self.base_url}/repos/{prepo.full_name}/issues/{parent.number}"
        if issue.is_pr:
            data["pull_request"] = {
                "url": f"{api}/pulls/{issue.number}",
                "html_url": data["html_url"],
                "diff_url": f"{data['html_url']}.diff",
                "patch_url": f"{data['html_url']}.patch",
                "merged_at": None,
            }
        return data
