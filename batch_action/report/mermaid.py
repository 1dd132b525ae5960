"""The Mermaid flowchart of a task graph, for task-graph.mmd and the report: shapes by kind, colours by outcome."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from batch_action.graph import GraphPicture
from batch_action.model import Kind


def mermaid(picture: GraphPicture, outcomes: Mapping[str, str] | None = None) -> str:
    """The flowchart of the whole graph, node `n<i>` being the i-th, each coloured by its outcome (or kind)."""
    return "".join(mermaid_lines(picture, outcomes))


def mermaid_lines(picture: GraphPicture, outcomes: Mapping[str, str] | None = None) -> Iterator[str]:
    """`mermaid`, line by line (each with its newline): a file is written from it without the 10,000-item
    drawing held whole (~4 MB with its lines)."""
    colours = outcomes or {}
    return _lines(picture, {i: colours.get(key) for i, (key, _, _) in enumerate(picture.nodes)})


def overview(picture: GraphPicture, outcomes: Mapping[str, str] | None = None) -> str:
    """PRDs and epics only, each epic coloured by the most serious outcome among itself and its tasks: what a
    report can show of a tree too large to draw whole (Mermaid refuses text over 50,000 characters)."""
    colours = outcomes or {}
    worst: dict[str, str] = {}
    for key, kind, _ in picture.nodes:
        outcome = colours.get(key)
        if outcome is None:
            continue
        owner = f"epic:{key.split(':', 1)[1].split('/', 1)[0]}" if kind == Kind.TASK.value else key
        if _SEVERITY.get(_ALIASES.get(outcome, outcome), 0) > _SEVERITY.get(worst.get(owner, ""), 0):
            worst[owner] = _ALIASES.get(outcome, outcome)
    return "".join(
        _lines(
            picture,
            {
                i: worst.get(key) or colours.get(key)
                for i, (key, kind, _) in enumerate(picture.nodes)
                if kind != Kind.TASK.value
            },
        )
    )


def _lines(picture: GraphPicture, drawn: Mapping[int, str | None]) -> Iterator[str]:
    """The flowchart of the nodes in `drawn` (node index -> outcome colouring it) and the edges between them."""
    yield "flowchart TD\n"
    for index, outcome in drawn.items():
        _, kind, title = picture.nodes[index]
        yield _node_line(index, kind, title, outcome) + "\n"
    edges = picture.edges
    for at in range(0, len(edges), 3):
        source, target = edges[at], edges[at + 1]
        if source in drawn and target in drawn:
            yield f"  n{source} {'-->' if edges[at + 2] else '-.->|blocks|'} n{target}\n"
    for name, style in _STYLES.items():
        yield f"  classDef {name} {style}\n"


def _node_line(index: int, kind: str, title: str, outcome: str | None) -> str:
    label = _mermaid_label(title)  # the shape tells the kind; PRD and epic titles say it too
    shape = ("[[", "]]") if kind == Kind.PRD.value else ("([", "])") if kind == Kind.EPIC.value else ("[", "]")
    return f'  n{index}{shape[0]}"{label}"{shape[1]}:::{_css(outcome, kind)}'


_STYLES = {
    "prd": "fill:#ede7f6,stroke:#5e35b1",
    "epic": "fill:#e3f2fd,stroke:#1e88e5",
    "task": "fill:#f5f5f5,stroke:#757575",
    "created": "fill:#e8f5e9,stroke:#43a047",
    "updated": "fill:#fff8e1,stroke:#f9a825",
    "closed": "fill:#eceff1,stroke:#546e7a",
    "unchanged": "fill:#fafafa,stroke:#bdbdbd",
    "failed": "fill:#ffebee,stroke:#e53935",
    "pending": "fill:#fff3e0,stroke:#fb8c00",
}


# Which outcome colours an epic in the overview, when its tasks differ: the one that most needs a look.
_SEVERITY = {"failed": 6, "pending": 5, "created": 4, "updated": 3, "closed": 2, "unchanged": 1}

# Planned actions (a dry run) take the colour of the outcome they would have.
_ALIASES = {"create": "created", "update": "updated", "relink": "updated", "close": "closed"}


def _css(outcome: str | None, kind: str) -> str:
    name = _ALIASES.get(outcome or "", outcome or "")
    return name if name in _STYLES else kind


def _mermaid_label(text: str) -> str:
    return text.replace('"', "#quot;").replace("\n", " ")[:80]
