"""Reads sent ahead of need (`runtime.Prefetch`): the run's first listing leaves as soon as the tracker exists
(`cli.main`), on the wire while the run's modules load and the tree is parsed; a re-plan lists afresh. Under the
lease, the repository's labels are listed while the run looks for changes since its listing and saves its state,
and the budget is read from the replies' headers instead of `GET /rate_limit`. Also what the entry point loads
before its first request, and what it keeps out."""

from __future__ import annotations

import io
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from batch_action import Draft, Item, sync
from batch_action.cli import main
from batch_action.runtime import Prefetch
from tests.fake_github import FakeGitHub
from tests.sync_harness import TOKEN, Workspace, action_env, by_key, run_sync

ROOT = Path(__file__).resolve().parent.parent
ISSUES = r"^/repos/octo/repo/issues$"


def test_a_prefetched_read_is_taken_once_and_its_error_is_raised_where_it_is_taken() -> None:
    nothing: Prefetch[int] = Prefetch()
    assert nothing.take() is None, "nothing started: the caller reads for itself"
    nothing.settle()

    once: Prefetch[int] = Prefetch()
    once.start(lambda: 7, "test-read")
    assert once.take() == 7
    assert once.take() is None, "a second take reads afresh"

    failing: Prefetch[int] = Prefetch()

    def broken() -> int:
        raise LookupError("the server said no")

    failing.start(broken, "test-read")
    with pytest.raises(LookupError, match="the server said no"):
        failing.take()


def test_settle_waits_for_a_read_no_one_took_and_swallows_its_error() -> None:
    release = threading.Event()
    finished = threading.Event()

    def slow() -> int:
        release.wait(5)
        finished.set()
        raise RuntimeError("ignored: the run ended before it needed the read")

    untaken: Prefetch[int] = Prefetch()
    untaken.start(slow, "test-read")
    threading.Timer(0.05, release.set).start()
    untaken.settle()
    assert finished.is_set(), "no request outlives the run"
    assert untaken.take() is None


def test_the_entry_point_imports_neither_the_task_graph_nor_the_run_before_the_listing_leaves() -> None:
    """What `entrypoint.py` loads before `main` sends the first listing: the settings, the effects, PyGithub's
    adapter; not networkx, the planner or the reports (they load while the listing is on the wire)."""
    probe = (
        "import sys, batch_action.cli, batch_action.sync.github_tracker, batch_action.sync.observe; "
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] == 'networkx' "
        "or m in ('batch_action.run', 'batch_action.graph', 'batch_action.report.plan_view', "
        "'batch_action.report.markdown'))))"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "", f"imported before the first request: {done.stdout}"


def test_the_listing_is_on_the_wire_before_the_tree_is_parsed_and_a_run_lists_once(tmp_path: Path) -> None:
    """The transform hook runs after the parse; it waits until the listing has reached the server. Were the
    listing sent after the parse (as before), the hook would time out and the run would fail the check."""
    ws = Workspace(tmp_path / "ws")
    arrived = threading.Event()
    order: list[str] = []

    def parsed(item: Item, draft: Draft) -> Draft:
        if not order:
            order.append("listing first" if arrived.wait(10) else "parse first")
        return replace(draft)

    with FakeGitHub(token=TOKEN) as gh:
        common = {"api_url": gh.base_url, "scope": "all", "writes_per_minute": 0, "request_timeout": 5}
        first = sync(ws.path, "octo/repo", token=TOKEN, output_dir=str(tmp_path / "1"), **common)
        assert first.ok and first.counts["created"] == 44, first.log
        gh.fault("GET", ISSUES, action="delay", hook=arrived.set, times=1)
        before = gh.count("GET", ISSUES)
        again = sync(ws.path, "octo/repo", token=TOKEN, output_dir=str(tmp_path / "2"), transform=parsed, **common)
        assert again.ok and again.counts["unchanged"] == 44, again.log
        assert order == ["listing first"]
        assert gh.count("GET", ISSUES) - before == 1, "one listing: nothing changed, so no lease and no re-read"


def test_under_the_lease_the_labels_are_listed_during_the_look_and_the_budget_costs_no_request(
    tmp_path: Path,
) -> None:
    ws = Workspace(tmp_path / "ws")
    with FakeGitHub(token=TOKEN) as gh:
        gh.fault("GET", ISSUES, action="delay", delay=0.3, skip=1, times=1)  # the look under the lease
        gh.fault("GET", r"/labels$", action="delay", delay=0.3, times=1)
        result = run_sync(gh, ws.path, tmp_path / "run", scope="all", writes_per_minute="0")
        assert result.code == 0, result.log
        look = next(r for r in gh.requests if r.path.endswith("/issues") and "since" in r.query)
        [labels] = [r for r in gh.requests if r.method == "GET" and r.path.endswith("/labels")]
        assert max(look.start, labels.start) < min(look.end, labels.end), "both were on the wire at once"
        assert gh.count("GET", r"^/rate_limit$") == 0, "the budget came from the replies' headers"
        first_write = min(r.start for r in gh.requests if r.method == "POST" and r.path.endswith("/issues"))
        assert labels.end < first_write


def test_the_entry_point_keeps_two_unused_libraries_out_and_the_library_does_not() -> None:
    """A token needs no JWT signing, and the API's JSON no charset guessing: the action's process runs PyJWT
    without `cryptography` and requests without `charset_normalizer` (~11 MB resident), with no warning;
    importing the library leaves a user's process as it was."""
    look = (
        "import batch_action.sync.github_tracker, jwt.algorithms, requests.compat; "
        "print(jwt.algorithms.has_crypto, requests.compat.chardet is not None)"
    )
    probe = f"import runpy; runpy.run_path('entrypoint.py', run_name='probe'); {look}"
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["False", "False"] and done.stderr == ""
    done = subprocess.run([sys.executable, "-c", look], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "True"]


_ARENAS = """
import ctypes, threading
libc = ctypes.CDLL(None)
def churn():
    for _ in range(2000):
        blocks = [bytearray(4096) for _ in range(8)]  # above pymalloc's 512 bytes: glibc's malloc
        del blocks
threads = [threading.Thread(target=churn) for _ in range(6)]
for thread in threads: thread.start()
for thread in threads: thread.join()
libc.open_memstream.restype = ctypes.c_void_p
text, size = ctypes.c_char_p(), ctypes.c_size_t()
stream = ctypes.c_void_p(libc.open_memstream(ctypes.byref(text), ctypes.byref(size)))
libc.malloc_info(0, stream)
libc.fclose(stream)
print(text.value.decode().count("<heap nr="))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_info")
def test_the_entry_point_has_its_threads_share_one_malloc_arena_and_the_library_does_not() -> None:
    """Each arena keeps what its thread freed (~5 MB with the engine's ten workers at 10,000 items): the
    action's process asks glibc for one; importing the library leaves a user's process as it was."""
    probe = f"import runpy; runpy.run_path('entrypoint.py', run_name='probe'){_ARENAS}"
    shared = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    plain = subprocess.run([sys.executable, "-c", _ARENAS], cwd=ROOT, capture_output=True, text=True, check=True)
    assert int(shared.stdout) == 1 and int(plain.stdout) > 1, (shared.stdout, plain.stdout)


def test_a_run_that_ends_before_it_needs_the_listing_does_not_wait_out_the_listings_retries(tmp_path: Path) -> None:
    """The issue types are checked (and refused) before the listing is needed, while the listing waits out a
    30 s `retry-after`: the run ends at once, exit 2, and the read ahead stops retrying."""
    ws = Workspace(tmp_path / "ws")
    with FakeGitHub(token=TOKEN) as gh:
        gh.secondary_limit(30, method="GET", path_regex=ISSUES, times=None)
        started = time.monotonic()
        result = run_sync(gh, ws.path, tmp_path / "run", issue_types="prd=Initiative")
        assert result.code == 2, result.log
        assert time.monotonic() - started < 10, "the run waited for a read it no longer needed"
        assert gh.count("GET", ISSUES) == 1, "no retry after the run ended"


def test_a_listing_read_ahead_that_gives_up_ends_the_run_as_a_listing_read_in_turn_did(tmp_path: Path) -> None:
    """Its error reaches the run where the listing is taken: one clear error, resumable, nothing written."""
    ws = Workspace(tmp_path / "ws")
    with FakeGitHub(token=TOKEN) as gh:
        gh.fault("GET", ISSUES, status=502, times=None)
        result = run_sync(gh, ws.path, tmp_path / "run", max_retries="1")
        assert result.code == 1, result.log
        assert result.outputs["resumable"] == "true"
        assert len(result.errors) == 1 and "reading the issues of octo/repo failed" in result.errors[0]
        assert gh.count("GET", ISSUES) == 2, "the first attempt and one retry"
        assert [r for r in gh.requests if r.method != "GET"] == [], "nothing written"


def test_a_label_listing_read_ahead_that_gives_up_is_read_again_by_the_label_jobs(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    with FakeGitHub(token=TOKEN) as gh:
        gh.fault("GET", r"/labels$", status=502, times=2)  # the read ahead's attempt and its one retry
        env = action_env(gh, ws.path, tmp_path / "run", scope="all", writes_per_minute="0", max_retries="1")
        code = main([], env, io.StringIO(), sleep=lambda seconds: time.sleep(seconds * 1e-3))
        assert code == 0
        assert gh.count("GET", r"/labels$") == 3, "the first label job listed them again, and it answered"
        assert len(by_key(gh)) == 44, "every item synced once"


def test_the_timeline_script_shows_the_reads_ahead_before_the_first_create() -> None:
    """`benchmarks/timeline.py`, the profile the benchmark notes quote, on a small tree with no latency."""
    done = subprocess.run(
        [sys.executable, "benchmarks/timeline.py", "--items", "20", "--latency", "0"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("exit 0,") and "(20 creates)" in lines[0]
    requests = [line.split(None, 2)[2] for line in lines[2:-2]]
    first_create = requests.index("POST /repos/octo/repo/issues")
    assert {"GET /repos/octo/repo/labels", "POST /repos/octo/repo/labels"} <= set(requests[:first_create])
    assert not any("rate_limit" in request for request in requests)
    assert lines[-1].startswith("lease taken -> first create: ")
