"""Files the run leaves in `output-dir`: plan, task graph, state, report. Written atomically (temp file + rename)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from batch_action.canonical import json_chunks


def write_text(path: Path, text: str) -> Path:
    return _write(path, (text,))


def write_lines(path: Path, lines: Iterator[str]) -> Path:
    """The text `lines` make (each with its newline) to `path`, written as they come."""
    return _write(path, lines)


def write_json(path: Path, data: Any) -> Path:
    """`dumps_json(data)` to `path`, streamed: a 25 MB state file never exists as one string in memory."""
    return _write(path, json_chunks(data))


def _write(path: Path, chunks: Iterator[str] | tuple[str, ...]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.writelines(chunks)
    os.replace(temporary, path)
    return path
