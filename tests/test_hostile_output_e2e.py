"""Nothing from a file, a folder name, front matter or GitHub's replies can forge a workflow command.

The runner reads every stdout line: one that starts with `::` (after leading blanks) is a command, and so is one
holding `##[name]` anywhere, until `::stop-commands::<token>` turns commands off and `::<token>::` back on. The
test feeds hostile text through the whole program (`cli.main` against the loopback fake GitHub) and reads its
stdout the way the runner does: every command that takes effect must be one the action meant to write.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from batch_action.cli import main
from tests.fake_github import FakeGitHub
from tests.sync_harness import TOKEN, Workspace, by_key, run_sync

FORGED = "FORGED"
# A forged command puts FORGED where the action never does: at the start of a property or of the message.
PAYLOADS = (
    f"::error file={FORGED}.py,line=1::{FORGED}",
    f"::add-mask::{FORGED}",
    f"  ::stop-commands::{FORGED}",
    f"##[error]{FORGED} in the old syntax",
)
HOSTILE = "\n".join(("x", *PAYLOADS))
OUR_COMMANDS = {"error", "warning", "notice", "debug", "group", "endgroup", "add-mask", "stop-commands"}
PROPERTIES = {"file", "line", "endLine", "col", "endColumn", "title"}
Factory = Callable[..., FakeGitHub]
_V2 = re.compile(r"^::(?P<name>[^\s:]+)(?: (?P<props>[^:]*))?::(?P<data>.*)$")


def commands_taking_effect(stdout: str) -> list[tuple[str, str, str, str]]:
    """(name, properties, message, line) of every line the runner would act on, as its parser reads them."""
    found: list[tuple[str, str, str, str]] = []
    stopped_by: str | None = None
    for line in re.split(r"\r\n|\r|\n", stdout):  # the runner's line reader splits on all three
        trimmed = line.lstrip()
        if stopped_by is not None:
            if trimmed == f"::{stopped_by}::":
                stopped_by = None
            continue
        match = _V2.match(trimmed)
        if match:
            name, props, data = match.group("name"), match.group("props") or "", match.group("data")
            if name == "stop-commands":
                stopped_by = data
            found.append((name, props, data, line))
        elif "##[" in line:
            found.append(("##[", "", line, line))
    return found


def forged(stdout: str) -> list[str]:
    """Lines where hostile text chose the command: an unknown name or property, or FORGED where the action puts
    its own words (the start of a property's value or of the message). Hostile text escaped inside a message or
    a file name the action reports is not a command of its own."""
    bad = []
    for name, props, data, line in commands_taking_effect(stdout):
        pairs = [pair.partition("=") for pair in props.split(",") if pair]
        if (
            name not in OUR_COMMANDS
            or data.startswith(FORGED)
            or any(key not in PROPERTIES or value.startswith(FORGED) for key, _, value in pairs)
        ):
            bad.append(line)
    return bad


def hostile_tree(tmp_path: Path) -> Workspace:
    ws = Workspace(tmp_path / "ws")
    epics = ws.path / ".claude" / "epics"
    folder = epics / HOSTILE  # an epic folder whose name holds line breaks and commands
    folder.mkdir()
    (folder / "epic.md").write_text("---\nname: hostile folder\nstatus: open\n---\n\nAn epic.\n")
    (folder / "001.md").write_text("---\nname: a task in it\nstatus: open\n---\n\nA task.\n")
    quoted = HOSTILE.replace("\n", "\\n")
    for n in range(12):  # more warnings than the ten the runner shows as annotations: the rest are printed plain
        (epics / "billing" / f"{100 + n}.md").write_text(
            f'---\nname: "{PAYLOADS[0]} title {n}"\nstatus: open\ngithub: "{quoted}"\n---\n\n{HOSTILE}\n'
        )
    ws.commit("hostile names, titles and github: values")
    return ws


def test_no_hostile_text_reaches_stdout_as_a_command(tmp_path: Path, fake_github: Factory) -> None:
    gh = fake_github(token=TOKEN)
    ws = hostile_tree(tmp_path)
    # GitHub's own error text is untrusted too: the first 12 creates are refused with a hostile message.
    gh.fault(
        "POST",
        r"^/repos/octo/repo/issues$",
        times=12,
        status=404,
        body={"message": f"Not Found{HOSTILE}", "documentation_url": HOSTILE},
    )
    first = run_sync(gh, ws.path, tmp_path / "run1")
    assert first.code == 1, first.log  # the refused creates are failed items
    assert forged(first.log) == []
    assert "::stop-commands::" in first.log  # the hostile lines were there, and printed inert
    # The annotations past the tenth were printed as plain lines, and every hostile line is still one line.
    assert any(line.startswith("warning: ") for line in first.log.splitlines())
    assert not any(line.lstrip().startswith("::error file=FORGED") for line in first.log.splitlines())

    gh.clear_faults()
    second = run_sync(gh, ws.path, tmp_path / "run2")
    assert second.code == 0, second.log
    assert forged(second.log) == []
    issues = by_key(gh)  # every item once, the ones refused before included
    assert len(issues) == 44 + 2 + 12
    for result in (first, second):
        assert [line for line in result.log.splitlines() if TOKEN in line] == [f"::add-mask::{TOKEN}"]
        assert [f for f in result.out_dir.rglob("*") if f.is_file() and TOKEN.encode() in f.read_bytes()] == []


def test_a_dry_run_outside_actions_prints_hostile_names_on_one_line_each(tmp_path: Path) -> None:
    ws = hostile_tree(tmp_path)
    env = {"GITHUB_WORKSPACE": str(ws.path), "INPUT_DRY-RUN": "true", "INPUT_SCOPE": "all"}
    env["INPUT_OUTPUT-DIR"] = str(tmp_path / "dry")
    stream = io.StringIO()
    with redirect_stdout(stream):
        code = main([], env)
    assert code == 0, stream.getvalue()
    lines = stream.getvalue().splitlines()
    assert not any(line.lstrip().startswith("::") for line in lines), stream.getvalue()
    shown = HOSTILE.replace("\n", "\\n")
    assert any(shown in line for line in lines)  # the folder's name, on one line, its breaks shown as \n


@pytest.mark.parametrize(
    "token",
    ["ghp_" + "a" * 36 + "\nghp_" + "b" * 36, "ghp_" + "c" * 36 + " trailing words", "ghp_\x1b[31m" + "d" * 32],
)
def test_a_malformed_token_is_refused_and_never_printed(tmp_path: Path, fake_github: Factory, token: str) -> None:
    gh = fake_github(token=TOKEN)
    ws = Workspace(tmp_path / "ws")
    result = run_sync(gh, ws.path, tmp_path / "run", github_token=token)
    assert result.code == 2
    assert "input `github-token`" in result.log
    pieces = [piece for piece in token.split() if len(piece) >= 8]
    for piece in pieces:
        shown = [line for line in result.log.splitlines() if piece in line and not line.startswith("::add-mask::")]
        assert shown == [], shown
    assert gh.requests == []


def test_path_must_stay_inside_the_workspace(tmp_path: Path, fake_github: Factory) -> None:
    gh = fake_github(token=TOKEN)
    ws = Workspace(tmp_path / "ws")
    outside = tmp_path / "outside"
    (outside / "prds").mkdir(parents=True)
    (outside / "prds" / "x.md").write_text("---\nname: x\n---\n")
    (ws.path / "link").symlink_to(outside)
    for path in ("../outside", str(outside), "link", "/etc"):
        result = run_sync(gh, ws.path, tmp_path / "run", path=path)
        assert result.code == 2, (path, result.log)
        assert "input `path`" in result.log and "outside the workspace" in result.log
    assert gh.requests == []


@pytest.mark.parametrize("folder", ["my epic", "a-->b", "line\nbreak", "überblick"])
def test_an_oddly_named_epic_is_synced_once(tmp_path: Path, fake_github: Factory, folder: str) -> None:
    gh = fake_github(token=TOKEN)
    ws = Workspace(tmp_path / "ws")
    epic = ws.path / ".claude" / "epics" / folder
    epic.mkdir()
    (epic / "epic.md").write_text("---\nname: odd\n---\n\nAn epic.\n")
    (epic / "001.md").write_text("---\nname: odd task\n---\n\nA task.\n")
    ws.commit("an epic folder with an odd name")
    assert run_sync(gh, ws.path, tmp_path / "run1").code == 0
    issues = by_key(gh)
    assert {f"epic:{folder}", f"task:{folder}/001"} <= set(issues)
    assert all(issue["body"].rstrip().endswith("-->") for issue in issues.values())  # the marker ends the body
    gh.clear_requests()
    again = run_sync(gh, ws.path, tmp_path / "run2")
    assert again.code == 0 and again.outputs["created"] == "0", again.log
    assert [r for r in gh.requests if r.method != "GET"] == []
