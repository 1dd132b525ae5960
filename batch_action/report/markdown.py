"""The human report (report.md and the step summary) and the plan printout for the log."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from batch_action.model import Problem, Skipped
from batch_action.sync.plan import Action, Operation, Plan

_ACTION_WORDS = {
    Action.LABELS: "ensure labels",
    Action.CREATE: "create",
    Action.UPDATE: "update",
    Action.CLOSE: "close",
    Action.LINK_PARENT: "link as sub-issue of",
    Action.LINK_BLOCKER: "mark blocked by",
    Action.RELINK: "re-link",
    Action.LIST_CHILDREN: "list sub-issues in the body",
}


PLAN_LINES_PER_KIND = 200  # the job log shows this many operations of each kind; plan.json has them all


def plan_lines(plan: Plan, kinds: Mapping[str, str], *, per_kind: int = PLAN_LINES_PER_KIND) -> list[str]:
    """One line per operation, grouped by kind, for the log: at most `per_kind` of each kind, then a count."""
    lines: list[str] = []
    by_kind: dict[str, list[Operation]] = {}
    for op in plan.operations:
        kind = kinds.get(op.key, "labels" if op.action is Action.LABELS else "removed")
        by_kind.setdefault(kind, []).append(op)
    for kind in ("labels", "prd", "epic", "task", "removed"):
        ops = by_kind.get(kind, [])
        if not ops:
            continue
        lines.append(f"{kind}:")
        for op in ops[:per_kind]:
            issue = f" #{op.number}" if op.number else ""
            target = f" {op.target}" if op.target else ""
            lines.append(f"  {_ACTION_WORDS[op.action]}{issue}{target}  {op.path or op.key}")
        if len(ops) > per_kind:
            lines.append(f"  … and {len(ops) - per_kind} more {kind} operations (all of them are in plan.json)")
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


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
