"""The task graph's own directed graph against networkx, the library it replaced, on random graphs.

networkx is a test dependency only: these tests pin that `DiGraph` gives what networkx gave for every use the run
makes of it (node and edge order, topological generations, strongly connected components) and that the cycle a
report names is a real, shortest cycle through the component's first member.
"""

from __future__ import annotations

import random

import networkx as nx
import pytest

from batch_action.graph import DiGraph

SEEDS = [range(start, start + 100) for start in range(0, 300, 100)]  # 3 tests of 100 graphs each


def random_pair(seed: int, *, acyclic: bool) -> tuple[DiGraph, nx.DiGraph[str]]:
    rng = random.Random(seed)
    names = [f"n{i:02d}" for i in range(rng.randint(1, 12))]
    ours, theirs = DiGraph(), nx.DiGraph()
    ours.add_nodes_from(names)
    theirs.add_nodes_from(names)
    for _ in range(rng.randint(0, 30)):
        a, b = rng.choice(names), rng.choice(names)
        if a == b or (acyclic and names.index(a) > names.index(b)):
            continue
        ours.add_edge(a, b)
        theirs.add_edge(a, b)
    return ours, theirs


@pytest.mark.parametrize("seeds", SEEDS)
def test_nodes_edges_and_predecessors_in_networkx_order(seeds: range) -> None:
    for seed in seeds:
        _same_structure(seed)


def _same_structure(seed: int) -> None:
    ours, theirs = random_pair(seed, acyclic=False)
    assert list(ours.nodes) == list(theirs.nodes) and len(ours) == len(theirs)
    assert list(ours.edges) == list(theirs.edges)
    for node in theirs.nodes:
        assert list(ours.predecessors(node)) == list(theirs.predecessors(node))
        assert list(ours.successors(node)) == list(theirs.successors(node))
    for a, b in list(theirs.edges)[::3]:
        ours.remove_edges_from([(a, b)])
        theirs.remove_edges_from([(a, b)])
        assert not ours.has_edge(a, b)
    assert list(ours.edges) == list(theirs.edges)


@pytest.mark.parametrize("seeds", SEEDS)
def test_topological_generations_as_networkx(seeds: range) -> None:
    for seed in seeds:
        ours, theirs = random_pair(seed, acyclic=True)
        assert [sorted(g) for g in ours.topological_generations()] == [
            sorted(g) for g in nx.topological_generations(theirs)
        ]


def test_topological_generations_refuse_a_cycle() -> None:
    graph = DiGraph()
    graph.add_edge("a", "b")
    graph.add_edge("b", "a")
    with pytest.raises(ValueError, match="cycle"):
        graph.topological_generations()


@pytest.mark.parametrize("seeds", SEEDS)
def test_strongly_connected_components_and_cycles_as_networkx(seeds: range) -> None:
    for seed in seeds:
        _same_components(seed)


def _same_components(seed: int) -> None:
    ours, theirs = random_pair(seed, acyclic=False)
    found = ours.strongly_connected_components()
    assert sorted(map(sorted, found)) == sorted(map(sorted, nx.strongly_connected_components(theirs)))
    for component in found:
        start = min(component)
        cycle = ours.shortest_cycle_through(start, component)
        if len(component) == 1:
            assert cycle == []
            continue
        assert cycle[0] == start and set(cycle) <= component
        assert all(ours.has_edge(a, b) for a, b in zip(cycle, [*cycle[1:], start], strict=True))
        through = [c for c in nx.simple_cycles(theirs.subgraph(component)) if start in c]
        assert len(cycle) == min(map(len, through))


def test_a_long_chain_needs_no_recursion() -> None:
    graph = DiGraph()
    for i in range(20_000):
        graph.add_edge(f"t{i}", f"t{i + 1}")
    graph.add_edge("t20000", "t0")
    [component] = graph.strongly_connected_components()
    assert len(component) == 20_001
    assert len(graph.shortest_cycle_through("t0", component)) == 20_001
