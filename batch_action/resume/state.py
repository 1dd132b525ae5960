"""The checkpoint a failed run leaves behind: its plan, the desired state of every item, and what it observed.

Together with the journal (which says which operations landed, with their issue numbers) this is enough for a
later run to finish exactly what was left undone, from the stored plan: `state.json` holds the operations, the
rendered desired state (`IssueSpec`) of every item, the content digests the run saw on GitHub when it planned,
and the commit the files came from.

A checkpoint is untrusted input (a forged artifact, a folder of unknown origin): it is read only up to a size, and
every field is type-checked as it is read, so that what does not fit is a `CheckpointError` with a reason, which a
replay turns into a warning and a plain sync. What it says about GitHub is confirmed there before it is acted on
(`resume.decide.plan_replay`).
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from batch_action.engine.journal import JournalState, load_journal
from batch_action.files import write_json
from batch_action.model import Kind
from batch_action.sync.plan import Action, Operation
from batch_action.sync.render import IssueSpec

STATE_FILE = "state.json"
JOURNAL_FILE = "journal.jsonl"
SUMMARY_FILE = "checkpoint.json"
FORMAT = 2  # 2: specs are a list and carry their bodies (1 held them in a key -> spec object)
# Read no further than this. At 10,000 items (1-3 KB bodies) state.json weighs 37.8 MB and the journal of the whole
# run ~15 MB (~30 MB for a run that replayed another): 128 MiB is ~3 times the state of a 10,000-item plan, and
# what loading it costs (~2.5 times its size in memory) stays well within a runner's 7 GB.
MAX_STATE_BYTES = 128 * 1024 * 1024
MAX_JOURNAL_BYTES = 128 * 1024 * 1024
# An item key: its kind and a name from the tree (the marker percent-encodes it, so any character but NUL).
_KEY = re.compile(r"(?:prd|epic|task):[^\x00]{1,300}")
_DIGEST = re.compile(r"[0-9a-f]{1,64}")


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
    """The stored plan of a checkpoint folder; `CheckpointError` says why it cannot be used."""
    path = folder / STATE_FILE
    if not path.is_file():
        raise CheckpointError(f"{folder} holds no {STATE_FILE}: not a checkpoint of this action")
    try:
        data = json.loads(_read_bounded(path, MAX_STATE_BYTES))
    except (UnicodeDecodeError, ValueError) as exc:
        raise CheckpointError(f"{path} is damaged ({type(exc).__name__}: {exc})") from exc
    state = _Record(data, STATE_FILE)
    if state.get("format", (int,), None) != FORMAT:
        raise CheckpointError(f"{path}: checkpoint format {shown(data.get('format'))}, expected {FORMAT}")
    specs: dict[str, IssueSpec] = {}
    for n, raw in enumerate(state.get("specs", (list,))):
        spec = _spec(_Record(raw, f"{STATE_FILE}: specs[{n}]"))
        if spec.key in specs:
            raise CheckpointError(f"{STATE_FILE}: specs[{n}] repeats the key {shown(spec.key)}")
        specs[spec.key] = spec
    operations: list[Operation] = []
    ids: set[str] = set()
    for n, raw in enumerate(state.get("operations", (list,))):
        where = f"{STATE_FILE}: operations[{n}]"
        op = _operation(_Record(raw, where))
        if op.id in ids:
            raise CheckpointError(f"{where} repeats the id {shown(op.id)}")
        if op.action is not Action.LABELS and op.key not in specs:
            raise CheckpointError(f"{where} names the item {shown(op.key)}, which has no spec")
        ids.add(op.id)
        operations.append(op)
    digests = state.get("remote_digests", (dict,), {})
    for key, digest in digests.items():
        if not isinstance(digest, str):
            raise CheckpointError(f"{STATE_FILE}: remote_digests[{shown(key)}] is not a string")
    return StoredState(
        commit=state.get("commit", (str,), ""),
        repository=state.get("repository", (str,), ""),
        operations=operations,
        specs=specs,
        remote_digests=digests,
    )


def load_checkpoint_journal(folder: Path) -> JournalState:
    """The journal of a checkpoint folder (none: an empty one), read only when it is not too large to."""
    path = folder / JOURNAL_FILE
    if not path.exists() and not path.is_symlink():
        return load_journal(path)
    os.close(_open_regular(path))  # refuses a link or a special file before the journal reader opens it
    if path.stat().st_size > MAX_JOURNAL_BYTES:
        raise CheckpointError(_too_large(path, path.stat().st_size, MAX_JOURNAL_BYTES))
    return load_journal(path)


def _read_bounded(path: Path, limit: int) -> bytes:
    # The size is checked before reading, and the read stops past the limit: the file may grow in between.
    with os.fdopen(_open_regular(path), "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size > limit:
            raise CheckpointError(_too_large(path, size, limit))
        data = f.read(limit + 1)
    if len(data) > limit:
        raise CheckpointError(_too_large(path, len(data), limit))
    return data


def _open_regular(path: Path) -> int:
    """A checkpoint file opened without following a link (a folder to replay may come from the workspace, where
    `state.json -> /proc/self/environ` is anyone's to commit), and only when it is a regular file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        reason = f"{exc.strerror}; a symbolic link is never followed"
        raise CheckpointError(f"{path.name} cannot be read ({reason})") from exc
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise CheckpointError(f"{path.name} is not a regular file")
    return fd


def _too_large(path: Path, size: int, limit: int) -> str:
    return f"{path.name} is too large ({size} bytes, the limit is {limit})"


def shown(value: object) -> str:
    """An untrusted value in a message: quoted (no line breaks, so no workflow command) and short."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


_REQUIRED = object()


class _Record:
    """One JSON object of the checkpoint, read field by field with the type each must have."""

    def __init__(self, raw: object, where: str) -> None:
        if not isinstance(raw, dict):
            raise CheckpointError(f"{where} is {type(raw).__name__}, not an object")
        self.raw: dict[str, Any] = raw
        self.where = where

    def get(self, name: str, kinds: tuple[type, ...], default: Any = _REQUIRED) -> Any:
        if name not in self.raw:
            if default is _REQUIRED:
                raise CheckpointError(f"{self.where} has no {name!r}")
            return default
        value = self.raw[name]
        # bool is an int to isinstance, but never what an int field means.
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            expected = " or ".join("null" if kind is type(None) else kind.__name__ for kind in kinds)
            raise CheckpointError(f"{self.where}: {name!r} is {type(value).__name__}, expected {expected}")
        return value

    def texts(self, name: str, default: Any = _REQUIRED) -> tuple[str, ...]:
        values = self.get(name, (list,), default)
        if not all(isinstance(value, str) for value in values):
            raise CheckpointError(f"{self.where}: {name!r} must be a list of strings")
        return tuple(values)

    def matching(self, name: str, pattern: re.Pattern[str]) -> str:
        value: str = self.get(name, (str,))
        if not pattern.fullmatch(value):
            raise CheckpointError(f"{self.where}: {name!r} is not a valid value ({shown(value)})")
        return value

    def choice(self, name: str, enum: type[Action] | type[Kind]) -> Any:
        value = self.get(name, (str,))
        try:
            return enum(value)
        except ValueError:
            raise CheckpointError(f"{self.where}: {name!r} is {shown(value)}, not a known {enum.__name__}") from None


def _spec(record: _Record) -> IssueSpec:
    return IssueSpec(
        key=record.matching("key", _KEY),
        kind=record.choice("kind", Kind),
        path=record.get("path", (str,)),
        title=record.get("title", (str,)),
        body_digest=record.get("body_digest", (str,)),
        labels=record.texts("labels"),
        closed=record.get("closed", (bool,)),
        parent=record.get("parent", (str, type(None))),
        blockers=record.texts("blockers"),
        digest=record.matching("digest", _DIGEST),
        links_digest=record.matching("links_digest", _DIGEST),
        status=record.get("status", (str,)),
        source_body=record.get("source_body", (str, type(None)), None),
        # Absent in a checkpoint from before the `mentions` input, whose digests were made for verbatim bodies.
        mentions_escaped=record.get("mentions_escaped", (bool,), False),
        listed_blockers=record.texts("listed_blockers", []),  # absent before GitHub's 50-blocker limit was planned
        children=_children(record),
    )


def _children(record: _Record) -> tuple[tuple[str, str, bool], ...]:
    """The sub-issues a parent's body lists on a server without them: [key, title, closed] each (absent before)."""
    found: list[tuple[str, str, bool]] = []
    for child in record.get("children", (list,), []):
        if not (isinstance(child, list) and len(child) == 3 and [type(v) for v in child] == [str, str, bool]):
            raise CheckpointError(f"{record.where}: 'children' must hold [key, title, closed] lists")
        found.append((child[0], child[1], child[2]))
    return tuple(found)


def _operation(record: _Record) -> Operation:
    number = record.get("number", (int, type(None)), None)
    if number is not None and number < 1:
        raise CheckpointError(f"{record.where}: 'number' is {number}, not an issue number")
    return Operation(
        id=record.get("id", (str,)),
        action=record.choice("action", Action),
        key=record.get("key", (str,)),
        path=record.get("path", (str,)),
        deps=record.texts("deps"),
        number=number,
        target=record.get("target", (str, type(None)), None),
        reason=record.get("reason", (str,), ""),
        order=record.get("order", (int,), 0),
    )
