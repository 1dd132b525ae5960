"""A replay renders a stored spec as the run that stored it would have: `mentions_escaped` survives the checkpoint,
and a checkpoint written before the `mentions` input (no such field) still loads, with verbatim bodies."""

from __future__ import annotations

import json
from pathlib import Path

from batch_action.model import Kind
from batch_action.resume.state import STATE_FILE, load_state, write_state
from batch_action.sync.render import IssueSpec, render_body

BODY = "Ask @someone; `@types/node` stays."


def _spec(*, mentions_escaped: bool) -> IssueSpec:
    return IssueSpec(
        key="task:e/001",
        kind=Kind.TASK,
        path=".claude/epics/e/001.md",
        title="Task",
        body_digest="0" * 32,
        labels=("task", "issue-sync"),
        closed=False,
        parent=None,
        blockers=(),
        digest="1" * 16,
        links_digest="2" * 16,
        status="open",
        mentions_escaped=mentions_escaped,
    )


def _store(folder: Path, spec: IssueSpec) -> None:
    write_state(
        folder,
        commit="abc",
        repository="octo/repo",
        operations=[],
        specs={spec.key: spec},
        remote_digests={},
        body_of=lambda _: BODY,
    )


def test_a_stored_spec_renders_its_mentions_as_the_run_that_stored_it(tmp_path: Path) -> None:
    for escaped in (True, False):
        _store(tmp_path, _spec(mentions_escaped=escaped))
        loaded = load_state(tmp_path).specs["task:e/001"]
        assert loaded.mentions_escaped is escaped and loaded.source_body == BODY
        body = render_body(loaded, loaded.source_body or "", {}, source_url="u")
        assert body.startswith("Ask `@someone`; `@types/node` stays." if escaped else BODY)


def test_a_checkpoint_from_before_the_input_loads_with_verbatim_bodies(tmp_path: Path) -> None:
    _store(tmp_path, _spec(mentions_escaped=True))
    state = json.loads((tmp_path / STATE_FILE).read_text())
    for spec in state["specs"]:
        del spec["mentions_escaped"]  # what the version before the input wrote
    (tmp_path / STATE_FILE).write_text(json.dumps(state))
    loaded = load_state(tmp_path).specs["task:e/001"]
    # Its digest was made for the verbatim body: rendering it escaped would hide the body under the wrong marker.
    assert loaded.mentions_escaped is False
    assert render_body(loaded, BODY, {}, source_url="u").startswith(BODY)


def test_blockers_past_the_limit_survive_the_checkpoint_and_an_older_one_has_none(tmp_path: Path) -> None:
    from dataclasses import replace

    listed = tuple(f"task:e/{n:03}" for n in range(51, 60))
    _store(tmp_path, replace(_spec(mentions_escaped=False), listed_blockers=listed))
    assert load_state(tmp_path).specs["task:e/001"].listed_blockers == listed
    state = json.loads((tmp_path / STATE_FILE).read_text())
    for spec in state["specs"]:
        del spec["listed_blockers"]  # what the version before the limit was planned wrote
    (tmp_path / STATE_FILE).write_text(json.dumps(state))
    assert load_state(tmp_path).specs["task:e/001"].listed_blockers == ()
