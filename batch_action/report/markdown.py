"""The human report (report.md and the step summary) and the plan printout for the log."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from batch_action.model import Problem, Skipped
from batch_action.report.plan_view import PLAN_ITEMS_SHOWN, PlanView
from batch_action.sync.plan import Action, Plan


def plan_lines(view: PlanView, root: str, *, items: int = PLAN_ITEMS_SHOWN) -> list[str]:
    """The plan for the log: what happens to each issue, grouped PRD > epic > task, titles first (at most
    `items` of them; plan.json has every operation). Paths are shown under the planning folder `root`."""
    lines = [f"plan: {view.summary()}"]
    if view.labels:
        lines.append("labels made when missing: " + ", ".join(view.labels))
    if view.items:
        lines.append(f"what happens to each issue (files under {root}/):")
    prefix = root + "/"
    for item in view.items[:items]:
        where = f"  ({item.path.removeprefix(prefix)})" if item.path else ""
        # A bullet first: no title, whatever it holds, starts a line of the log.
        lines.append("  " * item.depth + f"- {item.title} — {', '.join(item.steps) or 'no change'}{where}")
    if view.item_count > items:
        lines.append(f"  … and {view.item_count - items} more items (every operation is in plan.json)")
    return lines


_ROWS = (
    ("labels", "make sure a label exists"),
    ("create", "create an issue"),
    ("closed-after-create", "then close it (done status; one more request, part of its create)"),
    ("link-parent", "link as sub-issue"),
    ("link-blocker", "link as blocked by"),
    ("update", "update"),
    ("relink", "re-link"),
    ("close", "close (file removed)"),
)


def _plan_table(plan: Plan, view: PlanView, kinds: Mapping[str, str]) -> list[str]:
    counts: Counter[tuple[str, str]] = Counter()
    for op in plan.operations:
        kind = "-" if op.action is Action.LABELS else kinds.get(op.key, "removed")
        counts[(op.action.value, kind)] += 1
    for kind, closed in view.closed_after_create.items():
        counts[("closed-after-create", kind)] += closed
    columns = ("prd", "epic", "task", "removed", "-")
    out = [
        "| operation | PRDs | epics | tasks | removed files | repository | total |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row, words in _ROWS:
        total = sum(counts[(row, column)] for column in columns)
        if total:
            cells = " | ".join(str(counts[(row, column)] or "") for column in columns)
            out.append(f"| {words} | {cells} | {total} |")
    out.append(f"| **operations** | | | | | | **{len(plan.operations)}** |")
    return out


def _plan_tree(view: PlanView, root: str, *, items: int = PLAN_ITEMS_SHOWN) -> list[str]:
    prefix = root + "/"
    out = [f"<details><summary>What happens to each issue ({view.item_count} items)</summary>", ""]
    for item in view.items[:items]:
        where = f" · {code(item.path.removeprefix(prefix))}" if item.path else ""
        steps = text(", ".join(item.steps)) or "no change"
        out.append("  " * item.depth + f"- **{text(item.title)}** · {steps}{where}")
    if view.item_count > items:
        out.append(f"- … and {view.item_count - items} more items (every operation is in `plan.json`)")
    return [*out, "", "</details>"]


def render_report(
    *,
    title: str,
    headline: str,
    counts: Mapping[str, int],
    plan: Plan,
    view: PlanView,
    kinds: Mapping[str, str],
    root: str,
    problems: Sequence[Problem],
    skipped: Sequence[Skipped],
    mermaid: str,
    mermaid_note: str = "",
    failures: Sequence[Mapping[str, Any]] = (),
    sections: Sequence[str] = (),
    overflow: Sequence[str] = (),
) -> str:
    out = [f"## {title}", "", headline, ""]
    out.append("| created | updated | closed | unchanged | failed | skipped |")
    out.append("|---:|---:|---:|---:|---:|---:|")
    out.append(
        "| "
        + " | ".join(str(counts.get(k, 0)) for k in ("created", "updated", "closed", "unchanged", "failed", "skipped"))
        + " |"
    )
    out.append("")
    if plan.operations:
        out += ["### Plan", "", view.summary()[0].upper() + view.summary()[1:] + ".", ""]
        out += [*_plan_table(plan, view, kinds), "", *_plan_tree(view, root), ""]
    if failures:
        out += ["### Failures", "", "| file | operation | class | message |", "|---|---|---|---|"]
        out += [
            f"| `{f.get('path', '')}` | {f.get('operation', '')} | {f.get('class', '')} "
            f"| {cell(str(f.get('message', '')))} |"
            for f in failures
        ]
        out.append("")
    if problems:
        out += [
            "### Problems in the planning files",
            "",
            "| file | line | severity | problem | fix |",
            "|---|---:|---|---|---|",
        ]
        out += [f"| `{p.path}` | {p.line or ''} | {p.severity} | {cell(p.message)} | {cell(p.fix)} |" for p in problems]
        out.append("")
    if overflow:
        out += ["### More annotations", "", *[f"- {cell(line)}" for line in overflow], ""]
    for section in sections:
        out += [section, ""]
    out += (
        ["### Task graph", ""]
        + ([mermaid_note, ""] if mermaid_note else [])
        + ["```mermaid", mermaid.rstrip(), "```", ""]
    )
    if skipped:
        reasons = Counter(s.reason for s in skipped)
        out += ["<details><summary>Skipped files (" + str(len(skipped)) + ")</summary>", ""]
        out += ["| file | reason |", "|---|---|"] + [f"| `{s.path}` | {s.reason} |" for s in skipped]
        out += [
            "",
            "By reason: " + "; ".join(f"{n} x {r}" for r, n in sorted(reasons.items())),
            "",
            "</details>",
            "",
        ]
    return "\n".join(out)


def cell(value: str) -> str:
    """Text for a table cell: a `|` would end the cell, a line break the row."""
    return value.replace("|", "\\|").replace("\n", " ")


_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def text(value: str) -> str:
    """Untrusted text as literal markdown: every character that could start a link, emphasis, HTML or code is
    escaped, so a title shows as written."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", value.replace("\n", " "))


def code(value: str) -> str:
    """A code span holding `value` as it is: fenced by more backticks than it contains in a row."""
    value = value.replace("\n", " ")
    fence = "`" * (max((len(run) for run in re.findall(r"`+", value)), default=0) + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"
