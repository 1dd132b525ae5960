"""The human report (report.md and the step summary) and the plan printout for the log."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from batch_action.model import Problem, Skipped
from batch_action.sync.plan import Action, Plan

_ACTION_WORDS = {
    Action.LABELS: "ensure labels",
    Action.CREATE: "create",
    Action.UPDATE: "update",
    Action.CLOSE: "close",
    Action.LINK_PARENT: "link as sub-issue of",
    Action.LINK_BLOCKER: "mark blocked by",
    Action.RELINK: "re-link",
}


def plan_lines(plan: Plan, kinds: Mapping[str, str]) -> list[str]:
    """One line per operation, grouped by kind, for the log."""
    lines: list[str] = []
    by_kind: dict[str, list[str]] = {}
    for op in plan.operations:
        kind = kinds.get(op.key, "labels" if op.action is Action.LABELS else "removed")
        issue = f" #{op.number}" if op.number else ""
        target = f" {op.target}" if op.target else ""
        by_kind.setdefault(kind, []).append(f"  {_ACTION_WORDS[op.action]}{issue}{target}  {op.path or op.key}")
    for kind in ("labels", "prd", "epic", "task", "removed"):
        if kind in by_kind:
            lines.append(f"{kind}:")
            lines.extend(by_kind[kind])
    lines.append(
        "plan: "
        + ", ".join(f"{plan.count(action)} {action.value}" for action in Action if plan.count(action))
        + f", {len(plan.unchanged)} unchanged, {len(plan.out_of_scope)} out of scope"
        if plan.operations
        else f"plan: nothing to do ({len(plan.unchanged)} unchanged, {len(plan.out_of_scope)} out of scope)"
    )
    return lines


def render_report(
    *,
    title: str,
    headline: str,
    counts: Mapping[str, int],
    plan: Plan,
    kinds: Mapping[str, str],
    problems: Sequence[Problem],
    skipped: Sequence[Skipped],
    mermaid: str,
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
        per_kind = Counter(
            (kinds.get(op.key, "-"), op.action.value) for op in plan.operations if op.action is not Action.LABELS
        )
        out += ["### Plan", "", "| kind | operation | count |", "|---|---|---:|"]
        out += [f"| {kind} | {action} | {n} |" for (kind, action), n in sorted(per_kind.items())]
        out.append("")
    if failures:
        out += ["### Failures", "", "| file | operation | class | message |", "|---|---|---|---|"]
        out += [
            f"| `{f.get('path', '')}` | {f.get('operation', '')} | {f.get('class', '')} "
            f"| {_cell(str(f.get('message', '')))} |"
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
        out += [
            f"| `{p.path}` | {p.line or ''} | {p.severity} | {_cell(p.message)} | {_cell(p.fix)} |" for p in problems
        ]
        out.append("")
    if overflow:
        out += ["### More annotations", "", *[f"- {_cell(line)}" for line in overflow], ""]
    for section in sections:
        out += [section, ""]
    out += ["### Task graph", "", "```mermaid", mermaid.rstrip(), "```", ""]
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


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
