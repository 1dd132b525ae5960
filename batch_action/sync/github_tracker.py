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

import logging
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from github import Auth, Github
from github.GithubException import GithubException
from github.Requester import Requester

from batch_action import __version__
from batch_action.sync.tracker import IssueFields, RateLimit, RemoteIssue, RemoteLabel, Response, ResponseListener

__all__ = ["GitHubTracker"]

_ACCEPT = {"Accept": "application/vnd.github+json"}


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
        **_link_summary(data),
    )


def _label_from_reply(data: object) -> RemoteLabel:
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise GithubException(502, data, None, "the reply holds no label")
    return RemoteLabel(data["name"], str(data.get("description") or ""))


def _link_summary(raw: Mapping[str, object]) -> dict[str, int | None]:
    """Parent and blocked-by count as the listing gives them, read from the raw page data.

    The public properties would complete the object with a GET per issue when a field is missing.
    """
    summary = raw.get("issue_dependencies_summary")
    if not isinstance(summary, dict):
        return {}  # this API (or GHES version) says nothing about links
    parent_url = raw.get("parent_issue_url")
    parent = int(str(parent_url).rstrip("/").rsplit("/", 1)[-1]) if parent_url else None
    blocked = summary.get("total_blocked_by", summary.get("blocked_by"))
    return {"parent_number": parent, "blocked_by_total": int(blocked) if isinstance(blocked, int) else None}


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
    """

    def __init__(
        self,
        token: str,
        repository: str,
        api_url: str,
        *,
        timeout: int = 30,
        on_response: ResponseListener | None = None,
    ) -> None:
        if repository.count("/") != 1 or not all(repository.split("/")):
            raise ValueError(f"repository must be 'owner/name', got {repository!r}")
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

    def _pages(self, path: str, parameters: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every item of a listing, page by page from the JSON, following the Link header as PyGithub's
        PaginatedList does. Not a PaginatedList: it keeps every object it made until it is exhausted (~18 KB an
        issue: 180 MB for a re-run of 10,000 synced items), and only a few fields of each are used."""
        url: str | None = path
        query: dict[str, Any] | None = {"per_page": 100, **(parameters or {})}
        while url is not None:
            with self._call():
                headers, data = self._requester().requestJsonAndCheck(
                    "GET", url, parameters=query, headers=dict(_ACCEPT)
                )
            for item in data if isinstance(data, list) else []:
                if isinstance(item, dict):
                    yield item
            url, query = _next_page(headers), None

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

    def list_synced(self, label: str) -> Iterator[RemoteIssue]:
        for item in self._pages(f"/repos/{self.repository}/issues", {"state": "all", "labels": label}):
            if not item.get("pull_request"):
                yield _remote_from_reply(item)

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
        return [str(label.get("name")) for label in self._pages(f"/repos/{self.repository}/labels")]

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

    def create_issue(self, title: str, body: str, labels: Iterable[str]) -> RemoteIssue:
        payload = {"title": title, "body": body, "labels": list(labels)}
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
        if fields.state is not None:
            payload["state"] = fields.state
        if fields.state_reason is not None:
            payload["state_reason"] = fields.state_reason
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
        return [_remote_from_reply(item) for item in self._pages(f"{self._issue_path(number)}/sub_issues")]

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
        return [_remote_from_reply(item) for item in self._pages(f"{self._issue_path(number)}/dependencies/blocked_by")]

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


def _next_page(headers: Mapping[str, Any]) -> str | None:
    """The `rel="next"` URL of a Link header (absolute; the requester accepts its own host's URLs)."""
    link = next((str(value) for key, value in headers.items() if key.lower() == "link"), "")
    for part in link.split(","):
        target, _, rel = part.partition(";")
        if 'rel="next"' in rel:
            return target.strip().removeprefix("<").removesuffix(">")
    return None
