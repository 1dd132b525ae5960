"""The order work is done in: the most useful first, so a run cut short by its budget or deadline leaves the
least useful work for the next run. Pure logic.

One order serves three places, so they always agree: the engine's ready queue (among jobs ready at once, the
lowest position starts first), the budget cut (`forecast.split` keeps a prefix of it and defers the rest) and
the dry run's forecast (which names the first run's items in it). It comes from `TaskGraph.order()`.

The rules, in this order:
1. An item comes after everything it needs: its parent and its blockers (`depends_on`). Nothing below breaks
   this, so every link a cut-short run makes has both its issues.
2. PRDs, then epics, then tasks: one issue each gives the tree its shape.
3. Within each, by front-matter `priority`, most urgent first (`PRIORITY_WORDS`; no field means medium).
4. Then by how many tasks an item unblocks: its `depends_on` dependents, counted transitively.
5. Then as before: wave by wave, PRDs before epics before tasks, then by key.

An item that others wait for is worth as much as the most useful of them: a low-priority task that blocks a P0
task ranks as P0 (and a task blocking an epic as an epic), so the P0 task is not held up behind everything
ranked between the two; a PRD or an epic ranks among its kind by its most urgent task.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from batch_action.model import Kind

if TYPE_CHECKING:
    from batch_action.graph import TaskGraph

HIGHEST, MEDIUM, LOWEST = 0, 2, 4
DEFAULT_PRIORITY = MEDIUM  # a task without a `priority:` field, or with one no spelling below matches
# The spellings accepted for `priority:`, case-insensitive; also P0-P4 (`p1`, `P-1`, `P 1`) and the bare numbers
# 0-4 (a larger number counts as 4). README "Work order" lists them.
PRIORITY_WORDS: Mapping[str, int] = {
    "critical": 0,
    "blocker": 0,
    "urgent": 0,
    "highest": 0,
    "high": 1,
    "important": 1,
    "major": 1,
    "medium": 2,
    "normal": 2,
    "moderate": 2,
    "default": 2,
    "low": 3,
    "minor": 3,
    "lowest": 4,
    "trivial": 4,
}
_LEVEL_RE = re.compile(r"^(?:p[-\s]?)?(\d+)$")
_TIER = {Kind.PRD: 0, Kind.EPIC: 1, Kind.TASK: 2}


def parse_priority(text: str) -> int | None:
    """The rank of a `priority:` value, 0 (most urgent) to 4; None for a value no spelling matches.
    An empty value is the default (`DEFAULT_PRIORITY`), not unknown."""
    value = text.strip().lower()
    if not value:
        return DEFAULT_PRIORITY
    if value in PRIORITY_WORDS:
        return PRIORITY_WORDS[value]
    level = _LEVEL_RE.match(value)
    return min(int(level.group(1)), LOWEST) if level else None


def work_order(graph: TaskGraph) -> dict[str, int]:
    """Every item's position in the work order (0 first): see the module's rules."""
    base = graph.wave_order()
    keys = sorted(base, key=base.__getitem__)  # a topological order: parents and blockers first
    successors = {key: list(graph.graph.successors(key)) for key in keys}
    worth: dict[str, tuple[int, int]] = {}
    for key in reversed(keys):  # dependents before what they wait for
        doc = graph.documents[key]
        tier, priority = _TIER[doc.kind], doc.priority
        for after in successors[key]:
            tier, priority = min(tier, worth[after][0]), min(priority, worth[after][1])
        worth[key] = (tier, priority)
    unblocks = unblocked_counts(graph, keys)
    waiting = {key: graph.graph.in_degree(key) for key in keys}

    def rank(key: str) -> tuple[int, int, int, int]:
        tier, priority = worth[key]
        return (tier, priority, -unblocks[key], base[key])

    ready = [rank(key) for key in keys if waiting[key] == 0]
    heapq.heapify(ready)
    order: dict[str, int] = {}
    while ready:
        key = keys[heapq.heappop(ready)[3]]
        order[key] = len(order)
        for after in successors[key]:
            waiting[after] -= 1
            if waiting[after] == 0:
                heapq.heappush(ready, rank(after))
    return order


def unblocked_counts(graph: TaskGraph, keys: list[str] | None = None) -> dict[str, int]:
    """For each item, how many tasks wait for it through `depends_on`, directly or through others. `keys`: the
    items in a topological order (parents and blockers first), when the caller has one.

    Reach sets are bits of an int, numbered within each group of items joined by `depends_on` (usually one epic's
    tasks), so an int is as wide as its group, not as the whole tree."""
    if keys is None:
        waves = graph.wave_order()
        keys = sorted(waves, key=waves.__getitem__)
    parents = graph.parents
    dependents: dict[str, list[str]] = {key: [] for key in keys}
    for source, target in graph.graph.edges:
        if parents.get(target) != source:
            dependents[source].append(target)
    bit = _group_bits(keys, dependents)
    reach: dict[str, int] = {}
    for key in reversed(keys):
        found = 0
        for after in dependents[key]:
            found |= reach[after]
            if graph.documents[after].kind is Kind.TASK:
                found |= 1 << bit[after]
        reach[key] = found
    return {key: found.bit_count() for key, found in reach.items()}


def _group_bits(keys: list[str], dependents: Mapping[str, list[str]]) -> dict[str, int]:
    """A bit number per item, unique within its group of `depends_on`-connected items."""
    neighbours: dict[str, list[str]] = {key: list(after) for key, after in dependents.items()}
    for key, after in dependents.items():
        for other in after:
            neighbours[other].append(key)
    bit: dict[str, int] = {}
    for start in keys:
        if start in bit:
            continue
        bit[start], size, stack = 0, 1, [start]
        while stack:
            for other in neighbours[stack.pop()]:
                if other not in bit:
                    bit[other], size = size, size + 1
                    stack.append(other)
    return bit
