#!/usr/bin/env python3
"""Benchmarks of the whole action against the loopback fake GitHub: one table row per scenario.

    python benchmarks/run_benchmarks.py                       # every scenario, 3 repeats, medians
    python benchmarks/run_benchmarks.py --scenarios 1,2 --repeat 5
    python benchmarks/run_benchmarks.py --quick               # smaller N, 1 repeat: a smoke run (~35 s)

Each run is the real program: `python entrypoint.py` with `INPUT_*` variables, as the runner starts it, timed
from outside (interpreter start included); peak RSS and CPU come from `os.wait4` on the child. The fake
GitHub runs in this process on 127.0.0.1, with the scenario's per-request latency, and records every request,
so requests are counted by the server, not by the client. Generated trees, output folders and logs live on
tmpfs (`/dev/shm`) when there is one. Prints a markdown table and writes `benchmarks/results.json` (every
repeat, the medians, the checks, the machine). Exit status: 2 when a run of the action or the floor failed, 1
with --strict when a target was missed, else 0 (so `--quick` can run in CI as a smoke test).

Scenarios (see benchmarks/README.md for the targets and what each column means):
  1   first sync, N=1,000, 50 ms, concurrency 10, plain creates (no links, no pacing, every item open),
      and "1-floor": benchmarks/floor_pygithub.py making the same creates with bare PyGithub
  1b  as 1 with sub-issue and dependency links on: per new item, one create plus one request per link
  2   re-run of an already synced 1,000-item tree, nothing changed
  3   one task file changed in that tree
  2L  re-run of an already synced 10,000-item tree (no links), nothing changed: memory
  4   first sync, N=10,000, latency 0, links on: memory and CPU
  5   first sync, N=300, with GitHub's documented secondary limits enforced by the fake, time-scaled
  6   dry run (parse + graph + plan), N=10,000
  7   one PRD, one epic, 500 tasks (over GitHub's 100 sub-issues a parent): first sync and re-run, latency 0
  C   the container (podman, --image): from `podman run` to the first request, against `python -c pass`
Scenarios 2, 6 and C run interleaved with their floors (2-floor, 6-floor, C-floor: benchmarks/floor_*.py).
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import importlib.metadata
import importlib.util
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, get_args

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from batch_action.report.requests import WRITE_METHODS, endpoint  # noqa: E402
from batch_action.sync.render import STYLED_LABELS  # noqa: E402
from tests.fake_github import FakeGitHub, SecondaryLimits, UnknownLabels  # noqa: E402

TOKEN = "bench-token-0123456789abcdef"
REPOSITORY = "octo/repo"
# A first sync's requests that belong to no item: the two listings (labels, synced issues) and the four styled
# labels (`prd`, `epic`, `task`, `issue-sync`), each made once.
NOT_TIED_TO_AN_ITEM = 2 + len(STYLED_LABELS)
MARKER_KEY = re.compile(r"<!--\s*issue-sync:v1\s+key=(\S+)")
ISSUE_PATH = re.compile(r"^/repos/[^/]+/[^/]+/issues/(\d+)(/.*)?$")
CHILD_TIMEOUT = 900.0  # seconds; a child still running then is killed and the run reported as failed


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_tree", REPO / "benchmarks" / "generate_tree.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["generate_tree"] = module
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


# --------------------------------------------------------------------------------------------------------
# Sizes


@dataclass(frozen=True)
class Sizes:
    s1: int = 1000  # scenarios 1, 1b, 2, 3
    s4: int = 10_000
    s5: int = 300
    s6: int = 10_000
    latency: float = 0.050
    concurrency: int = 10
    s5_time_scale: float = 20.0  # a GitHub "minute" lasts 3 real seconds


FULL = Sizes()
QUICK = Sizes(s1=200, s4=500, s5=120, s6=2000, s5_time_scale=40.0)


# --------------------------------------------------------------------------------------------------------
# Running a child process


@dataclass
class Child:
    argv: list[str]
    rc: int
    wall: float  # seconds, from just before the fork to the reaped exit
    max_rss_kib: int
    cpu_user: float
    cpu_sys: float
    log: Path
    started: float = 0.0  # time.monotonic() just before the fork: the fake's request records use that clock
    ended: float = 0.0
    timed_out: bool = False

    @property
    def cpu(self) -> float:
        return self.cpu_user + self.cpu_sys


# Peak RSS needs care: Linux carries a process's `maxrss` across exec, so a child forked from this process
# (which holds the fake's state and request records, 150+ MB after scenario 4) would report at least this
# process's size. So children are forked by a small helper started first, while this process is still small.
_SPAWNER = r"""
import json, os, signal, subprocess, sys, threading, time
for line in sys.stdin:
    job = json.loads(line)
    timed_out = threading.Event()
    with open(job["log"], "wb") as out:
        started = time.monotonic()
        proc = subprocess.Popen(job["argv"], env=job["env"], cwd=job["cwd"], stdout=out, stderr=subprocess.STDOUT)
        def kill():
            timed_out.set()
            try:
                os.kill(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        timer = threading.Timer(job["timeout"], kill)
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        timer.cancel()
        ended = time.monotonic()
    proc.returncode = os.waitstatus_to_exitcode(status)
    print(json.dumps({"rc": proc.returncode, "started": started, "ended": ended, "maxrss": usage.ru_maxrss,
                      "utime": usage.ru_utime, "stime": usage.ru_stime, "timed_out": timed_out.is_set()}),
          flush=True)
"""


class Spawner:
    """Runs children from a fresh, small interpreter; see `_SPAWNER`. Start it before anything big."""

    def __init__(self) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-I", "-c", _SPAWNER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self._lock = threading.Lock()

    def run(self, argv: list[str], env: dict[str, str], log: Path, timeout: float) -> dict[str, Any]:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        job = {"argv": argv, "env": env, "cwd": str(REPO), "log": str(log), "timeout": timeout}
        with self._lock:
            self._proc.stdin.write(json.dumps(job) + "\n")
            self._proc.stdin.flush()
            reply = self._proc.stdout.readline()
        if not reply:
            raise RuntimeError("the spawner helper died")
        result: dict[str, Any] = json.loads(reply)
        return result

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        self._proc.wait(timeout=10)


_spawner: Spawner | None = None


def run_child(argv: list[str], env: dict[str, str], log: Path, timeout: float = CHILD_TIMEOUT) -> Child:
    """Run argv to completion; wall time from outside, peak RSS and CPU from the kernel (wait4)."""
    global _spawner
    log.parent.mkdir(parents=True, exist_ok=True)
    if _spawner is None:
        _spawner = Spawner()
    r = _spawner.run(argv, env, log, timeout)
    return Child(
        argv=argv,
        rc=r["rc"],
        wall=r["ended"] - r["started"],
        max_rss_kib=r["maxrss"],  # KiB on Linux
        cpu_user=r["utime"],
        cpu_sys=r["stime"],
        log=log,
        started=r["started"],  # time.monotonic() is system-wide: comparable with the fake's records
        ended=r["ended"],
        timed_out=r["timed_out"],
    )


def base_env() -> dict[str, str]:
    """This environment without anything that would make the child think it runs in Actions."""
    drop = ("GITHUB_", "ACTIONS_", "RUNNER_", "INPUT_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env["PYTHONUNBUFFERED"] = "1"  # the image runs `python -u`
    return env


def action_env(workspace: Path, out_dir: Path, fake: FakeGitHub | None, **inputs: str) -> dict[str, str]:
    env = base_env()
    values = {
        "path": ".claude",
        "scope": "all",
        "dry-run": "false",
        "max-concurrency": "10",
        "writes-per-minute": "0",
        "sub-issues": "true",
        "dependencies": "true",
        "upload-artifacts": "false",
        "output-dir": str(out_dir),
    }
    if fake is not None:
        values |= {"github-token": TOKEN, "repository": REPOSITORY, "api-url": fake.base_url}
    values |= {k.replace("_", "-"): v for k, v in inputs.items()}
    for name, value in values.items():
        env[f"INPUT_{name.upper()}"] = value
    env["GITHUB_WORKSPACE"] = str(workspace)
    return env


ENTRY = REPO / "entrypoint.py"


def run_action(
    work: Path, name: str, workspace: Path, fake: FakeGitHub | None, entry: Path = ENTRY, **inputs: str
) -> Child:
    """The action as the runner starts it; `entry` may name a patched program instead (A/B experiments)."""
    out_dir = work / "out" / name
    shutil.rmtree(out_dir, ignore_errors=True)
    env = action_env(workspace, out_dir, fake, **inputs)
    return run_child([sys.executable, str(entry)], env, work / "logs" / f"{name}.log")


def edges(child: Child, seen: Traffic | None) -> dict[str, float]:
    """Seconds from the fork to the first request, and from the last response to the reaped exit."""
    if seen is None or not seen.requests:
        return {}
    return {
        "before_first_request_s": round(seen.first_start - child.started, 3),
        "after_last_response_s": round(child.ended - seen.last_end, 3),
    }


def _last_json_line(log: Path) -> dict[str, Any]:
    """The one JSON line a floor program prints last (its own count of what it did)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        data: dict[str, Any] = json.loads(log.read_text(encoding="utf-8").strip().splitlines()[-1])
        return data
    return {}


def read_report(work: Path, name: str) -> dict[str, Any]:
    path = work / "out" / name / "report.json"
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data


# What the fake does with a label a write names and the repository lacks (`--unknown-labels`): github.com makes
# it ("create"); the other two show what the action's fallback costs on a repository that does not.
UNKNOWN_LABELS: UnknownLabels = "create"


def new_fake(latency: float, limits: SecondaryLimits | None = None) -> FakeGitHub:
    # A primary budget no benchmark reaches: scenario 4 alone sends ~30,000 requests.
    return FakeGitHub(
        token=TOKEN,
        repos=(REPOSITORY,),
        primary_limit=10**9,
        latency=latency,
        secondary_limits=limits,
        unknown_labels=UNKNOWN_LABELS,
    ).start()


# --------------------------------------------------------------------------------------------------------
# What the server saw


@dataclass
class Traffic:
    requests: int = 0
    reads: int = 0
    writes: int = 0
    ideal: float = 0.0  # sum of server-side request durations / concurrency
    secondary_limited: int = 0
    peak_in_flight: int = 0
    first_start: float = 0.0  # monotonic time the first request reached the server
    last_end: float = 0.0
    by_call: dict[str, int] = field(default_factory=dict)


def _call_name(method: str, path: str) -> str:
    return f"{method} {endpoint(path)}"


def traffic(fake: FakeGitHub, concurrency: int, stats_before: dict[str, int]) -> Traffic:
    records = fake.requests
    stats = fake.stats
    calls = Counter(_call_name(r.method, r.path) for r in records)
    writes = sum(1 for r in records if r.method in WRITE_METHODS)
    busy = sum(r.end - r.start for r in records)
    return Traffic(
        requests=len(records),
        reads=len(records) - writes,
        writes=writes,
        ideal=busy / concurrency,
        secondary_limited=stats.get("secondary_limited", 0) - stats_before.get("secondary_limited", 0),
        peak_in_flight=fake.peak_in_flight,
        first_start=min((r.start for r in records), default=0.0),
        last_end=max((r.end for r in records), default=0.0),
        by_call=dict(sorted(calls.items())),
    )


def requests_per_item(fake: FakeGitHub) -> tuple[dict[str, int], int]:
    """Requests attributed to each item (create, its links, its PATCHes, reads of it) and the rest."""
    key_of_number: dict[int, str] = {}
    key_of_id: dict[int, str] = {}
    for issue in fake.issues(REPOSITORY):
        match = MARKER_KEY.search(issue.get("body") or "")
        if match:
            key_of_number[issue["number"]] = match.group(1)
            key_of_id[issue["id"]] = match.group(1)
    per_item: Counter[str] = Counter()
    overhead = 0
    for r in fake.requests:
        key: str | None = None
        body = r.body if isinstance(r.body, dict) else {}
        m = ISSUE_PATH.match(r.path)
        if r.method == "POST" and r.path.endswith("/issues"):
            found = MARKER_KEY.search(str(body.get("body") or ""))
            key = found.group(1) if found else None
        elif m and r.method == "POST" and m.group(2) == "/sub_issues":
            key = key_of_id.get(body.get("sub_issue_id", -1))  # a parent link belongs to the child
        elif m:
            key = key_of_number.get(int(m.group(1)))
        if key is None:
            overhead += 1
        else:
            per_item[key] += 1
    return dict(per_item), overhead


def expected_requests(workspace: Path, links: bool) -> dict[str, int]:
    """Per item of a generated tree: 1 create, plus (links on) 1 parent link and 1 per depends_on entry."""
    root = workspace / ".claude"
    out: dict[str, int] = {}
    for prd in root.glob("prds/*.md"):
        out[f"prd:{prd.stem}"] = 1
    for epic in root.glob("epics/*/epic.md"):
        out[f"epic:{epic.parent.name}"] = 1 + (1 if links else 0)
    for task in gen.task_files(workspace):
        deps = 0
        for line in task.read_text(encoding="utf-8").split("\n---\n", 1)[0].splitlines():
            if line.startswith("depends_on:"):
                deps = len([t for t in line[11:].strip(" []").split(",") if t.strip()])
        out[f"task:{task.parent.name}/{task.stem}"] = 1 + ((1 + deps) if links else 0)
    return out


# --------------------------------------------------------------------------------------------------------
# Results


@dataclass
class Run:
    """One repeat of one scenario."""

    wall: float
    rc: int
    rss_mb: float
    cpu: float
    traffic: Traffic | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Row:
    id: str
    title: str
    n: int
    latency_ms: float | None
    concurrency: int | None
    runs: list[Run] = field(default_factory=list)
    checks: list[tuple[str, bool]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def median(self, get: Callable[[Run], float | None]) -> float | None:
        values = [v for v in (get(r) for r in self.runs) if v is not None]
        return statistics.median(values) if values else None

    @property
    def wall(self) -> float:
        value = self.median(lambda r: r.wall)
        assert value is not None
        return value


def fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def table(rows: list[Row]) -> str:
    head = (
        "| # | scenario | N | latency | conc. | wall s | requests (reads/writes) | items/s | peak RSS MB "
        "| CPU s | ideal s | wall/ideal | targets |"
    )
    lines = [head, "|" + "---|" * 13]
    for row in rows:
        req = row.median(lambda r: r.traffic.requests if r.traffic else None)
        reads = row.median(lambda r: r.traffic.reads if r.traffic else None)
        writes = row.median(lambda r: r.traffic.writes if r.traffic else None)
        ideal = row.median(lambda r: r.traffic.ideal if r.traffic else None)
        requests = "-" if req is None else f"{req:.0f} ({reads:.0f}/{writes:.0f})"
        ratio = None if not ideal else row.wall / ideal
        checks = "; ".join(f"{'PASS' if ok else 'FAIL'} {text}" for text, ok in row.checks) or "-"
        lines.append(
            f"| {row.id} | {row.title} | {row.n:,} | "
            f"{'-' if row.latency_ms is None else f'{row.latency_ms:g} ms'} | {row.concurrency or '-'} | "
            f"{fmt(row.wall)} | {requests} | {fmt(row.n / row.wall, 0)} | "
            f"{fmt(row.median(lambda r: r.rss_mb), 1)} | {fmt(row.median(lambda r: r.cpu))} | "
            f"{fmt(ideal)} | {fmt(ratio)} | {checks} |"
        )
    return "\n".join(lines)


# Issue 17's rows: each scenario against the floor it is measured with, and the target.
FLOOR_TARGETS: tuple[tuple[str, str, str, float], ...] = (
    # (row, floor row, what is compared, target)
    ("2", "2-floor", "wall ratio", 1.0),
    ("1", "1-floor", "wall ratio", 1.0),
    ("6", "6-floor", "wall ratio", 2.0),
    ("4", "", "peak RSS MB", 80.0),
    ("C", "C-floor", "seconds after the floor", 0.3),
)


def floor_table(rows: list[Row]) -> str:
    """One line per issue-17 row measured in this run: its figure, its floor's, the ratio (or the difference)
    and PASS/FAIL against the target."""
    by_id = {row.id: row for row in rows}
    lines = ["| # | scenario | measured | floor | ratio | target | result |", "|---|---|---|---|---|---|---|"]
    for rid, fid, what, target in FLOOR_TARGETS:
        row, floor = by_id.get(rid), by_id.get(fid)
        if row is None or (fid and floor is None):
            continue
        if what == "peak RSS MB":
            value = max(r.rss_mb for r in row.runs)
            cells = [f"{value:.1f} MB (max of {len(row.runs)})", "-", "-", f"<= {target:g} MB", value <= target]
        elif what == "seconds after the floor":
            assert floor is not None
            first = row.median(lambda r: r.extra.get("before_first_request_s"))
            extra = None if first is None else first - floor.wall
            cells = [
                f"{fmt(first)} s to the first request",
                f"{floor.wall:.2f} s",
                f"+{fmt(extra)} s",
                f"<= +{target:g} s",
                extra is not None and extra <= target,
            ]
        else:
            assert floor is not None
            ratio = row.wall / floor.wall
            cells = [f"{row.wall:.2f} s", f"{floor.wall:.2f} s", f"{ratio:.2f}x", f"<= {target:.1f}x", ratio <= target]
        *shown, ok = cells
        lines.append(f"| {rid} | {row.title} | " + " | ".join(map(str, shown)) + f" | {'PASS' if ok else 'FAIL'} |")
    return "\n".join(lines) if len(lines) > 2 else ""


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(OSError):
        mem = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines() if ":" in line)
        info["mem_total_gib"] = round(int(mem["MemTotal"].split()[0]) / 2**20, 1)
        info["mem_available_gib"] = round(int(mem["MemAvailable"].split()[0]) / 2**20, 1)
    with contextlib.suppress(OSError):
        info["loadavg_at_start"] = Path("/proc/loadavg").read_text().split()[:3]
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
        info["pygithub"] = importlib.metadata.version("PyGithub")
    return info


# --------------------------------------------------------------------------------------------------------
# Scenarios


class Bench:
    def __init__(self, work: Path, sizes: Sizes, repeat: int, log: Callable[[str], None], entry: Path = ENTRY) -> None:
        self.work = work
        self.entry = entry
        self.sizes = sizes
        self.repeat = repeat
        self.log = log
        self._trees: dict[tuple[int, int, bool, str], Path] = {}

    def tree(self, n: int, *, all_open: bool, seed: int = 1, tag: str = "") -> Path:
        """A generated workspace (cached per arguments); `tag` gives a private copy to a scenario that edits."""
        key = (n, seed, all_open, tag)
        if key not in self._trees:
            ws = self.work / "trees" / f"n{n}-s{seed}-{'open' if all_open else 'mixed'}{'-' + tag if tag else ''}"
            gen.generate_tree(ws, n, seed=seed, all_open=all_open)
            self._trees[key] = ws
        return self._trees[key]

    def _measure(
        self, name: str, ws: Path, fake: FakeGitHub | None, concurrency: int, **inputs: str
    ) -> tuple[Run, Child]:
        before = fake.stats if fake is not None else {}
        if fake is not None:
            fake.clear_requests()
        child = run_action(self.work, name, ws, fake, self.entry, **inputs)
        report = read_report(self.work, name)
        seen = traffic(fake, concurrency, before) if fake is not None else None
        run = Run(
            wall=child.wall,
            rc=child.rc,
            rss_mb=child.max_rss_kib / 1024,
            cpu=child.cpu,
            traffic=seen,
            extra=edges(child, seen)
            | {
                "counts": report.get("counts"),
                "phases_seconds": report.get("phases_seconds"),
                "engine": report.get("engine"),
                "log": str(child.log),
                "timed_out": child.timed_out,
            },
        )
        self.log(
            f"  {name}: rc={child.rc} wall={child.wall:.2f}s cpu={child.cpu:.2f}s rss={run.rss_mb:.1f}MB"
            + (f" requests={run.traffic.requests} ({run.traffic.reads}/{run.traffic.writes})" if run.traffic else "")
        )
        return run, child

    # -- 1 and its floor ------------------------------------------------------------------------------------

    def scenario_1(self) -> list[Row]:
        s = self.sizes
        ws = self.tree(s.s1, all_open=True)
        plain = {
            "sub_issues": "false",
            "dependencies": "false",
            "writes_per_minute": "0",
            "scope": "all",
            "max_concurrency": str(s.concurrency),
        }
        row = Row("1", "first sync, plain creates", s.s1, s.latency * 1000, s.concurrency)
        floor = Row("1-floor", "bare PyGithub, same creates", s.s1, s.latency * 1000, s.concurrency)
        for i in range(self.repeat):
            # Alternate which goes first, so slow drift on a shared machine does not favour one side.
            order = ("action", "floor") if i % 2 == 0 else ("floor", "action")
            for which in order:
                fake = new_fake(s.latency)
                try:
                    if which == "action":
                        run, _ = self._measure(f"s1-r{i}", ws, fake, s.concurrency, **plain)
                        run.extra["issues"] = len(fake.issues(REPOSITORY))
                        row.runs.append(run)
                    else:
                        floor.runs.append(self._floor(f"s1-floor-r{i}", ws, fake, s.concurrency))
                finally:
                    fake.stop()
        ratio = row.wall / floor.wall
        rpi = (row.median(lambda r: r.traffic.requests if r.traffic else None) or 0) / s.s1
        row.checks += [
            (f"wall {ratio:.2f}x floor (<= 1.0x)", ratio <= 1.0),
            (f"{rpi:.3f} requests/item (<= 1.02)", rpi <= 1.02),
            ("all created, exit 0", all(r.rc == 0 and r.extra.get("issues") == s.s1 for r in row.runs)),
        ]
        floor.checks.append(("all created", all(r.rc == 0 and r.extra.get("issues") == s.s1 for r in floor.runs)))
        return [row, floor]

    def _floor(self, name: str, ws: Path, fake: FakeGitHub, concurrency: int) -> Run:
        before = fake.stats
        fake.clear_requests()
        argv = [
            sys.executable,
            str(REPO / "benchmarks" / "floor_pygithub.py"),
            "--api-url",
            fake.base_url,
            "--repository",
            REPOSITORY,
            "--token",
            TOKEN,
            "--path",
            str(ws / ".claude"),
            "--concurrency",
            str(concurrency),
        ]
        child = run_child(argv, base_env(), self.work / "logs" / f"{name}.log")
        seen = traffic(fake, concurrency, before)
        run = Run(
            child.wall,
            child.rc,
            child.max_rss_kib / 1024,
            child.cpu,
            seen,
            edges(child, seen) | {"issues": len(fake.issues(REPOSITORY)), "log": str(child.log)},
        )
        assert run.traffic is not None
        self.log(
            f"  {name}: rc={child.rc} wall={child.wall:.2f}s cpu={child.cpu:.2f}s rss={run.rss_mb:.1f}MB "
            f"requests={run.traffic.requests}"
        )
        return run

    def _listing_floor(self, name: str, fake: FakeGitHub) -> Run:
        """benchmarks/floor_listing.py: bare PyGithub reading every page of the synced issues, one by one."""
        before = fake.stats
        fake.clear_requests()
        script = REPO / "benchmarks" / "floor_listing.py"
        argv = [sys.executable, str(script), "--api-url", fake.base_url, "--repository", REPOSITORY, "--token", TOKEN]
        child = run_child(argv, base_env(), self.work / "logs" / f"{name}.log")
        seen = traffic(fake, 1, before)
        reply = _last_json_line(child.log)
        run = Run(
            child.wall,
            child.rc,
            child.max_rss_kib / 1024,
            child.cpu,
            seen,
            edges(child, seen) | {"listed": reply.get("listed"), "log": str(child.log)},
        )
        self.log(f"  {name}: rc={child.rc} wall={child.wall:.2f}s rss={run.rss_mb:.1f}MB requests={seen.requests}")
        return run

    # -- 1b -------------------------------------------------------------------------------------------------

    def scenario_1b(self) -> list[Row]:
        s = self.sizes
        ws = self.tree(s.s1, all_open=True)
        expected = expected_requests(ws, links=True)
        row = Row("1b", "first sync, links on", s.s1, s.latency * 1000, s.concurrency)
        for i in range(self.repeat):
            fake = new_fake(s.latency)
            try:
                run, _ = self._measure(
                    f"s1b-r{i}", ws, fake, s.concurrency, writes_per_minute="0", max_concurrency=str(s.concurrency)
                )
                per_item, overhead = requests_per_item(fake)
                # Every item its exact count, and nothing sent for an item the tree does not have.
                wrong = {k: (per_item.get(k, 0), expected.get(k, 0)) for k in expected.keys() | per_item.keys()}
                wrong = {k: v for k, v in wrong.items() if v[0] != v[1]}
                run.extra |= {
                    "overhead_requests": overhead,
                    "items_off_expected": len(wrong),
                    "examples_off_expected": dict(list(wrong.items())[:5]),
                    "expected_requests": sum(expected.values()),
                }
                row.runs.append(run)
            finally:
                fake.stop()
        last = row.runs[-1].extra
        worst = max(r.extra["overhead_requests"] for r in row.runs)
        row.checks += [
            (
                f"every item: 1 create + 1 per link ({last['items_off_expected']} off)",
                all(r.extra["items_off_expected"] == 0 for r in row.runs),
            ),
            (
                f"{worst} requests not tied to an item (<= {NOT_TIED_TO_AN_ITEM})",
                worst <= NOT_TIED_TO_AN_ITEM,
            ),
            ("exit 0", all(r.rc == 0 for r in row.runs)),
        ]
        row.notes.append(f"expected item requests {last['expected_requests']}, other {last['overhead_requests']}")
        return [row]

    # -- 2 and 3 --------------------------------------------------------------------------------------------

    def _synced(self) -> tuple[FakeGitHub, Path]:
        """A fake that holds the issues of a synced N-item tree (links on), and that tree's private copy."""
        s = self.sizes
        ws = self.tree(s.s1, all_open=False, tag="edited")
        fake = new_fake(s.latency)
        self.log("  setup: first sync of the tree for scenarios 2 and 3 (not timed)")
        child = run_action(self.work, "s23-setup", ws, fake, self.entry, max_concurrency=str(s.concurrency))
        if child.rc != 0:
            fake.stop()
            raise RuntimeError(f"setup sync failed (exit {child.rc}); see {child.log}")
        return fake, ws

    def scenario_2_3(self, want2: bool, want3: bool) -> list[Row]:
        s = self.sizes
        rows: list[Row] = []
        fake, ws = self._synced()
        try:
            if want2:
                row = Row("2", "re-run, nothing changed", s.s1, s.latency * 1000, s.concurrency)
                floor = Row("2-floor", "bare PyGithub, same listing", s.s1, s.latency * 1000, 1)
                for i in range(self.repeat):
                    for which in ("action", "floor") if i % 2 == 0 else ("floor", "action"):
                        if which == "action":
                            run, _ = self._measure(
                                f"s2-r{i}", ws, fake, s.concurrency, max_concurrency=str(s.concurrency)
                            )
                            row.runs.append(run)
                        else:
                            floor.runs.append(self._listing_floor(f"s2-floor-r{i}", fake))
                cap = math.ceil(s.s1 / 100) + 5
                worst = max(r.traffic.requests for r in row.runs if r.traffic)
                ratio = row.wall / floor.wall
                row.checks += [
                    ("zero writes", all(r.traffic and r.traffic.writes == 0 for r in row.runs)),
                    (f"{worst} requests (<= {cap})", worst <= cap),
                    (f"wall {ratio:.2f}x floor (<= 1.0x)", ratio <= 1.0),
                    ("exit 0", all(r.rc == 0 for r in row.runs)),
                ]
                synced = len(fake.issues(REPOSITORY))
                listed_all = all(r.rc == 0 and r.extra.get("listed") == synced for r in floor.runs)
                floor.checks.append(("listed every synced issue", listed_all))
                rows += [row, floor]
            if want3:
                row = Row("3", "one file changed", s.s1, s.latency * 1000, s.concurrency)
                numbers = {
                    MARKER_KEY.search(i["body"] or "").group(1): i["number"]  # type: ignore[union-attr]
                    for i in fake.issues(REPOSITORY)
                    if MARKER_KEY.search(i["body"] or "")
                }
                exact = True
                for i in range(self.repeat):
                    (changed,) = gen.touch_tasks(ws, 1, seed=i)
                    key = f"task:{changed.parent.name}/{changed.stem}"
                    run, _ = self._measure(f"s3-r{i}", ws, fake, s.concurrency, max_concurrency=str(s.concurrency))
                    sent = [r for r in fake.requests if r.method in WRITE_METHODS]
                    # The lease (one sync at a time) costs a label create and delete in any run that writes.
                    lease = [(r.method, r.path) for r in sent if "/labels" in r.path]
                    writes = [(r.method, r.path) for r in sent if "/labels" not in r.path]
                    want = [("PATCH", f"/repos/{REPOSITORY}/issues/{numbers[key]}")]
                    lease_want = [
                        ("POST", f"/repos/{REPOSITORY}/labels"),
                        ("DELETE", f"/repos/{REPOSITORY}/labels/issue-sync-lease"),
                    ]
                    run.extra |= {"changed": key, "writes_sent": writes, "writes_needed": want, "lease_writes": lease}
                    exact = exact and writes == want and lease == lease_want
                    row.runs.append(run)
                row.checks += [
                    ("writes == the one PATCH of the changed issue (+ the lease's create and delete)", exact),
                    ("exit 0", all(r.rc == 0 for r in row.runs)),
                ]
                rows.append(row)
        finally:
            fake.stop()
        return rows

    # -- 2L -------------------------------------------------------------------------------------------------

    def scenario_2l(self) -> list[Row]:
        """Scenario 2 at scenario 4's size: what a re-run of a very large synced tree holds in memory."""
        s = self.sizes
        ws = self.tree(s.s4, all_open=False)
        links = {"sub_issues": "false", "dependencies": "false"}  # a faster setup; the listing is the same size
        fake = new_fake(0.0)
        try:
            self.log(f"  setup: first sync of {s.s4:,} items, no links (not timed)")
            setup = run_action(
                self.work, "s2l-setup", ws, fake, self.entry, max_concurrency=str(s.concurrency), **links
            )
            if setup.rc != 0:
                raise RuntimeError(f"setup sync failed (exit {setup.rc}); see {setup.log}")
            row = Row("2L", "re-run, nothing changed, large", s.s4, 0, s.concurrency)
            for i in range(self.repeat):
                run, _ = self._measure(
                    f"s2l-r{i}", ws, fake, s.concurrency, max_concurrency=str(s.concurrency), **links
                )
                row.runs.append(run)
        finally:
            fake.stop()
        cap = math.ceil(s.s4 / 100) + 5
        worst = max(r.traffic.requests for r in row.runs if r.traffic)
        rss = max(r.rss_mb for r in row.runs)
        row.checks += [
            ("zero writes", all(r.traffic and r.traffic.writes == 0 for r in row.runs)),
            (f"{worst} requests (<= {cap})", worst <= cap),
            (f"peak RSS {rss:.1f} MB (< 100 MB)", rss < 100),
            ("exit 0", all(r.rc == 0 for r in row.runs)),
        ]
        return [row]

    # -- 4 --------------------------------------------------------------------------------------------------

    def scenario_4(self) -> list[Row]:
        s = self.sizes
        ws = self.tree(s.s4, all_open=False)
        row = Row("4", "first sync, links on, memory/CPU", s.s4, 0, s.concurrency)
        for i in range(self.repeat):
            fake = new_fake(0.0)
            try:
                run, _ = self._measure(f"s4-r{i}", ws, fake, s.concurrency, max_concurrency=str(s.concurrency))
                run.extra["issues"] = len(fake.issues(REPOSITORY))
                row.runs.append(run)
            finally:
                fake.stop()
        rss = max(r.rss_mb for r in row.runs)
        row.checks += [
            (f"peak RSS {rss:.1f} MB (<= 80 MB)", rss <= 80),
            ("all created, exit 0", all(r.rc == 0 and r.extra["issues"] == s.s4 for r in row.runs)),
        ]
        return [row]

    # -- 7 --------------------------------------------------------------------------------------------------

    def scenario_7(self) -> list[Row]:
        """A 500-task epic: grouping issues keep every task a native sub-issue within GitHub's 100 a parent."""
        tasks, concurrency = (120 if self.sizes is QUICK else 500), 4
        ws = large_epic_tree(self.work / "trees" / f"epic-{tasks}", tasks)
        inputs = {"max_concurrency": str(concurrency), "scope": "all"}
        first = Row("7", "one epic of 500 tasks: first sync", tasks + 2, 0, concurrency)
        again = Row("7r", "one epic of 500 tasks: re-run", tasks + 2, 0, concurrency)
        for i in range(self.repeat):
            fake = new_fake(0.0)
            try:
                run, _ = self._measure(f"s7-r{i}", ws, fake, concurrency, **inputs)
                run.extra["refusals"] = fake.stats.get("unprocessable", 0)
                first.runs.append(run)
                run, _ = self._measure(f"s7-again-r{i}", ws, fake, concurrency, **inputs)
                again.runs.append(run)
            finally:
                fake.stop()
        for row in (first, again):
            seen = row.runs[-1].traffic
            if seen is not None:
                row.notes.append("requests by kind: " + ", ".join(f"{k} {v}" for k, v in sorted(seen.by_call.items())))
        first.checks += [
            ("exit 0, no 422", all(r.rc == 0 and r.extra["refusals"] == 0 for r in first.runs)),
        ]
        again.checks += [
            ("zero writes, exit 0", all(r.rc == 0 and r.traffic and r.traffic.writes == 0 for r in again.runs))
        ]
        return [first, again]

    # -- 5 --------------------------------------------------------------------------------------------------

    def scenario_5(self) -> list[Row]:
        s = self.sizes
        scale = s.s5_time_scale
        limits = SecondaryLimits(writes_per_minute=80, points_per_minute=900, max_concurrent=100, time_scale=scale)
        # The action paces content-creating requests at 90 % of the enforced rate, on the same scaled clock.
        pacing = round(80 * 0.9 * scale)
        ws = self.tree(s.s5, all_open=False)
        row = Row("5", f"first sync, secondary limits x{scale:g}", s.s5, 0, s.concurrency)
        row.notes.append(
            f"fake: 80 writes/900 points per {60 / scale:g} s, 100 concurrent; "
            f"INPUT_WRITES-PER-MINUTE={pacing} (= 72/min scaled)"
        )
        for i in range(self.repeat):
            fake = new_fake(0.0, limits)
            try:
                run, _ = self._measure(
                    f"s5-r{i}",
                    ws,
                    fake,
                    s.concurrency,
                    writes_per_minute=str(pacing),
                    max_concurrency=str(s.concurrency),
                )
                records = fake.requests
                content = sorted(
                    r.end
                    for r in records
                    if r.method == "POST" and r.status and r.status < 400 and not r.path.endswith("/labels")
                )
                span = content[-1] - content[0] if len(content) > 1 else 0.0
                rate = (len(content) - 1) / span * 60 / scale if span else 0.0  # GitHub minutes
                counts = run.extra.get("counts") or {}
                run.extra |= {
                    "content_writes": len(content),
                    "writes_per_minute_scaled": round(rate, 1),
                    "failed_items": counts.get("failed"),
                    "issues": len(fake.issues(REPOSITORY)),
                    "secondary_by_reason": {k: v for k, v in fake.stats.items() if k.startswith("secondary")},
                }
                row.runs.append(run)
            finally:
                fake.stop()
        rate = row.median(lambda r: r.extra["writes_per_minute_scaled"]) or 0.0
        hits = max(r.traffic.secondary_limited for r in row.runs if r.traffic)
        writes = min(r.traffic.writes for r in row.runs if r.traffic)
        row.checks += [
            (
                "no item failed",
                all(r.rc == 0 and r.extra["failed_items"] == 0 and r.extra["issues"] == s.s5 for r in row.runs),
            ),
            (f"{hits} secondary-limit responses (<= {writes // 100} for {writes} writes)", hits <= writes // 100),
            (f"{rate:.1f} writes/min (>= 68 = 85% of 80)", rate >= 0.85 * 80),
        ]
        return [row]

    # -- 6 --------------------------------------------------------------------------------------------------

    def scenario_6(self) -> list[Row]:
        s = self.sizes
        ws = self.tree(s.s6, all_open=False)
        row = Row("6", "dry run (parse+graph+plan)", s.s6, None, None)
        floor = Row("6-floor", "import github, networkx, yaml; read the files", s.s6, None, None)
        script = REPO / "benchmarks" / "floor_dry_run.py"
        for i in range(self.repeat):
            for which in ("action", "floor") if i % 2 == 0 else ("floor", "action"):
                if which == "action":
                    run, _ = self._measure(f"s6-r{i}", ws, None, 1, dry_run="true")
                    row.runs.append(run)
                else:
                    log = self.work / "logs" / f"s6-floor-r{i}.log"
                    child = run_child([sys.executable, str(script), str(ws / ".claude")], base_env(), log)
                    floor.runs.append(Run(child.wall, child.rc, child.max_rss_kib / 1024, child.cpu))
                    self.log(f"  s6-floor-r{i}: rc={child.rc} wall={child.wall:.2f}s")
        ratio = row.wall / floor.wall
        row.checks += [
            (f"wall {ratio:.2f}x floor (<= 2.0x)", ratio <= 2.0),
            ("exit 0", all(r.rc == 0 for r in row.runs)),
        ]
        floor.checks.append(("exit 0", all(r.rc == 0 for r in floor.runs)))
        return [row, floor]

    # -- C --------------------------------------------------------------------------------------------------

    def scenario_c(self, image: str) -> list[Row]:
        """The container as the runner starts it (podman here): from `podman run` to the first request the fake
        sees, against `python -c pass` in the same image, interleaved. A dry run with a token: its first
        request is the listing."""
        s = self.sizes
        ws = self.tree(s.s1, all_open=True)
        row = Row("C", f"container start to first request ({image})", s.s1, 0, s.concurrency)
        floor = Row("C-floor", "python -c pass in the same image", 0, None, None)
        podman = ["podman", "run", "--rm", "--network", "host"]
        for i in range(self.repeat):
            for which in ("action", "floor") if i % 2 == 0 else ("floor", "action"):
                log = self.work / "logs" / f"sC-{which}-r{i}.log"
                if which == "floor":
                    child = run_child([*podman, "--entrypoint", "python", image, "-c", "pass"], base_env(), log)
                    floor.runs.append(Run(child.wall, child.rc, 0.0, 0.0))
                    self.log(f"  sC-floor-r{i}: rc={child.rc} wall={child.wall:.2f}s")
                    continue
                fake = new_fake(0.0)
                try:
                    inputs = {
                        "GITHUB_WORKSPACE": "/github/workspace",
                        "INPUT_PATH": ".claude",
                        "INPUT_SCOPE": "all",
                        "INPUT_DRY-RUN": "true",
                        "INPUT_UPLOAD-ARTIFACTS": "false",
                        "INPUT_OUTPUT-DIR": "/tmp/out",
                        "INPUT_GITHUB-TOKEN": TOKEN,
                        "INPUT_REPOSITORY": REPOSITORY,
                        "INPUT_API-URL": fake.base_url,
                    }
                    env_args = [arg for name, value in inputs.items() for arg in ("-e", f"{name}={value}")]
                    mount = ["-v", f"{ws}:/github/workspace", "--workdir", "/github/workspace"]
                    argv = [*podman, *mount, *env_args, image]
                    fake.clear_requests()
                    child = run_child(argv, base_env(), log)
                    seen = traffic(fake, 1, {})
                    start = edges(child, seen).get("before_first_request_s")
                    row.runs.append(Run(child.wall, child.rc, 0.0, 0.0, seen, {"before_first_request_s": start}))
                    self.log(f"  sC-action-r{i}: rc={child.rc} first request after {start}s, wall={child.wall:.2f}s")
                finally:
                    fake.stop()
        first = row.median(lambda r: r.extra.get("before_first_request_s"))
        extra = None if first is None else first - floor.wall
        row.checks += [
            (
                f"first request {fmt(first)} s = floor {floor.wall:.2f} s + {fmt(extra)} s (<= +0.3 s)",
                extra is not None and extra <= 0.3,
            ),
            ("exit 0", all(r.rc == 0 for r in row.runs)),
        ]
        floor.checks.append(("exit 0", all(r.rc == 0 for r in floor.runs)))
        return [row, floor]


# --------------------------------------------------------------------------------------------------------
# Main


ALL = ("1", "1b", "2", "3", "2L", "4", "5", "6", "7", "C")
DEFAULT = tuple(x for x in ALL if x != "C")  # C needs podman and a built image (--image)


def large_epic_tree(ws: Path, tasks: int) -> Path:
    """One PRD, one epic of `tasks` tasks, each depending on the one before, as a committed git workspace."""
    root = ws / ".claude"
    (root / "prds").mkdir(parents=True, exist_ok=True)
    (root / "prds" / "billing.md").write_text("---\nname: billing\nstatus: open\n---\n\nThe PRD.\n")
    epic = root / "epics" / "billing"
    epic.mkdir(parents=True, exist_ok=True)
    (epic / "epic.md").write_text("---\nname: billing\nstatus: open\nprd: billing\n---\n\nThe epic.\n")
    for n in range(1, tasks + 1):
        depends = f"depends_on: [{n - 1:03d}]\n" if n > 1 else ""
        (epic / f"{n:03d}.md").write_text(f"---\nname: Task {n}\nstatus: open\n{depends}---\n\nDo {n}.\n")
    git = ["git", "-c", "user.name=b", "-c", "user.email=b@e"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=ws, check=True)
    subprocess.run([*git, "add", "-A"], cwd=ws, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "tree"], cwd=ws, check=True)
    return ws


@contextlib.contextmanager
def workdir(given: Path | None, keep: bool) -> Iterator[Path]:
    if given is not None:
        given.mkdir(parents=True, exist_ok=True)
        yield given
        return
    base = "/dev/shm" if Path("/dev/shm").is_dir() and os.access("/dev/shm", os.W_OK) else None
    path = Path(tempfile.mkdtemp(prefix="batch-action-bench-", dir=base))
    try:
        yield path
    finally:
        if not keep:
            shutil.rmtree(path, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenarios", default=",".join(DEFAULT), help=f"comma-separated, from {','.join(ALL)}")
    ap.add_argument("--repeat", type=int, default=None, help="runs per scenario; medians are shown (default 3)")
    ap.add_argument("--quick", action="store_true", help="smaller N and 1 repeat: a smoke run for CI")
    ap.add_argument("--work", type=Path, help="folder for trees, outputs and logs (default: a tmpfs temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results.json", help="results file")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a target is missed (default: only crashes)")
    ap.add_argument("--entry", type=Path, default=ENTRY, help="program to run instead of entrypoint.py (A/B tests)")
    ap.add_argument("--image", default="batch-action:dev", help="image for scenario C (podman; build it first)")
    ap.add_argument(
        "--unknown-labels",
        choices=get_args(UnknownLabels),
        default="create",
        help="what the fake does with a missing label a write names (default: make it, as github.com does)",
    )
    args = ap.parse_args(argv)
    global UNKNOWN_LABELS
    UNKNOWN_LABELS = args.unknown_labels
    wanted = [x.strip() for x in args.scenarios.split(",") if x.strip()]
    unknown = [x for x in wanted if x not in ALL]
    if unknown:
        ap.error(f"unknown scenario(s) {', '.join(unknown)}; choose from {', '.join(ALL)}")
    repeat = args.repeat or (1 if args.quick else 3)
    sizes = QUICK if args.quick else FULL

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    started = time.time()
    global _spawner
    _spawner = Spawner()  # first, while this process is small (see _SPAWNER)
    info = machine()
    # Byte-compile the package once: with PYTHONDONTWRITEBYTECODE set (as in the Dockerfile) every run would
    # otherwise compile it from source again (~0.3 s here), which would blur the comparison with the floor.
    compileall.compile_dir(REPO / "batch_action", quiet=1)
    rows: list[Row] = []
    with workdir(args.work, args.keep) as work:
        log(f"work folder: {work}")
        bench = Bench(work, sizes, repeat, log, args.entry.resolve())
        steps: list[tuple[str, Callable[[], list[Row]]]] = []
        if "1" in wanted:
            steps.append(("1", bench.scenario_1))
        if "1b" in wanted:
            steps.append(("1b", bench.scenario_1b))
        if "2" in wanted or "3" in wanted:
            steps.append(("2/3", lambda: bench.scenario_2_3("2" in wanted, "3" in wanted)))
        for sid, fn in (
            ("2L", bench.scenario_2l),
            ("4", bench.scenario_4),
            ("5", bench.scenario_5),
            ("6", bench.scenario_6),
            ("7", bench.scenario_7),
            ("C", lambda: bench.scenario_c(args.image)),
        ):
            if sid in wanted:
                steps.append((sid, fn))
        for sid, fn in steps:
            log(f"scenario {sid}")
            rows.extend(fn())

    _spawner.close()
    print(table(rows))
    floors = floor_table(rows)
    if floors:
        print("\nIssue 17: each row against its floor (medians; peak RSS is the largest run)\n\n" + floors)
    notes = [f"- {row.id}: {note}" for row in rows for note in row.notes]
    if notes:
        print("\n" + "\n".join(notes))
    print(
        f"\nmedian of {repeat} run(s); machine: {info.get('nproc')} CPU(s), {info.get('cpu_model', '?')}, "
        f"{info.get('mem_total_gib', '?')} GiB RAM, Python {info['python']}, PyGithub {info.get('pygithub', '?')}"
    )
    passed = all(ok for row in rows for _, ok in row.checks)
    crashed = [f"{row.id}: exit {run.rc}" for row in rows for run in row.runs if run.rc != 0]
    result = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "seconds": round(time.time() - started, 1),
        "quick": args.quick,
        "entry": str(args.entry),
        "unknown_labels": args.unknown_labels,
        "repeat": repeat,
        "sizes": asdict(sizes),
        "machine": info,
        "passed": passed,
        "rows": [
            {
                "id": row.id,
                "title": row.title,
                "n": row.n,
                "latency_ms": row.latency_ms,
                "concurrency": row.concurrency,
                "median": {
                    "wall_s": round(row.wall, 3),
                    "items_per_s": round(row.n / row.wall, 1),
                    "rss_mb": round(row.median(lambda r: r.rss_mb) or 0, 1),
                    "cpu_s": round(row.median(lambda r: r.cpu) or 0, 3),
                    "requests": row.median(lambda r: r.traffic.requests if r.traffic else None),
                    "reads": row.median(lambda r: r.traffic.reads if r.traffic else None),
                    "writes": row.median(lambda r: r.traffic.writes if r.traffic else None),
                    "ideal_s": row.median(lambda r: round(r.traffic.ideal, 3) if r.traffic else None),
                },
                "checks": [{"target": text, "pass": ok} for text, ok in row.checks],
                "notes": row.notes,
                "runs": [asdict(r) for r in row.runs],
            }
            for row in rows
        ],
    }
    args.json.write_text(json.dumps(result, indent=1, default=str) + "\n", encoding="utf-8")
    log(f"wrote {args.json} in {result['seconds']} s")
    if crashed:
        log("runs that did not finish cleanly: " + ", ".join(crashed))
        return 2
    return 0 if passed or not args.strict else 1


if __name__ == "__main__":
    raise SystemExit(main())
