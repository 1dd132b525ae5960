"""Run the container's entry point (`python entrypoint.py`) as a subprocess against the fake GitHub and the
artifacts double, the way the runner starts it: INPUT_* variables, the runner's GITHUB_* context and the runtime
token. A started run can be watched (its log, the fakes' records) and stopped with a signal while it works.

Routing: the sync talks to the fake GitHub (`INPUT_API-URL`); the workflow run's own artifacts, listed by run id
through REST, live on the runner's API (`GITHUB_API_URL`, `GITHUB_REPOSITORY`), which here is the artifacts
double's REST half. Both accept the same token (the fake GitHub is started with the double's `rest_token`).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from batch_action.sync.lease import LEASE_LABEL, describe
from batch_action.sync.render import read_marker
from tests.fake_artifacts import WORKFLOW_PATH, FakeArtifactService
from tests.fake_github import FakeGitHub
from tests.sync_harness import RunResult

ROOT = Path(__file__).resolve().parents[1]
REPOSITORY = "octo/repo"
ISSUES_PATH = f"/repos/{REPOSITORY}/issues"
LINK_SUFFIXES = ("/sub_issues", "/dependencies/blocked_by")
LEASE_PATH = f"/repos/{REPOSITORY}/labels/{LEASE_LABEL}"
_STARTED: list[subprocess.Popen[str]] = []  # every run started, so a failed test leaves no process behind


def expire_lease(gh: FakeGitHub) -> None:
    """What three minutes do to the lease a killed run left behind: it expires (tests do not wait for that)."""
    if LEASE_LABEL in gh.labels():
        gh.seed_label(LEASE_LABEL, description=describe("1", 1, until=0, nonce="expired"))


def kill_leftovers() -> None:
    """Kill (by pid) the runs this harness started that are still alive; for a fixture's teardown."""
    while _STARTED:
        proc = _STARTED.pop()
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def new_job(svc: FakeArtifactService, run_backend_id: str, job_backend_id: str) -> str:
    """A runtime token for another job (or another attempt's job) of a run the double knows."""
    return svc.add_job_token(run_backend_id, job_backend_id)


@dataclass
class Started:
    proc: subprocess.Popen[str]
    root: Path  # holds gh_output, gh_summary and files/ (output-dir)
    lines: list[str] = field(default_factory=list)
    _reader: threading.Thread | None = None

    @property
    def out_dir(self) -> Path:
        return self.root / "files"

    def log(self) -> str:
        return "".join(self.lines)

    def wait_until(self, what: str, ready: Callable[[], bool], timeout: float = 30.0, step: float = 0.005) -> None:
        """Poll until `ready()`; fails (and kills the run) when it is not within `timeout` or the run ends first."""
        deadline = time.monotonic() + timeout
        while not ready():
            if self.proc.poll() is not None:
                self._reader_join()
                raise AssertionError(f"the run ended (exit {self.proc.returncode}) before {what}:\n{self.log()}")
            if time.monotonic() > deadline:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"timed out waiting for {what}:\n{self.log()}")
            time.sleep(step)

    def signal(self, signum: signal.Signals) -> None:
        self.proc.send_signal(signum)

    def wait(self, timeout: float = 60.0) -> RunResult:
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self._reader_join()
            raise AssertionError(f"the run did not end within {timeout} s:\n{self.log()}") from None
        self._reader_join()
        output_file = self.root / "gh_output"
        summary_file = self.root / "gh_summary"
        outputs = _read_outputs(output_file.read_text()) if output_file.exists() else {}
        summary = summary_file.read_text() if summary_file.exists() else ""
        return RunResult(code, self.log(), outputs, summary, self.out_dir)

    def _reader_join(self) -> None:
        if self._reader is not None:
            self._reader.join(timeout=10)


def _read_outputs(text: str) -> dict[str, str]:
    outputs: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line and "=" not in line.split("<<", 1)[0]:
            name, delimiter = line.split("<<", 1)
            value: list[str] = []
            for inner in lines:
                if inner == delimiter:
                    break
                value.append(inner)
            outputs[name] = "\n".join(value)
        elif "=" in line:
            name, value_text = line.split("=", 1)
            outputs[name] = value_text
    return outputs


def action_env(
    gh: FakeGitHub,
    svc: FakeArtifactService | None,
    workspace: Path,
    root: Path,
    *,
    run_id: str,
    attempt: int = 1,
    runtime_token: str | None = None,
    token: str,
    **inputs: str,
) -> dict[str, str]:
    """The environment the runner gives the container; `inputs` override INPUT_* (`max_concurrency=...`)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "gh_output").write_text("")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(root),
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "GITHUB_ACTIONS": "true",
        "GITHUB_RUN_ID": run_id,
        "GITHUB_RUN_ATTEMPT": str(attempt),
        "GITHUB_REPOSITORY": REPOSITORY,
        "GITHUB_WORKFLOW_REF": f"{REPOSITORY}/{WORKFLOW_PATH}@refs/heads/main",
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_OUTPUT": str(root / "gh_output"),
        "GITHUB_STEP_SUMMARY": str(root / "gh_summary"),
        "GITHUB_SERVER_URL": "https://github.com",
        "INPUT_GITHUB-TOKEN": token,
        "INPUT_REPOSITORY": REPOSITORY,
        "INPUT_API-URL": gh.base_url,
        "INPUT_PATH": ".claude",
        "INPUT_SCOPE": "all",
        "INPUT_WRITES-PER-MINUTE": "0",
        "INPUT_REQUEST-TIMEOUT": "5",
        "INPUT_OUTPUT-DIR": str(root / "files"),
    }
    if svc is not None:
        env.update(
            {
                "ACTIONS_RUNTIME_TOKEN": runtime_token or svc.token,
                "ACTIONS_RESULTS_URL": svc.results_url,
                "GITHUB_API_URL": svc.api_url,  # the runner's API: where this workflow's runs and artifacts are
            }
        )
    env.update({f"INPUT_{name.upper().replace('_', '-')}": value for name, value in inputs.items()})
    return env


def start(env: dict[str, str], root: Path) -> Started:
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "entrypoint.py")],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    _STARTED.append(proc)
    started = Started(proc, root)

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            started.lines.append(line)

    started._reader = threading.Thread(target=read, daemon=True)
    started._reader.start()
    return started


def run(env: dict[str, str], root: Path, timeout: float = 60.0) -> RunResult:
    return start(env, root).wait(timeout)


# -- what the fake GitHub saw -------------------------------------------------------------------------------------


def ok(status: int | None) -> bool:
    return status is not None and 200 <= status < 300


def created_keys(gh: FakeGitHub) -> Counter[str]:
    """Successful POST /issues per marker key: every item must appear exactly once over all runs."""
    counts: Counter[str] = Counter()
    for rec in gh.requests:
        if rec.method == "POST" and rec.path == ISSUES_PATH and ok(rec.status):
            marker = read_marker(rec.body.get("body") if isinstance(rec.body, dict) else None)
            counts[marker.key if marker else "<no marker>"] += 1
    return counts


def write_signature(rec: Any) -> tuple[str, str, str]:
    return rec.method, rec.path, json.dumps(rec.body, sort_keys=True)


def repeated_writes(gh: FakeGitHub) -> list[tuple[tuple[str, str, str], int]]:
    """Identical writes (method, path and body) that succeeded more than once; each run's release of the lease
    is the same DELETE, and not a repeated write."""
    counts = Counter(
        write_signature(r) for r in gh.requests if r.method != "GET" and ok(r.status) and r.path != LEASE_PATH
    )
    return [(sig, n) for sig, n in counts.items() if n > 1]


def link_posts(gh: FakeGitHub) -> Counter[tuple[str, str, str]]:
    """Every link POST sent (any status), by method, path and body."""
    return Counter(write_signature(r) for r in gh.requests if r.method == "POST" and r.path.endswith(LINK_SUFFIXES))


def first_write_at(gh: FakeGitHub) -> float:
    return min(r.start for r in gh.requests if r.method != "GET")
