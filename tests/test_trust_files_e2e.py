"""The trust boundary on the file side, end to end: the planning folder is edited by anyone with push access.

Every test runs the real entry point against the fake GitHub and checks what a hostile tree must never get: a
secret outside the folder published (issue bodies, log, output files), an entry that vanishes uncounted, a run
that crashes on one bad name.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from batch_action.model import text_digest
from tests.fake_github import FakeGitHub
from tests.sync_harness import TOKEN, RunResult, Workspace, by_key, run_sync

Factory = Callable[..., FakeGitHub]
ITEMS = 44  # the example tree's items
SECRET = "INPUT_GITHUB-TOKEN=ghp_s3cr3tThatMustNeverLeave0123456789"
SECRET_FILE = f"---\nname: Leaked\n---\n{SECRET}\n"


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")


def baseline_skipped(tmp_path: Path, gh: FakeGitHub) -> int:
    """How many files the untouched example tree skips (a dry run writes nothing)."""
    plain = Workspace(tmp_path / "plain")
    return int(run_sync(gh, plain.path, tmp_path / "plain-run", dry_run="true").outputs["skipped"])


def environ_entries() -> list[str]:
    """This process's `KEY=VALUE` strings as /proc/self/environ gives them (the long ones, unlikely elsewhere)."""
    raw = Path("/proc/self/environ").read_bytes().split(b"\0")
    return [entry.decode("utf-8", "replace") for entry in raw if len(entry) >= 12 and b"=" in entry]


def assert_nowhere(secrets: list[str], gh: FakeGitHub, result: RunResult) -> None:
    """Not in an issue (title or body), not in the log, not in any file the run left (state, plan, report…)."""
    for issue in gh.issues():
        text = f"{issue['title']}\n{issue.get('body') or ''}"
        assert not [s for s in secrets if s in text], f"#{issue['number']} holds a secret"
    assert not [s for s in secrets if s in result.log], "the log holds a secret"
    for file in (p for p in result.out_dir.parent.rglob("*") if p.is_file()):
        data = file.read_text("utf-8", "replace")
        assert not [s for s in secrets if s in data], f"{file.name} holds a secret"


def test_symlinks_and_special_files_are_skipped_with_their_reason_never_read(
    fake_github: Factory, ws: Workspace, tmp_path: Path
) -> None:
    gh = fake_github(token=TOKEN)
    skipped_before = baseline_skipped(tmp_path, gh)
    gh.clear_requests()
    outside = tmp_path / "outside"
    (outside / "epic").mkdir(parents=True)
    (outside / "secret.md").write_text(SECRET_FILE)
    (outside / "epic" / "epic.md").write_text(SECRET_FILE)
    (outside / "epic" / "001.md").write_text(SECRET_FILE)
    claude = ws.path / ".claude"
    billing = claude / "epics" / "billing"
    links = {
        "epics/billing/901.md": str(outside / "secret.md"),  # a file outside the checkout
        "epics/billing/902.md": "/proc/self/environ",  # the process's environment: the token
        "epics/billing/903.md": "missing.md",  # dangling
        "epics/billing/904.md": "905.md",  # a loop: 904 -> 905 -> 904
        "epics/billing/905.md": "904.md",
        "epics/leak": str(outside / "epic"),  # a folder outside: a whole epic
        "prds/again.md": "billing.md",  # even a link that stays inside the folder
    }
    for relative, target in links.items():
        os.symlink(target, claude / relative)
    os.mkfifo(billing / "906.md")  # opening it for reading would block the run
    ws.commit("a hostile tree")

    result = run_sync(gh, ws.path, tmp_path / "run")

    assert result.code == 0, result.log
    assert_nowhere([SECRET, *environ_entries()], gh, result)
    reasons = {s["path"]: s["reason"] for s in result.report()["skipped"]}
    for relative in links:
        assert reasons[f".claude/{relative}"] == "symbolic link: not followed", relative
        assert f".claude/{relative} (symbolic link: not followed)" in result.log
    assert reasons[".claude/epics/billing/906.md"] == "named pipe (FIFO): not read"
    assert int(result.outputs["skipped"]) == skipped_before + len(links) + 1
    assert len(by_key(gh)) == ITEMS == len(gh.issues()) == int(result.outputs["created"])
    assert result.outputs["failed"] == "0"


@pytest.mark.parametrize("scope", ["all", "changed"])  # changed: git names the files too
def test_a_file_name_that_is_not_utf8_fails_that_file_and_the_rest_syncs(
    fake_github: Factory, ws: Workspace, tmp_path: Path, scope: str
) -> None:
    gh = fake_github(token=TOKEN)
    before = ws.head()  # the diff from here names the two new files
    epics = ws.path / ".claude" / "epics"
    (epics / "billing" / os.fsdecode(b"bug-\xff-login.md")).write_text("---\nname: Bad name\n---\nBody\n")
    bad_epic = epics / os.fsdecode(b"caf\xe9")  # Latin-1 "café": a folder, so every file under it
    bad_epic.mkdir()
    (bad_epic / "epic.md").write_text("---\nname: cafe\n---\nBody\n")
    ws.commit("names in Latin-1")

    result = run_sync(gh, ws.path, tmp_path / "run", scope=scope, base_sha=before)

    assert "internal error" not in result.log
    assert scope == "all" or "comparing the whole tree" not in result.log
    assert result.code == 1, result.log  # failed items
    assert result.outputs["failed"] == "2"
    report = result.report()
    problems = {p["path"]: p for p in report["problems"]}
    for shown in (r".claude/epics/billing/bug-\xff-login.md", r".claude/epics/caf\xe9"):
        assert problems[shown]["fix"] == "rename the file to a UTF-8 name", shown
        assert "not valid UTF-8" in problems[shown]["message"]
        assert any(line.startswith("::error file=" + shown) for line in result.errors), shown
    assert r"bug-\xff-login.md" in (result.out_dir / "report.md").read_text()
    assert len(by_key(gh)) == ITEMS == len(gh.issues()) == int(result.outputs["created"])


def test_a_forged_checkpoint_cannot_make_a_replay_read_a_file_outside_the_folder(
    fake_github: Factory, ws: Workspace, tmp_path: Path
) -> None:
    """state.json comes back from an artifact an earlier run (or anyone who can write one) left: untrusted."""
    gh = fake_github(token=TOKEN)
    # A first run whose task creates all fail leaves a checkpoint with work to finish.
    gh.fault("POST", r"^/repos/octo/repo/issues$", status=422, times=None, skip=10)
    first = run_sync(gh, ws.path, tmp_path / "run1", max_retries="0", max_concurrency="1")
    assert first.code == 1 and int(first.outputs["failed"]) > 0, first.log
    gh.clear_faults()
    secret = tmp_path / "secret.md"
    secret.write_text(SECRET_FILE)
    state_file = first.out_dir / "state.json"
    state = json.loads(state_file.read_text())
    pending = {op["key"] for op in state["operations"] if op["action"] == "create"} - set(by_key(gh))
    forged = sorted(pending)[:3]
    # The digest matches the file it names, so only the path check can stop the read.
    for spec, path in zip(
        (s for s in state["specs"] if s["key"] in forged),
        (str(secret), "../secret.md", ".claude/../../secret.md"),
        strict=True,
    ):
        spec.update(path=path, source_body=None, body_digest=text_digest(f"{SECRET}"))
    state_file.write_text(json.dumps(state))

    shutil.copytree(first.out_dir, ws.path / "checkpoint")  # a replay folder must be in the workspace (or RUNNER_TEMP)
    result = run_sync(gh, ws.path, tmp_path / "run2", replay="checkpoint", upload_artifacts="false")

    assert "internal error" not in result.log
    assert_nowhere([SECRET], gh, result)
    refused = [line for line in result.errors if "not a plain relative path inside" in line]
    assert len(refused) == len(forged), result.log
    assert len(by_key(gh)) == len(gh.issues())  # no duplicate, whatever the replay did
