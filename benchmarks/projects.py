#!/usr/bin/env python3
"""Benchmark P: 1,000 items with issue types and a project: requests by kind for a first sync and a re-run.

    python benchmarks/projects.py [--items 1000] [--changed 10] [--json OUT]

Generates a tree (`generate_tree.py`, seed 1), gives every task a `priority` and an `effort` in its front matter,
and syncs it with `cli.main` against the loopback fake GitHub (REST and GraphQL) with `issue-types` and a
`project` whose board has Status, Priority, Estimate, Start date and Target date. Then a re-run of the unchanged
tree, then a run after `--changed` tasks changed their status. For each run it prints the requests the fake
received by kind (REST by method and endpoint, GraphQL by operation) and the GraphQL mutations by name, and the
run's wall time (the fake answers at once: the time is the action's own, not GitHub's).
"""

from __future__ import annotations

import argparse
import io
import json
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from batch_action.cli import main  # noqa: E402
from benchmarks.generate_tree import generate_tree, task_files  # noqa: E402
from tests.fake_github import FakeGitHub, Grant  # noqa: E402

TOKEN, PROJECT_TOKEN = "bench-token", "bench-project-token"
PRIORITIES = ("High", "Medium", "Low")
_OPERATION_RE = re.compile(r"^\s*(query|mutation)\s+(\w+)", re.MULTILINE)


def add_project_fields(root: Path) -> int:
    """Give every task a priority and an effort (deterministic from its path)."""
    changed = 0
    for n, path in enumerate(task_files(root)):
        text = path.read_text(encoding="utf-8")
        extra = f"priority: {PRIORITIES[n % 3].lower()}\neffort: {1 + n % 8}\n"
        path.write_text(text.replace("\n---\n", "\n" + extra + "---\n", 1), encoding="utf-8")
        changed += 1
    return changed


def git(root: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@e", "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@e"}
    done = subprocess.run(
        ["git", *args], cwd=root, env={**env, "PATH": "/usr/bin:/bin"}, check=True, text=True, capture_output=True
    )
    return done.stdout.strip()


def kinds(gh: FakeGitHub) -> dict[str, int]:
    counted: Counter[str] = Counter()
    for record in gh.requests:
        if record.path == "/graphql":
            query = record.body.get("query", "") if isinstance(record.body, dict) else ""
            found = _OPERATION_RE.search(query)
            counted[f"GraphQL {found.group(1)} {found.group(2)}" if found else "GraphQL (other)"] += 1
            continue
        path = re.sub(r"/issues/\d+", "/issues/{n}", record.path)
        path = re.sub(r"/labels/[^/]+$", "/labels/{name}", path)
        counted[f"{record.method} {path}"] += 1
    return dict(sorted(counted.items()))


def sync(gh: FakeGitHub, ws: Path, out: Path, **inputs: str) -> tuple[int, float, str]:
    out.mkdir(parents=True, exist_ok=True)
    (out / "gh_output").write_text("")
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": str(ws),
        "GITHUB_OUTPUT": str(out / "gh_output"),
        "GITHUB_SERVER_URL": "https://github.com",
        "INPUT_GITHUB-TOKEN": TOKEN,
        "INPUT_REPOSITORY": "octo/repo",
        "INPUT_API-URL": gh.base_url,
        "INPUT_PATH": ".claude",
        "INPUT_SCOPE": "all",
        "INPUT_WRITES-PER-MINUTE": "0",
        "INPUT_UPLOAD-ARTIFACTS": "false",
        "INPUT_OUTPUT-DIR": str(out / "files"),
        "INPUT_ISSUE-TYPES": "prd=Feature,epic=Epic,task=Task",
        "INPUT_PROJECT": "https://github.com/orgs/octo/projects/1",
        "INPUT_PROJECT-TOKEN": PROJECT_TOKEN,
        **{f"INPUT_{k.upper()}": v for k, v in inputs.items()},
    }
    stream = io.StringIO()
    started = time.perf_counter()
    with redirect_stdout(stream):
        code = main([], env)
    return code, time.perf_counter() - started, stream.getvalue()


def measure(gh: FakeGitHub, name: str, ws: Path, out: Path, **inputs: str) -> dict[str, object]:
    gh.clear_requests()
    gh.graphql.mutations.clear()
    code, seconds, log = sync(gh, ws, out / name, **inputs)
    if code != 0:
        print(log[-3000:], file=sys.stderr)
        raise SystemExit(f"{name}: exit {code}")
    mutations = Counter(name for name, _ in gh.graphql.mutations)
    return {
        "run": name,
        "seconds": round(seconds, 2),
        "requests": len(gh.requests),
        "by_kind": kinds(gh),
        "mutations": dict(sorted(mutations.items())),
    }


def show(result: dict[str, object]) -> None:
    print(f"\n## {result['run']}: {result['requests']} requests, {result['seconds']} s")
    by_kind = result["by_kind"]
    assert isinstance(by_kind, dict)
    for kind, count in by_kind.items():
        print(f"  {count:6d}  {kind}")
    mutations = result["mutations"]
    assert isinstance(mutations, dict)
    print("  GraphQL mutations: " + (", ".join(f"{k} {v}" for k, v in mutations.items()) or "none"))


def main_(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--items", type=int, default=1000)
    ap.add_argument("--changed", type=int, default=10)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    with (
        tempfile.TemporaryDirectory() as tmp,
        FakeGitHub(
            token=TOKEN, tokens={PROJECT_TOKEN: Grant()}, issue_types={"octo": ["Feature", "Epic", "Task", "Bug"]}
        ) as gh,
    ):
        gh.graphql.add_project(
            "octo",
            1,
            fields=[
                ("Priority", "SINGLE_SELECT", PRIORITIES),
                ("Estimate", "NUMBER", ()),
                ("Start date", "DATE", ()),
                ("Target date", "DATE", ()),
            ],
        )
        ws = Path(tmp) / "ws"
        counts = generate_tree(ws, args.items, seed=1)
        add_project_fields(ws)
        git(ws, "init", "-q", "-b", "main")
        git(ws, "add", "-A")
        git(ws, "commit", "-q", "-m", "tree")
        out = Path(tmp) / "out"
        print(
            f"tree: {counts['items']} items ({counts['prds']} PRDs, {counts['epics']} epics, {counts['tasks']} tasks)"
        )
        results = [measure(gh, "first sync", ws, out), measure(gh, "re-run, nothing changed", ws, out)]
        base = git(ws, "rev-parse", "HEAD")
        for path in task_files(ws)[: args.changed]:
            text = path.read_text(encoding="utf-8")
            path.write_text(re.sub(r"^status: .*$", "status: done", text, count=1, flags=re.MULTILINE), "utf-8")
        git(ws, "commit", "-q", "-am", "done")
        results.append(
            measure(gh, f"{args.changed} tasks done (scope changed)", ws, out, **{"SCOPE": "changed", "BASE-SHA": base})
        )
        for result in results:
            show(result)
        if args.json:
            args.json.write_text(json.dumps({"tree": counts, "runs": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main_())
