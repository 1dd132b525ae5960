"""Fast unit tests through the in-memory tracker (tests/fake_tracker.py): the fake itself, the Applier under the
real engine and classifier, observe, and whole runs through `cli.main` (a sync, then a dry run with a token that
must not write)."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from batch_action.cli import main
from batch_action.engine.governor import GovernorSettings
from batch_action.engine.scheduler import Engine, EngineSettings, JobStatus, RunResult
from batch_action.graph import build_graph
from batch_action.model import Severity
from batch_action.settings import Settings
from batch_action.sync.apply import Applier, IssueRegistry
from batch_action.sync.github_failures import classify_github
from batch_action.sync.observe import list_synced, observe
from batch_action.sync.plan import Action, Observed, Scope, make_plan
from batch_action.sync.render import SYNC_LABEL, IssueSpec, build_specs, read_marker
from batch_action.sync.tracker import IssueFields, IssueTracker, ResponseListener
from tests.fake_tracker import FakeTracker, ReadOnlyViolation, http_error
from tests.helpers import doc

ROOT = Path(__file__).resolve().parents[1]
DOCS = [
    doc("prds/auth.md", "name: Auth"),
    doc("epics/auth/epic.md", "name: Auth epic\nprd: auth"),
    doc("epics/auth/001.md", "name: Login"),
    doc("epics/auth/002.md", "name: Logout\ndepends_on: [001]"),
]


def conforms(tracker: FakeTracker) -> IssueTracker:
    return tracker  # mypy checks the fake against the port here


def first_sync(tracker: FakeTracker, sleeps: list[float] | None = None) -> tuple[dict[str, IssueSpec], RunResult]:
    graph = build_graph(DOCS)
    specs = build_specs(graph, (), sub_issues=True, dependencies=True)
    plan = make_plan(specs, Observed(), Scope(None), order=graph.order(), close_removed=True)
    delays = sleeps if sleeps is not None else []
    engine = Engine(
        EngineSettings(GovernorSettings(writes_per_minute=1e9)), classifier=classify_github, sleep=delays.append
    )
    applier = Applier(
        specs,
        conforms(tracker),
        IssueRegistry({}),
        lambda path: f"https://github.com/octo/repo/blob/main/{path}",
        lambda spec: f"Body of {spec.key}.",
    )
    return specs, engine.run(plan.operations, applier)


def by_key(tracker: FakeTracker) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for number, issue in tracker.issues.items():
        if (marker := read_marker(issue.body)) is not None:
            found.setdefault(marker.key, []).append(number)
    return found


# -- the fake -------------------------------------------------------------------------------------------------


def test_the_fake_scripts_faults_lost_creates_and_refuses_writes_when_read_only() -> None:
    tracker = FakeTracker()
    tracker.fail("get_issue", http_error(502), times=2)
    for _ in range(2):
        with pytest.raises(Exception) as raised:
            tracker.get_issue(1)
        assert getattr(raised.value, "status", None) == 502
    assert tracker.get_issue(1) is None
    tracker.lose_create_responses()
    with pytest.raises(TimeoutError):
        tracker.create_issue("T", "B", ["x"])
    assert [issue.title for issue in tracker.issues.values()] == ["T"]  # it landed all the same
    assert tracker.labels["x"].name == "x"  # made on first use, as GitHub does
    tracker.read_only = True
    with pytest.raises(ReadOnlyViolation):
        tracker.update_issue(1, IssueFields(title="U"))
    assert tracker.issues[1].title == "T" and tracker.violations == [
        "update_issue(1, IssueFields(title='U', body=None, labels=None, state=None, state_reason=None, type=None, "
        "assignees=None))"
    ]


# -- the Applier under the real engine ---------------------------------------------------------------------------


def test_a_first_sync_makes_one_issue_per_item_with_its_parent_and_blocker_links() -> None:
    tracker = FakeTracker()
    specs, result = first_sync(tracker)
    assert all(outcome.status is JobStatus.SUCCEEDED for outcome in result.outcomes.values())
    issues = by_key(tracker)
    assert sorted(issues) == sorted(specs) and all(len(numbers) == 1 for numbers in issues.values())
    number = {key: numbers[0] for key, numbers in issues.items()}
    assert tracker.parents[number["task:auth/001"]] == number["epic:auth"]
    assert tracker.parents[number["epic:auth"]] == number["prd:auth"]
    assert tracker.blockers[number["task:auth/002"]] == {number["task:auth/001"]}
    assert SYNC_LABEL in tracker.issues[number["task:auth/001"]].labels


def test_a_create_whose_response_was_lost_is_found_by_its_marker_not_sent_again() -> None:
    tracker = FakeTracker()
    tracker.lose_create_responses(2)
    specs, _ = first_sync(tracker)
    assert all(len(numbers) == 1 for numbers in by_key(tracker).values()), by_key(tracker)
    assert len(by_key(tracker)) == len(specs)
    assert sum(1 for name, _ in tracker.calls if name == "create_issue") == len(specs)
    assert [name for name, _ in tracker.calls].count("list_synced") >= 2  # each lost answer: look before resending


def test_a_502_on_a_create_is_retried_after_a_wait_and_the_item_lands_once() -> None:
    tracker = FakeTracker()
    tracker.fail("create_issue", http_error(502, "Bad Gateway"))
    sleeps: list[float] = []
    specs, _ = first_sync(tracker, sleeps)
    assert len(by_key(tracker)) == len(specs) and all(len(n) == 1 for n in by_key(tracker).values())
    assert sleeps and all(delay > 0 for delay in sleeps)


def test_a_server_without_sub_issues_leaves_the_relation_in_the_bodies() -> None:
    tracker = FakeTracker(sub_issues=False)
    _, result = first_sync(tracker)
    parents = [o for o in result.outcomes.values() if getattr(o.job, "action", None) is Action.LINK_PARENT]
    assert parents and all(o.status is JobStatus.SUCCEEDED for o in parents)
    assert tracker.parents == {}


# -- observe -----------------------------------------------------------------------------------------------------


def test_observe_finds_each_synced_item_and_warns_of_a_duplicate_marker() -> None:
    tracker = FakeTracker()
    specs, _ = first_sync(tracker)
    documents = {d.key: d for d in DOCS}
    number = by_key(tracker)["task:auth/001"][0]
    twin = tracker.seed("Login (copy)", tracker.issues[number].body, [SYNC_LABEL])
    tracker.seed("By hand", "no marker here", [SYNC_LABEL])
    observation = observe(tracker, list_synced(tracker), specs, documents, "octo/repo")
    assert sorted(observation.observed.issues) == sorted(specs)
    assert observation.observed.issues["task:auth/001"].number == number
    assert observation.listed == len(specs) + 2
    (problem,) = observation.problems
    assert problem.severity is Severity.WARNING and f"#{twin.number}" in problem.message
    plan = make_plan(specs, observation.observed, Scope(None), order=build_graph(DOCS).order(), close_removed=True)
    assert plan.operations == []  # in step: nothing to write


# -- whole runs through the entry point ----------------------------------------------------------------------------


def run(workspace: Path, tmp_path: Path, tracker: FakeTracker, **inputs: str) -> tuple[int, str, dict[str, str]]:
    output = tmp_path / "gh_output"
    output.write_text("")
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": str(workspace),
        "RUNNER_TEMP": str(tmp_path / "runner_temp"),
        "GITHUB_OUTPUT": str(output),
        "INPUT_GITHUB-TOKEN": "t0ken-for-the-fake",
        "INPUT_REPOSITORY": "octo/repo",
        "INPUT_SCOPE": "all",
        "INPUT_WRITES-PER-MINUTE": "0",
        "INPUT_UPLOAD-ARTIFACTS": "false",
        **{f"INPUT_{k.upper()}": v for k, v in inputs.items()},
    }

    def factory(settings: Settings, listener: ResponseListener | None) -> IssueTracker:
        return tracker

    stream = io.StringIO()
    code = main([], env, stream, sleep=lambda _seconds: None, tracker_factory=factory)
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
    return code, stream.getvalue(), outputs


def test_a_sync_then_a_dry_run_with_a_token_plans_the_one_change_and_writes_nothing(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    shutil.copytree(ROOT / "examples" / ".claude", workspace / ".claude")
    tracker = FakeTracker()
    code, log, outputs = run(workspace, tmp_path, tracker)
    assert code == 0, log
    created = int(outputs["created"])
    assert created == len(by_key(tracker)) and all(len(n) == 1 for n in by_key(tracker).values())

    task = next((workspace / ".claude" / "epics").rglob("001.md"))
    task.write_text(task.read_text() + "\nOne more line.\n")
    tracker.read_only = True
    before = len(tracker.calls)
    code, log, outputs = run(workspace, tmp_path, tracker, **{"DRY-RUN": "true"})
    assert code == 0, log
    assert (outputs["created"], outputs["updated"], outputs["closed"]) == ("0", "1", "0")
    assert int(outputs["unchanged"]) == created - 1
    assert tracker.violations == []
    read = {name for name, _ in tracker.calls[before:]}
    assert "list_synced" in read and "rate_limit" in read  # it looked at the remote state and the budget
