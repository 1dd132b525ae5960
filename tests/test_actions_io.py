"""The runner's protocol: escaping, annotations and their limit, outputs, summary, masks."""

from __future__ import annotations

import io
import re
from pathlib import Path

from batch_action.actions_io import SUMMARY_LIMIT, ActionsIO, escape_data, escape_property


def make(tmp_path: Path, in_actions: bool = True) -> tuple[ActionsIO, io.StringIO, dict[str, str]]:
    env = {"GITHUB_OUTPUT": str(tmp_path / "out"), "GITHUB_STEP_SUMMARY": str(tmp_path / "sum")}
    if in_actions:
        env["GITHUB_ACTIONS"] = "true"
    stream = io.StringIO()
    return ActionsIO(stream, env), stream, env


def test_escaping_rules() -> None:
    assert escape_data("100%\r\nnext") == "100%25%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_annotation_points_at_file_and_line_with_escaped_properties(tmp_path: Path) -> None:
    gha, stream, _ = make(tmp_path)
    gha.error("bad: value\nsecond line", file=".claude/epics/a,b/001.md", line=3, title="Parse: error")
    assert stream.getvalue() == (
        "::error file=.claude/epics/a%2Cb/001.md,line=3,title=Parse%3A error::bad: value%0Asecond line\n"
    )


def test_only_ten_annotations_per_kind_reach_the_ui_the_rest_overflow(tmp_path: Path) -> None:
    gha, stream, _ = make(tmp_path)
    for n in range(13):
        gha.warning(f"w{n}", file="f.md", line=n + 1)
    gha.error("e0")
    lines = stream.getvalue().splitlines()
    assert sum(line.startswith("::warning ") for line in lines) == 10
    assert [a.message for a in gha.overflow] == ["w10", "w11", "w12"]
    assert lines[-1] == "::error::e0"


def test_outputs_single_and_multiline(tmp_path: Path) -> None:
    gha, _, env = make(tmp_path)
    gha.set_output("created", "3")
    gha.set_output("report", "line one\nline two")
    text = Path(env["GITHUB_OUTPUT"]).read_text()
    match = re.fullmatch(r"created=3\nreport<<(ghadelimiter_[0-9a-f-]{36})\nline one\nline two\n\1\n", text)
    assert match, text


def test_summary_is_kept_under_one_mebibyte(tmp_path: Path) -> None:
    gha, _, env = make(tmp_path)
    assert gha.add_summary("# hello\n")
    assert not gha.add_summary("x" * SUMMARY_LIMIT)
    assert Path(env["GITHUB_STEP_SUMMARY"]).read_text() == "# hello\n"


def test_mask_registers_secret_and_redacts_log_lines(tmp_path: Path) -> None:
    gha, stream, _ = make(tmp_path)
    gha.mask("s3cr3t")
    gha.log("token is s3cr3t")
    assert stream.getvalue().splitlines() == ["::add-mask::s3cr3t", "token is ***"]


def test_plain_text_outside_actions(tmp_path: Path) -> None:
    stream = io.StringIO()
    gha = ActionsIO(stream, {})
    gha.mask("s3cr3t")
    with gha.group("Plan"):
        gha.error("broken s3cr3t", file="a.md", line=2)
    gha.set_output("created", "1")
    assert stream.getvalue().splitlines() == ["== Plan", "error: a.md:2: broken ***", "output created=1"]


def test_a_plain_line_is_one_line_with_its_controls_shown(tmp_path: Path) -> None:
    gha, stream, _ = make(tmp_path, in_actions=False)
    gha.log("name\nnext\r\x1b[31mred\u2028sep\udcffbyte\ttab")
    assert stream.getvalue() == "name\\nnext\\r\\x1b[31mred\\u2028sep\\xffbyte\ttab\n"


def test_a_plain_line_that_reads_as_a_command_is_printed_inert(tmp_path: Path) -> None:
    gha, stream, _ = make(tmp_path)
    gha.log_lines(["create  .claude/epics/ok/001.md", "  ::error::forged", "x ##[error]old syntax"])
    lines = stream.getvalue().splitlines()
    assert lines[0] == "create  .claude/epics/ok/001.md"
    for start, text in ((1, "  ::error::forged"), (4, "x ##[error]old syntax")):
        stop, shown, resume = lines[start : start + 3]
        token = stop.removeprefix("::stop-commands::")
        assert len(token) == 32 and shown == text and resume == f"::{token}::"
    assert lines[1] != lines[4]  # a fresh token each time: text cannot learn one and end the block


def test_command_data_and_properties_stay_on_one_line(tmp_path: Path) -> None:
    gha, stream, _ = make(tmp_path)
    gha.warning("bad\u2028\x1bmessage\udcfe", file="a\x07b.md", title="t\u202e")
    assert stream.getvalue() == "::warning file=a\\x07b.md,title=t\\u202e::bad\\u2028\\x1bmessage\\xfe\n"


def test_a_secret_is_redacted_before_it_is_escaped(tmp_path: Path) -> None:
    gha, stream, _ = make(tmp_path)
    gha.mask("ab%cd")
    gha.error("token ab%cd refused")
    gha.debug("trace with ab%cd\nsecond line")
    assert stream.getvalue().splitlines()[1:] == ["::error::token *** refused", "::debug::trace with ***%0Asecond line"]
    assert gha.redact("x ab%cd y") == "x *** y"
