"""The action's inputs and outputs, declared once: name, kind, default, range or choices, description.

`settings.py` validates from this table, the CLI's `--flags` and their help come from it, the run sets the
outputs it names, and `tests/test_inputs_table.py` holds `action.yml` and the README's tables to it (defaults,
ranges, choices, descriptions). To add an input: a row here, a field on `settings.Settings`, and the same row in
action.yml and the README (the test says what is missing).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from batch_action.sync.mentions import MODES as MENTION_MODES


class Kind(StrEnum):
    TEXT = "text"  # checked, where at all, by its own rule in settings.py
    SECRET = "secret"  # text never echoed
    BOOLEAN = "boolean"
    INTEGER = "integer"  # a whole number in [low, high]; an empty default makes it optional
    NUMBER = "number"  # a number in [low, high]
    CHOICE = "choice"  # one of `choices`, case-insensitive


@dataclass(frozen=True)
class Input:
    name: str
    kind: Kind
    default: str  # the value outside Actions, where no `${{ github.* }}` expression fills one in
    description: str  # action.yml's text, word for word
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    action_default: str | None = None  # action.yml's default, when it differs from `default` (an expression)
    outside_actions: str | None = None  # what an empty value means outside Actions, for `--help`

    @property
    def declared_default(self) -> str:
        """The default action.yml declares."""
        return self.default if self.action_default is None else self.action_default

    @property
    def help(self) -> str:
        shown = self.outside_actions if self.outside_actions is not None else repr(self.default)
        return f"{self.description} (default: {shown})"

    def range_text(self, dash: str = "-") -> str:
        """`1-32`: how action.yml (a hyphen) and the README (an en dash) write the range."""
        return f"{self.low:g}{dash}{self.high:g}"


_T, _B, _I, _N, _C = Kind.TEXT, Kind.BOOLEAN, Kind.INTEGER, Kind.NUMBER, Kind.CHOICE

INPUTS: tuple[Input, ...] = (
    Input(
        "github-token",
        Kind.SECRET,
        "",
        "Token used for the GitHub API. Needs issues: write (and actions: read for replay from another run).",
        action_default="${{ github.token }}",
        outside_actions="none; not needed for a dry run",
    ),
    Input(
        "repository",
        _T,
        "",
        "Target repository, owner/name.",
        action_default="${{ github.repository }}",
        outside_actions="$GITHUB_REPOSITORY",
    ),
    Input(
        "api-url",
        _T,
        "",
        "GitHub REST API base URL (github.com or GHES https://HOST/api/v3).",
        action_default="${{ github.api_url }}",
        outside_actions="$GITHUB_API_URL or https://api.github.com",
    ),
    Input("path", _T, ".claude", "Planning folder, relative to the workspace; it must stay inside the workspace."),
    Input(
        "scope",
        _C,
        "changed",
        "Which files to sync: 'changed' (git diff base-sha..HEAD, plus anything an earlier failed run left "
        "unsynced) or 'all'.",
        choices=("changed", "all"),
    ),
    Input(
        "base-sha",
        _T,
        "",
        "Commit to diff against for scope 'changed'. Empty, all-zero or unreachable falls back to the whole tree.",
        action_default="${{ github.event.before }}",
        outside_actions="none: the whole tree",
    ),
    Input("dry-run", _B, "false", "Plan only: read, never write to GitHub. Works without a token."),
    Input("max-concurrency", _I, "4", "Most requests in flight at once (1-32).", low=1, high=32),
    Input("max-retries", _I, "5", "Retries per request for retryable failures (0-20).", low=0, high=20),
    Input("request-timeout", _I, "30", "Seconds before one HTTP request times out (1-300).", low=1, high=300),
    Input(
        "writes-per-minute",
        _I,
        "60",
        "Most content-creating requests (creates and links) a minute (0-10000). GitHub.com documents 80 as the "
        "ceiling; higher values only for GHES with limits off; 0 turns pacing off.",
        low=0,
        high=10_000,
    ),
    Input(
        "checkpoint-every",
        _I,
        "25",
        "Write a checkpoint summary every N operations (1-10000).",
        low=1,
        high=10_000,
    ),
    Input("close-removed", _B, "true", "Close the issue of a planning file that was deleted."),
    Input("sub-issues", _B, "true", "Link PRD <- epic <- task as sub-issues."),
    Input("dependencies", _B, "true", "Link depends_on as blocked-by dependencies."),
    Input(
        "labels",
        _T,
        "",
        "Extra labels for every synced issue, comma-separated. A missing one is made when first used. At most 50 "
        "characters each and 97 in all (a task also carries task, issue-sync and epic:<name>; GitHub allows 100), "
        "else exit 2.",
    ),
    Input(
        "replay",
        _T,
        "auto",
        "Resume an earlier failed run: 'auto' (previous attempt of this run), a run id, or a folder holding a "
        "downloaded checkpoint. Empty: no replay.",
    ),
    Input(
        "artifact-name",
        _T,
        "issue-sync",
        "Prefix of the uploaded artifacts (<name>-graph, <name>-checkpoint, <name>-report).",
    ),
    Input(
        "upload-artifacts",
        _B,
        "true",
        "Upload the task graph, checkpoint and report as workflow artifacts.",
    ),
    Input(
        "retention-days",
        _I,
        "",
        "Days to keep the artifacts (1-90, capped by the repository setting). Empty: the repository default.",
        low=1,
        high=90,
        outside_actions="the repository's",
    ),
    Input(
        "output-dir",
        _T,
        "",
        "Folder for plan, graph, journal and report files. Empty: $RUNNER_TEMP/issue-sync (a temp folder "
        "outside Actions).",
        outside_actions="$RUNNER_TEMP/issue-sync, else issue-sync in the system temp folder",
    ),
    Input("stop-on-error", _B, "false", "End the run (resumable) at the first item that fails."),
    Input(
        "deadline-minutes",
        _N,
        "0",
        "Stop scheduling new work after this many minutes (0-1440) and leave the run resumable. 0: no deadline.",
        low=0,
        high=24 * 60,
    ),
    Input(
        "mentions",
        _C,
        "escape",
        "'escape': @name and @org/team outside code are wrapped in backticks, so a sync notifies no one. 'keep': "
        "bodies are copied as they are. Switching it rewrites only the issues whose body has a mention.",
        choices=MENTION_MODES,
    ),
    Input(
        "lease-wait-minutes",
        _N,
        "5",
        "Minutes to wait while another sync of the same repository holds the lease (0-60); then the run stops, "
        "resumable. A lease left by a killed run expires after 3 minutes.",
        low=0,
        high=60,
    ),
)

BY_NAME: dict[str, Input] = {spec.name: spec for spec in INPUTS}


class OutputKind(StrEnum):
    COUNT = "count"  # a number of items; 0 when the settings were invalid
    PATH = "path"
    FLAG = "flag"  # 'true' or 'false'


@dataclass(frozen=True)
class Output:
    name: str
    kind: OutputKind
    description: str  # action.yml's text, word for word


OUTPUTS: tuple[Output, ...] = (
    Output("created", OutputKind.COUNT, "Number of issues created."),
    Output("updated", OutputKind.COUNT, "Number of issues updated (content, state or links)."),
    Output("closed", OutputKind.COUNT, "Number of issues closed."),
    Output("unchanged", OutputKind.COUNT, "Number of items already in step with GitHub."),
    Output("failed", OutputKind.COUNT, "Number of items that failed."),
    Output(
        "skipped",
        OutputKind.COUNT,
        "Number of files skipped (not planning items, or unreadable), each with a reason in the report.",
    ),
    Output("report-path", OutputKind.PATH, "Path of report.md (report.json beside it)."),
    Output("graph-path", OutputKind.PATH, "Path of task-graph.json (task-graph.mmd beside it)."),
    Output("journal-path", OutputKind.PATH, "Path of the journal (JSON lines) of this run."),
    Output(
        "resumable",
        OutputKind.FLAG,
        "'true' when the run stopped early and a later run (or replay) can finish it.",
    ),
)

COUNT_OUTPUTS: tuple[str, ...] = tuple(out.name for out in OUTPUTS if out.kind is OutputKind.COUNT)
