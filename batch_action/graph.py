"""The task graph: PRD -> epic -> task parent edges and `depends_on` edges, in networkx.

`depends_on` tokens are text (`001`, `1`, `87`, `task-003`, `other-epic/002`). They resolve against the task
file names of the same epic (zero-padding ignored), AutoPM ids, the issue numbers of `github:` URLs, and - where
CCPM renamed `001.md` to its issue number but left `depends_on: [001]` stale - the renamed files in the order
CCPM created them, when that is unambiguous. Dangling references and cycles become problems with file and line,
and the offending edges are dropped, so the rest still syncs. Pure logic.
"""

from __future__ import annotations

import re
from array import array
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from batch_action.model import Document, Kind, Problem, Severity
from batch_action.priority import work_order

PARENT = "parent"
DEPENDS = "depends"
_PADDED_RE = re.compile(r"^0\d+$")


@dataclass
class TaskGraph:
    graph: nx.DiGraph[str]
    documents: dict[str, Document]
    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)  # resolved-with-a-guess messages (stale references)
    # child -> parent. An edge's kind is told by this map rather than an attribute: networkx gives every edge
    # its own attribute dict, ~3 MB for the 19,000 edges of a 10,000-item tree.
    parents: dict[str, str] = field(default_factory=dict)
    # The waves, once asked for: the graph file and the work order both need them, and the graph is complete by
    # then (`build_graph` returns it so; nothing adds or drops an edge afterwards).
    _waves: list[list[str]] | None = field(default=None, init=False, repr=False, compare=False)

    def parent(self, key: str) -> str | None:
        return self.parents.get(key)

    def edge_kind(self, source: str, target: str) -> str:
        return PARENT if self.parents.get(target) == source else DEPENDS

    def blockers(self, key: str) -> list[str]:
        """Keys this item depends on (its `depends_on`, resolved), sorted."""
        return sorted(p for p in self.graph.predecessors(key) if self.parents.get(key) != p)

    def add_parent(self, parent: str, child: str) -> None:
        self.graph.add_edge(parent, child)
        self.parents[child] = parent

    def waves(self) -> list[list[str]]:
        """Items in scheduling order: each wave needs only items of earlier waves (parents and blockers)."""
        if self._waves is None:
            self._waves = [sorted(generation) for generation in nx.topological_generations(self.graph)]
        return self._waves

    def order(self) -> dict[str, int]:
        """Every item's position in the work order, most useful first (`priority.work_order`): the engine's ready
        queue, the budget cut and the forecast all follow it."""
        return work_order(self)

    def wave_order(self) -> dict[str, int]:
        """A deterministic position for every item: wave by wave, PRDs before epics before tasks, then by key."""
        rank = {Kind.PRD: 0, Kind.EPIC: 1, Kind.TASK: 2}
        ordered: list[str] = []
        for wave in self.waves():
            ordered.extend(sorted(wave, key=lambda k: (rank[self.documents[k].kind], k)))
        return {key: index for index, key in enumerate(ordered)}

    # -- exports --------------------------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """networkx's node-link layout, node fields taken from the documents, plus waves and problems.

        Nodes and edges are generators, turned into JSON as the file is written (see `canonical.py`).
        """
        return {
            "directed": True,
            "multigraph": False,
            "graph": {},
            "nodes": (self._node_json(self.documents[key]) for key in self.graph.nodes),
            "edges": ({"kind": self.edge_kind(u, v), "source": u, "target": v} for u, v in self.graph.edges),
            "waves": self.waves(),
            "problems": [_problem_json(p) for p in self.problems],
        }

    @staticmethod
    def _node_json(doc: Document) -> dict[str, Any]:
        return {
            "id": doc.key,
            "kind": doc.kind.value,
            "title": doc.title,
            "path": doc.path,
            "status": doc.status,
            "epic": doc.epic,
        }

    def picture(self) -> GraphPicture:
        """What the report draws, without the graph: the run keeps this through the apply phase."""
        keys = sorted(self.graph.nodes)
        ids = {key: index for index, key in enumerate(keys)}
        nodes = tuple((key, self.documents[key].kind.value, self.documents[key].title) for key in keys)
        edges = array("i")
        for source, target in sorted(self.graph.edges):
            edges.extend((ids[source], ids[target], self.edge_kind(source, target) == PARENT))
        return GraphPicture(nodes, edges)


@dataclass(frozen=True)
class GraphPicture:
    """What the report draws of a task graph (report/mermaid.py), waiting for its colours: (key, kind, title) per
    node, and the edges as (source, target, is-parent) node-index triples in one flat array. A tenth of the memory
    of the graph and documents it was drawn from."""

    nodes: tuple[tuple[str, str, str], ...]
    edges: array[int]

    @property
    def kinds(self) -> dict[str, str]:
        return {key: kind for key, kind, _ in self.nodes}


def _problem_json(problem: Problem) -> dict[str, Any]:
    return {
        "path": problem.path,
        "line": problem.line,
        "message": problem.message,
        "severity": problem.severity,
    }


def build_graph(documents: Iterable[Document]) -> TaskGraph:
    docs = {doc.key: doc for doc in documents}
    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_nodes_from(sorted(docs))  # their fields live in `documents`: one copy per item, not two
    result = TaskGraph(graph, docs)
    _add_parents(result)
    _add_dependencies(result)
    _break_cycles(result)
    return result


def _add_parents(result: TaskGraph) -> None:
    docs = result.documents
    prds: dict[str, str] = {}
    for doc in docs.values():
        if doc.kind is Kind.PRD:
            prds[doc.name] = doc.key
            if doc.ident:
                prds.setdefault(doc.ident, doc.key)
    for doc in docs.values():
        if doc.kind is Kind.EPIC:
            ref = doc.prd or doc.name
            prd_key = prds.get(ref) or prds.get(doc.name)
            if prd_key:
                result.add_parent(prd_key, doc.key)
            elif doc.prd:
                result.problems.append(
                    Problem(
                        doc.path,
                        f"`prd: {doc.prd}` names no PRD in prds/; the epic is synced without a parent",
                        doc.line_of("prd") or doc.line_of("prd_id"),
                        f"create prds/{doc.prd}.md or correct the `prd:` field",
                        Severity.WARNING,
                    )
                )
        elif doc.kind is Kind.TASK and doc.epic:
            epic = docs.get(f"epic:{doc.epic}")
            if epic is not None:
                result.add_parent(epic.key, doc.key)  # the epic's own key string, not one more per task


def _add_dependencies(result: TaskGraph) -> None:
    docs = result.documents
    by_epic: dict[str, list[Document]] = defaultdict(list)
    by_number: dict[int, list[str]] = defaultdict(list)
    for doc in docs.values():
        if doc.kind is Kind.TASK and doc.epic:
            by_epic[doc.epic].append(doc)
        if doc.github_number is not None:
            by_number[doc.github_number].append(doc.key)
    resolvers = {epic: _EpicResolver(tasks) for epic, tasks in by_epic.items()}
    for doc in sorted(docs.values(), key=lambda d: d.key):
        if not doc.depends_on:
            continue
        line = doc.line_of("depends_on") or doc.line_of("dependencies")
        for token in doc.depends_on:
            target, guessed, ambiguous = _resolve(token, doc, resolvers, by_number)
            if ambiguous:
                files = " and ".join(docs[key].path for key in ambiguous)
                result.problems.append(
                    Problem(
                        doc.path,
                        f"`depends_on` names `{token}`, which is ambiguous: it matches {files}; "
                        "the dependency is ignored",
                        line,
                        "name the task by its whole file name (e.g. 007 or 0007), or rename one of the files",
                        Severity.WARNING,
                    )
                )
                continue
            if target is None:
                result.problems.append(
                    Problem(
                        doc.path,
                        f"`depends_on` names `{token}`, which matches no task; the dependency is ignored",
                        line,
                        "use the task's file name (e.g. 003) or issue number, or remove the entry",
                        Severity.WARNING,
                    )
                )
                continue
            if target == doc.key:
                result.problems.append(
                    Problem(
                        doc.path,
                        f"`depends_on` names the task itself (`{token}`)",
                        line,
                        "remove it",
                        Severity.WARNING,
                    )
                )
                continue
            if guessed:
                result.notes.append(
                    Problem(
                        doc.path,
                        f"`depends_on: {token}` is stale (the file was renamed to its issue number); "
                        f"resolved to {docs[target].path}",
                        line,
                        f"write {docs[target].name} instead of {token}",
                        Severity.NOTICE,
                    )
                )
            result.graph.add_edge(target, doc.key)


def _resolve(
    token: str, doc: Document, resolvers: Mapping[str, _EpicResolver], by_number: Mapping[int, list[str]]
) -> tuple[str | None, bool, list[str]]:
    """(target, resolved by a guess, the keys it matches when more than one and so none)."""
    epic, _, local = token.rpartition("/")
    resolver = resolvers.get(epic or doc.epic or "")
    if resolver is not None:
        found = resolver.find(local)
        if len(found) == 1:
            return found[0], False, []
        if found:
            return None, False, sorted(found)
        stale = resolver.stale(local)
        if stale:
            return stale, True, []
    if local.isdigit() and not epic:
        matches = by_number.get(int(local), [])
        if len(matches) == 1:
            return matches[0], False, []
        if matches:
            return None, False, sorted(matches)
    return None, False, []


class _EpicResolver:
    """Name lookups within one epic's tasks."""

    def __init__(self, tasks: list[Document]) -> None:
        self.exact: dict[str, str] = {}
        self.numeric: dict[int, list[str]] = defaultdict(list)
        for task in tasks:
            stem = task.name
            self.exact[stem.lower()] = task.key
            if task.ident:
                self.exact.setdefault(task.ident.lower(), task.key)
            digits = stem.removeprefix("task-")
            if digits.isdigit():
                self.numeric[int(digits)].append(task.key)
            if task.github_number is not None and str(task.github_number) != digits:
                self.numeric[task.github_number].append(task.key)
        # CCPM creates issues for 001, 002, … in order and renames each file to its number. Files renamed that
        # way (stem == issue number) fill, in issue-number order, the padded positions no file holds any more.
        padded = {int(t.name) for t in tasks if _PADDED_RE.match(t.name)}
        renamed = sorted(
            (t for t in tasks if t.github_number is not None and t.name == str(t.github_number)),
            key=lambda t: t.github_number or 0,
        )
        total = len(padded) + len(renamed)
        missing = [n for n in range(1, total + 1) if n not in padded]
        self.renamed: dict[int, str] = {}
        if renamed and len(missing) == len(renamed):
            self.renamed = {n: t.key for n, t in zip(missing, renamed, strict=True)}

    def find(self, token: str) -> list[str]:
        """The tasks `token` names: one, none, or (zero-padding ignored) several."""
        lowered = token.lower()
        if lowered in self.exact:
            return [self.exact[lowered]]
        digits = lowered.removeprefix("task-")
        if digits.isdigit():
            return list(dict.fromkeys(self.numeric.get(int(digits), [])))
        return []

    def stale(self, token: str) -> str | None:
        if _PADDED_RE.match(token):
            return self.renamed.get(int(token))
        return None


def _break_cycles(result: TaskGraph) -> None:
    graph = result.graph
    for component in sorted(nx.strongly_connected_components(graph), key=min):
        if len(component) < 2:
            continue
        members = sorted(component)
        cycle_edges = [(a, b) for a, b in graph.subgraph(members).edges if result.edge_kind(a, b) == DEPENDS]
        try:
            cycle = [edge[0] for edge in nx.find_cycle(graph.subgraph(members))]
        except nx.NetworkXNoCycle:  # pragma: no cover - a strongly connected component always has one
            cycle = members
        path_text = " -> ".join(result.documents[k].path for k in [*cycle, cycle[0]])
        first = result.documents[members[0]]
        result.problems.append(
            Problem(
                first.path,
                f"dependency cycle: {path_text}; these blocked-by links are left out",
                first.line_of("depends_on") or first.line_of("dependencies"),
                "remove one of the `depends_on` entries in the cycle",
            )
        )
        graph.remove_edges_from(cycle_edges)
