"""Replay: finish what an earlier failed run left undone, from its checkpoint.

Where the checkpoint comes from (`replay` input): `auto` is the previous attempt of this run (when
GITHUB_RUN_ATTEMPT > 1, through the runtime token); a run id is another run's artifact (REST API, needs
`actions: read`); a folder is a checkpoint already downloaded. Empty: no replay.

What is replayed: the stored operations the journal does not record as done, after re-observing GitHub. An
operation whose write landed (the issue's marker already shows the stored digest) is not repeated; one whose issue
was changed since by a newer successful sync is reported as superseded and left alone. Pure decisions here; the
engine runs what is left.

A checkpoint is evidence, never authority. It is replayed only when it names this repository and, by run id, when
the run is of this repository's same workflow and not from a fork; an issue number it names (in an operation or its
journal) is written to only when the listing shows that issue carrying that item's marker. Anything else is dropped
with a log line (the plan after the replay decides), and a checkpoint that cannot be used at all is one warning and
a plain sync.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
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
from batch_action.checkpoint import CheckpointError, StoredState, load_checkpoint_journal, load_state, shown
from batch_action.engine.journal import JournalState
from batch_action.publish import artifact_name
from batch_action.settings import Settings
from batch_action.sync.plan import Action, Observed, Operation

MAX_LISTED = 20  # unconfirmed issue numbers named one by one in the log; a forged checkpoint may hold thousands


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint found usable: its folder, its stored plan and its journal, all read and checked."""

    folder: Path
    state: StoredState
    journal: JournalState


@dataclass
class ReplayPlan:
    operations: list[Operation]
    landed: list[str] = field(default_factory=list)  # op ids whose write is already on GitHub
    superseded: list[str] = field(default_factory=list)  # op ids a newer sync overtook
    done: list[str] = field(default_factory=list)  # op ids the journal records as done
    unconfirmed: list[str] = field(default_factory=list)  # why an issue number the checkpoint names is not used


@contextlib.contextmanager
def locate_checkpoint(
    settings: Settings,
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

        yield _locate(settings, io, client, scratch, env or {})


def _locate(
    settings: Settings,
    io: ActionsIO,
    client: ArtifactClient | None,
    scratch: Callable[[], Path],
    env: Mapping[str, str],
) -> Checkpoint | None:
    replay = settings.replay.strip()
    if not replay or (replay == "auto" and settings.run_attempt <= 1):
        return None
    if replay == "auto":
        if client is None:
            io.notice("replay: auto needs the Actions runtime token to read the previous attempt's checkpoint")
            return None
        name = artifact_name(settings.artifact_name, "checkpoint", settings.run_attempt - 1)
        dest = scratch()
        try:
            client.download(name, dest)
        except ArtifactNotFoundError:
            io.log(f"replay: attempt {settings.run_attempt - 1} left no checkpoint ({name}); a plain sync follows")
            return None
        except ArtifactError as exc:
            io.warning(f"replay: could not download {name}: {exc}; a plain sync follows")
            return None
        return _usable(io, dest, f"{name} of attempt {settings.run_attempt - 1}", settings.repository)
    if replay.isdigit():
        return _from_run(settings, io, replay, scratch, env)
    folder = (settings.workspace / replay).resolve()
    if not folder.is_dir():  # the settings checked it; it went away since
        io.warning(f"replay: the folder {shown(replay)} is gone; a plain sync follows")
        return None
    return _usable(io, folder, f"the checkpoint in {folder}", settings.repository)


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
    settings: Settings, io: ActionsIO, run_id: str, scratch: Callable[[], Path], env: Mapping[str, str]
) -> Checkpoint | None:
    api_url = (env.get("GITHUB_API_URL") or settings.api_url).rstrip("/")
    repository = env.get("GITHUB_REPOSITORY") or settings.repository
    try:
        run = get_workflow_run(api_url, repository, settings.token, run_id)
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
    names = [artifact_name(settings.artifact_name, "checkpoint", n) for n in range(5, 0, -1)]
    for name in names:
        try:
            download_run_artifact(api_url, repository, settings.token, run_id, name, dest, mask=io.mask)
        except ArtifactNotFoundError:
            continue
        except ArtifactError as exc:
            io.warning(f"replay: could not download {name} of run {run_id}: {exc}; a plain sync follows")
            return None
        return _usable(io, dest, f"{name} of run {run_id}", settings.repository)
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


def plan_replay(stored: StoredState, journal: JournalState, observed: Observed) -> ReplayPlan:
    """The stored operations still to do, given the journal and what GitHub shows now."""
    result = ReplayPlan([])
    for op_id, value in journal.done.items():
        # The journal's numbers are never used (the listing gives every number a replay writes to); one the listing
        # contradicts is named, as a sign of a stale or forged checkpoint.
        if isinstance(value, dict) and ":" in op_id and "id" in value:
            key = op_id.split(":", 1)[1]
            if (why := _unconfirmed(observed, key, value.get("number"), orphans=False)) is not None:
                result.unconfirmed.append(f"the journal's #{shown(value.get('number'))} for {shown(key)}: {why}")
    kept: dict[str, Operation] = {}
    superseded_keys: set[str] = set()
    for op in stored.operations:
        if op.id in journal.done:
            result.done.append(op.id)
            continue
        if op.number is not None:
            why = _unconfirmed(observed, op.key, op.number, orphans=op.action is Action.CLOSE)
            if why is not None:
                result.unconfirmed.append(f"{shown(op.id)} names #{op.number}: {why}")
                continue
        spec = stored.specs.get(op.key)
        remote = observed.issues.get(op.key)
        now_digest = observed.digests.get(op.key)
        if op.action is Action.CREATE and remote is not None and spec is not None:
            # The create landed (its response was lost, or the run died right after it).
            if now_digest != spec.digest:
                result.superseded.append(op.id)
                superseded_keys.add(op.key)
                continue
            result.landed.append(op.id)
            if spec.closed and remote.state == "open":  # died between the create and its closing PATCH
                kept[op.id] = Operation(
                    op.id, Action.UPDATE, op.key, op.path, op.deps, number=remote.number, reason="finish closing"
                )
            continue
        if op.action is Action.LINK_PARENT and remote is not None and op.target is not None:
            parent = observed.issues.get(op.target)
            if parent is not None and remote.parent_number == parent.number:
                result.landed.append(op.id)
                continue
        if op.action is Action.UPDATE and spec is not None:
            if now_digest == spec.digest:
                result.landed.append(op.id)
                continue
            if now_digest != stored.remote_digests.get(op.key, ""):
                result.superseded.append(op.id)
                superseded_keys.add(op.key)
                continue
        if op.action is Action.CLOSE:
            issue = remote or observed.orphans.get(op.key)
            if issue is None or issue.state == "closed":
                result.landed.append(op.id)
                continue
        kept[op.id] = op
    for op_id, op in list(kept.items()):
        if op.key in superseded_keys:
            del kept[op_id]  # the newer sync owns this item's links too
            result.superseded.append(op_id)
    result.operations = [replace(op, deps=tuple(d for d in op.deps if d in kept)) for op in kept.values()]
    return result


def _unconfirmed(observed: Observed, key: str, number: object, *, orphans: bool) -> str | None:
    """Why the listing does not show issue `number` carrying the marker of `key` (None: it does). A close may
    name an orphan: an issue whose file is gone."""
    issue = observed.issues.get(key) or (observed.orphans.get(key) if orphans else None)
    if issue is not None and issue.number == number:
        return None
    shows = f"#{issue.number}" if issue is not None else "no issue"
    return f"not confirmed by the listing, which shows {shows} for {shown(key)}"
