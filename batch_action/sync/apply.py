"""Apply a plan: its operations become engine jobs, and each job is one call (or a few) through the tracker.

Issue numbers and database ids become known as creates land; they are kept in an `IssueRegistry` that every
worker reads, and each one is written to the journal the moment it is known (the engine journals job results).
A create whose previous attempt had an unknown outcome (timeout, 5xx, dropped connection) is never re-sent
blindly: the registry is refreshed from the marker listing first, and a create that landed becomes an update.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from github.GithubException import GithubException

from batch_action.engine.failures import FailureClass, JobError
from batch_action.engine.policy import Attempt, GaveUp
from batch_action.sync.features import Feature, ServerFeatures
from batch_action.sync.issue_types import type_not_kept
from batch_action.sync.plan import Operation
from batch_action.sync.refusals import Refusal, refusal_error, refusal_of
from batch_action.sync.render import SYNC_LABEL, IssueSpec, label_colours, read_marker, render_body
from batch_action.sync.tracker import IssueFields, IssueTracker, RemoteIssue


@dataclass(frozen=True, slots=True)
class Known:
    number: int
    id: int


class IssueRegistry:
    """Item key -> (issue number, database id), shared by the worker threads."""

    def __init__(self, issues: Mapping[str, RemoteIssue], *, node_ids: bool = True) -> None:
        """`node_ids`: keep each issue's GraphQL id, which only the project's writes need (~100 bytes an issue)."""
        self._lock = threading.Lock()
        self._known = {key: Known(issue.number, issue.id) for key, issue in issues.items()}
        self._ids = {known.id for known in self._known.values()}  # kept as issues land: asked once per re-link
        # Each issue's type as GitHub last showed it, and its GraphQL id (for project items).
        self._types = {key: issue.type for key, issue in issues.items() if issue.type is not None}
        self._keeps_node_ids = node_ids
        self._node_ids = {key: issue.node_id for key, issue in issues.items() if issue.node_id} if node_ids else {}

    def type_of(self, key: str) -> str | None:
        with self._lock:
            return self._types.get(key)

    def node_id(self, key: str) -> str | None:
        with self._lock:
            return self._node_ids.get(key)

    def saw(self, key: str, issue: RemoteIssue) -> None:
        """What a write's reply showed of the issue: its type and GraphQL id."""
        with self._lock:
            if issue.type is not None:
                self._types[key] = issue.type
            else:
                self._types.pop(key, None)
            if issue.node_id and self._keeps_node_ids:
                self._node_ids[key] = issue.node_id

    def get(self, key: str) -> Known | None:
        with self._lock:
            return self._known.get(key)

    def put(self, key: str, number: int, id_: int) -> None:
        with self._lock:
            self._known[key] = Known(number, id_)
            self._ids.add(id_)

    def manages(self, issue_id: int) -> bool:
        """Whether the issue with this database id is one of the sync's items."""
        with self._lock:
            return issue_id in self._ids


class Labels:
    """Makes sure the labels an issue is written with end up on it, spending as few requests as GitHub allows.

    The planned label jobs make the styled labels (kinds and the sync label) once each. Other labels (`epic:<name>`,
    the `labels` input) are named in the issue write itself: GitHub makes a missing one on first use, so a first
    sync of many epics costs no request per epic. That behaviour is undocumented (github-api.md §2), so every write
    is checked. When GitHub dropped a label, or refused the write (422) while a named label was missing, the label
    is created, the labels added again, and from then on every label is made before the write that names it.
    """

    def __init__(
        self,
        tracker: IssueTracker,
        colours: Mapping[str, str],
        pace: Callable[[], None] | None,
        listed: Callable[[], list[str] | None] | None = None,
    ) -> None:
        """`listed`: the repository's labels, read before the engine started (None from it: list them here)."""
        self.tracker = tracker
        self._prelisted = listed
        self.colours = colours
        self.pace = pace
        self.made_on_first_use = True  # False once this repository has shown it does not make them
        self._lock = threading.Lock()
        self._existing: set[str] | None = None  # lower-case names, listed once, then kept up to date
        self._making: dict[str, threading.Lock] = {}  # one lock per label: two writers never both POST it

    def ensure(self, name: str) -> bool:
        """Create the label unless it exists; True when this call created it."""
        key = name.lower()
        existing = self._listed()
        if key in existing:
            return False
        with self._lock:
            making = self._making.setdefault(key, threading.Lock())
        with making:
            if key in existing:
                return False  # another writer made it while this one waited
            if self.pace is not None:
                self.pace()  # a label is content too: it counts against GitHub's content-creation limit
            created = self.tracker.create_label(name, self.colours.get(name, "ededed"))
            with self._lock:
                existing.add(key)
        return created

    def write(self, labels: tuple[str, ...], send: Callable[[], RemoteIssue]) -> RemoteIssue:
        """`send` writes the issue with `labels`; when GitHub refused it for want of a label, make them and resend."""
        if not self.made_on_first_use:
            self._ensure_all(labels)
            return send()
        try:
            return send()
        except GithubException as exc:
            # Only a refusal for a missing label is one that making labels cures. A 422 is a definite refusal
            # (nothing was written), so sending again cannot duplicate.
            if refusal_of(exc) is not Refusal.LABEL_MISSING:
                raise
            # Labels all listed, and no other writer has been making them: the refusal is not one labels cure.
            # (When another writer met the same refusal meanwhile, it has made, or is making, the label.)
            if self.made_on_first_use and not self._missing(labels):
                raise
        self.made_on_first_use = False
        self._ensure_all(labels)
        return send()

    def keep(self, issue: RemoteIssue, labels: tuple[str, ...]) -> None:
        """Put back any label GitHub silently left off `issue`; fail the item when it will not keep them."""
        dropped = _absent(labels, issue.labels)
        if not dropped:
            return
        self.made_on_first_use = False
        self._ensure_all(dropped)
        if self.pace is not None:
            self.pace()
        still = _absent(dropped, self.tracker.add_labels(issue.number, dropped))
        if still:
            raise JobError(
                FailureClass.ITEM,
                f"GitHub left the labels {', '.join(still)} off issue #{issue.number}; the token needs permission "
                "to label issues (push access; `issues: write` for GITHUB_TOKEN)",
            )

    def _ensure_all(self, labels: tuple[str, ...]) -> None:
        for name in labels:
            self.ensure(name)

    def _missing(self, labels: tuple[str, ...]) -> bool:
        existing = self._listed()
        return any(name.lower() not in existing for name in labels)

    def _listed(self) -> set[str]:
        """The repository's labels, listed once for every caller (the others wait for the first)."""
        with self._lock:
            if self._existing is None:
                names = self._read_ahead()
                self._existing = {name.lower() for name in (self.tracker.list_labels() if names is None else names)}
            return self._existing

    def _read_ahead(self) -> list[str] | None:
        if self._prelisted is None:
            return None
        try:
            return self._prelisted()
        except GaveUp:  # that read gave up: this job lists them again, under the engine's own retries
            return None


def _absent(wanted: tuple[str, ...], have: tuple[str, ...]) -> tuple[str, ...]:
    kept = {name.lower() for name in have}
    return tuple(name for name in wanted if name.lower() not in kept)


_SHOWN_IN_BODY: dict[str, object] = {
    "shown_in_body": True
}  # the server lacks the endpoint: the body shows the relation


class Applier:
    """The engine's execute callable: one operation, one attempt."""

    def __init__(
        self,
        specs: Mapping[str, IssueSpec],
        tracker: IssueTracker,
        registry: IssueRegistry,
        source_url: Callable[[str], str],
        read_body: Callable[[IssueSpec], str],
        *,
        verify_links: bool = False,
        manage_parents: bool = True,
        pace: Callable[[], None] | None = None,
        features: ServerFeatures | None = None,
        project: Callable[[str], dict[str, object]] | None = None,
        listed_labels: Callable[[], list[str] | None] | None = None,
    ) -> None:
        """`read_body` gives an item's markdown when its issue is written (it may raise `JobError`).
        `verify_links`: read an issue's blockers before adding one (replay of a checkpoint older than the
        truth: a link made after it was written must not be sent twice). `manage_parents` (the `sub-issues`
        input): a re-link of an item without a parent removes the sub-issue link the sync made earlier.
        `features`: the run's verdict on the link endpoints; a link to a missing one is shown in the body only.
        `project`: an item's board work (projects/sync.py `ProjectWriter.apply`), None without a project.
        `listed_labels`: the repository's labels, read before the engine started (`Labels`)."""
        self.features = features or ServerFeatures()
        self.project = project
        self.read_body = read_body
        self.verify_links = verify_links
        self.manage_parents = manage_parents
        self.specs = specs
        self.tracker = tracker
        self.registry = registry
        self.source_url = source_url
        self.labels = Labels(tracker, label_colours(list(specs.values())), pace, listed_labels)

    def __call__(self, op: Operation, attempt: Attempt) -> object:
        handler = getattr(self, f"_{op.action.value.replace('-', '_')}")
        try:
            result: object = handler(op, attempt)
        except GithubException as exc:
            refusal = refusal_of(exc)
            if refusal is None:
                raise
            raise refusal_error(exc, refusal) from exc
        return result

    # -- operations -----------------------------------------------------------------------------------------
    def _labels(self, op: Operation, attempt: Attempt) -> dict[str, object]:
        assert op.target is not None
        return {"label": op.target, "created": self.labels.ensure(op.target)}

    def _create(self, op: Operation, attempt: Attempt) -> dict[str, object]:
        spec = self.specs[op.key]
        known = self.registry.get(op.key)
        if known is None and attempt.previous is not None and attempt.previous.outcome_unknown:
            landed = self._find_by_marker(op.key)
            if landed is not None:
                self.registry.put(op.key, landed.number, landed.id)
                known = Known(landed.number, landed.id)
        if known is not None:
            # The issue exists (an earlier attempt created it, perhaps without an answer): bring it up to date.
            issue = self._write_fields(known.number, spec)
            return {"number": issue.number, "id": issue.id, "reconciled": True}
        body = self._body(spec)
        typed = {"issue_type": spec.issue_type} if spec.issue_type is not None else {}
        issue = self.labels.write(
            spec.labels, lambda: self.tracker.create_issue(spec.title, body, spec.labels, spec.assignees, **typed)
        )
        self.registry.put(op.key, issue.number, issue.id)
        self.registry.saw(op.key, issue)
        self._keep_labels(issue, spec, body)
        self._keep_type(issue, spec, body)
        if spec.closed:
            # Issues are created open; a done item is closed right after (one more write, done items only).
            self.tracker.update_issue(issue.number, IssueFields(state="closed", state_reason="completed"))
        return {"number": issue.number, "id": issue.id}

    def _update(self, op: Operation, attempt: Attempt) -> dict[str, object]:
        assert op.number is not None
        issue = self._write_fields(op.number, self.specs[op.key])
        return {"number": issue.number}

    def _close(self, op: Operation, attempt: Attempt) -> dict[str, object]:
        assert op.number is not None
        issue = self.tracker.update_issue(op.number, IssueFields(state="closed", state_reason="not_planned"))
        return {"number": issue.number}

    def _project(self, op: Operation, attempt: Attempt) -> dict[str, object]:
        if self.project is None:
            # A replay's stored board work, in a run that reads no board: the plan after the replay decides.
            return {"project": "left to the next plan"}
        self._need(op.key)
        return self.project(op.key)

    def _list_children(self, op: Operation, attempt: Attempt) -> dict[str, object]:
        issue = self._write_fields(self._need(op.key).number, self.specs[op.key])
        return {"number": issue.number}

    def _link_parent(self, op: Operation, attempt: Attempt) -> dict[str, object]:
        assert op.target is not None
        child, parent = self._need(op.key), self._need(op.target)
        done: dict[str, object] = {"parent": parent.number, "child": child.number}
        if not self._linking(
            Feature.SUB_ISSUES, parent.number, lambda: self.tracker.add_sub_issue(parent.number, child.id)
        ):
            done.update(_SHOWN_IN_BODY)
        return done

    def _link_blocker(self, op: Operation, attempt: Attempt) -> dict[str, object]:
        assert op.target is not None
        blocked, blocker = self._need(op.key), self._need(op.target)
        done: dict[str, object] = {"blocked": blocked.number, "blocker": blocker.number}

        def link() -> None:
            if self.verify_links and any(i.id == blocker.id for i in self.tracker.list_blocked_by(blocked.number)):
                done["already"] = True
                return
            self.tracker.add_blocked_by(blocked.number, blocker.id)

        if not self._linking(Feature.DEPENDENCIES, blocked.number, link):
            done.update(_SHOWN_IN_BODY)
        return done

    def _relink(self, op: Operation, attempt: Attempt) -> dict[str, object]:
        """Make the issue's parent and blocked-by links what the file states; links made by people stay."""
        spec = self.specs[op.key]
        me = self._need(op.key)
        added: list[int] = []
        removed: list[int] = []
        unparented: list[int] = []

        def reparent() -> None:
            if spec.parent:
                parent = self._need(spec.parent)
                # Read first: a re-link often only lacks a blocker, and re-adding a parent link is a wasted POST.
                if not any(child.id == me.id for child in self.tracker.list_sub_issues(parent.number)):
                    self.tracker.add_sub_issue(parent.number, me.id)
            elif self.manage_parents:
                # The file lost its parent (say its PRD was deleted): undo the link the sync made. A parent
                # without a marker was chosen by a person and stays.
                was = self.tracker.get_parent(me.number)
                if was is not None and read_marker(was.body) is not None:
                    self.tracker.remove_sub_issue(was.number, me.id)
                    unparented.append(was.number)

        def reblock() -> None:
            wanted = {self._need(key).id: key for key in spec.blockers}
            current = {issue.id: issue for issue in self.tracker.list_blocked_by(me.number)}
            for blocker_id in sorted(set(wanted) - set(current)):
                self.tracker.add_blocked_by(me.number, blocker_id)
                added.append(blocker_id)
            for blocker_id, issue in sorted(current.items()):
                managed = self.registry.manages(blocker_id) and read_marker(issue.body) is not None
                if blocker_id not in wanted and managed:
                    self.tracker.remove_blocked_by(me.number, blocker_id)
                    removed.append(blocker_id)

        parent_number = self._need(spec.parent).number if spec.parent else me.number
        shown = [
            str(feature)
            for feature, number, relink in (
                (Feature.SUB_ISSUES, parent_number, reparent),
                (Feature.DEPENDENCIES, me.number, reblock),
            )
            if not self._linking(feature, number, relink)
        ]
        return {
            "number": me.number,
            "added": added,
            "removed": removed,
            "unparented": unparented[0] if unparented else None,
        } | ({"shown_in_body": shown} if shown else {})

    # -- helpers --------------------------------------------------------------------------------------------
    def _linking(self, feature: Feature, number: int, link: Callable[[], None]) -> bool:
        """Run `link` unless the server lacks `feature`; False when it does (the body shows the relation).

        A 404 from a link endpoint, for issue `number` that this run listed or created, means the endpoint is
        missing, unless the issue has just been deleted: the first such 404 reads the issue to tell (one GET a
        run), and from then on no link of that kind is sent. A 404 for a deleted issue fails the item."""
        if not self.features.has(feature):
            return False
        try:
            link()
        except GithubException as exc:
            if exc.status != 404:
                raise
            if not self.features.confirm_missing(feature, lambda: self.tracker.get_issue(number) is not None):
                raise
            return False
        return True

    def _need(self, key: str) -> Known:
        known = self.registry.get(key)
        if known is None:
            # Only reachable when the item's issue failed to appear: report against this item, do not guess.
            raise JobError(FailureClass.ITEM, f"the issue of {key} does not exist yet")
        return known

    def _body(self, spec: IssueSpec) -> str:
        # Only the numbers this body links to: copying the whole registry per issue is quadratic at 10,000 items.
        numbers = {
            key: known.number
            for key in (spec.parent, *spec.blockers, *spec.listed_blockers, *(child for child, _, _ in spec.children))
            if key and (known := self.registry.get(key))
        }
        return render_body(spec, self.read_body(spec), numbers, source_url=self.source_url(spec.path))

    def _write_fields(self, number: int, spec: IssueSpec) -> RemoteIssue:
        """One PATCH making the issue what the file says: title, body, labels (the whole set), state, and the
        assignees when the file names some (none named: the issue keeps whoever a person assigned)."""
        body = self._body(spec)
        # The type only when it differs from what GitHub shows: an unchanged one is never sent.
        retype = spec.issue_type is not None and spec.issue_type != self.registry.type_of(spec.key)
        fields = IssueFields(
            title=spec.title,
            body=body,
            labels=spec.labels,
            state=spec.state,
            state_reason="completed" if spec.closed else None,
            type=spec.issue_type if retype else None,
            assignees=spec.assignees or None,
        )
        issue = self.labels.write(spec.labels, lambda: self.tracker.update_issue(number, fields))
        self.registry.saw(spec.key, issue)
        self._keep_labels(issue, spec, body)
        if retype:
            self._keep_type(issue, spec, body)
        return issue

    def _keep_type(self, issue: RemoteIssue, spec: IssueSpec, body: str) -> None:
        """GitHub drops `type` silently for a token without push access: a reply without the type sent fails
        the item, naming the permission, and its marker says the write was not confirmed (as for labels)."""
        wanted = spec.issue_type
        if wanted is None or (issue.type or "").lower() == wanted.lower():
            return
        unconfirmed = body.replace(spec.marker(), spec.marker(confirmed=False))
        self.tracker.update_issue(issue.number, IssueFields(body=unconfirmed))
        raise JobError(FailureClass.ITEM, type_not_kept(wanted, issue.number, issue.type))

    def _keep_labels(self, issue: RemoteIssue, spec: IssueSpec, body: str) -> None:
        """`Labels.keep`; when GitHub will not keep them, the marker is rewritten to say the write was not
        confirmed (one PATCH of the body), so the next run tries again instead of trusting the digest."""
        try:
            self.labels.keep(issue, spec.labels)
        except JobError:
            unconfirmed = body.replace(spec.marker(), spec.marker(confirmed=False))
            self.tracker.update_issue(issue.number, IssueFields(body=unconfirmed))
            raise

    def _find_by_marker(self, key: str) -> RemoteIssue | None:
        for issue in self.tracker.list_synced(SYNC_LABEL):
            marker = read_marker(issue.body)
            if marker is not None and marker.key == key:
                return issue
        return None
