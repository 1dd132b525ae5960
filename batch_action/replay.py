"""Replay: finish what an earlier failed run left undone, from its checkpoint.

Where the checkpoint comes from (`replay` input): `auto` is the previous attempt of this run (when
GITHUB_RUN_ATTEMPT > 1, through the runtime token); a run id is another run's artifact (REST API, needs
`actions: read`); a folder is a checkpoint already downloaded. Empty: no replay.

What is replayed: the stored operations the journal does not record as done, after re-observing GitHub. An
operation whose write landed (the issue's marker already shows the stored digest) is not repeated; one whose issue
was changed since by a newer successful sync is reported as superseded and left alone. Pure decisions here; the
engine runs what is left.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from batch_action.actions_io import ActionsIO
from batch_action.artifacts import ArtifactClient, ArtifactError, ArtifactNotFoundError, download_run_artifact
from batch_action.checkpoint import CheckpointError, StoredState, load_state
from batch_action.engine.journal import JournalState
from batch_action.publish import artifact_name
from batch_action.settings import Settings
from batch_action.sync.plan import Action, Observed, Operation


@dataclass
class ReplayPlan:
    operations: list[Operation]
    landed: list[str] = field(default_factory=list)  # op ids whose write is already on GitHub
    superseded: list[str] = field(default_factory=list)  # op ids a newer sync overtook
    done: list[str] = field(default_factory=list)  # op ids the journal records as done
    numbers: dict[str, tuple[int, int]] = field(default_factory=dict)  # key -> (number, id) from the journal


def locate_checkpoint(
    settings: Settings,
    io: ActionsIO,
    client: ArtifactClient | None,
    workdir: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Path | None:
    """The folder of a usable checkpoint to replay, or None (with a log line or warning saying why).

    `env` is the runner's environment: a run id names a run of this workflow, so its artifacts are listed on the
    runner's API (GITHUB_API_URL) in the workflow's repository (GITHUB_REPOSITORY), which need not be the sync's
    target (`api-url`, `repository`). Without them (a local run) the target's are used.

    A checkpoint that cannot be read (no state, another format) is a warning and a plain sync, which converges
    too: never the end of the run, nor of every later attempt that would find the same checkpoint.
    """
    replay = settings.replay.strip()
    if not replay or (replay == "auto" and settings.run_attempt <= 1):
        return None
    if replay == "auto":
        if client is None:
            io.notice("replay: auto needs the Actions runtime token to read the previous attempt's checkpoint")
            return None
        name = artifact_name(settings.artifact_name, "checkpoint", settings.run_attempt - 1)
        dest = Path(tempfile.mkdtemp(prefix="replay-", dir=workdir))
        try:
            client.download(name, dest)
        except ArtifactNotFoundError:
            io.log(f"replay: attempt {settings.run_attempt - 1} left no checkpoint ({name}); a plain sync follows")
            return None
        except ArtifactError as exc:
            io.warning(f"replay: could not download {name}: {exc}; a plain sync follows")
            return None
        return _usable(io, dest, f"{name} of attempt {settings.run_attempt - 1}")
    if replay.isdigit():
        env = env or {}
        api_url = (env.get("GITHUB_API_URL") or settings.api_url).rstrip("/")
        repository = env.get("GITHUB_REPOSITORY") or settings.repository
        dest = Path(tempfile.mkdtemp(prefix="replay-", dir=workdir))
        return _from_run(settings, io, replay, dest, api_url, repository)
    folder = (settings.workspace / replay).resolve()
    if not folder.is_dir():
        raise FileNotFoundError(f"replay: {replay!r} is neither 'auto', a run id, nor a folder")
    return _usable(io, folder, f"the checkpoint in {folder}")


def _usable(io: ActionsIO, folder: Path, what: str) -> Path | None:
    try:
        load_state(folder)
    except CheckpointError as exc:
        io.warning(f"replay: {what} cannot be replayed ({exc}); a plain sync follows")
        return None
    io.log(f"replay: resuming from {what}")
    return folder


def _from_run(settings: Settings, io: ActionsIO, run_id: str, dest: Path, api_url: str, repository: str) -> Path | None:
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
        return _usable(io, dest, f"{name} of run {run_id}")
    io.warning(f"replay: run {run_id} has no checkpoint artifact ({names[-1]}); a plain sync follows")
    return None


def plan_replay(stored: StoredState, journal: JournalState, observed: Observed) -> ReplayPlan:
    """The stored operations still to do, given the journal and what GitHub shows now."""
    result = ReplayPlan([])
    for op_id, value in journal.done.items():
        if isinstance(value, dict) and "number" in value and "id" in value:
            key = op_id.split(":", 1)[1] if ":" in op_id else ""
            result.numbers[key] = (int(value["number"]), int(value["id"]))
    kept: dict[str, Operation] = {}
    for op in stored.operations:
        if op.id in journal.done:
            result.done.append(op.id)
            continue
        spec = stored.specs.get(op.key)
        remote = observed.issues.get(op.key)
        now_digest = observed.digests.get(op.key)
        if op.action is Action.CREATE and remote is not None and spec is not None:
            # The create landed (its response was lost, or the run died right after it).
            if now_digest != spec.digest:
                result.superseded.append(op.id)
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
                continue
        if op.action is Action.CLOSE:
            issue = remote or observed.orphans.get(op.key)
            if issue is None or issue.state == "closed":
                result.landed.append(op.id)
                continue
        kept[op.id] = op
    superseded_keys = {op_id.split(":", 1)[1] for op_id in result.superseded}
    for op_id, op in list(kept.items()):
        if op.key in superseded_keys:
            del kept[op_id]  # the newer sync owns this item's links too
            result.superseded.append(op_id)
    result.operations = [replace(op, deps=tuple(d for d in op.deps if d in kept)) for op in kept.values()]
    return result


def registry_seed(observed: Observed, numbers: Mapping[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
    """Issue numbers and ids known for replay: from the journal, then from GitHub's markers (which win)."""
    known = dict(numbers)
    known.update({key: (issue.number, issue.id) for key, issue in observed.issues.items()})
    return known
