"""Everything the action says to the runner: workflow commands, outputs, the step summary.

Inside Actions it writes `::command k=v::message` lines with the runner's escaping rules, outputs to
`$GITHUB_OUTPUT` (heredoc form with a random delimiter for multi-line values) and markdown to
`$GITHUB_STEP_SUMMARY`. Outside Actions the same calls print readable plain text, so a local run reads well.

Every line goes out through one writer, because most of what is printed comes from outside: file and folder
names, front matter, GitHub's error texts. The runner takes any stdout line that starts with `::` (after leading
blanks) or holds `##[` as a command. So, for every line: secrets are redacted first, then control characters (a
newline would start a new line, an escape sequence would drive a terminal) and lone surrogates (a file name that
is not UTF-8) are shown as `\\n`, `\\x1b`, `\\xff`; and a plain line that could still read as a command is
printed between `::stop-commands::<random token>` and `::<token>::`, which the runner treats as inert text.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

# The runner shows only ten annotations of each kind per step; the rest would be silently lost.
ANNOTATIONS_SHOWN = 10
# The runner drops the whole summary (with an error) above 1 MiB.
SUMMARY_LIMIT = 1024 * 1024


# Everything but tab that a terminal or the runner's line reader could act on: C0 and C1 controls, DEL, the
# Unicode line and paragraph separators, the bidirectional overrides (text that reads otherwise than it is),
# and lone surrogates, which is how Python holds the bytes of a file name that is not UTF-8.
_UNPRINTABLE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r"}
# What the runner may parse as a command: `::name::` (checked after trimming) and the old `##[name]` anywhere.
_COMMAND_LIKE = ("::", "##[")


def _shown(char: str) -> str:
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: the original byte
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` on one line, with every control character, separator and lone surrogate shown as an escape."""
    return _UNPRINTABLE.sub(lambda match: _shown(match.group()), text) if _UNPRINTABLE.search(text) else text


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def could_be_command(line: str) -> bool:
    return any(token in line for token in _COMMAND_LIKE)


@dataclass(frozen=True)
class Annotation:
    level: str  # "error" | "warning" | "notice"
    message: str
    file: str | None = None
    line: int | None = None
    title: str | None = None


class ActionsIO:
    """The runner's protocol on an injected stream and environment (tests pass a StringIO and a dict)."""

    def __init__(self, stream: TextIO, env: Mapping[str, str]) -> None:
        self._stream = stream
        self._env = env
        self.in_actions = env.get("GITHUB_ACTIONS") == "true"
        self._lock = threading.Lock()
        self._shown: dict[str, int] = {}
        self.overflow: list[Annotation] = []  # annotations past the UI's limit: the summary lists them
        self._secrets: list[str] = []
        self._reader_gone = False

    # -- plain log lines ------------------------------------------------------------------------------------------
    def log(self, message: str) -> None:
        """One line of text (a newline in it is shown as `\\n`, never starts a line of its own)."""
        self._write(self._plain_line(message))

    def log_lines(self, lines: Iterable[str]) -> None:
        """Many lines, one write and one flush (a flush per line cost 0.2 s for a 30,000-line plan)."""
        self._write("".join(self._plain_line(line) for line in lines))

    def debug(self, message: str) -> None:
        if self.in_actions:
            self._command("debug", message)

    # -- workflow commands ----------------------------------------------------------------------------------------
    def mask(self, secret: str) -> None:
        """Register a secret: the runner hides it in the log; outside Actions we redact it ourselves."""
        if not secret or secret in self._secrets:
            return
        self._secrets.append(secret)
        self._secrets.sort(key=len, reverse=True)  # a longer secret first, so no part of it is left showing
        if self.in_actions:
            self._command("add-mask", secret, redact=False)

    def annotate(self, annotation: Annotation) -> None:
        with self._lock:
            shown = self._shown.get(annotation.level, 0)
            self._shown[annotation.level] = shown + 1
            if shown >= ANNOTATIONS_SHOWN:
                self.overflow.append(annotation)
        if shown >= ANNOTATIONS_SHOWN or not self.in_actions:
            self.log(self._plain(annotation))
            return
        props = {"file": annotation.file, "line": str(annotation.line or ""), "title": annotation.title}
        self._command(annotation.level, annotation.message, props)

    def error(self, message: str, file: str | None = None, line: int | None = None, title: str | None = None) -> None:
        self.annotate(Annotation("error", message, file, line, title))

    def warning(self, message: str, file: str | None = None, line: int | None = None, title: str | None = None) -> None:
        self.annotate(Annotation("warning", message, file, line, title))

    def notice(self, message: str, file: str | None = None, line: int | None = None, title: str | None = None) -> None:
        self.annotate(Annotation("notice", message, file, line, title))

    @contextlib.contextmanager
    def group(self, title: str) -> Iterator[None]:
        if self.in_actions:
            self._command("group", title)
        else:
            self.log(f"== {title}")
        try:
            yield
        finally:
            if self.in_actions:
                self._command("endgroup", "")

    # -- file commands --------------------------------------------------------------------------------------------
    def set_output(self, name: str, value: str) -> None:
        path = self._env.get("GITHUB_OUTPUT")
        if not path:
            self.log(f"output {name}={value}")
            return
        if "\n" in value or "\r" in value:
            delimiter = f"ghadelimiter_{uuid.uuid4()}"
            text = f"{name}<<{delimiter}\n{value}\n{delimiter}\n"
        else:
            text = f"{name}={value}\n"
        with self._lock, open(path, "a", encoding="utf-8") as handle:
            handle.write(text)

    def add_summary(self, markdown: str) -> bool:
        """Append markdown to the step summary; refuses (returns False) what would push it past 1 MiB."""
        path = self._env.get("GITHUB_STEP_SUMMARY")
        data = self.redact(markdown).encode("utf-8", "backslashreplace")
        if not path:
            return False
        with self._lock:
            current = Path(path).stat().st_size if Path(path).exists() else 0
            if current + len(data) > SUMMARY_LIMIT:
                return False
            with open(path, "ab") as handle:
                handle.write(data)
        return True

    @property
    def summary_path(self) -> str | None:
        return self._env.get("GITHUB_STEP_SUMMARY")

    # -- internals ------------------------------------------------------------------------------------------------
    def redact(self, text: str) -> str:
        """`text` with every registered secret replaced by `***` (for files and reports as well as the log)."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, "***")
        return text

    def _command(
        self, name: str, message: str, props: Mapping[str, str | None] | None = None, *, redact: bool = True
    ) -> None:
        """`::name k=v,…::message`. Redacted before it is escaped: a secret with a newline would no longer match."""
        clean = self.redact if redact else (lambda text: text)
        shown = ",".join(
            f"{key}={printable(escape_property(clean(value)))}" for key, value in (props or {}).items() if value
        )
        head = name + (" " + shown if shown else "")
        self._write(f"::{head}::{printable(escape_data(clean(message)))}\n")

    def _plain_line(self, text: str) -> str:
        line = printable(self.redact(text))
        if self.in_actions and could_be_command(line):
            token = uuid.uuid4().hex  # unguessable, so text cannot end the block early
            return f"::stop-commands::{token}\n{line}\n::{token}::\n"
        return line + "\n"

    def _write(self, text: str) -> None:
        with self._lock:
            if self._reader_gone:
                return
            try:
                self._stream.write(text)
                self._stream.flush()
            except BrokenPipeError:
                # The reader went away (`batch-action … | head`): drop the log, not the run's work.
                self._reader_gone = True
                _discard_from_now_on(self._stream)

    @staticmethod
    def _plain(annotation: Annotation) -> str:
        where = ""
        if annotation.file:
            where = f"{annotation.file}:{annotation.line}: " if annotation.line else f"{annotation.file}: "
        return f"{annotation.level}: {where}{annotation.message}"


def _discard_from_now_on(stream: TextIO) -> None:
    """Point the stream's file descriptor at /dev/null, so that what is still buffered (and the interpreter's
    flush at exit) goes nowhere instead of raising BrokenPipeError again."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not backed by a descriptor (a StringIO in tests)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)
