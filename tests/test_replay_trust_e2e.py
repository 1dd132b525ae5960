"""A checkpoint is evidence, never authority: replays of forged, foreign, malformed or oversized checkpoints, end to
end through the real entry point (`cli.main` in-process for folder replays; `python entrypoint.py` against the
artifacts double for downloads).

What is shown (README "Artifacts and replay", trust boundary):
- an issue number a checkpoint names (an operation's, or a journal entry's) is written to only when the listing
  shows that number carrying that item's marker; issues people wrote are never touched;
- a checkpoint that names no repository or another one, or is malformed or wrongly typed, is one warning and a
  plain sync, never an internal error;
- a zip bomb, an artifact too large to download and a state or journal too large to load are one warning and a
  plain sync, with bounded memory and no temporary folder left behind;
- `replay: <run-id>` uses only a run of the same workflow of this repository, not one from a fork.
"""

from __future__ import annotations

import copy
import io
import json
import os
import re
import shutil
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from batch_action.report.performance import peak_rss_mib
from batch_action.sync.render import SYNC_LABEL, read_marker
from tests.fake_artifacts import FakeArtifactService
from tests.fake_github import FakeGitHub
from tests.replay_harness import action_env, created_keys, kill_leftovers, run
from tests.sync_harness import TOKEN, RunResult, Workspace, by_key, run_sync

Factory = Callable[..., FakeGitHub]

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / ".claude"
ITEMS = 8  # the search PRD, its epic and its six tasks
CHECKPOINT = "issue-sync-checkpoint"
PERSON_WRITTEN = re.compile(r"^/repos/octo/repo/issues/(1|2)(/|$)")
BOUNDED_RSS_MIB = 200  # a plain sync of 8 items stays far below; loading a 400 MB file does not


@pytest.fixture(autouse=True)
def _no_leftover_runs() -> Iterator[None]:
    yield
    kill_leftovers()


def search_workspace(root: Path) -> Workspace:
    source = root / "source"
    (source / "prds").mkdir(parents=True)
    shutil.copy(EXAMPLES / "prds" / "search.md", source / "prds" / "search.md")
    shutil.copytree(EXAMPLES / "epics" / "search", source / "epics" / "search")
    return Workspace(root / "ws", source)


@pytest.fixture(scope="module")
def genuine_state(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The state.json a real sync of the search tree leaves (made against a GitHub of its own)."""
    tmp = tmp_path_factory.mktemp("genuine")
    with FakeGitHub(token=TOKEN) as scratch:
        done = run_sync(scratch, search_workspace(tmp).path, tmp / "run")
        assert done.code == 0, done.log
    state: dict[str, Any] = json.loads((tmp / "run" / "files" / "state.json").read_text())
    assert state["repository"] == "octo/repo" and len(state["specs"]) == ITEMS
    return state


def write_checkpoint(folder: Path, state: Any, journal: list[dict[str, Any]] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "state.json").write_text(state if isinstance(state, str) else json.dumps(state))
    (folder / "journal.jsonl").write_text("".join(json.dumps(entry) + "\n" for entry in journal or []))
    return folder


def seed_person_issues(gh: FakeGitHub) -> list[dict[str, Any]]:
    """Issues #1 and #2, written by people: the sync label by hand, but no marker."""
    issues = [gh.seed_issue(f"Written by a person ({n})", "No marker here.", labels=[SYNC_LABEL]) for n in (1, 2)]
    assert [issue["number"] for issue in issues] == [1, 2]
    return issues


def assert_untouched(gh: FakeGitHub, person: list[dict[str, Any]]) -> None:
    writes = [(r.method, r.path) for r in gh.requests if r.method != "GET" and PERSON_WRITTEN.match(r.path)]
    assert writes == []
    for before in person:
        now = gh.issue(before["number"])
        assert now is not None
        assert (now["title"], now["body"], now["state"]) == (before["title"], before["body"], before["state"])


def assert_plain_sync(gh: FakeGitHub, done: RunResult) -> None:
    """Every item created exactly once, by a sync that ended as a plain sync ends."""
    assert done.code == 0, done.log
    assert "internal error" not in done.log
    assert len(by_key(gh)) == ITEMS
    created = created_keys(gh)
    assert len(created) == ITEMS and set(created.values()) == {1}, created


def replay_warnings(log: str) -> list[str]:
    return [line for line in log.splitlines() if line.startswith("::warning::replay:")]


def assert_bounded_memory(done: RunResult) -> None:
    # On Linux a child's ru_maxrss starts from its parent's peak (kept across fork and exec): only a peak above both
    # the bound and this test process's own is the run's.
    assert done.report()["performance"]["peak_rss_mib"] <= max(BOUNDED_RSS_MIB, peak_rss_mib())


def leftover_replay_folders(out_dir: Path) -> list[Path]:
    return sorted(out_dir.glob("replay-*"))


# -- issue numbers: confirmed by the listing, or not used ------------------------------------------------------------


def test_issue_numbers_a_checkpoint_names_are_used_only_when_the_listing_confirms_them(
    fake_github: Factory, tmp_path: Path, genuine_state: dict[str, Any]
) -> None:
    gh = fake_github(token=TOKEN)
    person = seed_person_issues(gh)
    ws = search_workspace(tmp_path)
    # A first sync before task 005 existed: the listing then shows every item's issue but 005's.
    late = ws.path / ".claude" / "epics" / "search" / "005.md"
    text = late.read_text()
    late.unlink()
    ws.commit("without task 005")
    assert run_sync(gh, ws.path, tmp_path / "first").code == 0
    late.write_text(text)
    ws.commit("task 005")
    listed = by_key(gh)
    closing, updating, late_key = "task:search/003", "task:search/004", "task:search/005"
    assert closing in listed and updating in listed and late_key not in listed

    # A forged checkpoint: the close and the update name the people's issues, and its journal claims #2 is 005's.
    state = copy.deepcopy(genuine_state)
    for spec in state["specs"]:
        if spec["key"] == updating:
            spec["digest"] = "f" * 16  # so that the update has not landed yet
    marker = read_marker(listed[updating]["body"])
    assert marker is not None
    state["remote_digests"][updating] = marker.digest  # and no newer sync overtook it
    by_id = {op["id"]: op for op in genuine_state["operations"]}
    create = by_id[f"create:{late_key}"]
    state["operations"] = [
        {**create, "id": f"close:{closing}", "action": "close", "key": closing, "number": 1, "deps": []},
        {**create, "id": f"update:{updating}", "action": "update", "key": updating, "number": 2, "deps": []},
        {**create, "deps": []},
    ]
    journal = [
        {"event": "done", "job": f"link-parent:{late_key}", "result": {"number": 2, "id": person[1]["id"]}},
        {"event": "done", "job": f"update:{closing}", "result": {"number": 1, "id": person[0]["id"]}},
    ]
    write_checkpoint(ws.path / "forged", state, journal)

    done = run_sync(gh, ws.path, tmp_path / "replay", replay="forged")
    assert_untouched(gh, person)
    assert_plain_sync(gh, done)
    assert gh.issue(listed[closing]["number"])["state"] == "open"  # type: ignore[index]
    dropped = [line for line in done.log.splitlines() if "not confirmed by the listing" in line]
    assert len(dropped) == 4, done.log  # the close, the update, and the journal's numbers for 005 and 003
    assert replay_warnings(done.log) == []


# -- foreign and malformed checkpoints: a warning and a plain sync -----------------------------------------------------


def _no_repository(state: dict[str, Any]) -> Any:
    state["repository"] = ""
    return state


def _another_repository(state: dict[str, Any]) -> Any:
    state["repository"] = "octo/other"
    return state


def _a_list(state: dict[str, Any]) -> Any:
    return "[]"


def _operations_not_a_list(state: dict[str, Any]) -> Any:
    state["operations"] = {"create:task:search/001": state["operations"][0]}
    return state


def _spec_without_title(state: dict[str, Any]) -> Any:
    del state["specs"][0]["title"]
    return state


def _spec_title_a_number(state: dict[str, Any]) -> Any:
    state["specs"][0]["title"] = 5
    return state


def _order_a_string(state: dict[str, Any]) -> Any:
    state["operations"][0]["order"] = "first"
    return state


def _number_a_string(state: dict[str, Any]) -> Any:
    state["operations"][-1]["number"] = "1"
    return state


def _unknown_action(state: dict[str, Any]) -> Any:
    state["operations"][0]["action"] = "delete"
    return state


def _digests_a_list(state: dict[str, Any]) -> Any:
    state["remote_digests"] = []
    return state


@pytest.mark.parametrize(
    "forge",
    [
        _no_repository,
        _another_repository,
        _a_list,
        _operations_not_a_list,
        _spec_without_title,
        _spec_title_a_number,
        _order_a_string,
        _number_a_string,
        _unknown_action,
        _digests_a_list,
    ],
)
def test_a_foreign_or_malformed_checkpoint_is_one_warning_and_a_plain_sync(
    fake_github: Factory, tmp_path: Path, genuine_state: dict[str, Any], forge: Callable[[dict[str, Any]], Any]
) -> None:
    gh = fake_github(token=TOKEN)
    person = seed_person_issues(gh)
    ws = search_workspace(tmp_path)
    write_checkpoint(ws.path / "forged", forge(copy.deepcopy(genuine_state)))

    done = run_sync(gh, ws.path, tmp_path / "replay", replay="forged")
    warnings = replay_warnings(done.log)
    assert len(warnings) == 1 and "a plain sync follows" in warnings[0], done.log
    assert "::group::Replay" not in done.log
    assert_untouched(gh, person)
    assert_plain_sync(gh, done)
    assert done.outputs["created"] == str(ITEMS)


# -- sizes: bounded downloads, extraction and loading ------------------------------------------------------------------


def _raw_zip(entries: list[tuple[str, bytes, int, int]]) -> bytes:
    """A zip of already deflated entries (name, deflated bytes, CRC, size), exactly as declared."""
    body, directory = bytearray(), bytearray()
    for name, deflated, crc, size in entries:
        fields = struct.pack("<HHHHHIIIH", 20, 0, 8, 0, 0x21, crc, len(deflated), size, len(name))
        directory += b"PK\x01\x02" + struct.pack("<H", 20) + fields + struct.pack("<HHHHII", 0, 0, 0, 0, 0, len(body))
        directory += name.encode()
        body += b"PK\x03\x04" + fields + struct.pack("<H", 0) + name.encode() + deflated
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(directory), len(body), 0)
    return bytes(body + directory + end)


def _deflated(data: bytes) -> tuple[bytes, int, int]:
    squeeze = zlib.compressobj(6, zlib.DEFLATED, -15)
    return squeeze.compress(data) + squeeze.flush(), zlib.crc32(data), len(data)


def _zip_bomb(state: bytes) -> bytes:
    """A valid checkpoint plus one entry of 3 GiB of zeros, deflated to ~3 MB (1 MiB blocks, each fully flushed,
    so one block's bytes repeat). Its CRC is not that of the data: no extractor that keeps to its caps reads far
    enough to check it."""
    squeeze = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = squeeze.compress(bytes(1 << 20)) + squeeze.flush(zlib.Z_FULL_FLUSH)
    bomb = ("padding.bin", block * 3072 + squeeze.flush(), 0, 3 << 30)
    return _raw_zip([("state.json", *_deflated(state)), ("journal.jsonl", *_deflated(b"")), bomb])


def _too_big_to_download(state: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("state.json", state)
        zf.writestr("journal.jsonl", b"")
        zf.writestr("noise.bin", os.urandom(80 << 20))  # incompressible: the zip itself is 80 MB
    return buf.getvalue()


@pytest.mark.parametrize("archive", [_zip_bomb, _too_big_to_download])
def test_an_oversized_checkpoint_artifact_is_one_warning_and_a_plain_sync(
    fake_github: Factory, tmp_path: Path, genuine_state: dict[str, Any], archive: Callable[[bytes], bytes]
) -> None:
    ws = search_workspace(tmp_path)
    with FakeArtifactService(repository="octo/repo") as svc:
        gh = fake_github(token=svc.rest_token)
        svc.add_run("4001", "run-backend-4001")
        state = json.dumps({**genuine_state, "operations": [], "specs": []}).encode()
        svc.seed_artifact(
            CHECKPOINT, data=archive(state), run_backend_id="run-backend-4001", job_backend_id="job-backend-4001"
        )
        token = svc.add_job_token("run-backend-4001", "job-backend-4001-attempt-2")
        root = tmp_path / "a2"
        env = action_env(gh, svc, ws.path, root, run_id="4001", attempt=2, runtime_token=token, token=svc.rest_token)
        done = run(env, root)
    warnings = replay_warnings(done.log)
    assert len(warnings) == 1 and "too large" in warnings[0] and "a plain sync follows" in warnings[0], done.log
    assert "::group::Replay" not in done.log
    assert_plain_sync(gh, done)
    assert_bounded_memory(done)
    assert leftover_replay_folders(done.out_dir) == []


def _grow(path: Path) -> None:
    # Sparse: 400 MB to read, nothing on disk.
    with path.open("r+b") as f:
        f.truncate(400_000_000)


@pytest.mark.parametrize("grown", ["state.json", "journal.jsonl"])
def test_a_state_or_journal_too_large_to_load_is_one_warning_and_a_plain_sync(
    fake_github: Factory, tmp_path: Path, genuine_state: dict[str, Any], grown: str
) -> None:
    gh = fake_github(token=TOKEN)
    ws = search_workspace(tmp_path)
    folder = write_checkpoint(ws.path / "big", {**genuine_state, "operations": []})
    _grow(folder / grown)
    root = tmp_path / "replay"
    done = run(action_env(gh, None, ws.path, root, run_id="4101", token=TOKEN, replay="big"), root)
    warnings = replay_warnings(done.log)
    assert len(warnings) == 1 and "too large" in warnings[0] and "a plain sync follows" in warnings[0], done.log
    assert_plain_sync(gh, done)
    assert_bounded_memory(done)
    assert (folder / grown).stat().st_size == 400_000_000  # a folder the user gave is never deleted


# -- replay by run id: only this repository's same workflow, not a fork ------------------------------------------------


@pytest.mark.parametrize(
    ("run_attributes", "named"),
    [
        ({"workflow_path": ".github/workflows/other.yml"}, ".github/workflows/other.yml"),
        ({"head_repository": "mallory/repo", "event": "pull_request"}, "mallory/repo"),
    ],
    ids=["another-workflow", "a-fork"],
)
def test_a_run_of_another_workflow_or_a_fork_is_not_replayed(
    fake_github: Factory,
    tmp_path: Path,
    genuine_state: dict[str, Any],
    run_attributes: dict[str, str],
    named: str,
) -> None:
    ws = search_workspace(tmp_path)
    with FakeArtifactService(repository="octo/repo") as svc:
        gh = fake_github(token=svc.rest_token)
        svc.add_run("4201", "run-backend-4201", **run_attributes)
        svc.seed_artifact(
            CHECKPOINT,
            {"state.json": json.dumps(genuine_state).encode(), "journal.jsonl": b""},
            run_backend_id="run-backend-4201",
            job_backend_id="job-backend-4201",
        )
        svc.add_run("4202", "run-backend-4202")
        token = svc.add_job_token("run-backend-4202", "job-backend-4202")
        root = tmp_path / "replay"
        env = action_env(
            gh, svc, ws.path, root, run_id="4202", runtime_token=token, token=svc.rest_token, replay="4201"
        )
        done = run(env, root)
        zips = [r for r in svc.rest_requests() if r.path.endswith("/zip")]
    warnings = replay_warnings(done.log)
    assert len(warnings) == 1 and named in warnings[0] and "a plain sync follows" in warnings[0], done.log
    assert "::group::Replay" not in done.log
    assert zips == []  # its checkpoint is not even downloaded
    assert_plain_sync(gh, done)
    assert leftover_replay_folders(done.out_dir) == []


# -- folders: a checkpoint in the workspace is anyone's to commit ------------------------------------------------------


@pytest.mark.parametrize("linked", ["state.json", "journal.jsonl"])
def test_a_checkpoint_file_that_is_a_link_is_not_read(
    fake_github: Factory, tmp_path: Path, genuine_state: dict[str, Any], linked: str
) -> None:
    gh = fake_github(token=TOKEN)
    ws = search_workspace(tmp_path)
    folder = write_checkpoint(ws.path / "forged", genuine_state)
    target = tmp_path / "elsewhere" / linked
    target.parent.mkdir()
    shutil.move(folder / linked, target)  # the genuine file, so only the link itself can be the reason
    (folder / linked).symlink_to(target)

    done = run_sync(gh, ws.path, tmp_path / "replay", replay="forged")
    warnings = replay_warnings(done.log)
    assert len(warnings) == 1 and "symbolic link is never followed" in warnings[0], done.log
    assert_plain_sync(gh, done)


@pytest.mark.parametrize("replay", ["../outside", "/etc", "missing-folder", "auto-ish"])
def test_a_replay_folder_outside_the_workspace_or_missing_is_a_settings_error(
    fake_github: Factory, tmp_path: Path, replay: str
) -> None:
    gh = fake_github(token=TOKEN)
    ws = search_workspace(tmp_path)
    (ws.path.parent / "outside").mkdir()
    done = run_sync(gh, ws.path, tmp_path / "run", replay=replay)
    assert done.code == 2 and "input `replay`" in done.log, done.log
    assert gh.requests == []
