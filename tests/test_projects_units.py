"""The pure parts of issue types and projects: URLs, the mapping, an item's board work, GraphQL errors as REST
failures, the marker's field hashes; and GraphQL's rate limit through the real adapter against the fake."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from batch_action.engine.failures import FailureClass
from batch_action.engine.governor import Governor
from batch_action.model import Kind
from batch_action.projects import queries
from batch_action.projects.board import Board, BoardField, BoardItem, parse_project_url
from batch_action.projects.changes import FieldWrite, item_work
from batch_action.projects.mapping import FieldMap, parse_mapping, resolve_mapping, status_option, values_for
from batch_action.sync.github_failures import classify_github
from batch_action.sync.github_tracker import GitHubTracker
from batch_action.sync.graphql import GraphQLError, check_reply
from batch_action.sync.issue_types import check_issue_types, parse_issue_types
from batch_action.sync.render import field_hash, read_marker
from batch_action.sync.tracker import Response
from tests.fake_github import FakeGitHub
from tests.helpers import doc

URL = "https://github.com/orgs/octo/projects/7"


def board(*fields: BoardField, can_update: bool = True) -> Board:
    return Board("PVT_1", "Roadmap", URL, can_update, {f.name: f for f in fields})


STATUS = BoardField("F1", "Status", "SINGLE_SELECT", {"Todo": "o1", "In Progress": "o2", "Done": "o3"})
PRIORITY = BoardField("F2", "Priority", "SINGLE_SELECT", {"High": "p1", "Low": "p2"})
ESTIMATE = BoardField("F3", "Estimate", "NUMBER")
DUE = BoardField("F4", "Target date", "DATE")
TITLE = BoardField("F5", "Title", "TITLE")


@pytest.mark.parametrize(
    ("url", "owner", "number", "user"),
    [
        ("https://github.com/orgs/octo/projects/7", "octo", 7, False),
        ("https://github.com/users/mona/projects/12/views/3", "mona", 12, True),
        ("https://ghe.example.com/orgs/acme/projects/1/", "acme", 1, False),
    ],
)
def test_a_project_url_names_its_owner_and_number(url: str, owner: str, number: int, user: bool) -> None:
    ref = parse_project_url(url)
    assert ref is not None and (ref.owner, ref.number, ref.user) == (owner, number, user)


@pytest.mark.parametrize(
    "url",
    ["github.com/orgs/octo/projects/7", "https://github.com/octo/repo/projects/7", "https://github.com/orgs/octo"],
)
def test_other_urls_name_no_project(url: str) -> None:
    assert parse_project_url(url) is None


def test_the_default_mapping_leaves_out_what_the_board_lacks_with_one_notice() -> None:
    resolved = resolve_mapping(None, board(STATUS, ESTIMATE, TITLE), URL)
    assert [f.name for f in resolved.fields] == ["Status", "Estimate"]
    assert resolved.problems == []
    assert "'Priority', 'Start date', 'Target date'" in resolved.notice


def test_a_mapping_the_input_gives_is_strict_and_names_the_fields_it_can_set() -> None:
    mapping, problems = parse_mapping("Status=status, Size=effort|estimate, Title=priority")
    assert problems == [] and mapping is not None
    resolved = resolve_mapping(mapping, board(STATUS, ESTIMATE, TITLE), URL)
    assert resolved.problems == [
        f"input `project-fields`: the project {URL} has no field 'Size'; the fields it can set are Estimate, Status",
        f"input `project-fields`: the project {URL} has a title field, which the action cannot set: 'Title'; "
        "the fields it can set are Estimate, Status",
    ]


def test_a_mapping_naming_an_unknown_source_is_a_problem() -> None:
    _, problems = parse_mapping("Status=state")
    assert len(problems) == 1 and "each one of status, priority" in problems[0]


def test_values_are_in_the_boards_normal_form() -> None:
    fields = (
        FieldMap("Status", ("status",), STATUS),
        FieldMap("Priority", ("priority",), PRIORITY),
        FieldMap("Estimate", ("effort", "estimate"), ESTIMATE),
        FieldMap("Target date", ("due",), DUE),
    )
    docs = [
        doc("epics/a/001.md", "status: in_progress\npriority: HIGH\nestimate: 3.50\ndue: 2026-04-01T10:00:00Z\n"),
        doc("epics/a/002.md", "status: completed\n"),
        doc("epics/a/003.md", ""),
    ]
    values, problems = values_for(fields, docs)
    assert problems == []
    assert values[docs[0].key] == (
        ("Status", "In Progress"),
        ("Priority", "High"),
        ("Estimate", "3.5"),
        ("Target date", "2026-04-01"),
    )
    assert values[docs[1].key] == (("Status", "Done"), ("Priority", ""), ("Estimate", ""), ("Target date", ""))
    assert values[docs[2].key][0] == ("Status", "Todo")  # no status: an open item


def test_values_the_board_cannot_hold_are_problems_naming_what_it_accepts() -> None:
    fields = (FieldMap("Priority", ("priority",), PRIORITY), FieldMap("Estimate", ("effort",), ESTIMATE))
    _, problems = values_for(fields, [doc("epics/a/001.md", "priority: urgent\neffort: lots\n")])
    assert problems == [
        ".claude/epics/a/001.md: `priority: urgent` has no option on the project's field 'Priority'; "
        "its options are High, Low",
        ".claude/epics/a/001.md: `effort: lots` is not a number, which the project's field 'Estimate' holds",
    ]


@pytest.mark.parametrize(
    ("status", "option"), [("done", "Done"), ("closed", "Done"), ("in-progress", "In Progress"), ("backlog", "Todo")]
)
def test_statuses_map_to_githubs_default_options(status: str, option: str) -> None:
    assert status_option(status) == option


def test_an_item_not_on_the_board_is_added_with_every_value_the_file_gives() -> None:
    work = item_work((("Status", "Todo"), ("Priority", "")), None, None, board(STATUS, PRIORITY))
    assert work is not None and work.add and work.writes == (FieldWrite("Status", "Todo", ""),)
    assert (work.mutations, work.requests, work.summary()) == (2, 2, "add; Status")


def test_a_value_the_marker_records_is_left_alone_whatever_the_board_shows() -> None:
    recorded = frozenset({field_hash("Status", "Todo"), field_hash("Priority", "High")})
    on_board = BoardItem("I1", "I_1", {"F1": "Done"})  # a person moved it, and cleared Priority
    assert item_work((("Status", "Todo"), ("Priority", "High")), recorded, on_board, board(STATUS, PRIORITY)) is None


def test_a_changed_field_is_written_only_where_the_board_differs() -> None:
    recorded = frozenset({field_hash("Status", "Todo"), field_hash("Priority", "High")})
    on_board = BoardItem("I1", "I_1", {"F1": "Todo", "F2": "High"})
    work = item_work((("Status", "Done"), ("Priority", "")), recorded, on_board, board(STATUS, PRIORITY))
    assert work is not None and not work.add
    assert work.writes == (FieldWrite("Status", "Done", "Todo"), FieldWrite("Priority", "", "High"))
    already = item_work((("Status", "Todo"),), frozenset(), on_board, board(STATUS))
    assert already is None  # nothing recorded, but the board already says it


def test_the_marker_records_field_hashes_and_an_old_marker_none() -> None:
    body = "text\n<!-- issue-sync:v1 key=task:a/001 digest=abcd links=ef01 fields=0a1b2c3d.4e5f6a7b -->\n"
    marker = read_marker(body)
    assert marker is not None and marker.fields == frozenset({"0a1b2c3d", "4e5f6a7b"})
    old = read_marker("<!-- issue-sync:v1 key=task:a/001 digest=abcd links=ef01 -->")
    assert old is not None and old.fields is None and old.links == "ef01"


def test_set_fields_puts_values_in_variables_and_aliases_each_mutation() -> None:
    document = queries.set_fields([False, True])
    assert "$v0: ProjectV2FieldValue!" in document and "$v1" not in document
    assert "f0: updateProjectV2ItemFieldValue" in document and "f1: clearProjectV2ItemFieldValue" in document


def _failure(exc: BaseException) -> tuple[FailureClass, str | None]:
    failure = classify_github(exc, writes=True, now=time.time())
    return failure.cls, failure.resource


def _raised(reply: object, headers: dict[str, str] | None = None) -> GraphQLError:
    with pytest.raises(GraphQLError) as caught:
        check_reply(headers or {}, reply)
    return caught.value


def test_graphql_errors_are_classified_as_the_rest_ones() -> None:
    limited = _raised(
        {"errors": [{"type": "RATE_LIMITED", "message": "API rate limit already exceeded for user ID 1."}]},
        {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1999999999", "x-ratelimit-resource": "graphql"},
    )
    assert _failure(limited) == (FailureClass.PRIMARY_LIMIT, "graphql")
    secondary = _raised({"errors": [{"message": "You have triggered a secondary rate limit. Retry later."}]})
    assert _failure(secondary)[0] is FailureClass.SECONDARY_LIMIT
    assert _raised({"errors": [{"type": "NOT_FOUND", "message": "Could not resolve"}]}).status == 404
    forbidden = _raised({"errors": [{"type": "FORBIDDEN", "message": "Resource not accessible by integration"}]})
    assert _failure(forbidden)[0] is FailureClass.AUTH
    assert _failure(_raised({"errors": [{"message": "Argument 'x' is invalid"}]}))[0] is FailureClass.ITEM
    assert check_reply({}, {"data": {"a": 1}}) == {"a": 1}


def test_issue_types_are_parsed_and_checked_once_against_the_organisation() -> None:
    wanted, problems = parse_issue_types("prd=Feature, task=task, bogus=X, epic")
    assert wanted == {Kind.PRD: "Feature", Kind.TASK: "task"}
    assert len(problems) == 2
    asked: list[str] = []

    def available(owner: str) -> list[str] | None:
        asked.append(owner)
        return ["Task", "Feature"]

    verdict, problems = check_issue_types(wanted, "octo", available)
    assert (verdict.by_kind, problems, asked) == ({Kind.PRD: "Feature", Kind.TASK: "Task"}, [], ["octo"])
    personal, problems = check_issue_types(wanted, "mona", lambda _owner: None)
    assert personal.by_kind == {} and problems == [] and "not an organisation" in personal.notice


def test_graphql_goes_through_the_adapter_with_its_own_bucket(fake_github: Callable[..., FakeGitHub]) -> None:
    gh = fake_github(token="t", graphql_limit=2)
    gh.graphql.add_project("octo", 7)
    seen: list[Response] = []
    tracker = GitHubTracker("t", "octo/repo", gh.base_url, on_response=seen.append)
    variables = {"owner": "octo", "number": 7}
    data = tracker.graphql(queries.PROJECT_OF_ORGANIZATION, variables)
    assert data["organization"]["projectV2"]["title"] == "Roadmap"
    assert seen[-1].url.endswith("/graphql") and seen[-1].headers["x-ratelimit-resource"] == "graphql"
    tracker.graphql(queries.PROJECT_OF_ORGANIZATION, variables)
    with pytest.raises(GraphQLError) as caught:
        tracker.graphql(queries.PROJECT_OF_ORGANIZATION, variables)
    assert _failure(caught.value) == (FailureClass.PRIMARY_LIMIT, "graphql")
    governor = Governor()
    for response in seen:
        governor.observe(response)
    until, why = governor.ready_at("graphql")
    assert why is not None and until > time.time()  # the graphql bucket is spent: project operations wait
    assert governor.ready_at()[1] is None  # REST's core bucket is not


def test_graphql_on_ghes_is_served_beside_the_v3_prefix(fake_github: Callable[..., FakeGitHub]) -> None:
    gh = fake_github(token="t", api_prefix="/api/v3")
    gh.graphql.add_project("octo", 7)
    tracker = GitHubTracker("t", "octo/repo", gh.base_url)
    tracker.graphql(queries.PROJECT_OF_ORGANIZATION, {"owner": "octo", "number": 7})
    assert gh.requests[-1].path == "/graphql" and gh.graphql_path == "/api/graphql"


def test_a_mutation_github_refuses_stops_the_run_naming_project_token() -> None:
    from batch_action.engine.failures import JobError
    from batch_action.projects.changes import ItemWork
    from batch_action.projects.client import ProjectClient
    from batch_action.projects.sync import ProjectView, ProjectWriter

    def refuse(query: str, variables: object) -> dict[str, object]:
        return check_reply({}, {"errors": [{"type": "FORBIDDEN", "message": "Resource not accessible by integration"}]})

    view = ProjectView(board(STATUS), URL, (), {}, 0, {})
    view.work = {"task:a/001": ItemWork(True, (FieldWrite("Status", "Todo", ""),))}
    writer = ProjectWriter(ProjectClient(refuse), view, lambda key: "I_1")
    with pytest.raises(JobError) as caught:
        writer.apply("task:a/001")
    assert caught.value.cls is FailureClass.AUTH and "`project-token`" in caught.value.message
    assert writer.mutations == 0
