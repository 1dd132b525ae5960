"""`IssueTracker` on top of PyGithub 2.10.

Design constraints (see docs/pygithub.md):
- One `Github` per worker thread: PyGithub's shared connection object is not thread-safe. Only plain values
  (`RemoteIssue`, numbers, ids) leave this module, so no PyGithub object is ever used by two threads.
- PyGithub's retries and throttling are off (`retry=None`, no sleeps): the engine owns retries, and
  `GithubRetry` re-sends POSTs, which duplicates issues. Errors propagate unchanged for the policy layer.
- Every HTTP response, including pages and error replies, reaches the tracker's `on_response` listener through
  a tap on the "github.Requester" logger, which PyGithub calls in the requesting thread. Transport failures
  (reset, timeout) produce no response and so no callback.
"""

from __future__ import annotations

import email.utils
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import requests
from github import Auth, Github
from github.GithubException import GithubException
from github.Requester import Requester

from batch_action import __version__
from batch_action.sync.graphql import check_reply
from batch_action.sync.tracker import IssueFields, RateLimit, RemoteIssue, RemoteLabel, Response, ResponseListener

__all__ = ["GitHubTracker"]

_ACCEPT = {"Accept": "application/vnd.github+json"}
_Item = TypeVar("_Item")


# ----------------------------------------------------------------------------- response tap


class _CallContext(threading.local):
    """What the tap needs to know about the tracker call running in this thread."""

    listener: ResponseListener | None = None
    origin: str = ""
    mark: float = 0.0  # when the current request started (call start, or the previous response)


_CONTEXT = _CallContext()


class _ResponseTap(logging.Handler):
    """Receives PyGithub's per-response debug record and hands it to the current tracker's listener."""

    def handle(self, record: logging.LogRecord) -> bool:
        # No handler lock: it would serialise every worker thread through one (possibly slow) listener.
        self.emit(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:
        listener = _CONTEXT.listener
        args = record.args
        # Requester.__log args: verb, scheme, host, url, request headers, body, status, response headers, text
        if listener is None or not isinstance(args, tuple) or len(args) != 9 or not isinstance(args[7], dict):
            return
        now = time.perf_counter()
        elapsed, _CONTEXT.mark = now - _CONTEXT.mark, now
        status = args[6] if isinstance(args[6], int) else 0
        headers = {str(k).lower(): str(v) for k, v in args[7].items()}
        listener(Response(str(args[0]), f"{_CONTEXT.origin}{args[3]}", status, headers, elapsed))


_TAP_LOCK = threading.Lock()


def _install_tap() -> None:
    """Once per process. propagate=False keeps PyGithub's debug records (full bodies) out of every log."""
    with _TAP_LOCK:
        logger = logging.getLogger("github.Requester")
        if any(isinstance(h, _ResponseTap) for h in logger.handlers):
            return
        logger.addHandler(_ResponseTap())
        logger.setLevel(logging.DEBUG)
        logger.propagate = False


# ----------------------------------------------------------------------------- helpers


class _Secret:
    """Holds the token so that repr(), vars() and tracebacks never show it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "<redacted>"

    __str__ = __repr__


def _remote_from_reply(data: object) -> RemoteIssue:
    """An issue from the API's JSON as it came (a reply, a page item): building PyGithub's Issue (with its user,
    labels and milestone objects) for the five fields used here cost more CPU than sending the request."""
    if not isinstance(data, dict) or not isinstance(data.get("number"), int):
        raise GithubException(502, data, None, "the reply holds no issue")
    labels = data.get("labels") or []
    return RemoteIssue(
        number=data["number"],
        id=int(data.get("id") or 0),
        title=str(data.get("title") or ""),
        body=str(data.get("body") or ""),
        state=str(data.get("state") or "open"),
        labels=tuple(str(label.get("name")) if isinstance(label, dict) else str(label) for label in labels),
        state_reason=data.get("state_reason"),
        html_url=str(data.get("html_url") or ""),
        node_id=str(data.get("node_id") or ""),
        type=_type_name(data.get("type")),
        **_link_summary(data),
    )


def _type_name(value: object) -> str | None:
    """An issue's `type` as the API gives it (an object with a name, or null), as its name."""
    if isinstance(value, dict) and isinstance(value.get("name"), str):
        return str(value["name"])
    return None


def _label_from_reply(data: object) -> RemoteLabel:
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise GithubException(502, data, None, "the reply holds no label")
    return RemoteLabel(data["name"], str(data.get("description") or ""))


def _link_summary(raw: Mapping[str, object]) -> dict[str, int | None]:
    """Parent, blocked-by and sub-issue counts as the listing gives them, read from the raw page data.

    The public properties would complete the object with a GET per issue when a field is missing.
    """
    children = raw.get("sub_issues_summary")
    total = children.get("total") if isinstance(children, dict) else None
    found: dict[str, int | None] = {"sub_issues_total": total} if isinstance(total, int) else {}
    summary = raw.get("issue_dependencies_summary")
    if not isinstance(summary, dict):
        return found  # this API (or GHES version) says nothing about links
    parent_url = raw.get("parent_issue_url")
    parent = int(str(parent_url).rstrip("/").rsplit("/", 1)[-1]) if parent_url else None
    blocked = summary.get("total_blocked_by", summary.get("blocked_by"))
    return found | {"parent_number": parent, "blocked_by_total": int(blocked) if isinstance(blocked, int) else None}


def _read_environment_once(gh: Github) -> None:
    """Take proxy and CA-bundle settings from the environment now, for every request of this client.

    With `trust_env` on, requests re-reads the proxy variables (walking all of `os.environ`) on every request:
    17 % of the action's CPU in a 1,000-issue sync. The settings are the same ones requests would find
    (HTTP(S)_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE), read once per thread's client. PyGithub has
    no public hook for its session, hence the private name; if it changes, requests simply keep reading the
    environment themselves (tests pin the effect on the PyGithub version in use).
    """
    create = getattr(gh.requester, "_Requester__createConnection", None)
    connection = create() if callable(create) else None
    session = getattr(connection, "session", None)
    if connection is None or not isinstance(session, requests.Session):
        return
    url = f"{connection.protocol}://{connection.host}:{connection.port}/"
    found = session.merge_environment_settings(url, {}, None, None, None)
    session.proxies.update(found["proxies"])
    if connection.verify is True:  # PyGithub's default: the environment's bundle, if one is named
        connection.verify = found["verify"]
    session.trust_env = False


def _error_codes(exc: GithubException) -> set[str]:
    data = exc.data if isinstance(exc.data, dict) else {}
    errors = data.get("errors")
    return {str(e.get("code")) for e in errors if isinstance(e, dict)} if isinstance(errors, list) else set()


# ----------------------------------------------------------------------------- the adapter


class GitHubTracker:
    """The `IssueTracker` port implemented with PyGithub; safe to call from many threads at once.

    `api_url` is e.g. "https://api.github.com", "https://HOST/api/v3" (GHES) or a loopback fake's base URL.
    An empty `token` sends no Authorization header. `on_response` is called, in the calling thread, for every
    HTTP response this tracker receives; it must not raise (its exception would surface from the call).
    `listing_concurrency` pages of a listing are read at once once the first page names the last (1: one by one).
    """

    def __init__(
        self,
        token: str,
        repository: str,
        api_url: str,
        *,
        timeout: int = 30,
        on_response: ResponseListener | None = None,
        listing_concurrency: int = 1,
    ) -> None:
        if repository.count("/") != 1 or not all(repository.split("/")):
            raise ValueError(f"repository must be 'owner/name', got {repository!r}")
        if listing_concurrency < 1:
            raise ValueError(f"listing_concurrency must be at least 1, got {listing_concurrency}")
        self.listing_concurrency = listing_concurrency
        self._token = _Secret(token)
        self.repository = repository
        self.api_url = api_url.rstrip("/")
        self.timeout = int(timeout)  # PyGithub asserts an int
        self._on_response = on_response
        parts = urlsplit(self.api_url)
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self._local = threading.local()
        self._clients: list[Github] = []
        self._clients_lock = threading.Lock()
        # Each thread's last listing's `Date` (the run lists ahead in one thread and looks again in another).
        self._listing = threading.local()
        _install_tap()

    def __repr__(self) -> str:
        return f"GitHubTracker(repository={self.repository!r}, api_url={self.api_url!r})"

    # -- clients

    def _github(self) -> Github:
        gh: Github | None = getattr(self._local, "github", None)
        if gh is None:
            token = self._token.reveal()
            gh = Github(
                auth=Auth.Token(token) if token else None,
                base_url=self.api_url,
                timeout=self.timeout,
                user_agent=f"batch-action/{__version__}",
                per_page=100,
                retry=None,  # no re-sent POSTs: an unknown outcome is reconciled by the engine
                pool_size=1,  # this thread is the only user
                seconds_between_requests=None,
                seconds_between_writes=None,
            )
            _read_environment_once(gh)
            self._local.github = gh
            with self._clients_lock:
                self._clients.append(gh)
        return gh

    def _requester(self) -> Requester:
        return self._github().requester

    def _issue_path(self, number: int) -> str:
        return f"/repos/{self.repository}/issues/{number}"

    def close(self) -> None:
        """Close every thread's connection. Call when no other thread is using the tracker."""
        with self._clients_lock:
            clients, self._clients = self._clients, []
        for gh in clients:
            gh.close()
        self._local = threading.local()

    def __enter__(self) -> GitHubTracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- response tap plumbing

    @contextmanager
    def _call(self) -> Iterator[None]:
        """Route responses seen in this thread to this tracker's listener for the duration of a call."""
        saved = (_CONTEXT.listener, _CONTEXT.origin, _CONTEXT.mark)
        _CONTEXT.listener, _CONTEXT.origin, _CONTEXT.mark = (
            self._on_response,
            self._origin,
            time.perf_counter(),
        )
        try:
            yield
        finally:
            _CONTEXT.listener, _CONTEXT.origin, _CONTEXT.mark = saved

    def _get_page(
        self, url: str, convert: Callable[[dict[str, Any]], _Item | None], query: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], list[_Item]]:
        """One page, from whichever thread calls it (each thread has its own client: a shared one is not safe),
        its items converted there: a page waiting its turn holds the few fields kept, not the whole JSON."""
        with self._call():
            headers, data = self._requester().requestJsonAndCheck("GET", url, parameters=query, headers=dict(_ACCEPT))
        items = [convert(item) for item in data if isinstance(item, dict)] if isinstance(data, list) else []
        return headers, [item for item in items if item is not None]

    def _pages(
        self,
        path: str,
        convert: Callable[[dict[str, Any]], _Item | None],
        parameters: dict[str, Any] | None = None,
        on_first: Callable[[Mapping[str, Any]], None] | None = None,
    ) -> Iterator[_Item]:
        """Every item of a listing, in page order, read from the JSON. Not a PaginatedList: it keeps every object
        it made until it is exhausted (~18 KB an issue: 180 MB for a re-run of 10,000 synced items), and only a
        few fields of each are used.

        The first page's Link header names the last page: pages 2 to last are then read `listing_concurrency` at
        a time (a re-run's time is mostly this listing, and the pages do not depend on each other), as many held
        at once (a page of 100 issues is ~1 MB parsed). The last page's own Link is followed one page at a time,
        so a listing that grew while it was read is still read to its end; without a `rel="last"` page number,
        every page is.
        """
        headers, items = self._get_page(path, convert, {"per_page": 100, **(parameters or {})})
        if on_first is not None:
            on_first(headers)
        yield from items
        last = _last_page(headers)
        if last is not None and self.listing_concurrency > 1:
            headers = yield from self._pages_at_once(*last, convert)
        url = _next_page(headers)
        while url is not None:
            headers, items = self._get_page(url, convert)
            yield from items
            url = _next_page(headers)

    def _pages_at_once(
        self, template: str, last: int, convert: Callable[[dict[str, Any]], _Item | None]
    ) -> Generator[_Item, None, dict[str, Any]]:
        """Pages 2..last of `template` (the rel="last" URL), in order; returns the last page's headers."""
        numbers = iter(range(2, last + 1))
        window: deque[Future[tuple[dict[str, Any], list[_Item]]]] = deque()
        headers: dict[str, Any] = {}
        with ThreadPoolExecutor(self.listing_concurrency, thread_name_prefix="listing") as pool:
            try:
                for number in numbers:
                    window.append(pool.submit(self._get_page, _with_page(template, number), convert))
                    if len(window) == self.listing_concurrency:
                        break
                while window:
                    headers, items = window.popleft().result()
                    number = next(numbers, 0)
                    if number:
                        window.append(pool.submit(self._get_page, _with_page(template, number), convert))
                    yield from items
            finally:
                for future in window:  # a failed page, or a caller that stopped reading: send no more
                    future.cancel()
        return headers

    def _post(self, url: str, payload: dict[str, Any]) -> None:
        self._requester().requestJsonAndCheck("POST", url, input=payload, headers=dict(_ACCEPT))

    # -- IssueTracker

    def rate_limit(self) -> RateLimit | None:
        with self._call():
            try:
                _, data = self._requester().requestJsonAndCheck("GET", "/rate_limit", headers=dict(_ACCEPT))
            except GithubException as exc:
                if exc.status == 404:  # GHES with rate limits off
                    return None
                raise
        core = data.get("resources", {}).get("core") if isinstance(data, dict) else None
        if not isinstance(core, dict):
            return None
        try:
            return RateLimit(int(core["limit"]), int(core["remaining"]), float(core["reset"]))
        except (KeyError, TypeError, ValueError):
            return None

    def list_issue_types(self, org: str) -> list[str] | None:
        """The names of the organisation's issue types (enabled ones); None when `org` is no organisation
        (a personal account: 404) or the server has no issue types."""
        with self._call():
            try:
                _, data = self._requester().requestJsonAndCheck(
                    "GET", f"/orgs/{quote(org, safe='')}/issue-types", headers=dict(_ACCEPT)
                )
            except GithubException as exc:
                if exc.status == 404:
                    return None
                raise
        items = data if isinstance(data, list) else []
        return [
            str(item["name"])
            for item in items
            if isinstance(item, dict) and isinstance(item.get("name"), str) and item.get("is_enabled", True)
        ]

    def graphql(self, query: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        """One GraphQL request (POST to the API's GraphQL URL: /graphql, or /api/graphql on GHES), through this
        thread's client: the same auth, timeout and response tap as REST. Returns `data`; errors raise
        `GraphQLError` (`sync.graphql`)."""
        with self._call():
            requester = self._requester()
            headers, reply = requester.requestJsonAndCheck(
                "POST", requester.graphql_url, input={"query": query, "variables": dict(variables)}
            )
        return check_reply(headers, reply)

    def list_synced(self, label: str, since: float | None = None) -> Iterator[RemoteIssue]:
        query = {"state": "all", "labels": label}
        if since is not None:  # GitHub's format, to the second (`updated_at` has no finer grain)
            query["since"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(since))
        self._listing.at = None
        yield from self._pages(f"/repos/{self.repository}/issues", _issue_not_pull, query, on_first=self._note_date)

    def _note_date(self, headers: Mapping[str, Any]) -> None:
        date = next((str(value) for key, value in headers.items() if key.lower() == "date"), "")
        try:
            self._listing.at = email.utils.parsedate_to_datetime(date).timestamp() if date else None
        except (TypeError, ValueError):  # a reply's header: untrusted, and optional
            self._listing.at = None

    def listed_at(self) -> float | None:
        at: float | None = getattr(self._listing, "at", None)
        return at

    def get_issue(self, number: int) -> RemoteIssue | None:
        with self._call():
            try:
                _, data = self._requester().requestJsonAndCheck("GET", self._issue_path(number))
            except GithubException as exc:
                if exc.status in (404, 410):  # missing, or issues disabled / deleted
                    return None
                raise
            if not isinstance(data, dict) or data.get("pull_request"):
                return None
            return _remote_from_reply(data)

    def list_labels(self) -> list[str]:
        return list(self._pages(f"/repos/{self.repository}/labels", lambda label: str(label.get("name"))))

    def create_label(self, name: str, color: str, description: str = "") -> bool:
        payload = {"name": name, "color": color.lstrip("#")}
        if description:
            payload["description"] = description
        with self._call():
            try:
                self._post(f"/repos/{self.repository}/labels", payload)
            except GithubException as exc:
                if exc.status == 422 and "already_exists" in _error_codes(exc):
                    return False  # another writer made it first: fine
                raise
        return True

    def _label_path(self, name: str) -> str:
        return f"/repos/{self.repository}/labels/{quote(name, safe='')}"

    def get_label(self, name: str) -> RemoteLabel | None:
        with self._call():
            try:
                _, data = self._requester().requestJsonAndCheck("GET", self._label_path(name), headers=dict(_ACCEPT))
            except GithubException as exc:
                if exc.status == 404:
                    return None
                raise
        return _label_from_reply(data)

    def update_label(
        self, name: str, *, new_name: str | None = None, description: str | None = None
    ) -> RemoteLabel | None:
        payload: dict[str, Any] = {}
        if new_name is not None:
            payload["new_name"] = new_name
        if description is not None:
            payload["description"] = description
        with self._call():
            try:
                _, data = self._requester().requestJsonAndCheck(
                    "PATCH", self._label_path(name), input=payload, headers=dict(_ACCEPT)
                )
            except GithubException as exc:
                if exc.status == 404 or (exc.status == 422 and "already_exists" in _error_codes(exc)):
                    return None
                raise
        return _label_from_reply(data)

    def delete_label(self, name: str) -> bool:
        with self._call():
            try:
                self._requester().requestJsonAndCheck("DELETE", self._label_path(name), headers=dict(_ACCEPT))
            except GithubException as exc:
                if exc.status == 404:
                    return False
                raise
        return True

    def create_issue(
        self,
        title: str,
        body: str,
        labels: Iterable[str],
        assignees: Iterable[str] = (),
        *,
        issue_type: str | None = None,
    ) -> RemoteIssue:
        payload: dict[str, Any] = {"title": title, "body": body, "labels": list(labels)}
        if logins := list(assignees):
            payload["assignees"] = logins
        if issue_type is not None:
            payload["type"] = issue_type
        with self._call():
            _, data = self._requester().requestJsonAndCheck("POST", f"/repos/{self.repository}/issues", input=payload)
            return _remote_from_reply(data)

    def update_issue(self, number: int, fields: IssueFields) -> RemoteIssue:
        payload: dict[str, Any] = {}
        if fields.title is not None:
            payload["title"] = fields.title
        if fields.body is not None:
            payload["body"] = fields.body
        if fields.labels is not None:
            payload["labels"] = list(fields.labels)  # replaces the whole set; [] clears it
        if fields.assignees is not None:
            payload["assignees"] = list(fields.assignees)
        if fields.state is not None:
            payload["state"] = fields.state
        if fields.state_reason is not None:
            payload["state_reason"] = fields.state_reason
        if fields.type is not None:
            payload["type"] = fields.type or None  # "" clears the type
        with self._call():
            _, data = self._requester().requestJsonAndCheck("PATCH", self._issue_path(number), input=payload)
            return _remote_from_reply(data)

    def add_labels(self, number: int, labels: Iterable[str]) -> tuple[str, ...]:
        with self._call():
            _, data = self._requester().requestJsonAndCheck(
                "POST", f"{self._issue_path(number)}/labels", input={"labels": list(labels)}
            )
        items = data if isinstance(data, list) else []
        return tuple(str(label.get("name")) for label in items if isinstance(label, dict))

    def list_sub_issues(self, number: int) -> list[RemoteIssue]:
        return list(self._pages(f"{self._issue_path(number)}/sub_issues", _remote_from_reply))

    def get_parent(self, number: int) -> RemoteIssue | None:
        with self._call():
            try:
                _, data = self._requester().requestJsonAndCheck("GET", f"{self._issue_path(number)}/parent")
            except GithubException as exc:
                if exc.status == 404:  # no parent
                    return None
                raise
        return _remote_from_reply(data)

    def add_sub_issue(self, parent_number: int, child_id: int) -> None:
        # replace_parent: the files are the source of truth, so a child filed under another parent moves here.
        url = f"{self._issue_path(parent_number)}/sub_issues"
        with self._call():
            try:
                self._post(url, {"sub_issue_id": child_id, "replace_parent": True})
            except GithubException as exc:
                # GitHub's wording for "already a sub-issue of this parent" is unverified: check the link.
                if exc.status == 422 and any(i.id == child_id for i in self.list_sub_issues(parent_number)):
                    return
                raise

    def remove_sub_issue(self, parent_number: int, child_id: int) -> None:
        with self._call():
            try:
                self._requester().requestJsonAndCheck(
                    "DELETE",
                    f"{self._issue_path(parent_number)}/sub_issue",
                    input={"sub_issue_id": child_id},
                    headers=dict(_ACCEPT),
                )
            except GithubException as exc:
                if exc.status != 404:  # 404: not linked (any more)
                    raise

    def list_blocked_by(self, number: int) -> list[RemoteIssue]:
        return list(self._pages(f"{self._issue_path(number)}/dependencies/blocked_by", _remote_from_reply))

    def add_blocked_by(self, number: int, blocker_id: int) -> None:
        url = f"{self._issue_path(number)}/dependencies/blocked_by"
        with self._call():
            try:
                self._post(url, {"issue_id": blocker_id})
            except GithubException as exc:
                if exc.status == 422 and (
                    "already_exists" in _error_codes(exc)
                    or any(i.id == blocker_id for i in self.list_blocked_by(number))
                ):
                    return
                raise

    def remove_blocked_by(self, number: int, blocker_id: int) -> None:
        with self._call():
            try:
                self._requester().requestJsonAndCheck(
                    "DELETE", f"{self._issue_path(number)}/dependencies/blocked_by/{blocker_id}"
                )
            except GithubException as exc:
                if exc.status != 404:
                    raise


def _issue_not_pull(data: dict[str, Any]) -> RemoteIssue | None:
    """A listed issue; None for a pull request (the issues listing has both)."""
    return None if data.get("pull_request") else _remote_from_reply(data)


def _link(headers: Mapping[str, Any], rel: str) -> str | None:
    """The URL of a Link header's `rel` (absolute; the requester accepts its own host's URLs)."""
    link = next((str(value) for key, value in headers.items() if key.lower() == "link"), "")
    for part in link.split(","):
        target, _, rels = part.partition(";")
        if f'rel="{rel}"' in rels:
            return target.strip().removeprefix("<").removesuffix(">")
    return None


def _next_page(headers: Mapping[str, Any]) -> str | None:
    return _link(headers, "next")


def _last_page(headers: Mapping[str, Any]) -> tuple[str, int] | None:
    """The rel="last" URL and its page number, when the listing is paged by number (not by cursor)."""
    url = _link(headers, "last")
    page = dict(parse_qsl(urlsplit(url).query)).get("page", "") if url else ""
    return (url, int(page)) if url and page.isdigit() and int(page) >= 2 else None


def _with_page(url: str, number: int) -> str:
    """`url` (the rel="last" link) asking for page `number` instead, every other parameter as GitHub gave it."""
    parts = urlsplit(url)
    query = [(key, str(number) if key == "page" else value) for key, value in parse_qsl(parts.query)]
    return urlunsplit(parts._replace(query=urlencode(query)))
