"""Canonical JSON as the run's files are written: the same text however it is streamed, in bounded pieces."""

from __future__ import annotations

import json

from batch_action.canonical import dumps_json, json_chunks


def test_a_streamed_array_is_written_in_pieces_of_bounded_size_with_the_text_of_one_value_a_line() -> None:
    specs = [{"key": f"task:e/{n}", "source_body": "x" * 2000} for n in range(300)]  # ~600 KB, like bodies
    chunks = list(json_chunks({"specs": (spec for spec in specs), "format": 2}))
    text = "".join(chunks)
    assert json.loads(text) == {"format": 2, "specs": specs}
    assert text == dumps_json({"specs": specs, "format": 2})  # a generator writes what a list does
    assert text.splitlines()[3] == "    " + json.dumps(specs[0], sort_keys=True, ensure_ascii=False) + ","
    # a piece holds about 64 KB of values, not a count of them: 2 KB bodies are not held 512 at a time
    assert 5 < len(chunks) < 30 and max(len(chunk) for chunk in chunks) < 64 * 1024 + 2100
