"""Plain data shared by every layer: planning documents, problems found in them, and their kinds.

Nothing here does I/O. Paths are POSIX strings relative to the workspace root, so they can go straight into
annotations (`::error file=…`) and reports.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum

# Front-matter fields whose line numbers are kept for annotations (a problem with a `github:`, `prd:` or
# `depends_on:` value points at its line).
LINE_FIELDS = ("github", "github_issue", "prd", "prd_id", "depends_on", "dependencies")


def text_digest(text: str) -> str:
    """A short, stable digest of a body text: what a run keeps instead of the text."""
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class Kind(StrEnum):
    PRD = "prd"
    EPIC = "epic"
    TASK = "task"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    NOTICE = "notice"


@dataclass(frozen=True)
class Problem:
    """Something wrong in the input, pinned to a file (and a line when one is known), with the fix to make."""

    path: str
    message: str
    line: int | None = None
    fix: str = ""
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        fix = f" Fix: {self.fix}" if self.fix else ""
        return f"{where}: {self.message}.{fix}"


@dataclass(frozen=True)
class Skipped:
    """A file under the planning folder that is deliberately not synced, and why."""

    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class Document:
    """One PRD, epic or task file, parsed.

    `key` is the stable identity of the item across runs: it is derived from the path with any
    `archived/` or `.archived/` component removed, so archiving an epic keeps its issues. It is what the hidden
    marker in each issue body records.

    The body text is not kept, only its digest: 10,000 files hold 20 MB of markdown, and a body is needed only
    for the moment its issue is written (`parsing.read_body` reads it again then and checks the digest).
    """

    key: str
    kind: Kind
    path: str
    title: str
    status: str
    body_digest: str
    epic: str | None = None
    prd: str | None = None
    depends_on: tuple[str, ...] = ()
    github_number: int | None = None
    github_repo: str | None = None
    archived: bool = False
    ident: str = ""  # the front matter's `id:` (AutoPM), a name other files may use for this item
    # Whether the body holds a mention the `mentions: escape` input would wrap: only then does the input count
    # in the item's content digest, so the input rewrites no issue whose body it leaves as it is.
    has_mentions: bool = False
    # The body's length in characters (with mentions escaped, the longest it renders): the planner fits the
    # issue body within GitHub's limit, and says so, without holding the text.
    body_chars: int = 0
    # (field, line) for the fields annotations point at (LINE_FIELDS). Pairs, not a dict: a small dict costs
    # 232 bytes, and most tasks have a `depends_on:` line.
    lines: tuple[tuple[str, int], ...] = field(default=(), compare=False)

    @property
    def name(self) -> str:
        """The short local name: the file stem for tasks, the folder for epics, the file stem for PRDs."""
        return self.key.split(":", 1)[1].rsplit("/", 1)[-1]

    def line_of(self, field_name: str) -> int | None:
        return next((line for name, line in self.lines if name == field_name), None)


# What git says changed (discovery/git.py makes it; scope.py reads it): plain data, so the pure core needs no git.
@dataclass(frozen=True)
class Change:
    """One changed file. `status` is "A", "M", "D" or "R"; `old_path` is set only for "R"."""

    status: str
    path: str
    old_path: str | None = None


@dataclass(frozen=True)
class ChangeSet:
    """The answer of `discover_changes`.

    `changes is None` means "compare everything": the diff could not be trusted, and `reason` says why.
    `changes == ()` means the diff ran and nothing under the folder changed. `base` is the resolved base
    commit when a diff ran, otherwise the base as given (None when empty); `head` is the resolved HEAD
    commit whenever the workspace is a git repository with a commit.
    """

    changes: tuple[Change, ...] | None
    reason: str
    base: str | None
    head: str | None

    @property
    def whole_tree(self) -> bool:
        return self.changes is None
