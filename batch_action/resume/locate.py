"""Locating the checkpoint to resume from (`replay` input), reading it and checking it names this repository.

`auto` is the previous attempt of this run (when GITHUB_RUN_ATTEMPT > 1, through the runtime token); a run id is
another run's artifact (REST API, needs `actions: read`); a folder is a checkpoint already downloaded. Empty: no
replay. A checkpoint is evidence, never authority: by run id it is used only when the run is of this repository's
same workflow and not from a fork, and one that cannot be used at all is one warning and a plain sync. What it
says about GitHub is confirmed by `decide.plan_replay` before anything is written.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from batch_action.actions_io import ActionsIO
from batch_action.artifacts import (
    ArtifactClient,
    ArtifactError,
    ArtifactNotFoundError,
    WorkflowRun,
    download_run_artifact,
    get_workflow_run,
)
from batch_action.engine.journal import JournalState
from batch_action.publish import artifact_name
from batch_action.resume.state import CheckpointError, StoredState, load_checkpoint_journal, load_state, shown
from batch_action.settings import Settings, derived


@dataclass(frozen=True)
class ResumeConfig:
    """What locating a checkpoint reads of the config."""

    replay: str
    run_attempt: int
    artifact_name: str
    repository: str
    workspace: Path
    api_url: str
    token: str = field(repr=False)

    @classmethod
    def of(cls, s: Settings) -> ResumeConfig:
        return derived(cls, s)


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint found usable: its folder, its stored plan and its journal, all read and checked."""

    folder: Path
    state: StoredState
    journal: JournalState


@contextlib.contextmanager
def locate_checkpoint(
    config: ResumeConfig,
    io: ActionsIO,
    client: ArtifactClient | None,
    workdir: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Iterator[Checkpoint | None]:
    """A usable checkpoint to replay, or None (with a log line or warning saying why), for the `with` block.

    `env` is the runner's environment: a run id names a run of this workflow, so its artifacts are listed on the
    runner's API (GITHUB_API_URL) in the workflow's repository (GITHUB_REPOSITORY), which need not be the sync's
    target (`api-url`, `repository`). Without them (a local run) the target's are used.

    A checkpoint that cannot be used (no state, another format, a foreign or malformed one, one too large) is a
    warning and a plain sync, which converges too: never the end of the run, nor of every later attempt that would
    find the same checkpoint. A download goes to a `replay-*` folder in `workdir`, removed when the block ends
    however it ends; a folder the user gave is never removed.
    """
    with contextlib.ExitStack() as downloads:

        def scratch() -> Path:
            made = tempfile.TemporaryDirectory(prefix="replay-", dir=workdir, ignore_cleanup_errors=True)
            return Path(downloads.enter_context(made))

        yield _locate(config, io, client, scratch, env or {})


def _locate(
    config: ResumeConfig,
    io: ActionsIO,
    client: ArtifactClient | None,
    scratch: Callable[[], Path],
    env: Mapping[str, str],
) -> Checkpoint | None:
    replay = config.replay.strip()
    if not replay or (replay == "auto" and config.run_attempt <= 1):
        return None
    if replay == "auto":
        if client is None:
            io.notice("replay: auto needs the Actions runtime token to read the previous attempt's checkpoint")
            return None
        name = artifact_name(config.artifact_name, "checkpoint", config.run_attempt - 1)
        dest = scratch()
        try:
            client.download(name, dest)
        except ArtifactNotFoundError:
            io.log(f"replay: attempt {config.run_attempt - 1} left no checkpoint ({name}); a plain sync follows")
            return None
        except ArtifactError as exc:
            io.warning(f"replay: could not download {name}: {exc}; a plain sync follows")
            return None
        return _usable(io, dest, f"{name} of attempt {config.run_attempt - 1}", config.repository)
    if replay.isdigit():
        return _from_run(config, io, replay, scratch, env)
    folder = (config.workspace / replay).resolve()
    if not folder.is_dir():  # the settings checked it; it went away since
        io.warning(f"replay: the folder {shown(replay)} is gone; a plain sync follows")
        return None
    return _usable(io, folder, f"the checkpoint in {folder}", config.repository)


def _usable(io: ActionsIO, folder: Path, what: str, repository: str) -> Checkpoint | None:
    try:
        state = load_state(folder)
        if state.repository.lower() != repository.lower():
            named = f"names the repository {shown(state.repository)}" if state.repository else "names no repository"
            raise CheckpointError(f"it {named}, not {repository}")
        journal = load_checkpoint_journal(folder)
    except CheckpointError as exc:
        io.warning(f"replay: {what} cannot be replayed ({exc}); a plain sync follows")
        return None
    io.log(f"replay: resuming from {what}")
    return Checkpoint(folder, state, journal)


def _from_run(
    config: ResumeConfig, io: ActionsIO, run_id: str, scratch: Callable[[], Path], env: Mapping[str, str]
) -> Checkpoint | None:
    api_url = (env.get("GITHUB_API_URL") or config.api_url).rstrip("/")
    repository = env.get("GITHUB_REPOSITORY") or config.repository
    try:
        run = get_workflow_run(api_url, repository, config.token, run_id)
    except ArtifactError as exc:
        io.warning(f"replay: could not read run {run_id}: {exc}; a plain sync follows")
        return None
    mismatch = foreign_run(run, repository, env.get("GITHUB_WORKFLOW_REF", ""))
    if mismatch:
        io.warning(f"replay: run {run_id} is not replayed: {mismatch}; a plain sync follows")
        return None
    io.log(f"replay: run {run_id} is a {shown(run.event)} run of {run.path} in {repository}")
    dest = scratch()
    # The failed run may have been a re-run attempt: try its newest attempt's name first.
    names = [artifact_name(config.artifact_name, "checkpoint", n) for n in range(5, 0, -1)]
    for name in names:
        try:
            download_run_artifact(api_url, repository, config.token, run_id, name, dest, mask=io.mask)
        except ArtifactNotFoundError:
            continue
        except ArtifactError as exc:
            io.warning(f"replay: could not download {name} of run {run_id}: {exc}; a plain sync follows")
            return None
        return _usable(io, dest, f"{name} of run {run_id}", config.repository)
    io.warning(f"replay: run {run_id} has no checkpoint artifact ({names[-1]}); a plain sync follows")
    return None


def foreign_run(run: WorkflowRun, repository: str, workflow_ref: str) -> str:
    """What makes `run` another workflow's, another repository's or a fork's ("" when it is none of them).

    `workflow_ref` is the runner's GITHUB_WORKFLOW_REF, `owner/repo/.github/workflows/x.yml@refs/heads/main`.
    """
    owner_repo, _, workflow = workflow_ref.partition("@")[0].partition("/.github/")
    if owner_repo.lower() != repository.lower() or not workflow:
        return f"the current workflow is not known (GITHUB_WORKFLOW_REF is {shown(workflow_ref)})"
    current = f".github/{workflow}"
    problems = []
    if run.repository.lower() != repository.lower():
        problems.append(f"it belongs to {shown(run.repository)}, not {repository}")
    if run.head_repository.lower() != repository.lower():
        problems.append(f"its code came from {shown(run.head_repository)} (a fork), not {repository}")
    if run.path.partition("@")[0] != current:
        problems.append(f"it ran the workflow {shown(run.path)}, not {current}")
    return "; ".join(problems)
