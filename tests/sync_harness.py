"""Run the real entry point (`cli.main` with INPUT_* settings) against the fake GitHub, on a git workspace."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from batch_action.cli import main
from batch_action.sync.lease import LEASE_LABEL
from batch_action.sync.render import read_marker
from tests.fake_github import FakeGitHub, RequestRecord

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "t0ken-for-tests"


@dataclass
class RunResult:
    code: int
    log: str
    outputs: dict[str, str]
    summary: str
    out_dir: Path
    seconds: float | None = None  # wall time of the run, where the harness measured it (None: it did not)

    def report(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.out_dir / "report.json").read_text())
        return data

    @property
    def errors(self) -> list[str]:
        return [line for line in self.log.splitlines() if line.startswith("::error")]


class Workspace:
    """A git repository holding a copy of the example tree (or any tree), committed."""

    def __init__(self, path: Path, source: Path = ROOT / "examples" / ".claude") -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        shutil.copytree(source, path / ".claude")
        self.git("init", "-q", "-b", "main")
        self.commit("initial tree")

    def git(self, *args: str) -> str:
        env = {
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@e",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@e",
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_CONFIG_NOSYSTEM": "1",
            "PATH": "/usr/bin:/bin:/usr/local/bin",
        }
        done = subprocess.run(["git", *args], cwd=self.path, env=env, check=True, capture_output=True, text=True)
        return done.stdout.strip()

    def commit(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")


def action_env(gh: FakeGitHub, workspace: Path, out_dir: Path, **inputs: str) -> dict[str, str]:
    """The environment the runner gives the container, for a sync of `workspace` against the fake GitHub."""
    out_dir.mkdir(parents=True, exist_ok=True)
    output_file = out_dir / "gh_output"
    output_file.write_text("")
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_OUTPUT": str(output_file),
        "GITHUB_STEP_SUMMARY": str(out_dir / "gh_summary"),
        "GITHUB_SERVER_URL": "https://github.com",
        "INPUT_GITHUB-TOKEN": TOKEN,
        "INPUT_REPOSITORY": "octo/repo",
        "INPUT_API-URL": gh.base_url,
        "INPUT_PATH": ".claude",
        "INPUT_SCOPE": "all",
        "INPUT_WRITES-PER-MINUTE": "0",
        "INPUT_OUTPUT-DIR": str(out_dir / "files"),
        "INPUT_REQUEST-TIMEOUT": "5",
    }
    env.update({f"INPUT_{k.upper().replace('_', '-')}": v for k, v in inputs.items()})
    return env


def read_outputs(out_dir: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in (out_dir / "gh_output").read_text().splitlines() if "=" in line)


def run_sync(gh: FakeGitHub, workspace: Path, out_dir: Path, **inputs: str) -> RunResult:
    env = action_env(gh, workspace, out_dir, **inputs)
    stream = io.StringIO()
    with redirect_stdout(stream):
        code = main([], env)
    summary_file = out_dir / "gh_summary"
    summary = summary_file.read_text() if summary_file.exists() else ""
    return RunResult(code, stream.getvalue(), read_outputs(out_dir), summary, out_dir / "files")


def writes(gh: FakeGitHub) -> list[tuple[str, str]]:
    """The writes of a run, but for those of its lease (`test_convergence_e2e` counts those)."""
    return [(r.method, r.path) for r in gh.requests if r.method != "GET" and not is_lease_write(r)]


def is_lease_write(record: RequestRecord) -> bool:
    body = record.body if isinstance(record.body, dict) else {}
    return record.path.startswith(f"/repos/octo/repo/labels/{LEASE_LABEL}") or body.get("name") == LEASE_LABEL


def by_key(gh: FakeGitHub) -> dict[str, dict[str, Any]]:
    """Issues by marker key; fails on a duplicate."""
    found: dict[str, dict[str, Any]] = {}
    for issue in gh.issues():
        marker = read_marker(issue.get("body"))
        if marker is not None:
            assert marker.key not in found, (
                f"duplicate issue for {marker.key}: #{found[marker.key]['number']} and #{issue['number']}"
            )
            found[marker.key] = issue
    return found
