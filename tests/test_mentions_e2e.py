"""The `mentions` input end to end: `cli.main` with INPUT_* settings against the loopback fake GitHub.

Planning files are full of `@dataclass`, `@types/node` and `@someone`: copied verbatim, a first sync pings whoever
owns those names. With `mentions: escape` (the default) the prose ones are wrapped in backticks and code is left
alone; switching the input rewrites exactly the issues whose bodies it changes, and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from batch_action.sync.render import read_marker
from tests.fake_github import FakeGitHub
from tests.sync_harness import TOKEN, Workspace, by_key, run_sync, writes

Factory = Callable[..., FakeGitHub]

PROSE = """\
Ask @someone and @org/team before merging. Mail user@example.com, not @@doubled.
Use @dataclass for the model; `@types/node` is already code, and so is ``a `@tick` inside``.
See [the notes by @writer](https://example.com/@writer).

```python
@pytest.fixture
def tree() -> None: ...
```

    @indented.code stays as it is
"""
CODE_ONLY = """\
Style with `@media print` and decorate:

~~~
@pytest.mark.slow
~~~
"""
NO_AT_SIGN = "Plain text, nobody to ping.\n"
LINK_ONLY = "Reviewed by [@lead](https://github.com/lead).\n"

BODIES = {"001": PROSE, "002": CODE_ONLY, "003": NO_AT_SIGN, "004": LINK_ONLY}
WITH_MENTIONS = {"task:e/001", "task:e/004"}


def _tree(root: Path) -> Path:
    (root / "prds").mkdir(parents=True)
    (root / "prds/e.md").write_text("---\nname: e\nstatus: backlog\n---\n\nThe PRD, owned by @pm.\n")
    (root / "epics/e").mkdir(parents=True)
    (root / "epics/e/epic.md").write_text("---\nname: e\nstatus: backlog\nprd: .claude/prds/e.md\n---\n\nEpic.\n")
    for number, body in BODIES.items():
        (root / f"epics/e/{number}.md").write_text(f"---\nname: Task {number}\nstatus: open\n---\n\n{body}")
    return root


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws", source=_tree(tmp_path / "tree"))


def _text(issue: dict[str, object]) -> str:
    """The issue body without the metadata block and marker the sync appends."""
    body = str(issue["body"])
    return body[: body.rindex("\n\n---\n")]


def _patched(gh: FakeGitHub) -> list[str]:
    numbers = {issue["number"]: key for key, issue in by_key(gh).items()}
    found = []
    for method, path in writes(gh):
        assert method == "PATCH", f"unexpected write {method} {path}"
        found.append(numbers[int(path.rsplit("/", 1)[1])])
    return sorted(found)


def test_prose_mentions_are_escaped_and_code_is_left_alone(fake_github: Factory, ws: Workspace, tmp_path: Path) -> None:
    gh = fake_github(token=TOKEN)
    result = run_sync(gh, ws.path, tmp_path / "run1")
    assert result.code == 0, result.log
    issues = by_key(gh)
    assert _text(issues["task:e/001"]) == (
        "Ask `@someone` and `@org/team` before merging. Mail user@example.com, not @`@doubled`.\n"
        "Use `@dataclass` for the model; `@types/node` is already code, and so is ``a `@tick` inside``.\n"
        "See [the notes by `@writer`](https://example.com/@writer).\n"
        "\n"
        "```python\n"
        "@pytest.fixture\n"
        "def tree() -> None: ...\n"
        "```\n"
        "\n"
        "    @indented.code stays as it is"
    )
    assert _text(issues["task:e/004"]) == "Reviewed by [`@lead`](https://github.com/lead)."
    assert _text(issues["prd:e"]) == "The PRD, owned by `@pm`."
    for key, body in (("task:e/002", CODE_ONLY), ("task:e/003", NO_AT_SIGN)):
        assert _text(issues[key]) == body.strip("\n")
    gh.clear_requests()
    again = run_sync(gh, ws.path, tmp_path / "run2")
    assert again.code == 0, again.log
    assert writes(gh) == [] and again.outputs["updated"] == "0"


def test_switching_the_input_rewrites_exactly_the_items_with_mentions(
    fake_github: Factory, ws: Workspace, tmp_path: Path
) -> None:
    gh = fake_github(token=TOKEN)
    assert run_sync(gh, ws.path, tmp_path / "escape").code == 0
    changed = sorted({*WITH_MENTIONS, "prd:e"})
    for run, mode in enumerate(("keep", "keep", "escape", "escape", "keep"), start=1):
        gh.clear_requests()
        result = run_sync(gh, ws.path, tmp_path / f"run{run}", mentions=mode)
        assert result.code == 0, result.log
        # Only a switch writes, and only the issues whose body the escaping changes: one PATCH each.
        switched = run in (1, 3, 5)
        assert _patched(gh) == (changed if switched else []), (run, mode)
        assert result.outputs["updated"] == str(len(changed) if switched else 0)
        if mode == "keep":
            issues = by_key(gh)
            assert _text(issues["task:e/001"]) == PROSE.strip("\n")  # verbatim
            assert _text(issues["prd:e"]) == "The PRD, owned by @pm."


def test_an_invalid_mode_is_a_settings_error(fake_github: Factory, ws: Workspace, tmp_path: Path) -> None:
    gh = fake_github(token=TOKEN)
    result = run_sync(gh, ws.path, tmp_path / "run", mentions="strip")
    assert result.code == 2
    assert "input `mentions`: 'strip' is not one of 'escape', 'keep'" in result.log
    assert writes(gh) == []


# The content digests the version before the `mentions` input gave this tree (taken from that code). `keep` must
# give the same ones, or upgrading would rewrite every issue of every user.
DIGESTS_BEFORE_THE_INPUT = {
    "epic:e": "1821288b94a22e25",
    "prd:e": "402c53cf25f422fa",
    "task:e/001": "fccf00586d5e383e",
    "task:e/002": "c79935dcce57e2f9",
    "task:e/003": "3c0470fd56c3024d",
    "task:e/004": "9d29d9da856bed2c",
}


def test_upgrading_rewrites_only_the_bodies_with_mentions(fake_github: Factory, ws: Workspace, tmp_path: Path) -> None:
    gh = fake_github(token=TOKEN)
    # `keep` writes what the version before the input wrote: the same bodies, under the same markers.
    assert run_sync(gh, ws.path, tmp_path / "before", mentions="keep").code == 0
    markers = {key: read_marker(issue["body"]) for key, issue in by_key(gh).items()}
    assert {key: marker.digest for key, marker in markers.items() if marker} == DIGESTS_BEFORE_THE_INPUT
    gh.clear_requests()
    result = run_sync(gh, ws.path, tmp_path / "upgraded")  # the default, `escape`
    assert result.code == 0, result.log
    assert _patched(gh) == sorted({*WITH_MENTIONS, "prd:e"})
