#!/usr/bin/env python3
"""The floor for benchmark scenario 6: what a dry run of a tree cannot do without.

    python benchmarks/floor_dry_run.py WORKSPACE/.claude

Start Python, import the libraries the action parses and plans with (PyGithub, networkx, PyYAML), and read
every file of the planning tree once. No parsing, no graph, no plan, no files written. Prints one JSON line:
{"files": n, "bytes": n, "seconds": in-process seconds}.
"""

from __future__ import annotations

import json
import os
import sys
import time

import github  # noqa: F401  (imported for its cost: the action imports it too)
import networkx  # noqa: F401
import yaml  # noqa: F401


def main(argv: list[str]) -> int:
    started = time.perf_counter()
    files = size = 0
    for folder, _, names in os.walk(argv[0]):
        for name in names:
            with open(os.path.join(folder, name), "rb") as handle:
                size += len(handle.read())
            files += 1
    print(json.dumps({"files": files, "bytes": size, "seconds": round(time.perf_counter() - started, 3)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
