"""Plain data shared by every layer: planning documents, problems found in them, and their kinds.

Nothing here does I/O. Paths are POSIX strings relative to the workspace root, so they can go straight into
annotations (`::error file=…`) and reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


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


@dataclass(frozen=True)
class Document:
    """One PRD, epic or task file, parsed.

    `key` is the stable identity of the item across runs: it is derived from the path with any
    `archived/` or `.archived/` component removed, so archiving an epic keeps its issues. It is what the hidden
    marker in each issue body records.
    """

    key: str
    kind: Kind
    path: str
    title: str
    status: str
    body: str
    epic: str | None = None
    prd: str | None = None
    depends_on: tuple[str, ...] = ()
    github_number: int | None = None
    github_repo: str | None = None
    archived: bool = False
    # Raw front-matter values, always strings (or lists of strings): never dates, ints or octal surprises.
    meta: dict[str, str | list[str]] = field(default_factory=dict, compare=False)
    # Line number of each front-matter key, for annotations that point at the field.
    lines: dict[str, int] = field(default_factory=dict, compare=False)

    @property
    def name(self) -> str:
        """The short local name: the file stem for tasks, the folder for epics, the file stem for PRDs."""
        return self.key.split(":", 1)[1].rsplit("/", 1)[-1]

    def line_of(self, field_name: str) -> int | None:
        return self.lines.get(field_name)
