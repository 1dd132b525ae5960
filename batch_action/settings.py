"""The action's settings: one reader for the inputs, from the runner's `INPUT_*` variables and the CLI's flags.

The runner exports every input declared in action.yml as `INPUT_<NAME>` (upper-cased, hyphens kept:
`INPUT_DRY-RUN`); a shell in between may only pass the underscore spelling, so both are read. A `--flag` on the
command line wins over the environment. Every problem is collected and reported together, each naming the input
and the values it accepts, so a user fixes their workflow once, not once per run.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar
from urllib.parse import urlsplit

from batch_action import limits
from batch_action.config import NOT_IN_FILE, ConfigFile, explicit, layer, load_config, relabel
from batch_action.inputs import BY_NAME, INPUTS, Input, Kind
from batch_action.model import Kind as ItemKind
from batch_action.projects.board import ProjectRef, parse_project_url
from batch_action.sync.issue_types import parse_issue_types
from batch_action.sync.kinds import parse_kinds
from batch_action.sync.render import Style

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    ConfigT = TypeVar("ConfigT", bound=DataclassInstance)

__all__ = ["INPUTS", "Input", "Settings", "SettingsError", "load_settings", "parse_args", "raw_inputs"]


# The labels the sync itself puts on a task's issue (`sync.render.labels_for`): these two and `epic:<name>`.
ITEM_LABELS = ("task", "issue-sync")
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}
_REPO_RE = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
# Every kind of GitHub token (ghp_, gho_, ghs_, github_pat_, the older 40 hex digits) is printable ASCII.
_TOKEN_RE = re.compile(r"[\x21-\x7e]+")
# Characters GitHub refuses in artifact names (actions/toolkit path-and-artifact-name-validation).
_BAD_ARTIFACT_CHARS = set('":<>|*?\r\n\\/')


class SettingsError(Exception):
    """All the problems found in the settings, one line each."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Settings:
    token: str = field(repr=False)
    repository: str
    api_url: str
    workspace: Path
    path: Path
    scope: str
    base_sha: str
    dry_run: bool
    max_concurrency: int
    max_retries: int
    request_timeout: int
    writes_per_minute: int
    checkpoint_every: int
    close_removed: bool
    sub_issues: bool
    dependencies: bool
    labels: tuple[str, ...]
    replay: str
    artifact_name: str
    upload_artifacts: bool
    retention_days: int | None
    output_dir: Path
    stop_on_error: bool
    deadline_minutes: float
    mentions: str
    lease_wait_minutes: float
    issue_types: dict[ItemKind, str] = field(default_factory=dict)
    project: ProjectRef | None = None
    project_url: str = ""
    project_token: str = field(default="", repr=False)  # "": github-token's
    project_fields: str = ""
    # Runner context, not inputs: where links point and which attempt this is.
    server_url: str = "https://github.com"
    ref_name: str = ""
    sha: str = ""
    run_id: str = ""
    run_attempt: int = 1
    in_actions: bool = False
    warnings: tuple[str, ...] = ()  # said once the run starts: e.g. an input set in two spellings that disagree
    kinds: frozenset[ItemKind] = frozenset(ItemKind)  # the `kinds` input (`sync.kinds`)
    style: Style = field(default_factory=Style)  # the config file's look of an issue
    config: str = ""  # the config file read, workspace-relative; "" when there was none

    @property
    def relative_path(self) -> str:
        """The planning folder relative to the workspace, as git and annotations want it."""
        try:
            return self.path.relative_to(self.workspace).as_posix()
        except ValueError:
            return self.path.as_posix()


_EPILOG = """examples:
  batch-action --dry-run --scope all                  plan the .claude folder here, no token needed
  batch-action --dry-run --path examples/.claude      plan another folder of the working directory
  GITHUB_TOKEN=... batch-action --github-token "$GITHUB_TOKEN" --repository me/sandbox --scope all

exit codes:
  0  done
  1  some items failed, or the run stopped early and a later run or replay can finish it (resumable)
  2  invalid settings: every problem is listed, each naming the input and the values it accepts
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """argparse's error, with the closest flag when one was misspelt (`--dryrun`: did you mean --dry-run?)."""
        flags = [option for action in self._actions for option in action.option_strings if option.startswith("--")]
        unknown = re.findall(r"(--?[\w-]+)", message.split(":", 1)[-1]) if "unrecognized" in message else []
        hints = [
            f"{flag}: did you mean {close[0]}?"
            for flag in unknown
            if (close := difflib.get_close_matches(flag.split("=", 1)[0], flags, n=1, cutoff=0.6))
        ]
        super().error("; ".join([message, *hints]))


def parse_args(argv: Sequence[str] | None) -> dict[str, str]:
    """The CLI's `--flags`, one per input, returned as raw strings keyed by input name (only those given)."""
    parser = _Parser(
        prog="batch-action",
        description="Mirror CCPM / ClaudeAutoPM planning markdown as GitHub issues. Every flag is also an "
        "action input (INPUT_<NAME> in the environment).",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for spec in INPUTS:
        is_bool = spec.kind is Kind.BOOLEAN
        parser.add_argument(
            f"--{spec.name}",
            dest=spec.name,
            nargs="?" if is_bool else None,
            const="true" if is_bool else None,
            default=None,
            metavar="BOOL" if is_bool else "VALUE",
            help=spec.help,
        )
    namespace = parser.parse_args(list(argv) if argv is not None else None)
    return {k: v for k, v in vars(namespace).items() if v is not None}


def raw_inputs(env: Mapping[str, str], flags: Mapping[str, str] | None = None) -> dict[str, str]:
    """Each input's raw value: a flag, else `INPUT_<NAME>` (hyphen or underscore spelling), else the default.

    An empty value counts as unset: the runner passes declared inputs the user left empty as "".
    """
    flags = flags or {}
    values: dict[str, str] = {}
    for spec in INPUTS:
        upper = spec.name.upper()
        for candidate in (
            flags.get(spec.name),
            env.get(f"INPUT_{upper}"),
            env.get(f"INPUT_{upper.replace('-', '_')}"),
        ):
            if candidate is not None and candidate.strip() != "":
                values[spec.name] = candidate.strip()
                break
        else:
            values[spec.name] = spec.default
    return values


def spelling_conflicts(env: Mapping[str, str]) -> tuple[str, ...]:
    """Inputs set in both spellings with different values: the hyphen one (the runner's) is used, which may not be
    what the workflow meant."""
    found = []
    for spec in INPUTS:
        upper = spec.name.upper()
        hyphen, underscore = f"INPUT_{upper}", f"INPUT_{upper.replace('-', '_')}"
        if hyphen == underscore:
            continue
        first, second = (env.get(hyphen) or "").strip(), (env.get(underscore) or "").strip()
        if first and second and first != second:
            if BY_NAME[spec.name].kind is Kind.SECRET:  # a secret: say that they differ, never what they hold
                found.append(f"{hyphen} and {underscore} are both set and differ; {hyphen} is used")
            else:
                found.append(
                    f"input `{spec.name}` is set twice: {hyphen} is {first!r} and {underscore} is {second!r}; "
                    f"{first!r} ({hyphen}) is used"
                )
    return tuple(found)


def derived(config: type[ConfigT], settings: Settings) -> ConfigT:
    """A phase's frozen config: each of its fields taken, by name, from the settings (one copy of every value,
    no positional list to keep in step)."""
    return config(**{f.name: getattr(settings, f.name) for f in fields(config)})


def load_settings(env: Mapping[str, str], argv: Sequence[str] | None = ()) -> Settings:
    """Build `Settings` from the environment and CLI flags, or raise `SettingsError` listing every problem.

    The config file (`config` input) fills in the inputs the workflow did not give (`given_inputs`); a problem
    with a value it gave names the file, the line and the key instead of the input."""
    flags = parse_args(argv)
    raw = raw_inputs(env, flags)
    problems: list[str] = []
    workspace = Path(env.get("GITHUB_WORKSPACE") or os.getcwd()).resolve()
    given = given_inputs(env, flags)
    config, config_problems = load_config(
        workspace,
        raw["config"],
        [spec.name for spec in INPUTS if spec.name not in NOT_IN_FILE],
        given="config" in given,
    )
    problems.extend(config_problems)
    origins: dict[str, str] = {}
    if config is not None:
        raw, origins = layer(raw, given, config)

    def boolean(name: str) -> bool:
        value = raw[name].lower()
        if value in _TRUE:
            return True
        if value not in _FALSE:
            problems.append(f"input `{name}`: {raw[name]!r} is not a boolean; use 'true' or 'false'")
        return False

    def integer(name: str) -> int:
        low, high = _bounds(BY_NAME[name])
        try:
            value = int(raw[name])
        except ValueError:
            problems.append(f"input `{name}`: {raw[name]!r} is not a whole number; use {low} to {high}")
            return low
        if not low <= value <= high:
            problems.append(f"input `{name}`: {value} is out of range; use {low} to {high}")
        return value

    def number(name: str) -> float:
        low, high = _bounds(BY_NAME[name])
        try:
            value = float(raw[name])
        except ValueError:
            problems.append(f"input `{name}`: {raw[name]!r} is not a number; use {low:g} to {high:g}")
            return low
        if not low <= value <= high:
            problems.append(f"input `{name}`: {value:g} is out of range; use {low:g} to {high:g}")
        return value

    def choice(name: str) -> str:
        allowed = BY_NAME[name].choices
        value = raw[name].lower()
        if value not in allowed:
            problems.append(f"input `{name}`: {raw[name]!r} is not one of {', '.join(map(repr, allowed))}")
        return value

    in_actions = env.get("GITHUB_ACTIONS") == "true"
    token = raw["github-token"]
    known_before = len(problems)
    dry_run = boolean("dry-run")
    dry_run_unknown = len(problems) > known_before  # then what a real run requires is no problem of its own
    repository = raw["repository"] or env.get("GITHUB_REPOSITORY", "")
    api_url = (raw["api-url"] or env.get("GITHUB_API_URL") or "https://api.github.com").rstrip("/")

    if token and not _TOKEN_RE.fullmatch(token):
        # Never echo it: the value is a secret, and the runner's mask may not cover a mangled one.
        problems.append(
            "input `github-token`: holds a blank, a line break or another character no GitHub token has "
            "(a secret pasted with a line break?); pass the token alone, e.g. ${{ github.token }}"
        )
    if repository and not _REPO_RE.match(repository):
        problems.append(f"input `repository`: {repository!r} is not of the form owner/name")
    if not dry_run and not dry_run_unknown:
        if not token:
            problems.append("input `github-token`: required unless `dry-run` is 'true'; pass ${{ github.token }}")
        if not repository:
            problems.append("input `repository`: required unless `dry-run` is 'true'; pass owner/name")
    if not re.match(r"^https?://[^\s/]+", api_url):
        problems.append(f"input `api-url`: {api_url!r} is not an http(s) URL, e.g. https://api.github.com")

    path = (workspace / raw["path"]).resolve()
    if not path.is_relative_to(workspace):
        # `..`, an absolute path or a link out of the checkout would sync files nobody reviewed as planning files.
        problems.append(
            f"input `path`: {raw['path']!r} leads outside the workspace {workspace}; "
            "name a folder inside the checkout, e.g. .claude"
        )
    elif not path.is_dir():
        problems.append(f"input `path`: folder {raw['path']!r} does not exist under {workspace}")

    scope = choice("scope")
    base_sha = raw["base-sha"]
    if base_sha and not re.fullmatch(r"[0-9a-fA-F]{4,64}", base_sha):
        problems.append(f"input `base-sha`: {base_sha!r} is not a commit SHA (hex)")

    retention: int | None = None
    if raw["retention-days"]:
        retention = integer("retention-days")

    artifact_name = raw["artifact-name"]
    if _BAD_ARTIFACT_CHARS & set(artifact_name):
        problems.append(
            f"input `artifact-name`: {artifact_name!r} contains a character GitHub refuses "
            '(any of " : < > | * ? \\ / or a line break)'
        )

    replay = raw["replay"]
    if replay.lower() == "auto":
        replay = "auto"
    elif replay and not replay.isdigit():
        # A folder holding a downloaded checkpoint: in the checkout or the runner's temp folder, nowhere else.
        folder = (workspace / replay).resolve()
        allowed = [workspace, *([Path(env["RUNNER_TEMP"]).resolve()] if env.get("RUNNER_TEMP") else [])]
        if not folder.is_dir() or not any(folder.is_relative_to(place) for place in allowed):
            problems.append(
                f"input `replay`: {replay!r} is neither 'auto', a run id, nor a folder inside the workspace "
                "or $RUNNER_TEMP holding a downloaded checkpoint"
            )

    labels = tuple(dict.fromkeys(label.strip() for label in raw["labels"].split(",") if label.strip()))
    for label in labels:
        if len(label) > limits.LABEL_NAME_CHARS.value:
            problems.append(f"input `labels`: {label!r} is longer than GitHub's 50 characters")
    # Every task's issue carries its kind, the sync label and `epic:<name>` besides these.
    room = limits.LABELS_PER_ISSUE.value - len(ITEM_LABELS) - 1
    if len({label.lower() for label in labels} - set(ITEM_LABELS)) > room:
        problems.append(
            f"input `labels`: {len(labels)} labels, and every task's issue also carries `task`, `issue-sync` and "
            f"`epic:<name>`: more than GitHub's {limits.LABELS_PER_ISSUE.value} labels on one issue; "
            f"name at most {room}"
        )

    output_dir = _output_dir(raw["output-dir"], workspace, env)
    kinds, kind_problems = parse_kinds(raw["kinds"])
    problems.extend(kind_problems)

    issue_types, type_problems = parse_issue_types(raw["issue-types"])
    problems.extend(type_problems)
    server_url = (env.get("GITHUB_SERVER_URL") or "https://github.com").rstrip("/")
    project_url = raw["project"]
    project = parse_project_url(project_url) if project_url else None
    if project_url and project is None:
        problems.append(
            f"input `project`: {project_url!r} is not a project's URL, e.g. https://github.com/orgs/ORG/projects/5 "
            "or https://github.com/users/USER/projects/5"
        )
    elif project is not None and project.host.lower() != (urlsplit(server_url).hostname or "").lower():
        problems.append(
            f"input `project`: {project_url!r} is on {project.host}, not on this server ({server_url}); "
            "a project of another server cannot hold this repository's issues"
        )
    project_token = raw["project-token"]
    if project_token and not _TOKEN_RE.fullmatch(project_token):
        problems.append(
            "input `project-token`: holds a blank, a line break or another character no GitHub token has; "
            "pass the token alone"
        )
    if raw["project-fields"] and not project_url:
        problems.append("input `project-fields`: set without `project`; name the project's URL in `project`")

    try:
        attempt = int(env.get("GITHUB_RUN_ATTEMPT") or "1")
    except ValueError:
        attempt = 1

    built: dict[str, Any] = {
        "token": token,
        "repository": repository,
        "api_url": api_url,
        "workspace": workspace,
        "path": path,
        "scope": scope,
        "base_sha": base_sha,
        "dry_run": dry_run,
        "max_concurrency": integer("max-concurrency"),
        "max_retries": integer("max-retries"),
        "request_timeout": integer("request-timeout"),
        "writes_per_minute": integer("writes-per-minute"),
        "checkpoint_every": integer("checkpoint-every"),
        "close_removed": boolean("close-removed"),
        "sub_issues": boolean("sub-issues"),
        "dependencies": boolean("dependencies"),
        "labels": labels,
        "replay": replay,
        "artifact_name": artifact_name,
        "upload_artifacts": boolean("upload-artifacts"),
        "retention_days": retention,
        "output_dir": output_dir,
        "stop_on_error": boolean("stop-on-error"),
        "deadline_minutes": number("deadline-minutes"),
        "mentions": choice("mentions"),
        "lease_wait_minutes": number("lease-wait-minutes"),
        "issue_types": issue_types,
        "project": project,
        "project_url": project_url,
        "project_token": project_token,
        "project_fields": raw["project-fields"],
        "server_url": server_url,
        "ref_name": env.get("GITHUB_REF_NAME", ""),
        "sha": env.get("GITHUB_SHA", ""),
        "run_id": env.get("GITHUB_RUN_ID", ""),
        "run_attempt": max(attempt, 1),
        "in_actions": in_actions,
        "warnings": spelling_conflicts(env),
        "kinds": kinds,
        "style": _style(config),
        "config": config.path if config is not None else "",
    }
    if problems:
        raise SettingsError(relabel(problems, origins))
    return Settings(**built)


# Where the runner fills a `${{ github.* }}` default from: an input equal to it was not given by the workflow.
_CONTEXT_DEFAULTS = {"repository": "GITHUB_REPOSITORY", "api-url": "GITHUB_API_URL"}


def given_inputs(env: Mapping[str, str], flags: Mapping[str, str]) -> set[str]:
    """The inputs the workflow (or the command line) gave, as opposed to defaults the runner filled in. The runner
    sets every declared input, filling an unset one with its action.yml default, so a value equal to the default
    counts as not given (README "Config file"): a flag always counts; `repository` and `api-url` count when they
    differ from the repository and API the run is in; `base-sha` (an event's) when not empty."""
    given = set(flags)
    for spec in INPUTS:
        upper = spec.name.upper()
        value = env.get(f"INPUT_{upper}") or env.get(f"INPUT_{upper.replace('-', '_')}")
        default = env.get(_CONTEXT_DEFAULTS[spec.name], "") if spec.name in _CONTEXT_DEFAULTS else spec.default
        if explicit(value, default.rstrip("/") if spec.name == "api-url" else default):
            given.add(spec.name)
    return given


def _style(config: ConfigFile | None) -> Style:
    if config is None:
        return Style()
    return Style(
        kind_labels=dict(config.kind_labels),
        close_statuses=config.close_statuses,
        titles=dict(config.titles),
        field_labels=config.field_labels,
        field_assignees=config.field_assignees,
    )


def _bounds(spec: Input) -> tuple[int, int]:
    """An input's range from the table, as the whole numbers the messages name (`use 1 to 32`)."""
    assert spec.low is not None and spec.high is not None, f"{spec.name} has no range in inputs.py"
    return int(spec.low), int(spec.high)


def _output_dir(value: str, workspace: Path, env: Mapping[str, str]) -> Path:
    """Only a path: the run creates it. Outside Actions a fixed folder in the system temp dir, easy to find."""
    if value:
        return (workspace / value).resolve()
    return Path(env.get("RUNNER_TEMP") or tempfile.gettempdir()) / "issue-sync"
