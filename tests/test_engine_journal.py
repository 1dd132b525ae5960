"""The JSON-lines journal, its checkpoint file, and reading it back after a hard kill."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from batch_action.engine.events import (
    CheckpointNoted,
    Done,
    Failed,
    FailureRecord,
    Planned,
    Skipped,
    Started,
    Stopped,
    read_event,
)
from batch_action.engine.journal import Journal, load_journal

NOW = 1_700_000_000.0


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def test_entries_are_single_flushed_lines(tmp_path: Path) -> None:
    p = tmp_path / "journal.jsonl"
    j = Journal(p, clock=lambda: NOW)
    j.write(Started("create:task:a", 1))
    # Flushed at once: another reader sees the line before close.
    assert lines(p) == [{"t": NOW, "event": "started", "job": "create:task:a", "attempt": 1}]
    j.write(Done("create:task:a", 1, {"number": 12}))
    j.close()
    assert lines(p)[1] == {
        "t": NOW,
        "event": "done",
        "job": "create:task:a",
        "attempt": 1,
        "result": {"number": 12},
    }


def test_a_line_that_is_no_event_is_counted_not_fatal(tmp_path: Path) -> None:
    p = tmp_path / "j.jsonl"
    p.write_text(
        '{"event": "exploded", "job": "x"}\n{"event": "done"}\n[1]\n{"event": "done", "job": "a", "attempt": "2"}\n'
    )
    st = load_journal(p)
    assert st.torn_lines == 3 and st.done == {"a": None}


def test_non_json_results_do_not_break_the_journal(tmp_path: Path) -> None:
    p = tmp_path / "j.jsonl"
    with Journal(p) as j:
        j.write(Done("x", 1, {"labels": {"b", "a"}, "obj": object()}))
    entry = lines(p)[0]
    result = entry["result"]
    assert isinstance(result, dict)
    assert result["labels"] == ["a", "b"]
    assert str(result["obj"]).startswith("<object")


def test_thread_safe_appends_never_interleave(tmp_path: Path) -> None:
    p = tmp_path / "j.jsonl"
    j = Journal(p)

    def writer(k: int) -> None:
        for i in range(200):
            j.write(Skipped(f"job-{k}-{i}", "x" * 200))

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    j.close()
    assert len(lines(p)) == 800


def test_checkpoint_written_atomically_next_to_the_journal(tmp_path: Path) -> None:
    p = tmp_path / "out" / "journal.jsonl"
    j = Journal(p, clock=lambda: NOW)
    j.checkpoint({"final": False, "counts": {"succeeded": 2}, "done": ["a", "b"]})
    cp = json.loads((tmp_path / "out" / "checkpoint.json").read_text())
    assert cp == {"t": NOW, "final": False, "counts": {"succeeded": 2}, "done": ["a", "b"]}
    assert not (tmp_path / "out" / "checkpoint.json.tmp").exists()
    assert lines(p)[-1]["event"] == "checkpoint"
    j.close()


def test_lines_and_checkpoint_text_are_exactly_json_dumps(tmp_path: Path) -> None:
    # The journal reuses encoders and writes long lists by slices: the bytes must not change.
    p = tmp_path / "journal.jsonl"
    ids = [f"create:task:épic-{i:04d}/{i % 7:03d}" for i in range(2_345)]
    with Journal(p, clock=lambda: NOW) as j:
        j.write(Done("create:task:é", 1, {"number": 12, "labels": {"b", "a"}, "n": None}))
        summary = {"final": True, "counts": {"succeeded": 2_345}, "done": ids, "failed": [], "skipped": ids[:1000]}
        j.checkpoint(summary)
    first = p.read_text(encoding="utf-8").splitlines()[0]
    entry = {"t": NOW, "event": "done", "job": "create:task:é", "attempt": 1}
    entry["result"] = {"number": 12, "labels": ["a", "b"], "n": None}
    assert first == json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
    data = {"t": NOW, **summary}
    expected = ",\n".join(
        f" {json.dumps(k, ensure_ascii=False)}: {json.dumps(data[k], ensure_ascii=False, sort_keys=True)}"
        for k in sorted(data)
    )
    assert (tmp_path / "checkpoint.json").read_text(encoding="utf-8") == "{\n" + expected + "\n}\n"


def test_load_journal_classifies_every_job(tmp_path: Path) -> None:
    p = tmp_path / "j.jsonl"
    with Journal(p) as j:
        for job in ("a", "b", "c", "d", "e", "f"):
            j.write(Planned(job))
        j.write(Started("a", 1))
        j.write(Done("a", 1, {"number": 1}))
        j.write(Started("b", 1))
        j.write(Failed("b", 1, FailureRecord("timeout", "", retryable=True, outcome_unknown=True), final=False))
        j.write(Started("b", 2))
        j.write(Done("b", 2, {"number": 2}))
        j.write(Started("c", 1))
        j.write(Failed("c", 1, FailureRecord("item", "Not Found")))
        j.write(Skipped("d", "dependency c failed (item)"))
        j.write(Started("e", 1))  # then the process died
        j.write(Stopped("signal"))
    st = load_journal(p)
    assert st.planned == ["a", "b", "c", "d", "e", "f"]
    assert st.done == {"a": {"number": 1}, "b": {"number": 2}}
    assert set(st.failed) == {"c"} and st.failed["c"].cls == "item" and st.failed["c"].message == "Not Found"
    assert st.skipped == {"d": "dependency c failed (item)"}
    assert set(st.unfinished) == {"e"} and st.unfinished["e"].attempt == 1
    assert st.not_started == ["f"]
    assert st.stopped_reason == "signal"


def test_killed_during_a_retry_sleep_is_unfinished_with_the_failure(tmp_path: Path) -> None:
    p = tmp_path / "j.jsonl"
    with Journal(p) as j:
        j.write(Planned("x"))
        j.write(Started("x", 1))
        j.write(Failed("x", 1, FailureRecord("server", "", retryable=True, outcome_unknown=True), final=False))
    st = load_journal(p)
    last = st.unfinished["x"].last_failure
    assert last is not None and last.outcome_unknown and last.cls == "server"


def test_torn_last_line_is_tolerated_and_not_glued_to(tmp_path: Path) -> None:
    p = tmp_path / "j.jsonl"
    with Journal(p) as j:
        j.write(Planned("a"))
        j.write(Started("a", 1))
        j.write(Done("a", 1, {"number": 7}))
    with open(p, "a") as f:
        f.write('{"t": 1, "event": "started", "job": "b", "att')  # hard kill mid-write
    st = load_journal(p)
    assert st.torn_lines == 1 and st.done == {"a": {"number": 7}} and "b" not in st.unfinished
    # A resumed run appends to the same file: its first line must not be glued onto the torn one.
    with Journal(p) as j:
        j.write(Started("b", 1))
        j.write(Done("b", 1, {"number": 8}))
    st = load_journal(p)
    assert st.torn_lines == 1
    assert st.done == {"a": {"number": 7}, "b": {"number": 8}}


def test_later_runs_win(tmp_path: Path) -> None:
    p = tmp_path / "j.jsonl"
    with Journal(p) as j:
        j.write(Planned("a"))
        j.write(Started("a", 1))
        j.write(Failed("a", 1, FailureRecord("server", "", retryable=True)))
    with Journal(p) as j:
        j.write(Planned("a"))
        j.write(Started("a", 1))
        j.write(Done("a", 1, None))
    st = load_journal(p)
    assert st.done == {"a": None} and st.failed == {} and st.planned == ["a"]


def test_missing_journal_is_empty(tmp_path: Path) -> None:
    st = load_journal(tmp_path / "nope.jsonl")
    assert st.planned == [] and st.done == {}


def test_fsync_every_entry_option(tmp_path: Path) -> None:
    p = tmp_path / "j.jsonl"
    with Journal(p, fsync_every_entry=True) as j:
        j.write(Planned("a"))
    assert len(lines(p)) == 1
    with pytest.raises(ValueError):
        j.write(Planned("b"))


def test_every_event_reads_back_as_written(tmp_path: Path) -> None:
    """What the scheduler writes is what a later run reads: one class per event, both ways."""
    events = [
        Planned("a", "label a", ("b", "c")),
        Started("a", 2),
        Done("a", 2, {"number": 7, "id": 70}),
        Failed("a", 3, FailureRecord("server", "Bad Gateway", 502, retryable=True), final=False, retry_in=1.5),
        Failed("b", 1, FailureRecord("item", "Not Found", 404), reason="not retryable"),
        Skipped("c", "dependency b failed (item)"),
        Stopped("signal", ("d", "e")),
        CheckpointNoted({"succeeded": 1}, final=True),
    ]
    p = tmp_path / "j.jsonl"
    with Journal(p, clock=lambda: NOW) as j:
        for event in events:
            j.write(event)
    assert [read_event(entry) for entry in lines(p)] == events
