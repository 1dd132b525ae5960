"""The run's project: read and checked before planning, written by the `project` operations.

`ProjectSync.read` (each plan) looks the project up with its fields and first page of items, reads the other
pages, checks the token may write it and the mapping and the files' values against its fields, and returns a
`ProjectView`: the board, each item's field values in the board's terms, and the work each item needs. Any
problem is a `SettingsError` before anything is written (exit 2): a token that cannot reach or write the project
names `project-token`. `ProjectWriter` is the apply side: one `project` operation adds an item and sets its
changed fields, a request each, paced as content-creating writes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from batch_action.engine.failures import FailureClass, JobError
from batch_action.model import Document
from batch_action.projects.board import Board, BoardItem, ProjectRef, issue_ids
from batch_action.projects.changes import ItemWork, item_work
from batch_action.projects.client import ProjectClient
from batch_action.projects.mapping import FieldMap, parse_mapping, resolve_mapping, values_for
from batch_action.settings import SettingsError
from batch_action.sync.render import IssueSpec
from batch_action.sync.tracker import RemoteIssue

__all__ = ["ProjectSync", "ProjectView", "ProjectWriter", "token_help"]


def token_help(url: str, reason: str) -> str:
    return (
        f"input `project-token`: the token cannot {reason} the project {url}. GITHUB_TOKEN cannot reach "
        "organisation or user projects: pass a token that may write it, from a GitHub App "
        "(actions/create-github-app-token, with the organisation permission Projects: read and write) or a "
        "fine-grained personal access token (Projects: read and write), as `project-token`"
    )


@dataclass
class ProjectView:
    """One plan's look at the board."""

    board: Board
    url: str
    fields: tuple[FieldMap, ...]
    items: dict[str, BoardItem]  # by the issue's GraphQL id
    listed: int  # items of the board (issues of any repository)
    values: dict[str, tuple[tuple[str, str], ...]]  # item key -> (field, value) wanted
    notice: str = ""
    work: dict[str, ItemWork] = field(default_factory=dict)  # item key -> what the board needs

    def plan(
        self,
        specs: Mapping[str, IssueSpec],
        issues: Mapping[str, RemoteIssue],
        recorded: Mapping[str, frozenset[str] | None],
    ) -> None:
        """Each item's board work: from its spec's wanted values, the marker's hashes and the board's item."""
        self.work = {}
        for key, spec in specs.items():
            remote = issues.get(key)
            item = self.items.get(remote.node_id) if remote is not None and remote.node_id else None
            wanted = spec.project_fields
            work = item_work(wanted, recorded.get(key) if remote is not None else None, item, self.board)
            if work is not None:
                self.work[key] = work

    @property
    def mutations(self) -> int:
        return sum(work.mutations for work in self.work.values())


class ProjectSync:
    """The `project`, `project-token` and `project-fields` inputs, for the whole run."""

    def __init__(self, client: ProjectClient, ref: ProjectRef, url: str, mapping_text: str = "") -> None:
        self.client = client
        self.ref = ref
        self.url = url
        mapping, problems = parse_mapping(mapping_text)
        if problems:
            raise SettingsError(problems)
        self.mapping = mapping

    def read(self, documents: Iterable[Document]) -> ProjectView | SettingsError:
        """The view, or the settings problems (returned, not raised: this runs under the read retries, which
        would take an exception for a failed request)."""
        try:
            return self._read(documents)
        except SettingsError as exc:
            return exc

    def _read(self, documents: Iterable[Document]) -> ProjectView:
        try:
            found = self.client.lookup(self.ref)
        except Exception as exc:  # the adapter's (PyGithub's) error, read by its status: the port has none of its own
            status = _status(exc)
            if status in (401, 403) and not _rate_limited(exc):
                raise SettingsError([token_help(self.url, "read") + f" (GitHub said: {_said(exc)})"]) from exc
            if status == 404:
                found = None
            else:
                raise
        if found is None:
            place = "user" if self.ref.user else "organisation"
            raise SettingsError(
                [
                    f"input `project`: {self.url} names no project the token can see (no project "
                    f"{self.ref.number} of the {place} {self.ref.owner}, or it is private to the token); "
                    "check the URL, or pass a `project-token` that may read and write it"
                ]
            )
        board, first, cursor = found
        if not board.can_update:
            raise SettingsError([token_help(self.url, "write")])
        items = [*first, *self.client.items(board, cursor)]
        resolved = resolve_mapping(self.mapping, board, self.url)
        docs = list(documents)
        values, value_problems = values_for(resolved.fields, docs)
        problems = resolved.problems + value_problems
        if problems:
            raise SettingsError(problems)
        return ProjectView(board, self.url, resolved.fields, issue_ids(items), len(items), values, resolved.notice)


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status", None)
    return status if isinstance(status, int) else None


def _rate_limited(exc: BaseException) -> bool:
    return "rate limit" in str(getattr(exc, "data", "")).lower()


def _said(exc: BaseException) -> str:
    data = getattr(exc, "data", None)
    message = data.get("message") if isinstance(data, dict) else None
    return str(message or _status(exc) or type(exc).__name__)[:300]


class ProjectWriter:
    """The apply side: `project` operations, from any worker thread."""

    def __init__(
        self,
        client: ProjectClient,
        view: ProjectView,
        node_id: Callable[[str], str | None],
        pace: Callable[[], None] | None = None,
    ) -> None:
        self.client = client
        self.view = view
        self.node_id = node_id
        self.pace = pace
        self._lock = threading.Lock()
        self.mutations = 0  # sent, for the report

    def apply(self, key: str) -> dict[str, object]:
        work = self.view.work.get(key)
        if work is None:
            return {"project": "nothing to do"}
        content = self.node_id(key)
        with self._lock:
            item = self.view.items.get(content) if content else None
        writes = work.writes
        sent = 0  # the engine paced the operation's first request; each further one waits for its own token
        try:
            if item is None:
                if not content:
                    raise JobError(FailureClass.ITEM, f"the issue of {key} has no GraphQL id to put on the project")
                item_id = self.client.add_item(self.view.board, content)
                sent += 1
                self._count(1)
                with self._lock:  # a retry of this operation finds the item, and adds it no second time
                    self.view.items[content] = BoardItem(item_id, content, {})
                if not work.add:  # planned as on the board, but a person took it off meanwhile
                    writes = tuple(write for write in writes if write.value)
            else:
                item_id = item.id
            if writes:
                if sent:
                    self._paced()
                self.client.write_fields(self.view.board, item_id, writes)
                self._count(len(writes))
        except Exception as exc:  # the adapter's error, by its status (see `read`)
            if _status(exc) in (401, 403) and not _rate_limited(exc):
                raise JobError(FailureClass.AUTH, token_help(self.view.url, "write") + f" ({_said(exc)})") from exc
            raise
        return {"item": item_id, "added": item is None, "fields": [write.name for write in writes]}

    def _paced(self) -> None:
        if self.pace is not None:
            self.pace()  # a mutation is a content-creating write for GitHub's secondary limits

    def _count(self, n: int) -> None:
        with self._lock:
            self.mutations += n
