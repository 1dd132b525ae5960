"""The GraphQL side of the fake GitHub: the Projects (v2) subset the action uses, executed by graphql-core.

The subset's SDL below uses GitHub's own type, field and argument names (the action's documents are validated
against GitHub's published schema separately, in tests/test_graphql_schema.py); the fake parses, validates and
executes each request against it, so a query outside the subset fails here as it would against a server that
lacks it. Issues and their node ids are the REST side's (`I_fake<id>`), so an issue made by REST is an item's
content here.

Access follows the token's `Grant` (server.py): `projects="none"` is GITHUB_TOKEN reaching an organisation
project ("Resource not accessible by integration", FORBIDDEN, on the lookup and on every mutation); "read" may
look but not write (`viewerCanUpdate: false`; mutations FORBIDDEN); "write" may do both.
"""

from __future__ import annotations

import base64
import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError, build_schema, graphql_sync
from graphql.type import GraphQLObjectType

if TYPE_CHECKING:
    from tests.fake_github.server import FakeGitHub, Grant

NOT_ACCESSIBLE = "Resource not accessible by integration"

SDL = """
schema { query: Query mutation: Mutation }
scalar URI
scalar Date

interface Node { id: ID! }

type Query {
  organization(login: String!): Organization
  user(login: String!): User
  node(id: ID!): Node
}

type Mutation {
  addProjectV2ItemById(input: AddProjectV2ItemByIdInput!): AddProjectV2ItemByIdPayload
  updateProjectV2ItemFieldValue(input: UpdateProjectV2ItemFieldValueInput!): UpdateProjectV2ItemFieldValuePayload
  clearProjectV2ItemFieldValue(input: ClearProjectV2ItemFieldValueInput!): ClearProjectV2ItemFieldValuePayload
}

type Organization implements Node { id: ID! login: String! projectV2(number: Int!): ProjectV2 }
type User implements Node { id: ID! login: String! projectV2(number: Int!): ProjectV2 }
type Repository implements Node { id: ID! nameWithOwner: String! }
type Issue implements Node { id: ID! number: Int! repository: Repository! }
type PullRequest implements Node { id: ID! number: Int! }
type DraftIssue implements Node { id: ID! title: String! }

type PageInfo { hasNextPage: Boolean! endCursor: String }

type ProjectV2 implements Node {
  id: ID!
  number: Int!
  title: String!
  url: URI!
  closed: Boolean!
  viewerCanUpdate: Boolean!
  fields(first: Int, after: String): ProjectV2FieldConfigurationConnection!
  items(first: Int, after: String): ProjectV2ItemConnection!
}

enum ProjectV2FieldType {
  ASSIGNEES DATE ISSUE_TYPE ITERATION LABELS LINKED_PULL_REQUESTS MILESTONE NUMBER PARENT_ISSUE REPOSITORY
  REVIEWERS SINGLE_SELECT SUB_ISSUES_PROGRESS TEXT TITLE TRACKED_BY TRACKS
}

interface ProjectV2FieldCommon { id: ID! name: String! dataType: ProjectV2FieldType! }
type ProjectV2Field implements Node & ProjectV2FieldCommon { id: ID! name: String! dataType: ProjectV2FieldType! }
type ProjectV2IterationField implements Node & ProjectV2FieldCommon {
  id: ID! name: String! dataType: ProjectV2FieldType!
}
type ProjectV2SingleSelectFieldOption { id: String! name: String! }
type ProjectV2SingleSelectField implements Node & ProjectV2FieldCommon {
  id: ID! name: String! dataType: ProjectV2FieldType! options: [ProjectV2SingleSelectFieldOption!]!
}
union ProjectV2FieldConfiguration = ProjectV2Field | ProjectV2IterationField | ProjectV2SingleSelectField
type ProjectV2FieldConfigurationConnection {
  nodes: [ProjectV2FieldConfiguration] pageInfo: PageInfo! totalCount: Int!
}

union ProjectV2ItemContent = DraftIssue | Issue | PullRequest
type ProjectV2Item implements Node {
  id: ID!
  content: ProjectV2ItemContent
  fieldValues(first: Int, after: String): ProjectV2ItemFieldValueConnection!
}
type ProjectV2ItemConnection { nodes: [ProjectV2Item] pageInfo: PageInfo! totalCount: Int! }

interface ProjectV2ItemFieldValueCommon { field: ProjectV2FieldConfiguration! }
type ProjectV2ItemFieldTextValue implements ProjectV2ItemFieldValueCommon {
  field: ProjectV2FieldConfiguration! text: String
}
type ProjectV2ItemFieldNumberValue implements ProjectV2ItemFieldValueCommon {
  field: ProjectV2FieldConfiguration! number: Float
}
type ProjectV2ItemFieldDateValue implements ProjectV2ItemFieldValueCommon {
  field: ProjectV2FieldConfiguration! date: Date
}
type ProjectV2ItemFieldSingleSelectValue implements ProjectV2ItemFieldValueCommon {
  field: ProjectV2FieldConfiguration! optionId: String name: String
}
union ProjectV2ItemFieldValue =
  ProjectV2ItemFieldDateValue | ProjectV2ItemFieldNumberValue | ProjectV2ItemFieldSingleSelectValue
  | ProjectV2ItemFieldTextValue
type ProjectV2ItemFieldValueConnection { nodes: [ProjectV2ItemFieldValue] pageInfo: PageInfo! totalCount: Int! }

input AddProjectV2ItemByIdInput { clientMutationId: String contentId: ID! projectId: ID! }
type AddProjectV2ItemByIdPayload { clientMutationId: String item: ProjectV2Item }
input ProjectV2FieldValue { date: Date iterationId: String number: Float singleSelectOptionId: String text: String }
input UpdateProjectV2ItemFieldValueInput {
  clientMutationId: String fieldId: ID! itemId: ID! projectId: ID! value: ProjectV2FieldValue!
}
type UpdateProjectV2ItemFieldValuePayload { clientMutationId: String projectV2Item: ProjectV2Item }
input ClearProjectV2ItemFieldValueInput { clientMutationId: String fieldId: ID! itemId: ID! projectId: ID! }
type ClearProjectV2ItemFieldValuePayload { clientMutationId: String projectV2Item: ProjectV2Item }
"""

_SCHEMA = build_schema(SDL)
_MAX_PAGE = 100  # GitHub: `first` takes 1 to 100


@dataclass
class FakeField:
    id: str
    name: str
    data_type: str  # TEXT, NUMBER, DATE, SINGLE_SELECT, TITLE, ITERATION, ...
    options: list[tuple[str, str]] = field(default_factory=list)  # (id, name)

    def option_name(self, option_id: str) -> str | None:
        return next((name for oid, name in self.options if oid == option_id), None)


@dataclass
class FakeItem:
    id: str
    issue_id: int  # the REST database id of the issue it shows
    values: dict[str, Any] = field(default_factory=dict)  # field id -> text, float, "YYYY-MM-DD" or option id


@dataclass
class FakeProject:
    id: str
    owner: str
    owner_kind: str  # "organization" | "user"
    number: int
    title: str
    fields: list[FakeField]
    items: list[FakeItem] = field(default_factory=list)

    def field_named(self, name: str) -> FakeField | None:
        return next((f for f in self.fields if f.name == name), None)

    def item_for(self, issue_id: int) -> FakeItem | None:
        return next((item for item in self.items if item.issue_id == issue_id), None)


class FakeGraphQL:
    """The projects and the GraphQL endpoint of one FakeGitHub. Called with the server's lock held."""

    def __init__(self, fake: FakeGitHub, html_base: Callable[[], str]) -> None:
        self.fake = fake
        self._html_base = html_base
        self.projects: list[FakeProject] = []
        self._ids = itertools.count(1)
        # Every mutation field executed: (name, input), in order; what tests count.
        self.mutations: list[tuple[str, dict[str, Any]]] = []
        self.documents: list[str] = []  # every query text received

    # -- setup and inspection

    def add_project(
        self,
        owner: str,
        number: int = 1,
        *,
        title: str = "Roadmap",
        user: bool = False,
        fields: Iterable[tuple[str, str, Iterable[str]]] = (),
    ) -> FakeProject:
        """A project with Title and Status (Todo, In Progress, Done) as GitHub makes them, plus `fields`:
        (name, data type, option names) each."""
        made = [
            FakeField(self._new_id("PVTF"), "Title", "TITLE"),
            self._field("Status", "SINGLE_SELECT", ("Todo", "In Progress", "Done")),
            *(self._field(name, kind, options) for name, kind, options in fields),
        ]
        project = FakeProject(self._new_id("PVT"), owner, "user" if user else "organization", number, title, made)
        self.projects.append(project)
        return project

    def _field(self, name: str, kind: str, options: Iterable[str]) -> FakeField:
        made = FakeField(self._new_id("PVTSSF" if kind == "SINGLE_SELECT" else "PVTF"), name, kind)
        made.options = [(f"{next(self._ids) * 2654435761 % 2**32:08x}", option) for option in options]  # like GitHub's
        return made

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}_fake{next(self._ids):06d}"

    def values_of(self, project: FakeProject, issue_id: int) -> dict[str, Any] | None:
        """An item's field values by field name (options by name), or None when the issue is not on the board."""
        item = project.item_for(issue_id)
        if item is None:
            return None
        shown: dict[str, Any] = {}
        for f in project.fields:
            if f.id in item.values:
                value = item.values[f.id]
                shown[f.name] = f.option_name(value) if f.data_type == "SINGLE_SELECT" else value
        return shown

    def set_value(self, project: FakeProject, issue_id: int, name: str, value: Any) -> None:
        """What a person does on the board: set (or with None clear) a field of an issue's item."""
        item = project.item_for(issue_id)
        f = project.field_named(name)
        assert item is not None and f is not None, (issue_id, name)
        if value is None:
            item.values.pop(f.id, None)
        elif f.data_type == "SINGLE_SELECT":
            item.values[f.id] = next(oid for oid, option in f.options if option == value)
        else:
            item.values[f.id] = value

    # -- the endpoint

    def execute(self, body: Any, grant: Grant) -> dict[str, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return {"errors": [{"message": "A query attribute must be specified and must be a string."}]}
        self.documents.append(body["query"])
        variables = body.get("variables") if isinstance(body.get("variables"), dict) else None
        result = graphql_sync(
            _SCHEMA,
            body["query"],
            root_value=_Root(self, grant),
            variable_values=variables,
            field_resolver=_resolve_field,
        )
        reply: dict[str, Any] = {}
        if result.errors:
            reply["errors"] = [_error_json(error) for error in result.errors]
        if result.data is not None:
            reply["data"] = result.data
        return reply

    # -- resolving

    def project(self, owner: str, kind: str, number: int, grant: Grant) -> FakeProject | None:
        if grant.projects == "none":
            raise GraphQLError(NOT_ACCESSIBLE, extensions={"type": "FORBIDDEN"})
        for project in self.projects:
            if project.owner.lower() == owner.lower() and project.owner_kind == kind and project.number == number:
                return project
        raise GraphQLError(
            f"Could not resolve to a ProjectV2 with the number {number}.", extensions={"type": "NOT_FOUND"}
        )

    def project_by_id(self, node_id: str) -> FakeProject | None:
        return next((p for p in self.projects if p.id == node_id), None)

    def issue_node(self, issue_id: int) -> dict[str, Any]:
        repo, issue = self.fake._by_id[issue_id]
        return {
            "__typename": "Issue",
            "id": f"I_fake{issue_id}",
            "number": issue.number,
            "repository": {"id": f"R_fake{repo.index}", "nameWithOwner": repo.full_name},
        }

    def issue_id_of(self, node_id: str) -> int | None:
        if not node_id.startswith("I_fake") or not node_id[6:].isdigit():
            return None
        issue_id = int(node_id[6:])
        found = self.fake._by_id.get(issue_id)
        return issue_id if found is not None and not found[1].is_pr else None


class _Root:
    def __init__(self, gql: FakeGraphQL, grant: Grant) -> None:
        self.gql = gql
        self.grant = grant


def _error_json(error: GraphQLError) -> dict[str, Any]:
    data: dict[str, Any] = {"message": error.message}
    if error.path:
        data["path"] = list(error.path)
    if error.locations:
        data["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    extensions = dict(error.extensions or {})
    if "type" in extensions:  # GitHub puts the error type at the top level of each error
        data["type"] = extensions.pop("type")
    return data


def _page(nodes: list[Any], first: int | None, after: str | None) -> dict[str, Any]:
    if first is None or not 1 <= first <= _MAX_PAGE:
        raise GraphQLError(f"You must provide a `first` value between 1 and {_MAX_PAGE}.")
    start = int(base64.b64decode(after).decode()) if after else 0
    chunk = nodes[start : start + first]
    end = start + len(chunk)
    return {
        "nodes": chunk,
        "totalCount": len(nodes),
        "pageInfo": {
            "hasNextPage": end < len(nodes),
            "endCursor": base64.b64encode(str(end).encode()).decode() if chunk else None,
        },
    }


def _resolve_field(source: Any, info: Any, **args: Any) -> Any:
    """One resolver for every field: plain dicts answer by key; the root and the project types compute."""
    name = info.field_name
    parent: GraphQLObjectType = info.parent_type
    if isinstance(source, _Root):
        return _ROOT_FIELDS[name](source, **args)
    if isinstance(source, BoundNode):
        return source.resolve(name, args)
    if isinstance(source, Mapping):
        value = source.get(name)
        return value() if callable(value) else value
    raise GraphQLError(f"the fake cannot resolve {parent.name}.{name}")


class BoundNode:
    """A project-side object with the root it was reached from (the token's grant, the fake)."""

    def __init__(self, root: _Root, kind: str, value: Any, project: FakeProject | None = None) -> None:
        self.root = root
        self.kind = kind
        self.value = value
        self.project = project
        self.__typename = kind

    def resolve(self, name: str, args: dict[str, Any]) -> Any:
        return getattr(self, f"_{self.kind}_{name}")(**args)

    # Organization / User
    def _owner(self, number: int) -> Any:
        kind = "organization" if self.kind == "Organization" else "user"
        project = self.root.gql.project(self.value, kind, number, self.root.grant)
        return None if project is None else BoundNode(self.root, "ProjectV2", project, project)

    def _Organization_projectV2(self, number: int) -> Any:
        return self._owner(number)

    def _User_projectV2(self, number: int) -> Any:
        return self._owner(number)

    def _Organization_id(self) -> str:
        return f"O_fake{self.value}"

    def _User_id(self) -> str:
        return f"U_fake{self.value}"

    def _Organization_login(self) -> str:
        return str(self.value)

    _User_login = _Organization_login

    # ProjectV2
    def _ProjectV2_id(self) -> str:
        return str(self.value.id)

    def _ProjectV2_number(self) -> int:
        return int(self.value.number)

    def _ProjectV2_title(self) -> str:
        return str(self.value.title)

    def _ProjectV2_closed(self) -> bool:
        return False

    def _ProjectV2_url(self) -> str:
        p = self.value
        place = "orgs" if p.owner_kind == "organization" else "users"
        return f"{self.root.gql._html_base()}/{place}/{p.owner}/projects/{p.number}"

    def _ProjectV2_viewerCanUpdate(self) -> bool:
        return bool(self.root.grant.projects == "write")

    def _ProjectV2_fields(self, first: int | None = None, after: str | None = None) -> Any:
        return _page([_field_json(f) for f in self.value.fields], first, after)

    def _ProjectV2_items(self, first: int | None = None, after: str | None = None) -> Any:
        return _page(
            [BoundNode(self.root, "ProjectV2Item", item, self.value) for item in self.value.items], first, after
        )

    # ProjectV2Item
    def _ProjectV2Item_id(self) -> str:
        return str(self.value.id)

    def _ProjectV2Item_content(self) -> Any:
        return self.root.gql.issue_node(self.value.issue_id)

    def _ProjectV2Item_fieldValues(self, first: int | None = None, after: str | None = None) -> Any:
        assert self.project is not None
        values = []
        for f in self.project.fields:
            if f.id not in self.value.values:
                continue
            value = self.value.values[f.id]
            shown = _field_json(f)
            if f.data_type == "SINGLE_SELECT":
                values.append(
                    {
                        "__typename": "ProjectV2ItemFieldSingleSelectValue",
                        "field": shown,
                        "optionId": value,
                        "name": f.option_name(value),
                    }
                )
            elif f.data_type == "NUMBER":
                values.append({"__typename": "ProjectV2ItemFieldNumberValue", "field": shown, "number": value})
            elif f.data_type == "DATE":
                values.append({"__typename": "ProjectV2ItemFieldDateValue", "field": shown, "date": value})
            else:
                values.append({"__typename": "ProjectV2ItemFieldTextValue", "field": shown, "text": value})
        return _page(values, first, after)


def _field_json(f: FakeField) -> dict[str, Any]:
    typename = {"SINGLE_SELECT": "ProjectV2SingleSelectField", "ITERATION": "ProjectV2IterationField"}.get(
        f.data_type, "ProjectV2Field"
    )
    data: dict[str, Any] = {"__typename": typename, "id": f.id, "name": f.name, "dataType": f.data_type}
    if f.data_type == "SINGLE_SELECT":
        data["options"] = [{"id": oid, "name": name} for oid, name in f.options]
    return data


# -- root fields -----------------------------------------------------------------------------------------------


def _organization(root: _Root, login: str) -> Any:
    if root.gql.fake._is_user(login):
        raise GraphQLError(
            f"Could not resolve to an Organization with the login of '{login}'.", extensions={"type": "NOT_FOUND"}
        )
    return BoundNode(root, "Organization", login)


def _user(root: _Root, login: str) -> Any:
    if not root.gql.fake._is_user(login):
        raise GraphQLError(
            f"Could not resolve to a User with the login of '{login}'.", extensions={"type": "NOT_FOUND"}
        )
    return BoundNode(root, "User", login)


def _node(root: _Root, id: str) -> Any:
    project = root.gql.project_by_id(id)
    if project is None:
        raise GraphQLError(
            f"Could not resolve to a node with the global id of '{id}'", extensions={"type": "NOT_FOUND"}
        )
    if root.grant.projects == "none":
        raise GraphQLError(NOT_ACCESSIBLE, extensions={"type": "FORBIDDEN"})
    return BoundNode(root, "ProjectV2", project, project)


def _writable(root: _Root, mutation: str, data: dict[str, Any]) -> tuple[FakeProject, FakeItem | None]:
    if root.grant.projects != "write":
        raise GraphQLError(NOT_ACCESSIBLE, extensions={"type": "FORBIDDEN"})
    project = root.gql.project_by_id(str(data.get("projectId")))
    if project is None:
        raise GraphQLError(
            f"Could not resolve to a node with the global id of '{data.get('projectId')}'",
            extensions={"type": "NOT_FOUND"},
        )
    root.gql.mutations.append((mutation, dict(data)))
    item_id = data.get("itemId")
    item = next((i for i in project.items if i.id == item_id), None) if item_id is not None else None
    if item_id is not None and item is None:
        raise GraphQLError(
            f"Could not resolve to a node with the global id of '{item_id}'", extensions={"type": "NOT_FOUND"}
        )
    return project, item


def _add_item(root: _Root, input: dict[str, Any]) -> Any:
    project, _ = _writable(root, "addProjectV2ItemById", input)
    issue_id = root.gql.issue_id_of(str(input.get("contentId")))
    if issue_id is None:
        raise GraphQLError(
            f"Could not resolve to a node with the global id of '{input.get('contentId')}'",
            extensions={"type": "NOT_FOUND"},
        )
    item = project.item_for(issue_id)  # GitHub returns the existing item for content already on the board
    if item is None:
        item = FakeItem(root.gql._new_id("PVTI"), issue_id)
        project.items.append(item)
    return {"clientMutationId": None, "item": BoundNode(root, "ProjectV2Item", item, project)}


def _field_of(project: FakeProject, field_id: Any) -> FakeField:
    found = next((f for f in project.fields if f.id == field_id), None)
    if found is None:
        raise GraphQLError(
            f"Could not resolve to a node with the global id of '{field_id}'", extensions={"type": "NOT_FOUND"}
        )
    return found


def _update_value(root: _Root, input: dict[str, Any]) -> Any:
    project, item = _writable(root, "updateProjectV2ItemFieldValue", input)
    assert item is not None
    f = _field_of(project, input.get("fieldId"))
    value = input.get("value") or {}
    given = {k: v for k, v in value.items() if v is not None}
    wanted_key = {"SINGLE_SELECT": "singleSelectOptionId", "NUMBER": "number", "DATE": "date", "TEXT": "text"}.get(
        f.data_type
    )
    if wanted_key is None:
        raise GraphQLError(f"The field {f.name} cannot be updated with this mutation")
    if list(given) != [wanted_key]:
        raise GraphQLError(f"A value of exactly one kind is required for the field {f.name}: {wanted_key}")
    chosen = given[wanted_key]
    if f.data_type == "SINGLE_SELECT" and f.option_name(str(chosen)) is None:
        raise GraphQLError(f"The single select option Id does not belong to the field {f.name}")
    if f.data_type == "DATE" and not _is_date(str(chosen)):
        raise GraphQLError(f"{chosen!r} is not a date (YYYY-MM-DD)")
    item.values[f.id] = float(chosen) if f.data_type == "NUMBER" else chosen
    return {"clientMutationId": None, "projectV2Item": BoundNode(root, "ProjectV2Item", item, project)}


def _clear_value(root: _Root, input: dict[str, Any]) -> Any:
    project, item = _writable(root, "clearProjectV2ItemFieldValue", input)
    assert item is not None
    f = _field_of(project, input.get("fieldId"))
    item.values.pop(f.id, None)
    return {"clientMutationId": None, "projectV2Item": BoundNode(root, "ProjectV2Item", item, project)}


def _is_date(text: str) -> bool:
    import datetime

    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


_ROOT_FIELDS: dict[str, Callable[..., Any]] = {
    "organization": _organization,
    "user": _user,
    "node": _node,
    "addProjectV2ItemById": _add_item,
    "updateProjectV2ItemFieldValue": _update_value,
    "clearProjectV2ItemFieldValue": _clear_value,
}
