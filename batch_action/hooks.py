"""The library's hooks (`batch_action.sync`): a per-item transform of an issue before it is rendered, and a
progress callback. Pure, but for the calls into the caller's functions.

The transform sees each item (`Item`) and the issue the file gives (`Draft`), and returns the draft to write. Its
result is what the content digest covers, so a transform that changes an issue writes it once, and the runs after
it, given the same result, write nothing. A body it returns replaces the file's body (it is kept with the spec,
so only the items whose body it changes hold their text).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from batch_action import limits
from batch_action.canonical import encode_one_line
from batch_action.model import Kind, text_digest
from batch_action.sync.render import IssueSpec, bounded_label, is_login


@dataclass(frozen=True)
class Item:
    """An item as the transform sees it."""

    key: str  # `task:auth/001`
    kind: Kind
    path: str  # workspace-relative
    status: str  # the front matter's, lower-case


@dataclass(frozen=True)
class Draft:
    """An issue as it will be written: change any field with `dataclasses.replace`. `body` None: the file's."""

    title: str
    labels: tuple[str, ...]
    assignees: tuple[str, ...] = ()
    body: str | None = None


Transform = Callable[[Item, Draft], Draft]
Progress = Callable[[int, int, str], None]  # (items done, items to write, the item just done)


@dataclass(frozen=True)
class Hooks:
    transform: Transform | None = None
    on_progress: Progress | None = None


NO_HOOKS = Hooks()


def transformed(specs: Mapping[str, IssueSpec], transform: Transform | None) -> dict[str, IssueSpec]:
    """Each spec as the transform leaves it; its result is bounded as the file's would be (title, labels,
    assignees) and covered by the content digest. An unchanged draft keeps the spec, digest and all."""
    if transform is None:
        return dict(specs)
    out: dict[str, IssueSpec] = {}
    for key, spec in specs.items():
        draft = Draft(spec.title, spec.labels, spec.assignees)
        result = transform(Item(key, spec.kind, spec.path, spec.status), draft)
        if not isinstance(result, Draft):
            raise TypeError(f"the transform returned {type(result).__name__} for {key}, not a Draft")
        if result == draft:
            out[key] = spec
            continue
        title = (str(result.title).strip() or spec.title)[: limits.TITLE_CHARS.value]
        labels = _labels(result.labels)
        assignees = tuple(dict.fromkeys(a for a in map(str, result.assignees) if is_login(a)))
        assignees = assignees[: limits.ASSIGNEES_PER_ISSUE.value]
        body_digest, source = spec.body_digest, spec.source_body
        if result.body is not None:
            source = str(result.body)
            body_digest = text_digest(source)
        changed: dict[str, Any] = {"title": title, "labels": labels, "assignees": assignees, "body": body_digest}
        digest = _digest({"content": spec.digest, "hook": changed})
        out[key] = replace(
            spec, title=title, labels=labels, assignees=assignees, body_digest=body_digest, source_body=source,
            digest=digest,
        )  # fmt: skip
    return out


def _labels(labels: Iterable[str]) -> tuple[str, ...]:
    kept = (bounded_label(text) for label in labels if (text := str(label).strip()))
    return tuple(dict.fromkeys(kept))[: limits.LABELS_PER_ISSUE.value]


def _digest(value: object) -> str:
    return hashlib.sha256(encode_one_line(value).encode()).hexdigest()[:16]


class ProgressCounter:
    """Calls `on_progress(done, total, item)` as each item's last operation lands (thread-safe: the engine runs
    operations on several threads). An item whose operations do not all land is not counted done."""

    def __init__(self, on_progress: Progress, keys: Iterable[str]) -> None:
        self._on_progress = on_progress
        self._left: dict[str, int] = {}
        for key in keys:
            self._left[key] = self._left.get(key, 0) + 1
        self._total = len(self._left)
        self._done = 0
        self._lock = threading.Lock()

    def landed(self, key: str) -> None:
        with self._lock:
            if key not in self._left:
                return
            self._left[key] -= 1
            if self._left[key]:
                return
            del self._left[key]
            self._done += 1
            done = self._done
        self._on_progress(done, self._total, key)
