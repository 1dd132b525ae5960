"""Canonical JSON: keys sorted, one line per value below a depth, the same bytes for the same data. Pure: the
marker's digests (sync/render.py) and every file the run writes (files.py) are made with it."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

# The C encoder (one line per value); `json.dumps(indent=…)` always takes the pure-Python one, which for the
# 12 MB plan of a 10,000-item tree cost seconds and, through millions of small string chunks, ~100 MB of memory.
_ONE_LINE = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=str)
_END = object()
# One-line values are joined into written chunks of about this many characters: few chunks, and few values held
# at once (a count of 512 held 512 specs with their bodies, 4 MB, while state.json was written).
_CHUNK = 64 * 1024


def _one_line_encoder() -> Callable[[Any], str]:
    """`_ONE_LINE.encode`, with the C encoder made once: `encode` makes a new one per value, and that was a
    third of the cost of writing a 30,000-operation plan. The same output (same encoder, same settings)."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # no _json accelerator: the pure-Python path
        return _ONE_LINE.encode
    encode = make(None, str, json.encoder.encode_basestring, None, ": ", ", ", True, False, True)

    def one_line(value: Any) -> str:
        return "".join(encode(value, 0))

    return one_line


encode_one_line = _one_line_encoder()
_encode = encode_one_line


def dumps_json(data: Any, *, depth: int = 2) -> str:
    """Readable JSON, fast: objects and arrays indented by two spaces down to `depth` levels, and every value
    below that on one line of its own (e.g. one plan operation, one graph node per line). Keys sorted."""
    return "".join(json_chunks(data, depth=depth))


def json_chunks(data: Any, *, depth: int = 2) -> Iterator[str]:
    """`dumps_json` in pieces (each at most one value of level `depth`), for writing without one big string."""
    yield from _chunks(data, depth, "")
    yield "\n"


def _chunks(value: Any, depth: int, indent: str) -> Iterator[str]:
    if isinstance(value, Iterator):
        # A generator stands for an array made while it is written (a 30,000-operation plan never exists
        # as one list of dicts).
        first = next(value, _END)
        if first is _END:
            yield "[]"
        elif depth <= 0:
            yield _encode([first, *value])
        else:
            yield from _array(itertools.chain((first,), value), depth, indent)
        return
    if depth <= 0 or not isinstance(value, dict | list | tuple) or not value:
        yield _encode(value)
        return
    inner = indent + "  "
    if isinstance(value, dict):
        yield "{"
        for index, key in enumerate(sorted(value)):
            yield ("\n" if index == 0 else ",\n") + inner + _ONE_LINE.encode(str(key)) + ": "
            yield from _chunks(value[key], depth - 1, inner)
        yield "\n" + indent + "}"
        return
    yield from _array(value, depth, indent)


def _array(items: Iterable[Any], depth: int, indent: str) -> Iterator[str]:
    inner = indent + "  "
    yield "["
    if depth <= 1:  # every item on one line: encoded and written a batch at a time
        separator = ",\n" + inner
        lead = "\n" + inner
        pending: list[str] = []
        size = 0
        for item in items:
            pending.append(encoded := _encode(item))
            size += len(encoded)
            if size >= _CHUNK:
                yield lead + separator.join(pending)
                lead, pending, size = separator, [], 0
        if pending:
            yield lead + separator.join(pending)
    else:
        for index, item in enumerate(items):
            yield ("\n" if index == 0 else ",\n") + inner
            yield from _chunks(item, depth - 1, inner)
    yield "\n" + indent + "]"
