#!/usr/bin/env python3
"""The floor for benchmark scenario 1: a bare PyGithub program that makes the same creates, and nothing else.

    python benchmarks/floor_pygithub.py --api-url URL --repository octo/repo --token T \\
        --path WORKSPACE/.claude --concurrency 10

It reads the planning files simply (the generator's layout: `prds/*.md`, `epics/*/epic.md`, `epics/*/NNN.md`;
title from the `name:` line, body after the front matter, the same labels the action sends) and creates one
issue per item on a ThreadPoolExecutor of `--concurrency` workers, one `Github` per worker thread, with
PyGithub's retries and throttling off and per_page=100: the cheapest honest way to make those creates with
PyGithub. No listing, no labels request, no journal, no report. `run_benchmarks.py` times the whole process
from outside (interpreter start included), exactly as it times the action.

Prints one JSON line: {"created": n, "failed": n, "seconds": in-process seconds}. Exit 1 if any create failed.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from github import Auth, Github
from github.Repository import Repository

TASK_FILE = re.compile(r"^\d+\.md$")


def read_items(root: Path) -> list[tuple[str, str, list[str]]]:
    """(title, body, labels) per item, in the order the files sort. No YAML: `name:` and the text after `---`."""
    files = sorted(root.glob("prds/*.md"))
    for epic in sorted(p for p in (root / "epics").iterdir() if p.is_dir()):
        files.append(epic / "epic.md")
        files.extend(sorted(p for p in epic.iterdir() if TASK_FILE.match(p.name)))
    items = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        _, front, body = text.split("---\n", 2)
        name = next(line[5:].strip() for line in front.splitlines() if line.startswith("name:"))
        if path.parent.name == "prds":
            title, labels = f"PRD: {name}", ["prd", "issue-sync"]
        elif path.name == "epic.md":
            title, labels = f"Epic: {name}", ["epic", "issue-sync", f"epic:{path.parent.name}"[:50]]
        else:
            title, labels = name, ["task", "issue-sync", f"epic:{path.parent.name}"[:50]]
        items.append((title, body.strip("\n"), labels))
    return items


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--api-url", required=True)
    ap.add_argument("--repository", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--path", type=Path, required=True, help="the .claude folder")
    ap.add_argument("--concurrency", type=int, default=10)
    args = ap.parse_args(argv)

    started = time.perf_counter()
    items = read_items(args.path)
    local = threading.local()

    def repo() -> Repository:
        r: Repository | None = getattr(local, "repo", None)
        if r is None:
            gh = Github(
                auth=Auth.Token(args.token),
                base_url=args.api_url,
                per_page=100,
                retry=None,
                seconds_between_requests=None,
                seconds_between_writes=None,
                lazy=True,
            )
            r = local.repo = gh.get_repo(args.repository)
        return r

    def create(item: tuple[str, str, list[str]]) -> bool:
        title, body, labels = item
        try:
            repo().create_issue(title=title, body=body, labels=labels)
        except Exception as exc:  # a floor that failed is not a floor: say so and count it
            print(f"create failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            return False
        return True

    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        results = list(pool.map(create, items))
    created = sum(results)
    failed = len(results) - created
    seconds = round(time.perf_counter() - started, 3)
    print(json.dumps({"created": created, "failed": failed, "seconds": seconds}))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
