"""The Python library: plan and run a sync from Python, a tree path and a repository in, an outcome out.

    from batch_action import sync
    outcome = sync("path/to/checkout", "owner/name", token=token, on_progress=print)

It is the action's own program: the same settings (every input, by its name in snake case), the same run and the
same files, composed by `cli.main`; only the environment is built here instead of read from the runner's.
"""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from batch_action.cli import main
from batch_action.exits import EXIT_SETTINGS
from batch_action.hooks import Hooks, Progress, Transform
from batch_action.inputs import BY_NAME
from batch_action.settings import SettingsError, load_settings


@dataclass(frozen=True)
class SyncOutcome:
    """What a sync did (or a plan would do)."""

    exit_code: int  # 0 done; 1 failures, or stopped early and resumable; 2 invalid settings
    counts: Mapping[str, int]  # created, updated, closed, unchanged, failed, skipped (and pending, when cut short)
    outcomes: Mapping[str, str]  # item key -> what happened to it ("create", "unchanged", "failed", ...)
    resumable: bool
    report: Path | None  # report.json; None when the settings were invalid
    problems: tuple[str, ...] = ()  # the settings' problems, each naming the input, when exit_code is 2
    log: str = field(default="", repr=False)  # what the action would have printed (workflow commands)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


def sync(
    workspace: str | Path,
    repository: str,
    *,
    token: str = "",
    path: str = ".claude",
    dry_run: bool = False,
    transform: Transform | None = None,
    on_progress: Progress | None = None,
    **inputs: str | int | float | bool,
) -> SyncOutcome:
    """Sync the planning folder `path` of the git checkout `workspace` to `repository` (`owner/name`).

    `inputs`: any other input of the action, by its name with `_` for `-` (`scope="all"`, `kinds="prd,epic"`,
    `output_dir=...`); the config file in the workspace applies as in the action. `transform(item, draft)`
    returns the draft of each issue to write (title, labels, assignees, body); `on_progress(done, total, key)` is
    called as each item's writes land. A dry run (`dry_run=True`, no token needed) writes nothing.
    """
    values: dict[str, str] = {"repository": repository, "path": path, "dry-run": _text(dry_run)}
    for name, value in inputs.items():
        input_name = name.replace("_", "-")
        if input_name not in BY_NAME or input_name in ("github-token", "repository", "path", "dry-run"):
            raise TypeError(f"sync() got an unexpected input {name!r}")
        values[input_name] = _text(value)
    root = Path(workspace).resolve()
    env = {"GITHUB_WORKSPACE": str(root), "GITHUB_REPOSITORY": repository}
    env.update({f"INPUT_{name.upper()}": value for name, value in values.items()})
    if token:
        env["INPUT_GITHUB-TOKEN"] = token
    try:
        load_settings(env)  # the settings' problems, as a list, before the run reports them as errors
    except SettingsError as exc:
        return SyncOutcome(EXIT_SETTINGS, {}, {}, False, None, tuple(exc.problems))
    stream = io.StringIO()
    with tempfile.TemporaryDirectory(prefix="issue-sync-outputs-") as folder:
        outputs_file = Path(folder) / "outputs"
        outputs_file.write_text("")
        env["GITHUB_OUTPUT"] = str(outputs_file)  # the outputs, read back below, as a later step would
        code = main([], env, stream, hooks=Hooks(transform, on_progress))
        outputs = dict(line.split("=", 1) for line in outputs_file.read_text().splitlines() if "=" in line)
    log = stream.getvalue()
    shown = outputs.get("report-path", "")
    report = Path(shown).with_name("report.json") if shown else None
    if report is None or not report.is_file():  # the run ended before its report (an internal error)
        return SyncOutcome(code, {}, {}, False, None, (), log)
    data: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
    return SyncOutcome(
        code,
        dict(data.get("counts", {})),
        dict(data.get("outcomes", {})),
        bool(data.get("resumable")),
        report,
        (),
        log,
    )


def plan(workspace: str | Path, repository: str = "", *, token: str = "", **inputs: Any) -> SyncOutcome:
    """What `sync` would do, written nowhere on GitHub: a dry run (with a token, against the real issues)."""
    return sync(workspace, repository, token=token, dry_run=True, **inputs)


def _text(value: str | int | float | bool) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)
