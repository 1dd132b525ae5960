"""Every GraphQL document the action sends. Values always travel as variables, never inside a document: a
document's text depends only on which fields are set or cleared, so `documents()` can list every shape the
action sends, and tests validate each against GitHub's published schema (tests/test_graphql_schema.py)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

__all__ = ["ADD_ITEM", "ITEMS_PAGE", "PROJECT_OF_ORGANIZATION", "PROJECT_OF_USER", "documents", "set_fields"]

PAGE = 100  # GitHub's most items a page
_FIELDS_PAGE = 50  # a project has at most 50 fields: one page holds them all, and all of an item's values

_ITEMS = f"""
fragment Items on ProjectV2ItemConnection {{
  pageInfo {{ hasNextPage endCursor }}
  nodes {{
    id
    content {{ ... on Issue {{ id number repository {{ nameWithOwner }} }} }}
    fieldValues(first: {_FIELDS_PAGE}) {{
      nodes {{
        ... on ProjectV2ItemFieldSingleSelectValue {{ optionId field {{ ... on ProjectV2FieldCommon {{ id }} }} }}
        ... on ProjectV2ItemFieldNumberValue {{ number field {{ ... on ProjectV2FieldCommon {{ id }} }} }}
        ... on ProjectV2ItemFieldDateValue {{ date field {{ ... on ProjectV2FieldCommon {{ id }} }} }}
        ... on ProjectV2ItemFieldTextValue {{ text field {{ ... on ProjectV2FieldCommon {{ id }} }} }}
      }}
    }}
  }}
}}
"""

_BOARD = f"""
fragment Board on ProjectV2 {{
  id
  title
  url
  closed
  viewerCanUpdate
  fields(first: {_FIELDS_PAGE}) {{
    nodes {{
      ... on ProjectV2FieldCommon {{ id name dataType }}
      ... on ProjectV2SingleSelectField {{ options {{ id name }} }}
    }}
  }}
  items(first: {PAGE}) {{ ...Items }}
}}
"""

# The project, its fields and the first page of its items, in one request.
PROJECT_OF_ORGANIZATION = (
    """
query ProjectOfOrganization($owner: String!, $number: Int!) {
  organization(login: $owner) { projectV2(number: $number) { ...Board } }
}
"""
    + _BOARD
    + _ITEMS
)

PROJECT_OF_USER = (
    """
query ProjectOfUser($owner: String!, $number: Int!) {
  user(login: $owner) { projectV2(number: $number) { ...Board } }
}
"""
    + _BOARD
    + _ITEMS
)

ITEMS_PAGE = (
    f"""
query ProjectItems($project: ID!, $after: String) {{
  node(id: $project) {{ ... on ProjectV2 {{ items(first: {PAGE}, after: $after) {{ ...Items }} }} }}
}}
"""
    + _ITEMS
)

ADD_ITEM = """
mutation AddItem($project: ID!, $content: ID!) {
  addProjectV2ItemById(input: {projectId: $project, contentId: $content}) { item { id } }
}
"""


def set_fields(clears: Sequence[bool]) -> str:
    """One document setting (False) or clearing (True) fields of one item: `f0`, `f1`, … in order, each an
    aliased mutation (GitHub runs them one after another); variables `$project`, `$item`, `$fN` (the field's id)
    and, for a set, `$vN` (a ProjectV2FieldValue)."""
    params = ["$project: ID!", "$item: ID!"]
    parts: list[str] = []
    for n, clear in enumerate(clears):
        params.append(f"$f{n}: ID!")
        target = f"projectId: $project, itemId: $item, fieldId: $f{n}"
        if clear:
            parts.append(f"  f{n}: clearProjectV2ItemFieldValue(input: {{{target}}}) {{ projectV2Item {{ id }} }}")
        else:
            params.append(f"$v{n}: ProjectV2FieldValue!")
            parts.append(
                f"  f{n}: updateProjectV2ItemFieldValue(input: {{{target}, value: $v{n}}}) {{ projectV2Item {{ id }} }}"
            )
    return f"mutation SetFields({', '.join(params)}) {{\n" + "\n".join(parts) + "\n}\n"


def documents() -> Iterator[tuple[str, str]]:
    """(name, document) for each document the action sends; `set_fields` in the shapes it takes (sets and
    clears, alone and mixed)."""
    yield "project of an organization", PROJECT_OF_ORGANIZATION
    yield "project of a user", PROJECT_OF_USER
    yield "items page", ITEMS_PAGE
    yield "add item", ADD_ITEM
    for clears in ((False,), (True,), (False, True, False), (True, True), (False,) * 5):
        yield f"set fields {clears}", set_fields(clears)
