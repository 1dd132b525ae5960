"""The Python library (issue 18): the public surface is what the README documents, the example runs, the hooks
work against the fake GitHub (a changed transform updates each issue once; progress counts every item)."""

from __future__ import annotations

import dataclasses
import inspect
import re
import subprocess
import sys
import types
from dataclasses import replace
from pathlib import Path

import batch_action
from batch_action import Draft, Item, plan, sync
from tests.fake_github import FakeGitHub
from tests.sync_harness import ROOT, TOKEN, Workspace, by_key

README = (ROOT / "README.md").read_text(encoding="utf-8")


def reference() -> str:
    return README[README.index("## Python library") :].split("\n## ", 1)[0]


def documented_line(name: str) -> str:
    """How the README's API reference names an exported object: a function with its parameters, a dataclass
    with its fields, an alias by its name."""
    obj = getattr(batch_action, name)
    if dataclasses.is_dataclass(obj):
        return f"`{name}({', '.join(f.name for f in dataclasses.fields(obj))})`"
    if inspect.isfunction(obj):
        shown = []
        for parameter in inspect.signature(obj).parameters.values():
            if parameter.kind is parameter.KEYWORD_ONLY and "*" not in shown:
                shown.append("*")
            shown.append(("**" if parameter.kind is parameter.VAR_KEYWORD else "") + parameter.name)
        return f"`{name}({', '.join(shown)})`"
    return f"`{name}`"


def test_what_is_exported_is_what_the_readme_documents() -> None:
    section = reference()
    documented = set(re.findall(r"^- `(\w+)[(`]", section, re.M))
    assert documented == set(batch_action.__all__) - {"__version__"}
    for name in documented:
        assert documented_line(name) in section, f"README: {documented_line(name)}"


def test_nothing_private_leaks() -> None:
    public = {
        name
        for name, value in vars(batch_action).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public == set(batch_action.__all__) - {"__version__"}, "every public name is exported, no other"
    for name in public:
        obj = getattr(batch_action, name)
        if inspect.isfunction(obj) or inspect.isclass(obj):  # the others are type aliases
            assert obj.__module__ in ("batch_action.api", "batch_action.hooks"), name
            assert inspect.getdoc(obj), f"{name} has no docstring"


def test_the_example_runs() -> None:
    done = subprocess.run(
        [sys.executable, "examples/library.py"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "planned: closed 0, created 44" in done.stdout and "items: 44" in done.stdout


def test_a_plan_without_a_token_and_bad_inputs(tmp_path: Path) -> None:
    outcome = plan(ROOT, "octo/repo", path="examples/.claude", scope="all", output_dir=str(tmp_path))
    assert outcome.ok and outcome.counts["created"] == 44 and outcome.report == tmp_path / "report.json"
    bad = plan(ROOT, "octo/repo", path="examples/.claude", scope="sometimes", output_dir=str(tmp_path / "bad"))
    assert bad.exit_code == 2 and bad.report is None
    assert any("input `scope`: 'sometimes' is not one of 'changed', 'all'" in p for p in bad.problems)
    try:
        plan(ROOT, "octo/repo", no_such_input="x")
    except TypeError as exc:
        assert "no_such_input" in str(exc)
    else:
        raise AssertionError("an unknown input is refused")


def test_a_hook_changing_labels_updates_each_issue_once(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")

    def labelled(item: Item, draft: Draft) -> Draft:
        return replace(draft, labels=(*draft.labels, f"kind-{item.kind}"))

    seen: list[tuple[int, int, str]] = []
    with FakeGitHub(token=TOKEN) as gh:
        common = {"api_url": gh.base_url, "scope": "all", "writes_per_minute": 0, "request_timeout": 5}
        first = sync(ws.path, "octo/repo", token=TOKEN, output_dir=str(tmp_path / "1"), **common)
        assert first.ok and first.counts["created"] == 44, first.log
        before = len(gh.requests)
        hooked = sync(
            ws.path, "octo/repo", token=TOKEN, output_dir=str(tmp_path / "2"), transform=labelled,
            on_progress=lambda done, total, key: seen.append((done, total, key)), **common,
        )  # fmt: skip
        assert hooked.ok, hooked.log
        assert hooked.counts["updated"] == 44 and hooked.counts["created"] == 0
        patches = [r for r in gh.requests[before:] if r.method == "PATCH" and "/issues/" in r.path]
        assert len({r.path for r in patches}) == len(patches) == 44, "one update per item"
        for key, issue in by_key(gh).items():
            assert f"kind-{key.split(':', 1)[0]}" in {label["name"] for label in issue["labels"]}
        assert [done for done, _, _ in seen] == list(range(1, 45)) and {total for _, total, _ in seen} == {44}
        again = sync(ws.path, "octo/repo", token=TOKEN, output_dir=str(tmp_path / "3"), transform=labelled, **common)
        assert again.ok and again.counts["updated"] == 0 and again.counts["unchanged"] == 44
        without = sync(ws.path, "octo/repo", token=TOKEN, output_dir=str(tmp_path / "4"), **common)
        assert without.counts["updated"] == 44, "dropping the hook restores the file's look, once"
