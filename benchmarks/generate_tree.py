#!/usr/bin/env python3
"""Generate a synthetic CCPM `.claude` planning tree for benchmarks.

    python benchmarks/generate_tree.py OUT_DIR --items N [--seed S] [--prds P] [--all-open]
    python benchmarks/generate_tree.py OUT_DIR --touch K [--seed S]

writes `OUT_DIR/.claude/` with exactly N planning items (PRDs + epics + tasks) in the CCPM layout:
`prds/<name>.md`, `epics/<name>/epic.md` and `epics/<name>/NNN.md`. About one PRD per 50 items and
about 20 tasks per epic. Every task has `depends_on` pointing only at earlier tasks of the same epic (chains,
some fan-in, never a cycle, never a dangling reference) and bodies of 1-3 KB assembled from varied sentence
fragments. The output depends only on the arguments (no clock, no global random state).

`--all-open` gives every item an open status (done statuses are mapped to `open` / `in-progress` /
`backlog`, with the same random draws, so the tree differs only in those status lines). A first sync of such a
tree is exactly one create per item: GitHub's create API takes no state, so a done item costs one more PATCH.

`--touch K` changes the body (never the front matter) of K existing tasks, picked deterministically from
the seed, so that "one file changed" runs can be measured. Applied twice, it changes the same files again.

Importable:

    from benchmarks.generate_tree import generate_tree, touch_tasks
    counts = generate_tree(Path(tmp), 10_000, seed=1)   # {"prds": .., "epics": .., "tasks": .., ...}

Only the standard library is used.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
MARKER = ".benchmark-tree.json"
TASK_FILE = re.compile(r"^\d+\.md$")
PLACEHOLDER = "[Will be updated when synced to GitHub]"
BASE_TIME = datetime(2025, 1, 6, 9, 0, 0, tzinfo=UTC)

# ---------------------------------------------------------------------------------------------------------
# Vocabulary. Sentences are assembled from these lists, so bodies vary without being lorem ipsum.

# fmt: off
AREAS = [
    "invoice", "timesheet", "project", "client", "webhook", "session", "report", "export", "import",
    "notification", "search", "billing", "approval", "calendar", "audit", "workspace", "member", "tag",
    "budget", "expense", "payroll", "dashboard", "reminder", "integration", "attachment", "comment",
]
FEATURE_SUFFIXES = [
    "sync", "pipeline", "history", "settings", "limits", "overview", "rules", "archive", "review",
    "templates", "permissions", "analytics", "scheduler", "retention", "insights", "workflow",
]
TITLE_VERBS = [
    "Add", "Build", "Cache", "Validate", "Migrate", "Refactor", "Expose", "Document", "Paginate",
    "Throttle", "Backfill", "Index", "Deduplicate", "Instrument", "Harden", "Split", "Batch", "Retry",
]
TITLE_OBJECTS = [
    "the {a} API", "{a} storage", "the {a} importer", "{a} permissions", "the {a} settings page",
    "nightly {a} jobs", "{a} webhooks", "the {a} list view", "{a} audit events", "the {a} export",
    "{a} email templates", "the {a} queue consumer", "{a} search filters", "{a} rate limits",
]
TITLE_TAILS = [
    "", "", "", " for large workspaces", " behind a feature flag", " with cursor pagination",
    " per member", " across time zones", " for archived projects", " without downtime",
]
SUBJECTS = [
    "The {a} service", "Each {a} worker", "The background job", "The API handler", "The importer",
    "Our {a} module", "The nightly {a} task", "The request middleware", "The settings page",
    "The {a} repository layer", "Every {a} endpoint", "The queue consumer", "The admin screen",
    "The migration script", "The reporting view", "The client library",
]
VERBS = [
    "validates", "caches", "retries", "batches", "streams", "normalises", "records", "rejects",
    "deduplicates", "paginates", "aggregates", "schedules", "encrypts", "archives", "indexes",
    "reconciles", "exports", "signs", "throttles", "re-reads",
]
OBJECTS = [
    "every {a} payload", "the pending {a} rows", "stale {a} entries", "incoming {a} events",
    "the {a} totals", "duplicate {a} records", "the {a} cursor", "per-member {a} counters",
    "the {a} snapshot", "large {a} batches", "the {a} audit trail", "expired {a} tokens",
    "the {a} summary", "cross-workspace {a} references",
]
QUALIFIERS = [
    "before the nightly job runs", "without blocking the request thread", "inside a single transaction",
    "at most once per minute", "in batches of 500 rows", "using the existing connection pool",
    "with an idempotency key", "after the feature flag is enabled", "for workspaces on the Agency plan",
    "so that retries never create duplicates", "while keeping p95 latency under 200 ms",
    "even when the upstream API is slow", "behind the `accounts_v2` flag", "in the member's time zone",
    "so support can trace each change", "and logs a structured event", "without a full table scan",
    "with a checkpoint that survives restarts",
]
CONDITIONS = [
    "the upstream call times out", "a workspace is in read-only mode", "two owners act at the same time",
    "the queue backs up", "the payload is larger than 1 MB", "the member has left the workspace",
    "the feature flag is off", "the cache is cold", "the migration is half done",
]
OUTCOMES = [
    "we fall back to the previous value and retry later", "the request returns 409 with a clear message",
    "the job stops and resumes from its checkpoint", "nothing is written and an alert is raised",
    "the user sees a banner explaining the delay", "the handler skips the row and records why",
]
CRITERIA = [
    "{S} {v} {o} {q}", "Integration test covers the case where {c}", "No regression in the {a} benchmark",
    "Metrics exported for {o}", "Documentation updated for the {a} change",
    "Behaviour verified when {c}", "Rollback tested on a copy of production data",
    "Error messages name the {a} that failed and how to fix it",
]
ROLES = ["freelancer", "workspace owner", "project manager", "accountant", "approver"]
SIZES = [("XS", 2), ("S", 5), ("M", 9), ("L", 16), ("XL", 28)]
TASK_STATUSES = (
    ["open"] * 6 + ["in-progress"] * 2 + ["closed"] * 2 + ["completed", "in_progress", "pending"]
)
EPIC_STATUSES = ["backlog", "backlog", "in-progress", "in-progress", "completed"]
PRD_STATUSES = ["backlog", "backlog", "in-progress", "complete"]
# fmt: on
OPEN_INSTEAD = {"closed": "open", "completed": "in-progress", "complete": "backlog"}


class _Writer:
    """Sentence and paragraph factory around one seeded RNG.

    Sentences and acceptance criteria are drawn from pools built once per seed (a few thousand distinct
    ones each), which keeps 10,000-item trees fast to generate while bodies still vary.
    """

    def __init__(self, rng: random.Random, pool: int = 3000, *, all_open: bool = False) -> None:
        self.rng = rng
        self.all_open = all_open
        self._rnd = rng.random
        self.sentences = [self._sentence() for _ in range(pool)]
        self.criteria = [self._criterion() for _ in range(pool // 2)]

    def pick(self, seq: Sequence[T]) -> T:
        """Like `rng.choice`, but cheaper (one float, no rejection sampling)."""
        return seq[int(self._rnd() * len(seq))]

    def status(self, choices: Sequence[str]) -> str:
        """A status drawn from `choices`; with `all_open`, a done one is replaced by an open one."""
        value = self.pick(choices)
        return OPEN_INSTEAD.get(value, value) if self.all_open else value

    def area(self) -> str:
        return self.pick(AREAS)

    def _sentence(self) -> str:
        c = self.pick
        a = c(AREAS)
        r = self.rng.random()
        if r < 0.6:
            return f"{c(SUBJECTS).format(a=a)} {c(VERBS)} {c(OBJECTS).format(a=a)} {c(QUALIFIERS)}."
        if r < 0.85:
            return f"If {c(CONDITIONS)}, {c(OUTCOMES)}."
        return f"{c(SUBJECTS).format(a=a)} {c(VERBS)} {c(OBJECTS).format(a=a)}, and {c(OUTCOMES)}."

    def _criterion(self) -> str:
        c = self.pick
        a = c(AREAS)
        text = c(CRITERIA).format(
            S=c(SUBJECTS).format(a=a),
            v=c(VERBS),
            o=c(OBJECTS).format(a=a),
            q=c(QUALIFIERS),
            c=c(CONDITIONS),
            a=a,
        )
        return text[0].upper() + text[1:]

    def sentence(self) -> str:
        return self.pick(self.sentences)

    def criterion(self) -> str:
        return self.pick(self.criteria)

    def paragraph(self, lo: int = 2, hi: int = 4) -> str:
        return " ".join(self.rng.choices(self.sentences, k=lo + int(self.rng.random() * (hi - lo + 1))))

    def title(self) -> str:
        c = self.pick
        return f"{c(TITLE_VERBS)} {c(TITLE_OBJECTS).format(a=c(AREAS))}{c(TITLE_TAILS)}"

    def fill(self, parts: list[str], target: int, lo: int = 2, hi: int = 4) -> None:
        """Append paragraphs to `parts` until their joined length reaches `target` characters."""
        size = sum(len(p) + 2 for p in parts)
        while size < target:
            p = self.paragraph(lo, hi)
            parts.append(p)
            size += len(p) + 2


def _stamp(rng: random.Random, lo_days: int, hi_days: int) -> str:
    t = BASE_TIME + timedelta(days=rng.randint(lo_days, hi_days), seconds=rng.randint(0, 86_399))
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def plan_counts(items: int, prds: int | None = None) -> tuple[int, int, int]:
    """Split `items` into (prds, epics, tasks): ~1 PRD per 50 items, epics of ~20 tasks."""
    if items < 1:
        raise ValueError("items must be at least 1")
    n_prds = max(1, round(items / 50)) if prds is None else prds
    if not 1 <= n_prds <= items:
        raise ValueError(f"prds must be between 1 and items ({items}), got {n_prds}")
    rest = items - n_prds
    n_epics = 0 if rest == 0 else max(1, round(rest / 21))
    return n_prds, n_epics, rest - n_epics


def _epic_sizes(rng: random.Random, tasks: int, epics: int) -> list[int]:
    if epics == 0:
        return []
    sizes = [tasks // epics] * epics
    for i in range(tasks % epics):
        sizes[i] += 1
    # Vary the sizes by up to a quarter around the mean (15-25 for the usual 20), keeping the exact total.
    mean = tasks / epics
    lo, hi = max(1, int(mean * 0.75)), min(999, int(mean * 1.25) + 1)
    for _ in range(epics * 2):
        a, b = rng.randrange(epics), rng.randrange(epics)
        move = rng.randint(1, 3)
        if a != b and sizes[a] - move >= lo and sizes[b] + move <= hi:
            sizes[a] -= move
            sizes[b] += move
    return sizes


def _deps(rng: random.Random, i: int) -> list[int]:
    """Dependencies of task number i (1-based): only earlier tasks, so the graph is acyclic."""
    if i == 1:
        return []
    r = rng.random()
    if r < 0.55:
        return [i - 1]  # chain
    if r < 0.70 and i > 2:
        return sorted(rng.sample(range(1, i), min(i - 1, rng.randint(2, 3))))  # fan-in
    if r < 0.82:
        return [rng.randint(1, i - 1)]
    return []


def _ids(nums: list[int]) -> str:
    return "[" + ", ".join(f"{n:03d}" for n in nums) + "]"


def _prd_text(w: _Writer, name: str, area: str) -> str:
    rng = w.rng
    created = _stamp(rng, 0, 60)
    parts = [
        f"# PRD: {name}",
        "## Executive Summary",
        w.paragraph(3, 5),
        "## Problem Statement",
        w.paragraph(3, 5),
        "## User Stories",
        "\n".join(
            f"- As a {w.pick(ROLES)}, I want {w.pick(OBJECTS).format(a=area)} handled {w.pick(QUALIFIERS)}."
            for _ in range(rng.randint(3, 5))
        ),
        "## Requirements",
        "\n".join(f"- {w.criterion()}" for _ in range(rng.randint(4, 7))),
        "## Success Criteria",
        "\n".join(f"- {w.criterion()}" for _ in range(rng.randint(2, 4))),
        "## Out of Scope",
    ]
    w.fill(parts, rng.randint(1000, 2900))
    front = (
        f"---\nname: {name}\ndescription: {w.title()}\nstatus: {w.status(PRD_STATUSES)}\ncreated: {created}\n---\n\n"
    )
    return front + "\n\n".join(parts) + "\n"


def _epic_text(w: _Writer, name: str, prd: str, titles: list[str], deps: list[list[int]]) -> str:
    rng = w.rng
    created = _stamp(rng, 60, 200)
    parallel = sum(1 for d in deps if not d)
    listing = "\n".join(
        f"- [ ] {i:03d}.md - {t} (parallel: {'false' if d else 'true'})"
        for i, (t, d) in enumerate(zip(titles, deps, strict=True), 1)
    )
    parts = [
        f"# Epic: {name}",
        "## Overview",
        w.paragraph(3, 5),
        "## Architecture Decisions",
        "\n".join(f"- {w.sentence()}" for _ in range(rng.randint(2, 4))),
        "## Technical Approach",
        w.paragraph(2, 4),
    ]
    w.fill(parts, rng.randint(900, 2000) - len(listing))
    parts += [
        "## Tasks Created",
        listing or "Not decomposed yet.",
        f"Total tasks: {len(titles)}\nParallel tasks: {parallel}\nSequential tasks: {len(titles) - parallel}",
    ]
    front = (
        f"---\nname: {name}\nstatus: {w.status(EPIC_STATUSES)}\ncreated: {created}\nupdated: {created}\n"
        f"progress: 0%\nprd: .claude/prds/{prd}.md\ngithub: {PLACEHOLDER}\n---\n\n"
    )
    return front + "\n\n".join(parts) + "\n"


def _task_text(w: _Writer, title: str, deps: list[int], conflicts: list[int]) -> str:
    rng = w.rng
    created = _stamp(rng, 200, 400)
    size, hours = w.pick(SIZES)
    parallel = "true" if not deps or rng.random() < 0.3 else "false"
    target = rng.randint(1000, 2800)
    parts = [f"# Task: {title}", "## Description", w.paragraph(2, 4)]
    parts += ["## Acceptance Criteria", "\n".join(f"- [ ] {w.criterion()}" for _ in range(rng.randint(3, 6)))]
    parts += ["## Technical Details", "\n".join(f"- {w.sentence()}" for _ in range(rng.randint(2, 4)))]
    tail = [
        "## Dependencies",
        "\n".join(f"- Task {d:03d}" for d in deps) if deps else "None.",
        "## Effort Estimate",
        f"- Size: {size}\n- Hours: {hours + rng.randint(0, 3)}\n- Parallel: {parallel}",
    ]
    w.fill(parts, target - sum(len(t) + 2 for t in tail))
    front = (
        f"---\nname: {title}\nstatus: {w.status(TASK_STATUSES)}\ncreated: {created}\nupdated: {created}\n"
        f"github: {PLACEHOLDER}\ndepends_on: {_ids(deps)}\nparallel: {parallel}\n"
        f"conflicts_with: {_ids(conflicts)}\n---\n\n"
    )
    return front + "\n\n".join(parts + tail) + "\n"


def _prepare(out: Path) -> Path:
    root = out / ".claude"
    if root.exists():
        if (root / MARKER).is_file():
            shutil.rmtree(root)
        elif any(root.iterdir()):
            raise FileExistsError(f"{root} exists and was not written by this generator; not overwriting it")
    root.mkdir(parents=True, exist_ok=True)
    return root


def generate_tree(
    out: Path, items: int, seed: int = 0, prds: int | None = None, *, all_open: bool = False
) -> dict[str, int]:
    """Write `out/.claude` with exactly `items` planning items and return the counts.

    `all_open` maps every done status to an open one (see the module docstring).

    Returns `{"items", "prds", "epics", "tasks", "files", "bytes"}`. A tree previously written by this
    function is replaced; any other existing non-empty `.claude` folder is left alone (FileExistsError).
    """
    n_prds, n_epics, n_tasks = plan_counts(items, prds)
    rng = random.Random(f"generate_tree:{seed}")
    w = _Writer(rng, all_open=all_open)
    root = _prepare(Path(out))
    (root / "prds").mkdir()
    (root / "epics").mkdir()
    total_bytes = 0
    files = 0

    def write(path: Path, text: str) -> None:
        nonlocal total_bytes, files
        data = text.encode("utf-8")
        path.write_bytes(data)
        total_bytes += len(data)
        files += 1

    prd_names: list[str] = []
    prd_areas: list[str] = []
    for p in range(n_prds):
        area = w.area()
        name = f"{area}-{w.pick(FEATURE_SUFFIXES)}-{p + 1:04d}"
        prd_names.append(name)
        prd_areas.append(area)
        write(root / "prds" / f"{name}.md", _prd_text(w, name, area))

    per_prd: dict[int, int] = {}
    for e, size in enumerate(_epic_sizes(rng, n_tasks, n_epics)):
        p = e % n_prds
        per_prd[p] = per_prd.get(p, 0) + 1
        name = prd_names[p] if per_prd[p] == 1 else f"{prd_names[p]}-part-{per_prd[p]}"
        edir = root / "epics" / name
        edir.mkdir()
        titles = [w.title() for _ in range(size)]
        deps = [_deps(rng, i) for i in range(1, size + 1)]
        write(edir / "epic.md", _epic_text(w, name, prd_names[p], titles, deps))
        for i in range(1, size + 1):
            conflicts: list[int] = []
            if size > 1 and rng.random() < 0.1:
                other = rng.randint(1, size - 1)
                conflicts = [other if other < i else other + 1]
            write(edir / f"{i:03d}.md", _task_text(w, titles[i - 1], deps[i - 1], conflicts))

    counts = {
        "items": n_prds + n_epics + n_tasks,
        "prds": n_prds,
        "epics": n_epics,
        "tasks": n_tasks,
        "files": files,
        "bytes": total_bytes,
    }
    marker = {"seed": seed, "requested_prds": prds, "all_open": all_open, **counts}
    (root / MARKER).write_text(json.dumps(marker, indent=2) + "\n")
    return counts


def task_files(out: Path) -> list[Path]:
    """All task files (`epics/<epic>/NNN.md`) under `out/.claude`, sorted."""
    epics = Path(out) / ".claude" / "epics"
    return sorted(p for p in epics.glob("*/*.md") if TASK_FILE.match(p.name))


def touch_tasks(out: Path, count: int, seed: int = 0) -> list[Path]:
    """Append a revision note to the body of `count` tasks chosen from `seed`; return the paths changed.

    The front matter is never touched. The same seed picks the same files; each call adds one more note,
    so every call really changes the files' content.
    """
    tasks = task_files(out)
    if not 0 <= count <= len(tasks):
        raise ValueError(f"cannot touch {count} tasks: the tree has {len(tasks)}")
    rng = random.Random(f"touch_tasks:{seed}")
    chosen = sorted(rng.sample(tasks, count))
    w = _Writer(rng)
    for path in chosen:
        text = path.read_text(encoding="utf-8")
        n = text.count("\n_Revision ") + 1
        if not text.endswith("\n"):
            text += "\n"
        path.write_text(text + f"\n_Revision {n}: {w.sentence()}_\n", encoding="utf-8")
    return chosen


def _human(n: int) -> str:
    return f"{n / 1_000_000:.2f} MB" if n >= 1_000_000 else f"{n / 1000:.1f} KB"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir", type=Path, help="folder that receives the .claude tree")
    ap.add_argument("--items", type=int, help="exact number of planning items (PRDs + epics + tasks)")
    ap.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    ap.add_argument("--prds", type=int, help="number of PRDs (default: about one per 50 items)")
    ap.add_argument("--all-open", action="store_true", help="give every item an open status (no done items)")
    ap.add_argument("--touch", type=int, metavar="K", help="change the bodies of K existing tasks")
    args = ap.parse_args(argv)
    if args.items is None and args.touch is None:
        ap.error("give --items N, --touch K, or both")
    try:
        if args.items is not None:
            t0 = time.perf_counter()
            c = generate_tree(args.out_dir, args.items, seed=args.seed, prds=args.prds, all_open=args.all_open)
            dt = time.perf_counter() - t0
            print(
                f"generated {c['items']} items ({c['prds']} prds, {c['epics']} epics, {c['tasks']} tasks), "
                f"{_human(c['bytes'])} in {dt:.2f}s -> {args.out_dir / '.claude'} (seed {args.seed})"
            )
        if args.touch is not None:
            changed = touch_tasks(args.out_dir, args.touch, seed=args.seed)
            shown = ", ".join(str(p.relative_to(args.out_dir)) for p in changed[:3])
            more = f" (+{len(changed) - 3} more)" if len(changed) > 3 else ""
            print(f"touched {len(changed)} tasks (seed {args.seed}): {shown}{more}")
    except (ValueError, FileExistsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
