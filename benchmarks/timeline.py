"""The request timeline of one scenario-1 run (a first sync of N items, plain creates, 50 ms latency): every request
the fake GitHub saw that is not an issue create, and the first and last creates, each as seconds from the fork of
the action's process. A profile of the run's start and end, not a benchmark: one run, nothing asserted.

    .venv/bin/python benchmarks/timeline.py                  # 1,000 items
    .venv/bin/python benchmarks/timeline.py --entry OTHER.py # the same for another program (A/B)
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate_tree
import run_benchmarks as bench


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=1000)
    ap.add_argument("--latency", type=float, default=0.050, help="the fake's per-request delay, seconds")
    ap.add_argument("--entry", type=Path, default=bench.ENTRY, help="program to run instead of entrypoint.py")
    args = ap.parse_args()
    shm = "/dev/shm" if Path("/dev/shm").is_dir() else None  # as run_benchmarks: no disk in the timings
    work = Path(tempfile.mkdtemp(prefix="batch-action-timeline-", dir=shm))
    try:
        generate_tree.generate_tree(work / "ws", args.items, seed=1, all_open=True)
        fake = bench.new_fake(args.latency)
        try:
            inputs = {"sub_issues": "false", "dependencies": "false", "writes_per_minute": "0", "scope": "all"}
            child = bench.run_action(work, "timeline", work / "ws", fake, args.entry.resolve(), **inputs)
            records = sorted(fake.requests, key=lambda r: r.start)
        finally:
            fake.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    creates = [r for r in records if r.method == "POST" and r.path.endswith("/issues")]
    hidden = {id(r) for r in creates[1:-1]}  # the creates between the first and the last
    print(f"exit {child.rc}, {child.wall:.3f} s, {len(records)} requests ({len(creates)} creates)")
    print("  start    end  request (seconds from the fork)")
    for r in records:
        if id(r) in hidden:
            continue
        query = " ".join(f"{k}={v}" for k, v in sorted(r.query.items()) if k != "per_page")
        print(f"{r.start - child.started:6.3f} {r.end - child.started:6.3f}  {r.method} {r.path} {query}".rstrip())
    print(f"{child.ended - child.started:6.3f}         exit")
    lease = next((r for r in records if r.method == "POST" and r.path.endswith("/labels")), None)
    if lease is not None and creates:
        print(f"lease taken -> first create: {creates[0].start - lease.end:.3f} s")
    return 0 if child.rc == 0 else 2


if __name__ == "__main__":
    raise SystemExit(main())
