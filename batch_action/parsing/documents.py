"""Which files of a `.claude/` tree are PRDs, epics and tasks, and what each one says.

Layouts (formats.md §1-2, §5): `prds/<name>.md`; `epics/<name>/epic.md`; tasks `N.md`, `NNN.md`, `task-NNN.md`
and `bug-*.md` beside it; epics may sit under `epics/archived/` or `epics/.archived/`. Everything else under the
tree is accounted for as skipped, with the reason. A file that cannot be parsed becomes a `Problem` with file and
line, and the rest goes on. Pure: bytes in, documents out; `parsing/load.py` walks the folder and reads the files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath

from batch_action.model import LINE_FIELDS, Document, Kind, Problem, Severity, text_digest
from batch_action.parsing.frontmatter import FrontMatter, FrontMatterError, Value, split
from batch_action.sync.mentions import escape_mentions
from batch_action.sync.render import DONE_STATUSES

ARCHIVE_DIRS = ("archived", ".archived")
_TASK_RE = re.compile(r"^(\d+|task-\d+|bug-[\w.-]+)\.md$", re.IGNORECASE)
_GITHUB_URL_RE = re.compile(r"https?://[^/\s]+/([^/\s]+/[^/\s]+)/(?:issues|pull)/(\d+)")
_HEADING_RE = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.MULTILINE)
_NOT_TASKS = {
    "github-mapping.md": "CCPM issue-number mapping, not a task",
    "execution-status.md": "CCPM agent tracker, not a task",
}


@dataclass(frozen=True)
class Place:
    """Where a path sits in the layout: its kind, stable key and epic, or why it is not an item."""

    kind: Kind | None
    key: str = ""
    epic: str | None = None
    archived: bool = False
    reason: str = ""


def place(relative: str) -> Place:
    """Classify a path relative to the planning root (e.g. `epics/auth/001.md`)."""
    parts: tuple[str, ...] | list[str] = relative.split("/")
    if "" in parts or "." in parts:  # not already normal: let pathlib normalise it
        parts = PurePosixPath(relative).parts
    name = parts[-1]
    if not name.lower().endswith(".md"):
        return Place(None, reason="not a markdown file")
    if parts[0] == "prds":
        if len(parts) == 2:
            stem = name[:-3]
            return Place(Kind.PRD, key=f"prd:{stem}")
        return Place(None, reason="PRDs are read from prds/<name>.md only")
    if parts[0] != "epics" or len(parts) < 3:
        return Place(None, reason="outside prds/ and epics/: not part of the planning layout")
    rest = list(parts[1:])
    archived = False
    if rest[0] in ARCHIVE_DIRS:
        archived = True
        rest = rest[1:]
        if len(rest) < 2:
            return Place(None, reason="loose file in an archive folder, not in an epic")
    epic, inner = _shared(rest[0]), rest[1:]  # one string per epic, shared by its tasks
    if len(inner) > 1:
        sub = inner[0]
        why = "progress updates" if sub == "updates" else "analysis notes" if sub == "analysis" else "sub-folder"
        return Place(None, reason=f"{why} inside an epic, not a task")
    file_name = inner[0]
    if file_name == "epic.md":
        return Place(Kind.EPIC, key=f"epic:{epic}", epic=epic, archived=archived)
    if file_name in _NOT_TASKS:
        return Place(None, reason=_NOT_TASKS[file_name])
    if file_name.endswith("-analysis.md"):
        return Place(None, reason="CCPM work-stream analysis, not a task")
    if _TASK_RE.match(file_name):
        return Place(Kind.TASK, key=f"task:{epic}/{file_name[:-3]}", epic=epic, archived=archived)
    return Place(None, reason="not named like a task (N.md, task-N.md, bug-*.md)")


def parse_document(path: str, where: Place, data: bytes) -> tuple[Document | None, list[Problem]]:
    """One file's bytes to a Document (or None with the problems saying why)."""
    assert where.kind is not None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return None, [Problem(path, f"not valid UTF-8 (byte {exc.start})", line, "save the file as UTF-8")]
    try:
        front = split(text)
    except FrontMatterError as exc:
        return None, [Problem(path, str(exc), exc.line, exc.fix)]
    # CCPM itself reads fields line by line, so a file only the line reader understands is normal, not a fault.
    problems = [Problem(path, message, line, fix, Severity.NOTICE) for line, message, fix in front.problems]
    values = front.values
    problems.extend(_silent_mistakes(path, where, front, values))
    github_number, github_repo, github_problem = _github_ref(values)
    if github_problem:
        problems.append(Problem(path, github_problem, front.lines.get("github"), severity=Severity.WARNING))
    depends = _tokens(values.get("depends_on", values.get("dependencies", [])))
    stem = where.key.split(":", 1)[1].rsplit("/", 1)[-1]
    title = _title(where.kind, values, front.body, stem)
    prd = None
    if where.kind is Kind.EPIC:
        prd_ref = _text(values.get("prd")) or _text(values.get("prd_id"))
        prd = PurePosixPath(prd_ref).name.removesuffix(".md") if prd_ref else None
    elif where.kind is Kind.PRD:
        prd = stem
    body = body_text(front.body)
    escaped = escape_mentions(body) if "@" in body else body  # most bodies have no `@`: no scan
    document = Document(
        key=where.key,
        kind=where.kind,
        path=path,
        title=title,
        status=_shared((_text(values.get("status")) or "").strip().lower()),  # a handful of values, 10,000 files
        body_digest=text_digest(body),
        epic=where.epic,
        prd=prd,
        depends_on=depends,
        github_number=github_number,
        github_repo=github_repo,
        archived=where.archived,
        ident=identifier if isinstance(identifier := values.get("id"), str) else "",
        lines=tuple((name, front.lines[name]) for name in LINE_FIELDS if name in front.lines),
        has_mentions=escaped != body,
        body_chars=len(escaped),
    )
    return document, problems


def _silent_mistakes(path: str, where: Place, front: FrontMatter, values: dict[str, Value]) -> list[Problem]:
    """What the file says that the sync would otherwise take quietly, and wrongly."""
    found: list[Problem] = []
    status = _text(values.get("status")).lower()
    if status and status not in DONE_STATUSES and status.replace("_", "-") not in OPEN_STATUSES:
        found.append(
            Problem(
                path,
                f"`status: {status}` is not a known status: the issue stays open",
                front.lines.get("status"),
                "use a done status to close it ("
                + ", ".join(sorted(DONE_STATUSES))
                + ") or an open one ("
                + ", ".join(sorted(OPEN_STATUSES))
                + ")",
                Severity.NOTICE,
            )
        )
    fields = None if front.has_front_matter else _FIELD_LINE_RE.match(front.body.lstrip("\n"))
    if fields is not None:
        found.append(
            Problem(
                path,
                f"the file starts with front-matter fields (`{fields.group(1)}:`) but has no `---` lines around "
                "it: they are read as body text",
                front.body[: len(front.body) - len(front.body.lstrip("\n"))].count("\n") + 1,
                "put a line `---` before the first field and another after the last",
                Severity.NOTICE,
            )
        )
    elif not (_text(values.get("name")) or _text(values.get("title")) or _HEADING_RE.search(front.body)):
        stem = where.key.split(":", 1)[1].rsplit("/", 1)[-1]
        found.append(
            Problem(
                path,
                f"no title: no `name:` or `title:` field and no `# heading`, so the issue is titled `{stem}`",
                1,
                "add `name: <title>` to the front matter",
                Severity.NOTICE,
            )
        )
    return found


# Statuses that keep the issue open, as CCPM and ClaudeAutoPM write them (formats.md §1.2, §4); `_` and `-` alike.
OPEN_STATUSES = frozenset(
    {
        "open",
        "in-progress",
        "active",
        "backlog",
        "pending",
        "not-started",
        "ready",
        "blocked",
        "draft",
        "planning",
        "todo",
        "review",
        "none",
    }
)
_FIELD_LINE_RE = re.compile(r"^(name|title|status|epic|prd|depends_on|github|created):")


def body_text(body: str) -> str:
    """The body as its digest is taken: without the blank lines around it."""
    return body.strip("\n")


_SHARED: dict[str, str] = {}


def _shared(text: str) -> str:
    """One string object for a value many files repeat. Not sys.intern: growing the interpreter's table of
    interned names by a few thousand entries made it double (2 MB) during a run."""
    return _SHARED.setdefault(text, text)


def _text(value: Value | None) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(value)
    return value.strip()


def _title(kind: Kind, values: dict[str, Value], body: str, stem: str) -> str:
    name = _text(values.get("name")) or _text(values.get("title"))
    if not name:
        heading = _HEADING_RE.search(body)
        name = heading.group(1).strip() if heading else stem
    if kind is Kind.EPIC:
        return f"Epic: {name}"
    if kind is Kind.PRD:
        return f"PRD: {name}"
    return name


def _tokens(value: Value) -> tuple[str, ...]:
    """`[001, 002]`, `"001, 002"` and `- 001` lists, as text tokens (never ints: `010` is not 8)."""
    items: Iterable[str] = value if isinstance(value, list) else re.split(r"[,\s]+", value.strip("[] "))
    seen: dict[str, None] = {}
    for item in items:
        token = item.strip().strip("\"'#").strip()
        if token:
            seen[_shared(token)] = None  # `001`, `002`… repeat in every epic
    return tuple(seen)


def _github_ref(values: dict[str, Value]) -> tuple[int | None, str | None, str]:
    """The issue a file already names: a URL, a bare number, or a placeholder meaning "not synced yet"."""
    raw = values.get("github", values.get("github_issue"))
    if raw is None or isinstance(raw, list):
        return None, None, ""  # the `[Will be updated when synced to GitHub]` flow-list placeholder
    text = raw.strip()
    if not text or text.lower() in ("null", "~", "none") or text.startswith(("(", "[")):
        return None, None, ""
    match = _GITHUB_URL_RE.search(text)
    if match:
        return int(match.group(2)), match.group(1), ""
    if text.lstrip("#").isdigit():
        return int(text.lstrip("#")), None, ""
    return None, None, f"`github: {text}` is neither an issue URL nor a number; treated as not synced"
