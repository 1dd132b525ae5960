#!/usr/bin/env python3
"""The floor for benchmark scenario 2: a bare PyGithub program that lists the synced issues and exits.

    python benchmarks/floor_listing.py --api-url URL --repository octo/repo --token T

What a re-run with nothing to write cannot do without: start Python, import PyGithub, and read every page of the
issues carrying the `issue-sync` label (`state=all`, 100 a page), one page after the other, as PyGithub's
PaginatedList does. Retries and throttling off. `run_benchmarks.py` times the whole process from outside.

Prints one JSON line: {"listed": n, "seconds": in-process seconds}.
"""

from __future__ import annotations

import argparse
import json
import time

from github import Auth, Github


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--api-url", required=True)
    ap.add_argument("--repository", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--label", default="issue-sync")
    args = ap.parse_args(argv)

    started = time.perf_counter()
    gh = Github(
        auth=Auth.Token(args.token),
        base_url=args.api_url,
        per_page=100,
        retry=None,
        seconds_between_requests=None,
        seconds_between_writes=None,
        lazy=True,
    )
    repo = gh.get_repo(args.repository)
    listed = sum(1 for _ in repo.get_issues(state="all", labels=[args.label]))
    print(json.dumps({"listed": listed, "seconds": round(time.perf_counter() - started, 3)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
