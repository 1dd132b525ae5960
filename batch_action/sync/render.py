"""What each planning item should look like as an issue: title, body, labels, state, and the hidden marker.

The marker `<!-- issue-sync:v1 key=… digest=… -->` at the end of the body is how later runs find the item's issue
(from one paginated listing, never the search API) and know whether the file changed since it was synced. The
`digest` covers the *source* content (title, file body, status, labels, path) and `links` the parent and blockers
by key, not the rendered issue numbers: both can be computed before any issue exists and stay equal while the file
does, and a changed body never costs a link request (nor a changed link a body update). The `mentions` input
changes the rendered body only where the body has a mention to escape, so only there does it count in the digest:
switching it rewrites those issues once and no other (and the digests of `keep` are the ones from before the input).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

from batch_action import limits
from batch_action.canonical import encode_one_line
from batch_action.model import Document, Kind
from batch_action.sync.mentions import escape_mentions

if TYPE_CHECKING:  # only its type: the listing's marker reading needs no networkx
    from batch_action.graph import TaskGraph

SYNC_LABEL = "issue-sync"
MARKER_RE = re.compile(
    r"<!--\s*issue-sync:v1\s+key=(?P<key>\S+)\s+digest=(?P<digest>[0-9a-f]+)(?:\s+links=(?P<links>[0-9a-f]+))?"
    r"(?:\s+fields=(?P<fields>[0-9a-f.]*))?\s*-->"
)
DONE_STATUSES = frozenset({"closed", "completed", "complete", "done", "resolved", "merged"})
LABEL_COLOURS = {"prd": "5e35b1", "epic": "1e88e5", "task": "757575", SYNC_LABEL: "c5def5"}
STYLED_LABELS = frozenset(LABEL_COLOURS)  # made before use, in these colours; others are made by GitHub on first use
_EPIC_LABEL_COLOUR = "bfdadc"
_EXTRA_LABEL_COLOUR = "ededed"
# The content digest of a marker whose write GitHub did not fully take (it left labels off the issue): it equals
# no file's digest, so the next run writes the issue again, whatever its scope, instead of trusting the marker.
UNCONFIRMED_DIGEST = "0" * 16
# A body lists at most this many characters of `#N` links (by their widest form): a task depending on thousands
# of others keeps most of its body for its own text.
_REFS_CHARS = 16_384
_WIDEST_NUMBER = 11  # "#" and ten digits


@dataclass(frozen=True, slots=True)
class IssueSpec:
    """The desired state of one item's issue, before issue numbers are known.

    The file's body is named by its digest; the text is read again when the issue is written. `source_body` is
    set only where no file is at hand: the specs a replay loads from a checkpoint. `mentions_escaped`: the body
    has mentions and the `mentions` input is `escape` (False in a checkpoint older than the input, whose digests
    were made for verbatim bodies).
    """

    key: str
    kind: Kind
    path: str
    title: str
    body_digest: str
    labels: tuple[str, ...]
    closed: bool
    parent: str | None
    blockers: tuple[str, ...]
    digest: str  # of the content: title, body, status, labels, source path
    links_digest: str  # of the links: parent and blockers, by key
    status: str
    source_body: str | None = None
    mentions_escaped: bool = False
    # Blockers past GitHub's 50 per issue: shown in the body as `#N` links, not linked (`blockers` are).
    listed_blockers: tuple[str, ...] = ()
    # On a server without sub-issues: the children (key, title, closed) the body lists as a task list.
    children: tuple[tuple[str, str, bool], ...] = ()
    # The `issue-types` input's type for this kind (None: the input is off, or names no type for the kind).
    issue_type: str | None = None
    # With a `project`: (field name, value) for each mapped project field, "" for none. The marker records a
    # short hash of each, what this run writes, so a later run knows which fields the file changed.
    project_fields: tuple[tuple[str, str], ...] = ()
    assignees: tuple[str, ...] = ()  # GitHub logins, from the config file's assignee fields

    @property
    def state(self) -> str:
        return "closed" if self.closed else "open"

    def marker(self, *, confirmed: bool = True) -> str:
        digest = self.digest if confirmed else UNCONFIRMED_DIGEST
        fields = f" fields={'.'.join(field_hashes(self.project_fields))}" if self.project_fields else ""
        return f"<!-- issue-sync:v1 key={marker_key(self.key)} digest={digest} links={self.links_digest}{fields} -->"


@dataclass(frozen=True)
class Marker:
    key: str
    digest: str
    links: str | None
    fields: frozenset[str] | None = None  # hashes of the project field values last written; None: none recorded


def field_hash(name: str, value: str) -> str:
    """A project field's value as the marker records it: 8 hex digits of (field, value), so the body stays
    short and says nothing a reader needs; equal hashes mean the file still says what was written."""
    return hashlib.sha256(f"{name}\0{value}".encode()).hexdigest()[:8]


def field_hashes(pairs: Sequence[tuple[str, str]]) -> list[str]:
    return sorted({field_hash(name, value) for name, value in pairs})


def marker_key(key: str) -> str:
    """An item key as the marker holds it: percent-encoded past the characters of ordinary keys, so a folder
    named with a blank, a line break or `-->` neither ends the comment nor makes a marker no run can read back
    (which would create the item's issue again on every run). Ordinary keys (`task:billing/001`) are unchanged."""
    return quote(key, safe="/:@+")


def read_marker(body: str | None) -> Marker | None:
    if not body:
        return None
    matches = list(MARKER_RE.finditer(body))
    if not matches:
        return None
    last = matches[-1]  # the last marker wins: a user may quote an old one higher up
    fields = last.group("fields")
    recorded = frozenset(part for part in fields.split(".") if part) if fields is not None else None
    return Marker(unquote(last.group("key")), last.group("digest"), last.group("links"), recorded)


@dataclass(frozen=True)
class Style:
    """How items look as issues, as the config file says (`batch_action.config`). The default is the built-in
    look: with it every spec, and every digest, is what it was before the file existed. A changed style changes
    the digests of exactly the issues that look different (title, labels, state), so they are written once."""

    kind_labels: Mapping[Kind, tuple[str, ...]] = field(default_factory=dict)  # besides the kind's own
    close_statuses: frozenset[str] | None = None  # the `status:` values that close an issue; None: DONE_STATUSES
    titles: Mapping[Kind, str] = field(default_factory=dict)  # a format per kind (`config.format_title`)
    field_labels: tuple[str, ...] = ()  # front-matter fields shown as `<field>:<value>` labels
    field_assignees: tuple[str, ...] = ()  # front-matter fields naming GitHub logins to assign

    @property
    def fields(self) -> frozenset[str]:
        """The front-matter fields the parser keeps for this style."""
        return frozenset((*self.field_labels, *self.field_assignees))

    def closes(self, status: str) -> bool:
        return status in (DONE_STATUSES if self.close_statuses is None else self.close_statuses)


DEFAULT_STYLE = Style()
_BUILT_IN_PREFIX = {Kind.PRD: "PRD: ", Kind.EPIC: "Epic: "}  # as `parsing.documents` titles them
# A GitHub login: letters, digits and single hyphens, 39 at most, not starting or ending with a hyphen.
_LOGIN_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")


def labels_for(doc: Document, extra: Sequence[str], style: Style = DEFAULT_STYLE) -> tuple[str, ...]:
    labels = [doc.kind.value, SYNC_LABEL]
    if doc.epic and doc.kind in (Kind.EPIC, Kind.TASK):
        labels.append(epic_label(doc.epic))
    labels.extend(extra)
    labels.extend(style.kind_labels.get(doc.kind, ()))
    for name, values in doc.fields:
        if name in style.field_labels:
            labels.extend(bounded_label(f"{name}:{value}") for value in values)
    return tuple(dict.fromkeys(labels))[: limits.LABELS_PER_ISSUE.value]


def assignees_for(doc: Document, style: Style = DEFAULT_STYLE) -> tuple[str, ...]:
    """The logins the style's assignee fields name (a leading `@` dropped), at most GitHub's 10 an issue; a value
    that is no login is left out (it is the file's text, not a name GitHub could assign)."""
    found = [
        value.removeprefix("@")
        for name, values in doc.fields
        if name in style.field_assignees
        for value in values
        if is_login(value.removeprefix("@"))
    ]
    return tuple(dict.fromkeys(found))[: limits.ASSIGNEES_PER_ISSUE.value]


def is_login(text: str) -> bool:
    return bool(_LOGIN_RE.match(text))


def epic_label(epic: str) -> str:
    """`epic:<name>`, or, past GitHub's 50 characters, its start and a stable hash of the whole name: two long
    names sharing a start keep distinct labels, and a name never changes its label from run to run."""
    return bounded_label(f"epic:{epic}", epic)


def bounded_label(label: str, hashed: str | None = None) -> str:
    """`label` within GitHub's 50 characters: past them, its start and a stable hash of `hashed` (the label)."""
    if len(label) <= limits.LABEL_NAME_CHARS.value:
        return label
    suffix = "-" + hashlib.sha256((label if hashed is None else hashed).encode()).hexdigest()[:8]
    return label[: limits.LABEL_NAME_CHARS.value - len(suffix)] + suffix


def label_colours(specs: Sequence[IssueSpec]) -> dict[str, str]:
    wanted: dict[str, str] = {}
    for spec in specs:
        for label in spec.labels:
            wanted.setdefault(
                label,
                LABEL_COLOURS.get(label) or (_EPIC_LABEL_COLOUR if label.startswith("epic:") else _EXTRA_LABEL_COLOUR),
            )
    return dict(sorted(wanted.items()))


def build_spec(
    doc: Document,
    graph: TaskGraph,
    extra_labels: Sequence[str],
    *,
    sub_issues: bool,
    dependencies: bool,
    shared: dict[tuple[str, ...], tuple[str, ...]] | None = None,
    mentions: str = "escape",
    style: Style = DEFAULT_STYLE,
) -> IssueSpec:
    """`shared`: label tuples already made, so the items of one epic share one. `mentions`: the input's mode.
    `style`: the config file's look (labels per kind, field labels and assignees, close statuses, titles)."""
    parent = graph.parent(doc.key) if sub_issues else None
    wanted = tuple(graph.blockers(doc.key)) if dependencies else ()
    # GitHub links at most 50 blockers to an issue: the first 50 (by key) are linked, the rest listed in the body.
    blockers, listed = wanted[: limits.BLOCKED_BY_PER_ISSUE.value], wanted[limits.BLOCKED_BY_PER_ISSUE.value :]
    labels = labels_for(doc, extra_labels, style)
    if shared is not None:
        labels = shared.setdefault(labels, labels)
    closed = style.closes(doc.status)
    title = doc.title
    if doc.kind in style.titles:
        title = format_title(style.titles[doc.kind], doc)
    content: dict[str, object] = {
        "title": title,
        "body": doc.body_digest,
        "status": doc.status,
        "labels": labels,
        "path": doc.path,
    }
    # Keys only where the style makes a difference: every other digest stays what it was before the config file.
    if closed != (doc.status in DONE_STATUSES):
        content["closed"] = closed
    assignees = assignees_for(doc, style)
    if assignees:
        content["assignees"] = assignees
    escaped = mentions == "escape" and doc.has_mentions
    if escaped:
        content["mentions"] = "escape"  # a key only here: every other digest stays what it was before the input
    return IssueSpec(
        key=doc.key,
        kind=doc.kind,
        path=doc.path,
        title=title[: limits.TITLE_CHARS.value] or doc.key,
        body_digest=doc.body_digest,
        labels=labels,
        closed=closed,
        parent=parent,
        blockers=blockers,
        digest=_digest(content),
        links_digest=links_digest(parent, blockers, listed),
        status=doc.status,
        mentions_escaped=escaped,
        listed_blockers=listed,
        assignees=assignees,
    )


def format_title(text: str, doc: Document) -> str:
    """A title from a format the config file checked (`config.title_format_problem`): `{title}` (the file's, without
    the built-in `PRD: ` or `Epic: `, so the built-in look is `PRD: {title}`, `Epic: {title}` and `{title}`),
    `{name}`, `{key}`, `{kind}` and `{epic}` (empty for a PRD), nothing else."""
    bare = doc.title.removeprefix(_BUILT_IN_PREFIX.get(doc.kind, ""))
    fields = {"title": bare, "name": doc.name, "key": doc.key, "kind": doc.kind.value, "epic": doc.epic or ""}
    return text.format_map(fields).strip()


def content_digest(title: str, body_digest: str, status: str, labels: tuple[str, ...], path: str) -> str:
    return _digest({"title": title, "body": body_digest, "status": status, "labels": labels, "path": path})


def links_digest(parent: str | None, blockers: tuple[str, ...], listed: tuple[str, ...] = ()) -> str:
    links: dict[str, object] = {"parent": parent, "blockers": blockers}
    if listed:
        links["listed"] = listed  # a key only here: the links digest of every other item stays as it was
    return _digest(links)


def with_children_listed(specs: Mapping[str, IssueSpec]) -> dict[str, IssueSpec]:
    """For a server without sub-issues: each parent's body lists its children (`- [ ] #12 title`, ticked when
    done). Its digest then covers them, by key, title and state, so a parent is written again exactly when its
    list would read differently; on a server with sub-issues no spec changes (nor any digest)."""
    children: dict[str, list[IssueSpec]] = {}
    for spec in specs.values():
        if spec.parent and spec.parent in specs:
            children.setdefault(spec.parent, []).append(spec)
    out = dict(specs)
    for key, kids in children.items():
        parent = specs[key]
        listed = tuple((kid.key, kid.title, kid.closed) for kid in sorted(kids, key=lambda kid: kid.key))
        out[key] = replace(parent, children=listed, digest=_digest({"content": parent.digest, "children": listed}))
    return out


def with_issue_types(specs: Mapping[str, IssueSpec], by_kind: Mapping[Kind, str]) -> dict[str, IssueSpec]:
    """Each spec with its kind's issue type, counted in its digest; with no types, every spec (and digest) as
    it was, so turning the input on rewrites each issue once and leaving it off rewrites none."""
    if not by_kind:
        return dict(specs)
    out: dict[str, IssueSpec] = {}
    for key, spec in specs.items():
        name = by_kind.get(spec.kind)
        out[key] = (
            replace(spec, issue_type=name, digest=_digest({"content": spec.digest, "type": name}))
            if name is not None
            else spec
        )
    return out


def with_project_fields(
    specs: Mapping[str, IssueSpec], values: Mapping[str, tuple[tuple[str, str], ...]]
) -> dict[str, IssueSpec]:
    """Each spec with the project field values its file asks for (`values`: key -> (field, value) pairs),
    counted in its digest, so a changed field rewrites the issue's marker (what was last written) once."""
    out = dict(specs)
    for key, pairs in values.items():
        spec = specs.get(key)
        if spec is not None and pairs:
            out[key] = replace(spec, project_fields=pairs, digest=_digest({"content": spec.digest, "project": pairs}))
    return out


def _digest(value: object) -> str:
    # The text of json.dumps(value, sort_keys=True, ensure_ascii=False), from an encoder made once.
    return hashlib.sha256(encode_one_line(value).encode()).hexdigest()[:16]


def build_specs(
    graph: TaskGraph,
    extra_labels: Sequence[str],
    *,
    sub_issues: bool,
    dependencies: bool,
    mentions: str = "escape",
    style: Style = DEFAULT_STYLE,
) -> dict[str, IssueSpec]:
    shared: dict[tuple[str, ...], tuple[str, ...]] = {}  # one label tuple per epic, not one per item
    return {
        key: build_spec(
            doc,
            graph,
            extra_labels,
            sub_issues=sub_issues,
            dependencies=dependencies,
            shared=shared,
            mentions=mentions,
            style=style,
        )
        for key, doc in sorted(graph.documents.items())
    }


def render_body(spec: IssueSpec, body: str, numbers: Mapping[str, int], *, source_url: str) -> str:
    """The issue body: the file's markdown (`body`), a short metadata block, and the marker, within GitHub's
    65,536 characters: a longer text is cut so that all three fit, with a line linking to the whole file.

    `numbers` maps item keys to issue numbers known so far; a parent or blocker without one is named by key.
    """
    if spec.mentions_escaped:
        body = escape_mentions(body)

    def ref(key: str) -> str:
        number = numbers.get(key)
        return f"#{number}" if number else f"`{key}`"

    tail = _tail(spec, ref, source_url)
    if len(body) > body_room(spec, source_url):
        note = (
            f"\n\n…(cut here: an issue body holds {limits.BODY_CHARS.value:,} characters; "
            f"the rest is in [{spec.path}]({source_url}))"
        )
        kept = body[: limits.BODY_CHARS.value - len(tail) - len(note)]
        line_end = kept.rfind("\n", len(kept) - 2_000)
        body = (kept[:line_end] if line_end > 0 else kept) + note  # at a line break, when one is near
    return body + tail


def body_room(spec: IssueSpec, source_url: str) -> int:
    """The most characters of text the body holds uncut. Reckoned with every link at its widest, so whether a
    text is cut depends on the file alone, not on the issue numbers: the plan knows it, and says so, in advance."""
    return limits.BODY_CHARS.value - len(_tail(spec, lambda key: "#" * max(len(key) + 2, _WIDEST_NUMBER), source_url))


def _tail(spec: IssueSpec, ref: Callable[[str], str], source_url: str) -> str:
    meta = [f"**Status:** {spec.status or 'open'}"]
    if spec.parent:
        meta.append(f"**Parent:** {ref(spec.parent)}")
    blockers = (*spec.blockers, *spec.listed_blockers)
    if blockers:
        meta.append("**Depends on:** " + _ref_list(blockers, ref))
    meta.append(f"**Source:** [{spec.path}]({source_url})")
    children = f"\n\n**Sub-issues:**\n{_task_list(spec.children, ref)}" if spec.children else ""
    return "\n\n---\n" + " · ".join(meta) + children + f"\n\n{spec.marker()}\n"


def _task_list(children: Sequence[tuple[str, str, bool]], ref: Callable[[str], str]) -> str:
    """`- [ ] #12 title` a child, `- [x]` a done one, within the same room as the list of blockers. A title
    notifies no one as a title; in a body it would, so its mentions are escaped whatever the `mentions` input."""
    lines: list[str] = []
    width = 0
    for key, title, closed in children:
        text = escape_mentions(title)
        width += max(len(key) + 2, _WIDEST_NUMBER) + len(text) + 8  # the widest reference: a cut that depends
        if width > _REFS_CHARS:  # on the file alone, as for the blockers
            break
        lines.append(f"- [{'x' if closed else ' '}] {ref(key)} {text}")
    more = len(children) - len(lines)
    return "\n".join(lines) + (f"\n- … and {more} more (see the planning folder)" if more else "")


def _ref_list(keys: Sequence[str], ref: Callable[[str], str]) -> str:
    shown: list[str] = []
    width = 0
    for key in keys:
        width += max(len(key) + 2, _WIDEST_NUMBER) + 2
        if width > _REFS_CHARS:
            break
        shown.append(ref(key))
    more = len(keys) - len(shown)
    return ", ".join(shown) + (f" and {more} more (see the file's `depends_on`)" if more else "")


def source_url(server_url: str, repository: str, path: str) -> str:
    """A link to the file on the default branch (`blob/HEAD`), so the body does not change with every commit."""
    if not repository:
        return path
    return f"{server_url}/{repository}/blob/HEAD/{quote(path)}"
