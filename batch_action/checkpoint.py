"""The checkpoint a failed run leaves behind: its plan, the desired state of every item, and what it observed.

Together with the journal (which says which operations landed, with their issue numbers) this is enough for a
later run to finish exactly what was left undone, from the stored plan: `state.json` holds the operations, the
rendered desired state (`IssueSpec`) of every item, the content digests the run saw on GitHub when it planned,
and the commit the files came from.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from batch_action.model import Kind
from batch_action.report.files import write_json
from batch_action.sync.plan import Action, Operation
from batch_action.sync.render import IssueSpec

STATE_FILE = "state.json"
JOURNAL_FILE = "journal.jsonl"
SUMMARY_FILE = "checkpoint.json"
FORMAT = 1


@dataclass(frozen=True)
class StoredState:
    commit: str
    repository: str
    operations: list[Operation]
    specs: dict[str, IssueSpec]
    remote_digests: dict[str, str]  # key -> the marker digest seen when the plan was made ("" = no issue)


class CheckpointError(ValueError):
    """A checkpoint folder that cannot be replayed, with the reason."""


def write_state(
    out_dir: Path,
    *,
    commit: str,
    repository: str,
    operations: list[Operation],
    specs: dict[str, IssueSpec],
    remote_digests: dict[str, str],
) -> Path:
    return write_json(
        out_dir / STATE_FILE,
        {
            "format": FORMAT,
            "commit": commit,
            "repository": repository,
            "operations": [asdict(op) for op in operations],
            "specs": {key: asdict(spec) for key, spec in specs.items()},
            "remote_digests": remote_digests,
        },
    )


def load_state(folder: Path) -> StoredState:
    path = folder / STATE_FILE
    if not path.is_file():
        raise CheckpointError(f"{folder} holds no {STATE_FILE}: not a checkpoint of this action")
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise CheckpointError(f"{path}: checkpoint format {data.get('format')!r}, expected {FORMAT}")
        operations = [
            Operation(**{**op, "action": Action(op["action"]), "deps": tuple(op["deps"])}) for op in data["operations"]
        ]
        specs = {
            key: IssueSpec(
                **{
                    **spec,
                    "kind": Kind(spec["kind"]),
                    "labels": tuple(spec["labels"]),
                    "blockers": tuple(spec["blockers"]),
                }
            )
            for key, spec in data["specs"].items()
        }
        return StoredState(
            commit=str(data.get("commit", "")),
            repository=str(data.get("repository", "")),
            operations=operations,
            specs=specs,
            remote_digests={str(k): str(v) for k, v in data.get("remote_digests", {}).items()},
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, CheckpointError):
            raise
        raise CheckpointError(f"{path} is damaged ({type(exc).__name__}: {exc})") from exc
