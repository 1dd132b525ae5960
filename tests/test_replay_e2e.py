"""Artifacts and replay end to end: `python entrypoint.py` as a subprocess (the container's entry point) against
the loopback fake GitHub and the Artifacts v4 double, with the runner's environment.

What is shown (README "Artifacts and replay"):
- a run uploads the graph before its first write, the checkpoint during the run and at the end, and the report;
  every artifact downloads intact (digest), and the blob host never sees a credential;
- a sync stopped by SIGTERM leaves a final checkpoint, and attempt 2 (`replay: auto`) finishes it;
- an attempt killed while it replays is finished by the next one, and a checkpoint that cannot be replayed is a
  warning and a plain sync;
- a sync killed hard (SIGKILL) after a mid-run checkpoint is finished from that older checkpoint, by run id
  (REST) or from a folder: every issue is created once and no write is made twice, even those that landed
  after the checkpoint was taken (creates, sub-issue and blocked-by links, re-links);
- an operation a newer sync overtook is reported as superseded and left alone;
- without the runtime token the files stay in output-dir, with a notice.

The sync's API is the fake GitHub (`INPUT_API-URL`); the runner's API (`GITHUB_API_URL`), where a workflow run's
artifacts are listed by run id, is the double's REST half (see tests/replay_harness.py).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from batch_action.artifacts import ArtifactClient
from tests.fake_artifacts import FakeArtifactService, RecordedRequest
from tests.fake_github import FakeGitHub
from tests.replay_harness import (
    ISSUES_PATH,
    Started,
    action_env,
    created_keys,
    expire_lease,
    first_write_at,
    kill_leftovers,
    link_posts,
    repeated_writes,
    run,
    start,
)
from tests.sync_harness import RunResult, Workspace, by_key, run_sync

Factory = Callable[..., FakeGitHub]

GRAPH, CHECKPOINT, REPORT = "issue-sync-graph", "issue-sync-checkpoint", "issue-sync-report"
GRAPH_FILES = {"task-graph.json", "task-graph.mmd", "plan.json"}
CHECKPOINT_FILES = {"journal.jsonl", "checkpoint.json", "state.json", "plan.json"}
REPORT_FILES = {"report.md", "report.json"}
ITEMS = 44  # the example tree
OPERATIONS = 4 + 44 + 37 + 25  # styled labels, creates, sub-issue links, blocked-by links
EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / ".claude"
SUB_ISSUES = re.compile(r"^/repos/octo/repo/issues/\d+/sub_issues$")
BLOCKED_BY = re.compile(r"^/repos/octo/repo/issues/\d+/dependencies/blocked_by$")


# -- fixtures and helpers -------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_leftover_runs() -> Iterator[None]:
    yield
    kill_leftovers()


@pytest.fixture
def svc() -> Iterator[FakeArtifactService]:
    with FakeArtifactService(repository="octo/repo") as service:
        yield service


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Any, ...]]:
    """What one clean, uninterrupted sync of the example tree leaves on GitHub (numbers replaced by keys)."""
    tmp = tmp_path_factory.mktemp("reference")
    with FakeGitHub(token="t0ken-for-tests") as gh:
        done = run_sync(gh, Workspace(tmp / "ws").path, tmp / "run")
        assert done.code == 0, done.log
        return structure(gh)


def new_run(svc: FakeArtifactService, run_id: str) -> str:
    """Register workflow run `run_id` with the double (REST id -> backend id); returns its job's runtime token."""
    backend = f"run-backend-{run_id}"
    svc.add_run(run_id, backend)
    return svc.add_job_token(backend, f"job-backend-{run_id}")


def next_attempt(svc: FakeArtifactService, run_id: str, attempt: int) -> str:
    """A re-run attempt keeps the run's backend id; its job is a new one."""
    return svc.add_job_token(f"run-backend-{run_id}", f"job-backend-{run_id}-attempt-{attempt}")


def env_for(
    gh: FakeGitHub,
    svc: FakeArtifactService,
    ws: Workspace,
    root: Path,
    run_id: str,
    runtime_token: str,
    *,
    attempt: int = 1,
    **inputs: str,
) -> dict[str, str]:
    return action_env(
        gh,
        svc,
        ws.path,
        root,
        run_id=run_id,
        attempt=attempt,
        runtime_token=runtime_token,
        token=svc.rest_token,
        **inputs,
    )


def finalize(svc: FakeArtifactService, name: str) -> list[RecordedRequest]:
    return [r for r in svc.twirp_requests("FinalizeArtifact") if isinstance(r.json, dict) and r.json["name"] == name]


def download(svc: FakeArtifactService, name: str, dest: Path, token: str, run_id: str | None = None) -> Path:
    """Fetch an artifact through the double, as the runner's client would; checks its digest both ways."""
    art = svc.stored(name, f"run-backend-{run_id}" if run_id else None)
    assert art is not None and art.finalized, f"{name} was not uploaded"
    data = svc.blob_of(art).data
    assert data is not None
    assert art.digest == "sha256:" + hashlib.sha256(data).hexdigest()
    with ArtifactClient(svc.results_url, token) as client:
        files = client.download(name, dest)  # raises on a digest mismatch
    assert {f.name for f in files} == {p.name for p in dest.iterdir()}
    return dest


def structure(gh: FakeGitHub) -> dict[str, tuple[Any, ...]]:
    """Per item: title, state, labels, parent and blockers (as keys), body with issue numbers shown as keys."""
    issues = by_key(gh)
    key_of = {issue["number"]: key for key, issue in issues.items()}

    def keyed(match: re.Match[str]) -> str:
        return f"#{key_of.get(int(match.group(1)), match.group(1))}"

    found: dict[str, tuple[Any, ...]] = {}
    for key, issue in issues.items():
        number = issue["number"]
        text, sep, meta = issue["body"].rpartition("\n\n---\n")
        parent = gh.parent_of(number)
        found[key] = (
            issue["title"],
            issue["state"],
            issue["state_reason"],
            frozenset(label["name"] for label in issue["labels"]),
            key_of.get(parent) if parent is not None else None,
            frozenset(key_of[b] for b in gh.blocked_by(number)),
            text + sep + re.sub(r"#(\d+)", keyed, meta),
        )
    return found


def leftover_replay_folders(out_dir: Path) -> list[Path]:
    """The replay-* folders a download went to: removed however the run ends."""
    return sorted(out_dir.glob("replay-*"))


def journal_done(folder: Path) -> set[str]:
    done: set[str] = set()
    for line in (folder / "journal.jsonl").read_text().splitlines():
        entry = json.loads(line)
        if entry.get("event") == "done":
            done.add(entry["job"])
    return done


def assert_converged_without_repeats(gh: FakeGitHub, reference: dict[str, tuple[Any, ...]]) -> None:
    """Over every run so far: each item created exactly once, no write made twice, the result a clean sync's."""
    created = created_keys(gh)
    assert len(created) == ITEMS and set(created.values()) == {1}, created
    assert repeated_writes(gh) == []
    assert [sig for sig, n in link_posts(gh).items() if n > 1] == []
    assert len(gh.issues()) == ITEMS
    assert structure(gh) == reference


def counts(gh: FakeGitHub) -> tuple[int, int, int]:
    """Successful creates, sub-issue links and blocked-by links so far."""
    creates = parents = blockers = 0
    for r in gh.requests:
        if r.method != "POST" or r.status is None or not 200 <= r.status < 300:
            continue
        creates += r.path == ISSUES_PATH
        parents += bool(SUB_ISSUES.match(r.path))
        blockers += bool(BLOCKED_BY.match(r.path))
    return creates, parents, blockers


def uploaded(svc: FakeArtifactService, name: str, run_id: str | None = None) -> bool:
    art = svc.stored(name, f"run-backend-{run_id}" if run_id else None)
    return art is not None and art.finalized


# -- 1. a normal run ------------------------------------------------------------------------------------------


def test_a_run_uploads_the_graph_before_writing_then_checkpoint_and_report(
    fake_github: Factory, svc: FakeArtifactService, ws: Workspace, tmp_path: Path
) -> None:
    gh = fake_github(token=svc.rest_token)
    done = run(env_for(gh, svc, ws, tmp_path / "run", "1001", svc.token), tmp_path / "run")
    assert done.code == 0, done.log
    assert len(created_keys(gh)) == ITEMS
    out = done.out_dir

    assert [a.name for a in svc.live_artifacts()] == [GRAPH, CHECKPOINT, REPORT]
    # The graph is finalized before GitHub sees its first write; the report and the final checkpoint after the last.
    last_write_end = max(r.end for r in gh.requests if r.method != "GET")
    (graph_done,) = finalize(svc, GRAPH)
    assert graph_done.at < first_write_at(gh)
    creates = [r.json["name"] for r in svc.twirp_requests("CreateArtifact")]
    assert creates[0] == GRAPH and creates[-1] == REPORT
    (report_done,) = finalize(svc, REPORT)
    assert report_done.at > last_write_end
    # The checkpoint: during the run (every 25 operations, but uploaded at most once a minute), and at the end.
    *mids, final = finalize(svc, CHECKPOINT)
    assert len(mids) == 1 and first_write_at(gh) < mids[0].at < last_write_end < final.at
    journal = [json.loads(line) for line in (out / "journal.jsonl").read_text().splitlines()]
    assert sum(e["event"] == "checkpoint" and not e.get("final") for e in journal) == 4  # at 25, 50, 75, 100
    assert f"artifact {GRAPH}:" in done.log and f"artifact {REPORT}:" in done.log

    graph = download(svc, GRAPH, tmp_path / "graph", svc.token)
    assert {p.name for p in graph.iterdir()} == GRAPH_FILES
    for name in ("task-graph.json", "plan.json"):
        assert (graph / name).read_bytes() == (out / name).read_bytes()
    node_link = json.loads((graph / "task-graph.json").read_text())
    assert len(node_link["nodes"]) == ITEMS
    assert (graph / "task-graph.mmd").read_text().startswith("flowchart TD")
    # 4 styled labels, 44 creates, 37 sub-issue links, 25 blocked-by links
    assert len(json.loads((graph / "plan.json").read_text())["operations"]) == OPERATIONS

    checkpoint = download(svc, CHECKPOINT, tmp_path / "checkpoint", svc.token)
    assert {p.name for p in checkpoint.iterdir()} == CHECKPOINT_FILES
    for name in CHECKPOINT_FILES:
        assert (checkpoint / name).read_bytes() == (out / name).read_bytes(), name
    summary = json.loads((checkpoint / "checkpoint.json").read_text())
    assert summary["final"] is True and summary["counts"]["succeeded"] == summary["counts"]["total"] == OPERATIONS
    state = json.loads((checkpoint / "state.json").read_text())
    assert (
        state["repository"] == "octo/repo" and len(state["specs"]) == ITEMS and len(state["operations"]) == OPERATIONS
    )
    assert len(journal_done(checkpoint)) == OPERATIONS

    report = download(svc, REPORT, tmp_path / "report", svc.token)
    assert {p.name for p in report.iterdir()} == REPORT_FILES
    for name in REPORT_FILES:
        assert (report / name).read_bytes() == (out / name).read_bytes()
    assert json.loads((report / "report.json").read_text())["counts"]["created"] == ITEMS

    # The FinalizeArtifact hash is the stored digest; the blob host never saw a token or an Authorization header.
    for name in (GRAPH, CHECKPOINT, REPORT):
        art = svc.stored(name)
        assert art is not None and finalize(svc, name)[-1].json["hash"] == art.digest
    assert svc.blob_requests() and svc.blob_leaks() == []
    # Secrets appear in the log only in the runner's add-mask commands, which hide them everywhere else.
    for line in done.log.splitlines():
        if not line.startswith("::add-mask::"):
            assert svc.token not in line and svc.rest_token not in line


# -- 2 and 4. SIGTERM, then attempt 2 with `replay: auto` ------------------------------------------------------


def test_sigterm_half_way_then_attempt_2_finishes_from_its_checkpoint(
    fake_github: Factory,
    svc: FakeArtifactService,
    ws: Workspace,
    tmp_path: Path,
    reference: dict[str, tuple[Any, ...]],
) -> None:
    gh = fake_github(token=svc.rest_token, latency=0.03)
    token = new_run(svc, "2001")
    first = start(env_for(gh, svc, ws, tmp_path / "a1", "2001", token, max_concurrency="2"), tmp_path / "a1")
    first.wait_until("a dozen creates", lambda: counts(gh)[0] >= 12)
    first.signal(signal.SIGTERM)
    stopped = first.wait()
    assert stopped.code == 1, stopped.log
    assert stopped.outputs["resumable"] == "true"
    assert "received SIGTERM" in stopped.log
    assert stopped.report()["stopped_reason"] == "signal"
    made_by_first = sum(created_keys(gh).values())
    assert 12 <= made_by_first < ITEMS

    # The final checkpoint went up, and it is the run's last word: the journal says where it stopped.
    saved = download(svc, CHECKPOINT, tmp_path / "saved", token, run_id="2001")
    assert (saved / "journal.jsonl").read_bytes() == (stopped.out_dir / "journal.jsonl").read_bytes()
    assert json.loads((saved / "checkpoint.json").read_text())["final"] is True
    events = [json.loads(line)["event"] for line in (saved / "journal.jsonl").read_text().splitlines()]
    assert "stopped" in events
    checkpoint_id = svc.stored(CHECKPOINT, "run-backend-2001").id  # type: ignore[union-attr]
    gh.latency = 0.002  # the latency only mattered for stopping half-way

    second = run(
        env_for(gh, svc, ws, tmp_path / "a2", "2001", next_attempt(svc, "2001", 2), attempt=2, max_concurrency="2"),
        tmp_path / "a2",
    )
    assert second.code == 0, second.log
    assert "replay: resuming from issue-sync-checkpoint of attempt 1" in second.log
    assert re.search(r"replay: \d+ done, \d+ landed unrecorded, 0 superseded, \d+ to run", second.log)
    assert second.outputs["resumable"] == "false"
    assert "### Replay" in second.summary
    assert leftover_replay_folders(second.out_dir) == []
    assert_converged_without_repeats(gh, reference)
    # Attempt 2 uploads under its own names and leaves attempt 1's checkpoint as it was.
    names = {a.name for a in svc.live_artifacts("run-backend-2001")}
    assert {f"{GRAPH}-2", f"{CHECKPOINT}-2", f"{REPORT}-2", CHECKPOINT} <= names
    assert svc.stored(CHECKPOINT, "run-backend-2001").id == checkpoint_id  # type: ignore[union-attr]
    assert svc.blob_leaks() == []


def test_an_attempt_killed_during_its_replay_is_finished_by_the_next_attempt(
    fake_github: Factory,
    svc: FakeArtifactService,
    ws: Workspace,
    tmp_path: Path,
    reference: dict[str, tuple[Any, ...]],
) -> None:
    gh = fake_github(token=svc.rest_token, latency=0.03)
    env = env_for(gh, svc, ws, tmp_path / "a1", "2101", new_run(svc, "2101"), max_concurrency="2")
    first = start(env, tmp_path / "a1")
    first.wait_until("some creates", lambda: counts(gh)[0] >= 8)
    first.signal(signal.SIGTERM)
    assert first.wait().code == 1

    # Attempt 2 uploads a checkpoint while it replays attempt 1's plan (before planning anything of its own),
    # and is then killed hard: that checkpoint is all attempt 3 gets.
    token = next_attempt(svc, "2101", 2)
    env = env_for(gh, svc, ws, tmp_path / "a2", "2101", token, attempt=2, max_concurrency="2", checkpoint_every="5")
    second = start(env, tmp_path / "a2")
    second.wait_until("a checkpoint upload", lambda: uploaded(svc, f"{CHECKPOINT}-2", "2101"))
    second.signal(signal.SIGKILL)
    killed = second.wait()
    assert killed.code == -signal.SIGKILL
    assert "::group::Replay" in killed.log and "Plan (after replay)" not in killed.log
    saved = download(svc, f"{CHECKPOINT}-2", tmp_path / "saved", token, "2101")
    assert {p.name for p in saved.iterdir()} == CHECKPOINT_FILES  # it names the plan being finished

    gh.latency = 0.002
    third = run(
        env_for(gh, svc, ws, tmp_path / "a3", "2101", next_attempt(svc, "2101", 3), attempt=3, max_concurrency="2"),
        tmp_path / "a3",
    )
    assert third.code == 0, third.log
    assert "replay: resuming from issue-sync-checkpoint-2 of attempt 2" in third.log
    assert_converged_without_repeats(gh, reference)


def test_a_checkpoint_that_cannot_be_replayed_is_a_warning_and_a_plain_sync(
    fake_github: Factory, svc: FakeArtifactService, ws: Workspace, tmp_path: Path
) -> None:
    gh = fake_github(token=svc.rest_token)
    new_run(svc, "2201")
    # What an older action version (or a checkpoint cut short) leaves: a journal but no state.
    svc.seed_artifact(
        CHECKPOINT,
        {"journal.jsonl": b"", "checkpoint.json": b"{}"},
        run_backend_id="run-backend-2201",
        job_backend_id="job-backend-2201",
    )
    env = env_for(gh, svc, ws, tmp_path / "a2", "2201", next_attempt(svc, "2201", 2), attempt=2)
    done = run(env, tmp_path / "a2")
    assert done.code == 0, done.log
    warnings = [line for line in done.log.splitlines() if line.startswith("::warning::replay:")]
    assert len(warnings) == 1 and "cannot be replayed" in warnings[0] and "a plain sync follows" in warnings[0]
    assert "internal error" not in done.log and "::group::Replay" not in done.log
    assert len(created_keys(gh)) == ITEMS and done.outputs["created"] == str(ITEMS)
    assert leftover_replay_folders(done.out_dir) == []


# -- 3. SIGKILL after a mid-run checkpoint, replayed by run id or from a folder ----------------------------------


def _killed_after_checkpoint(
    gh: FakeGitHub, svc: FakeArtifactService, ws: Workspace, tmp_path: Path
) -> tuple[RunResult, str]:
    """A run killed hard once a mid-run checkpoint is up and writes of every kind have landed after it."""
    token = new_run(svc, "3001")
    env = env_for(gh, svc, ws, tmp_path / "killed", "3001", token, max_concurrency="2", checkpoint_every="5")
    killed: Started = start(env, tmp_path / "killed")
    killed.wait_until("the first checkpoint upload", lambda: uploaded(svc, CHECKPOINT, "3001"))
    at_checkpoint = counts(gh)
    killed.wait_until(
        "a create, a sub-issue link and a blocked-by link after the checkpoint",
        lambda: all(now > then for now, then in zip(counts(gh), at_checkpoint, strict=True)),
    )
    killed.signal(signal.SIGKILL)
    result = killed.wait()
    expire_lease(gh)
    return result, token


@pytest.mark.parametrize("source", ["run-id", "folder"])
def test_sigkill_after_a_checkpoint_is_finished_from_that_older_checkpoint(
    fake_github: Factory,
    svc: FakeArtifactService,
    ws: Workspace,
    tmp_path: Path,
    reference: dict[str, tuple[Any, ...]],
    source: str,
) -> None:
    gh = fake_github(token=svc.rest_token, latency=0.03)
    killed, token = _killed_after_checkpoint(gh, svc, ws, tmp_path)
    assert killed.code == -signal.SIGKILL
    made_by_killed = set(created_keys(gh))
    assert 0 < len(made_by_killed) < ITEMS
    # Nothing more was uploaded: no final checkpoint, no report.
    assert len(finalize(svc, CHECKPOINT)) == 1 and not uploaded(svc, REPORT, "3001")
    # The checkpoint is older than the truth: creates and links of both kinds landed after it was taken.
    folder = download(svc, CHECKPOINT, ws.path / "downloaded-checkpoint", token, run_id="3001")
    done = journal_done(folder)
    in_checkpoint = tuple(
        sum(op.startswith(f"{action}:") for op in done) for action in ("create", "link-parent", "link-blocker")
    )
    landed = counts(gh)
    assert all(now > then for now, then in zip(landed, in_checkpoint, strict=True)), (landed, in_checkpoint)

    replay = "3001" if source == "run-id" else folder.name
    gh.latency = 0.002  # the latency only mattered for killing half-way
    second = run(
        env_for(gh, svc, ws, tmp_path / "replay", "3002", new_run(svc, "3002"), max_concurrency="2", replay=replay),
        tmp_path / "replay",
    )
    assert second.code == 0, second.log
    if source == "run-id":
        assert "replay: resuming from issue-sync-checkpoint of run 3001" in second.log
        rest = svc.rest_requests()
        assert rest and all(r.header("Authorization") for r in rest)
    else:
        assert f"replay: resuming from the checkpoint in {folder}" in second.log
        assert svc.rest_requests() == []
    match = re.search(r"replay: (\d+) done, (\d+) landed unrecorded, 0 superseded, (\d+) to run", second.log)
    assert match and int(match.group(1)) == len(done) and int(match.group(2)) > 0, second.log
    assert second.outputs["resumable"] == "false"
    assert leftover_replay_folders(second.out_dir) == []
    assert folder.is_dir()  # a folder the user gave is never deleted
    # Both runs together: one issue per item, no write twice (the links that landed after the checkpoint were
    # found in the listing, or by reading the blocked-by list before adding), and a clean sync's result.
    assert_converged_without_repeats(gh, reference)
    assert svc.blob_leaks() == []


def test_relinks_that_landed_after_the_checkpoint_are_not_sent_again(
    fake_github: Factory,
    svc: FakeArtifactService,
    ws: Workspace,
    tmp_path: Path,
    reference: dict[str, tuple[Any, ...]],
) -> None:
    gh = fake_github(token=svc.rest_token)
    # Issues first synced without sub-issues: turning them on plans an update and a re-link for every child.
    plain = run(
        env_for(gh, svc, ws, tmp_path / "flat", "3101", new_run(svc, "3101"), sub_issues="false"), tmp_path / "flat"
    )
    assert plain.code == 0, plain.log
    gh.latency = 0.03
    token = new_run(svc, "3102")
    env = env_for(gh, svc, ws, tmp_path / "killed", "3102", token, max_concurrency="2", checkpoint_every="5")
    killed = start(env, tmp_path / "killed")
    killed.wait_until("the first checkpoint upload", lambda: uploaded(svc, CHECKPOINT, "3102"))
    at_checkpoint = counts(gh)[1]
    killed.wait_until("two re-links after the checkpoint", lambda: counts(gh)[1] >= at_checkpoint + 2)
    killed.signal(signal.SIGKILL)
    assert killed.wait().code == -signal.SIGKILL
    expire_lease(gh)
    folder = download(svc, CHECKPOINT, tmp_path / "checkpoint", token, run_id="3102")
    relinked = {op for op in journal_done(folder) if op.startswith("relink:")}
    assert counts(gh)[1] > len(relinked)  # some re-links landed after the checkpoint

    gh.latency = 0.002
    env = env_for(gh, svc, ws, tmp_path / "replay", "3103", new_run(svc, "3103"), replay="3102")
    replayed = run(env, tmp_path / "replay")
    assert replayed.code == 0, replayed.log
    assert "replay: resuming from issue-sync-checkpoint of run 3102" in replayed.log
    assert [sig for sig, n in link_posts(gh).items() if n > 1] == []
    assert repeated_writes(gh) == []
    assert structure(gh) == reference


# -- 5. superseded ----------------------------------------------------------------------------------------------


def _edit(ws: Workspace, rel: str, line: str) -> str:
    path = ws.path / ".claude" / rel
    path.write_text(path.read_text() + f"\n{line}\n")
    return ws.commit(f"edit {rel}")


def test_an_operation_a_newer_sync_overtook_is_superseded_and_left_alone(
    fake_github: Factory, svc: FakeArtifactService, tmp_path: Path
) -> None:
    # The search PRD and its epic only (8 items): four runs in a row stay quick.
    source = tmp_path / "source"
    (source / "prds").mkdir(parents=True)
    shutil.copy(EXAMPLES / "prds" / "search.md", source / "prds" / "search.md")
    shutil.copytree(EXAMPLES / "epics" / "search", source / "epics" / "search")
    ws = Workspace(tmp_path / "ws", source)
    gh = fake_github(token=svc.rest_token)
    first = run(env_for(gh, svc, ws, tmp_path / "first", "5001", new_run(svc, "5001")), tmp_path / "first")
    assert first.code == 0, first.log
    issues = by_key(gh)
    x, y = issues["task:search/004"]["number"], issues["task:search/005"]["number"]

    # A sync of two edits fails on both updates (the API refuses them): its checkpoint keeps both to do.
    _edit(ws, "epics/search/004.md", "Edited for the failed run.")
    edited = _edit(ws, "epics/search/005.md", "Edited for the failed run too.")
    gh.fault("PATCH", rf"^/repos/octo/repo/issues/({x}|{y})$", status=502, times=None)
    failed = run(
        env_for(gh, svc, ws, tmp_path / "failed", "5002", new_run(svc, "5002"), max_retries="0"),
        tmp_path / "failed",
    )
    assert failed.code == 1 and failed.outputs["resumable"] == "true", failed.log
    assert uploaded(svc, CHECKPOINT, "5002")
    gh.clear_faults()

    # A newer sync of a further edit of 004 updates that issue. (A plain run also finishes what an earlier run
    # left undone, so the API still refuses 005's update here: the replay has that one left to run.)
    gh.fault("PATCH", rf"^/repos/octo/repo/issues/{y}$", status=502, times=None)
    _edit(ws, "epics/search/004.md", "Edited again by a newer sync.")
    newer = run(
        env_for(
            gh,
            svc,
            ws,
            tmp_path / "newer",
            "5003",
            new_run(svc, "5003"),
            scope="changed",
            base_sha=edited,
            max_retries="0",
        ),
        tmp_path / "newer",
    )
    assert newer.code == 1 and newer.outputs["updated"] == "1" and newer.outputs["failed"] == "1", newer.log
    gh.clear_faults()
    overtaken_body = gh.issue(x)["body"]  # type: ignore[index]
    assert "Edited again by a newer sync." in overtaken_body

    # Replaying the failed run's checkpoint: 004's update is superseded and not sent; 005's still is.
    gh.clear_requests()
    replayed = run(
        env_for(gh, svc, ws, tmp_path / "replay", "5004", new_run(svc, "5004"), replay="5002"),
        tmp_path / "replay",
    )
    assert replayed.code == 0, replayed.log
    assert "replay: resuming from issue-sync-checkpoint of run 5002" in replayed.log
    assert re.search(r"replay: \d+ done, \d+ landed unrecorded, 1 superseded, 1 to run", replayed.log), replayed.log
    patches = [r.path for r in gh.requests if r.method == "PATCH"]
    assert patches == [f"/repos/octo/repo/issues/{y}"]
    assert gh.issue(x)["body"] == overtaken_body  # type: ignore[index]
    assert "Edited for the failed run too." in gh.issue(y)["body"]  # type: ignore[index]
    assert "Superseded by a newer sync, left alone (1)" in replayed.summary
    assert "`update:task:search/004`" in replayed.summary
    assert (replayed.out_dir / "report.md").read_text().count("update:task:search/004") >= 1
    assert replayed.outputs["updated"] == "1"


# -- 6. no runtime token ------------------------------------------------------------------------------------------


def test_without_the_runtime_token_the_files_stay_in_output_dir(
    fake_github: Factory, svc: FakeArtifactService, ws: Workspace, tmp_path: Path
) -> None:
    gh = fake_github(token=svc.rest_token)
    env = env_for(gh, svc, ws, tmp_path / "local", "6001", svc.token)
    del env["ACTIONS_RUNTIME_TOKEN"]
    done = run(env, tmp_path / "local")
    assert done.code == 0, done.log
    notices = [line for line in done.log.splitlines() if line.startswith("::notice::No Actions runtime token")]
    assert len(notices) == 1 and "stay in output-dir" in notices[0]
    assert "uploaded (id" not in done.log
    assert svc.requests == []
    present = {p.name for p in done.out_dir.iterdir() if p.is_file()}
    assert present >= GRAPH_FILES | CHECKPOINT_FILES | REPORT_FILES
    assert done.outputs["report-path"] == str(done.out_dir / "report.md")
