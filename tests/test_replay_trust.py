"""The trust boundary's parts, fast: archive caps, the run check, number confirmation, temporary folders."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest

from batch_action.actions_io import ActionsIO
from batch_action.artifacts import ArchiveLimits, ArtifactTooLargeError, WorkflowRun, safe_extract
from batch_action.artifacts.archive import _copy_bounded
from batch_action.engine.journal import JournalState
from batch_action.resume import ResumeConfig, foreign_run, locate_checkpoint, plan_replay
from batch_action.resume.state import StoredState
from batch_action.settings import load_settings
from batch_action.sync.plan import Action, Observed, Operation
from batch_action.sync.tracker import RemoteIssue
from tests.fake_artifacts import make_zip

SMALL = ArchiveLimits(max_entries=3, max_entry_bytes=1000, max_total_bytes=1500, max_directory_bytes=1024)


# -- archive caps ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        ({f"f{n}": b"x" for n in range(4)}, "4 entries, the limit is 3"),
        ({"big": bytes(1001)}, "'big' is too large (1001 bytes"),
        ({"a": bytes(900), "b": bytes(900)}, "too large when extracted (1800 bytes"),
        ({f"{'n' * 400}{k}": b"" for k in range(3)}, "central directory is too large"),
    ],
    ids=["entries", "entry", "total", "directory"],
)
def test_safe_extract_refuses_an_archive_past_a_cap_before_writing(
    files: dict[str, bytes], reason: str, tmp_path: Path
) -> None:
    with pytest.raises(ArtifactTooLargeError, match=reason.replace("(", r"\(")):
        safe_extract(io.BytesIO(make_zip(files)), tmp_path / "out", SMALL)
    assert list((tmp_path / "out").iterdir()) == []


def test_safe_extract_refuses_a_zip64_archive(tmp_path: Path) -> None:
    # A ZIP64 locator before the end record: the archive is past 4 GiB or 65,535 entries, far beyond a checkpoint.
    data = make_zip({"state.json": b"{}"})
    end = data.rfind(b"PK\x05\x06")
    with pytest.raises(ArtifactTooLargeError, match="ZIP64"):
        safe_extract(io.BytesIO(data[:end] + b"PK\x06\x07" + bytes(16) + data[end:]), tmp_path / "out")


def test_the_copy_stops_past_its_limit_whatever_the_declared_size() -> None:
    out = io.BytesIO()
    with pytest.raises(ArtifactTooLargeError, match="expands past 5 bytes"):
        _copy_bounded(io.BytesIO(b"0123456789"), out, 5, "state.json")
    assert out.getvalue() == b""  # the chunk that crossed the limit is not written
    assert _copy_bounded(io.BytesIO(b"01234"), io.BytesIO(), 5, "state.json") == 5


# -- replay by run id -------------------------------------------------------------------------------------------

REF = "octo/repo/.github/workflows/sync.yml@refs/heads/main"
OURS = WorkflowRun(7, ".github/workflows/sync.yml", "push", "octo/repo", "octo/repo")


def test_a_run_of_this_workflow_in_this_repository_is_ours() -> None:
    assert foreign_run(OURS, "Octo/Repo", REF) == ""  # owner and name compare case-insensitively
    assert foreign_run(replace(OURS, path=".github/workflows/sync.yml@refs/heads/main"), "octo/repo", REF) == ""


@pytest.mark.parametrize(
    ("run", "ref", "named"),
    [
        (replace(OURS, path=".github/workflows/other.yml"), REF, "other.yml"),
        (replace(OURS, head_repository="mallory/repo"), REF, "'mallory/repo' (a fork)"),
        (replace(OURS, head_repository=""), REF, "its code came from ''"),
        (replace(OURS, repository="octo/other"), REF, "belongs to 'octo/other'"),
        (OURS, "", "the current workflow is not known"),
        (OURS, "mallory/repo/.github/workflows/sync.yml@refs/heads/main", "the current workflow is not known"),
    ],
)
def test_anything_else_is_named(run: WorkflowRun, ref: str, named: str) -> None:
    assert named in foreign_run(run, "octo/repo", ref)


# -- issue numbers ------------------------------------------------------------------------------------------------


def _issue(number: int) -> RemoteIssue:
    return RemoteIssue(number, 1000 + number, "", "", "open")


def test_a_close_of_an_orphan_is_confirmed_by_the_orphan_listing() -> None:
    close = Operation("close:task:gone", Action.CLOSE, "task:gone", "gone.md", number=9)
    state = StoredState("", "octo/repo", [close], {}, {})
    observed = Observed(orphans={"task:gone": _issue(9)})
    assert plan_replay(state, JournalState(), observed).operations == [close]
    elsewhere = plan_replay(state, JournalState(), Observed(orphans={"task:gone": _issue(10)}))
    assert elsewhere.operations == [] and "shows #10" in elsewhere.unconfirmed[0]


# -- temporary folders ----------------------------------------------------------------------------------------------


class _Client:
    def download(self, name: str, dest: Path) -> list[Path]:
        (dest / "state.json").write_text("{}")
        return [dest / "state.json"]


def test_a_downloaded_checkpoint_folder_is_removed_when_the_block_ends_by_an_exception(tmp_path: Path) -> None:
    (tmp_path / ".claude").mkdir()
    env = {
        "GITHUB_WORKSPACE": str(tmp_path),
        "INPUT_REPLAY": "auto",
        "GITHUB_RUN_ATTEMPT": "2",
        "INPUT_DRY-RUN": "true",
    }
    settings = load_settings(env, [])
    actions = ActionsIO(io.StringIO(), {})
    with (
        pytest.raises(RuntimeError),
        locate_checkpoint(ResumeConfig.of(settings), actions, _Client(), tmp_path) as found,
    ):  # type: ignore[arg-type]
        assert found is None  # a state of another format: a warning
        assert len(list(tmp_path.glob("replay-*"))) == 1
        raise RuntimeError("the replay failed")
    assert list(tmp_path.glob("replay-*")) == []
