"""The checkpoint a failed run leaves behind: its plan, the desired state of every item, and what it observed.

Together with the journal (which says which operations landed, with their issue numbers) this is enough for a
later run to finish exactly what was left undone, from the stored plan: `state.json` holds the operations, the
rendered desired state (`IssueSpec`) of every item, the content digests the run saw on GitHub when it planned,
and the commit the files came from.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from batch_action.model import Kind
from batch_action.report.files import write_json
from batch_action.sync.plan import Action, Operation
from batch_action.sync.render import IssueSpec

STATE_FILE = "state.json"
JOURNAL_FILE = "journal.jsonl"
SUMMARY_FILE = "checkpoint.json"
FORMAT = 2  # 2: specs are a list and carry their bodies (1 held them in a key -> spec object)


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
    body_of: Callable[[IssueSpec], str | None],
) -> Path:
    """state.json, streamed: each spec is written with its body (`body_of`: None when the file cannot give the
    planned one) and let go, so a 10,000-item plan never holds 20 MB of markdown at once."""
    return write_json(
        out_dir / STATE_FILE,
        {
            "format": FORMAT,
            "commit": commit,
            "repository": repository,
            "operations": (_fields_of(op) for op in operations),
            "specs": (_fields_of(spec) | {"source_body": body_of(spec)} for spec in specs.values()),
            "remote_digests": remote_digests,
        },
    )


def _fields_of(value: Operation | IssueSpec) -> dict[str, Any]:
    # Not asdict(): it deep-copies every field, which cost more than writing the file.
    return {name: getattr(value, name) for name in _FIELD_NAMES[type(value)]}


_FIELD_NAMES = {cls: tuple(f.name for f in fields(cls)) for cls in (Operation, IssueSpec)}


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
            spec["key"]: IssueSpec(
                **{
                    **spec,
                    "kind": Kind(spec["kind"]),
                    "labels": tuple(spec["labels"]),
                    "blockers": tuple(spec["blockers"]),
                }
            )
            for spec in data["specs"]
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
