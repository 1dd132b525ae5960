"""Everything the action says to the runner: workflow commands, outputs, the step summary.

Inside Actions it writes `::command k=v::message` lines with the runner's escaping rules, outputs to
`$GITHUB_OUTPUT` (heredoc form with a random delimiter for multi-line values) and markdown to
`$GITHUB_STEP_SUMMARY`. Outside Actions the same calls print readable plain text, so a local run reads well.
"""

from __future__ import annotations

import contextlib
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


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


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
        self._summary_bytes = 0

    # -- plain log lines ------------------------------------------------------------------------------------------
    def log(self, message: str) -> None:
        with self._lock:
            self._stream.write(self._redact(message) + "\n")
            self._stream.flush()

    def log_lines(self, lines: Iterable[str]) -> None:
        """Many lines, one write and one flush (a flush per line cost 0.2 s for a 30,000-line plan)."""
        text = "".join(self._redact(line) + "\n" for line in lines)
        with self._lock:
            self._stream.write(text)
            self._stream.flush()

    def debug(self, message: str) -> None:
        if self.in_actions:
            self._command("debug", escape_data(message))

    # -- workflow commands ----------------------------------------------------------------------------------------
    def mask(self, secret: str) -> None:
        """Register a secret: the runner hides it in the log; outside Actions we redact it ourselves."""
        if not secret or secret in self._secrets:
            return
        self._secrets.append(secret)
        if self.in_actions:
            self._command("add-mask", escape_data(secret), redact=False)

    def annotate(self, annotation: Annotation) -> None:
        with self._lock:
            shown = self._shown.get(annotation.level, 0)
            self._shown[annotation.level] = shown + 1
            if shown >= ANNOTATIONS_SHOWN:
                self.overflow.append(annotation)
        if shown >= ANNOTATIONS_SHOWN:
            self.log(self._plain(annotation))
            return
        if not self.in_actions:
            self.log(self._plain(annotation))
            return
        props = []
        if annotation.file:
            props.append(f"file={escape_property(annotation.file)}")
        if annotation.line:
            props.append(f"line={annotation.line}")
        if annotation.title:
            props.append(f"title={escape_property(annotation.title)}")
        head = annotation.level + (" " + ",".join(props) if props else "")
        self._command(head, escape_data(annotation.message))

    def error(self, message: str, file: str | None = None, line: int | None = None, title: str | None = None) -> None:
        self.annotate(Annotation("error", message, file, line, title))

    def warning(self, message: str, file: str | None = None, line: int | None = None, title: str | None = None) -> None:
        self.annotate(Annotation("warning", message, file, line, title))

    def notice(self, message: str, file: str | None = None, line: int | None = None, title: str | None = None) -> None:
        self.annotate(Annotation("notice", message, file, line, title))

    @contextlib.contextmanager
    def group(self, title: str) -> Iterator[None]:
        if self.in_actions:
            self._command("group", escape_data(title))
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
        data = self._redact(markdown).encode("utf-8")
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
    def _command(self, head: str, data: str, *, redact: bool = True) -> None:
        line = f"::{head}::{data}"
        with self._lock:
            self._stream.write((self._redact(line) if redact else line) + "\n")
            self._stream.flush()

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    @staticmethod
    def _plain(annotation: Annotation) -> str:
        where = ""
        if annotation.file:
            where = f"{annotation.file}:{annotation.line}: " if annotation.line else f"{annotation.file}: "
        return f"{annotation.level}: {where}{annotation.message}"
