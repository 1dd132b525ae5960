"""Split a planning file into front matter and body, and read the front matter the way real trees need.

Real files carry a UTF-8 BOM, CRLF line ends, unquoted `: ` inside values, impossible timestamps and zero-padded
ids that YAML 1.1 turns into octal (`010` -> 8). So the YAML is loaded with *no* implicit typing: every scalar stays
the string that was written. When PyYAML still refuses the text, a line reader in the spirit of CCPM's own
`grep '^name:' | sed` takes over. Pure functions; no I/O.
"""

from __future__ import annotations

import functools
import re
import sys
from dataclasses import dataclass, field

import yaml

Value = str | list[str]


class _StringLoader(yaml.SafeLoader):
    """SafeLoader that resolves no implicit types: `001`, `2026-89-23T…`, `true` and `null` all stay strings."""


_StringLoader.yaml_implicit_resolvers = {}

_FastStringLoader: type[yaml.CSafeLoader] | None = None
if getattr(yaml, "__with_libyaml__", False):

    class _CStringLoader(yaml.CSafeLoader):
        """The same loader on libyaml's C parser: about 7x faster (0.3 ms against 2 ms per front matter)."""

    _CStringLoader.yaml_implicit_resolvers = {}
    _FastStringLoader = _CStringLoader

_KEY_RE = re.compile(r"^([A-Za-z_][\w-]*)\s*:(.*)$")

# The shape nearly every planning file's front matter has: `key: plain text` and `key: [a, b]` lines, nothing
# else. For such lines YAML (with no implicit typing) gives exactly the text, so they are read without it; any
# other line (quotes, comments, block lists, anchors, tags, indentation, `: ` in a value…) goes through YAML.
_SIMPLE_LINE_RE = re.compile(r"([A-Za-z_][\w-]*):(?: +(.*?))? *")
# YAML's printable characters, without tab, line separators and BOM, which end or change a plain scalar.
_PRINTABLE = "\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff"
_PLAIN_RE = re.compile(rf"(?![\s\-?:,\[\]{{}}#&*!|>'\"%@`])[{_PRINTABLE}]+")
_FLOW_ITEM_RE = re.compile(r"\w[\w. /-]*")


@dataclass(frozen=True)
class FrontMatter:
    values: dict[str, Value]
    lines: dict[str, int]  # key -> 1-based line number in the file
    body: str
    body_line: int  # 1-based line where the body starts
    has_front_matter: bool
    used_fallback: bool = False
    problems: list[tuple[int, str, str]] = field(default_factory=list)  # (line, message, fix)


class FrontMatterError(ValueError):
    def __init__(self, line: int, message: str, fix: str) -> None:
        super().__init__(message)
        self.line = line
        self.fix = fix


def split(text: str) -> FrontMatter:
    """Parse `text` (already decoded). Raises FrontMatterError only for front matter that is never closed."""
    header, body = _cut(text)
    if header is None:
        return FrontMatter({}, {}, body, 1, has_front_matter=False)
    end = len(header) + 1  # the closing line's index
    simple = _simple_values(header)
    if simple is not None:  # nearly every file: values and key lines from one pass, no YAML
        values, key_lines, keyed = simple
        problems: list[tuple[int, str, str]] = []
        used_fallback = False
    else:
        key_lines = _key_lines(header)
        values, problems, used_fallback = _read_values(header)
        keyed = sum(1 for line in header if _KEY_RE.match(line))
    if len(key_lines) < keyed:
        problems = [*problems, *duplicate_keys(header)]
    return FrontMatter(
        values=values,
        lines=key_lines,
        body=body,
        body_line=end + 2,
        has_front_matter=True,
        used_fallback=used_fallback,
        problems=problems,
    )


def body_of(text: str) -> str:
    """`split(text).body`, without reading the front matter's values."""
    return _cut(text)[1]


def _cut(text: str) -> tuple[list[str] | None, str]:
    """The front matter's lines (None when the file has none) and the body, line ends normalised."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    newline = text.find("\n")
    if (text if newline < 0 else text[:newline]).strip() != "---":
        return None, text
    # The closing line is the first whose text is `---` (spaces around allowed), so it holds a `---`: only the
    # lines with one are looked at, and the header between is split once. The body is sliced off whole.
    start = newline + 1
    found = text.find("---", start) if newline >= 0 else -1
    while found >= 0:
        line_start = text.rfind("\n", start, found) + 1 or start
        line_end = text.find("\n", found)
        if text[line_start : len(text) if line_end < 0 else line_end].strip() == "---":
            header = text[start : line_start - 1].split("\n") if line_start > start else []
            return header, "" if line_end < 0 else text[line_end + 1 :]
        found = text.find("---", line_end) if line_end >= 0 else -1
    raise FrontMatterError(
        1,
        "front matter opened with `---` on line 1 is never closed",
        "add a line `---` after the last front-matter field",
    )


def _key_lines(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, line in enumerate(header):
        match = _KEY_RE.match(line)
        if match and match.group(1) not in found:
            found[sys.intern(match.group(1))] = index + 2  # +1 for the opening `---`, +1 for 1-based lines
    return found


def _read_values(header: list[str]) -> tuple[dict[str, Value], list[tuple[int, str, str]], bool]:
    """The header through YAML (the line reader when YAML refuses it): for headers `_simple_values` declines."""
    try:
        loaded = _load("\n".join(header))
    except yaml.YAMLError as exc:
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        context = getattr(exc, "context", None) or ""
        fix = _yaml_fix(reason, context)
        # An unclosed list is reported where the stream ends; the line to fix is the one that opened it.
        mark = getattr(exc, "context_mark" if "flow" in context else "problem_mark", None)
        line = (mark.line + 2) if mark is not None else 2
        problem = (line, f"front matter is not valid YAML ({reason}); read it line by line instead", fix)
        return read_lines(header), [problem], True
    if loaded is None:
        return {}, [], False
    if not isinstance(loaded, dict):
        return read_lines(header), [(2, "front matter is not a mapping of `key: value` lines", "")], True
    values: dict[str, Value] = {}
    for key, value in loaded.items():
        normalised = _normalise(value)
        if normalised is not None:
            values[str(key)] = normalised
    return values, [], False


def _yaml_fix(reason: str, context: str) -> str:
    """The fix for the YAML error PyYAML reported: the hint for one mistake is wrong for another."""
    if "\\t" in reason or "tab" in reason:
        return "indent with spaces: YAML does not allow tabs"
    if "flow sequence" in context:
        return "close the list with `]`, e.g. depends_on: [001, 002]"
    if "mapping values are not allowed" in reason:
        return 'quote values that contain `: `, e.g. name: "Refactor: storage"'
    if "end of stream" in reason or "quoted scalar" in context:
        return "close the quote the value opens"
    return "write each field as `key: value` on a line of its own, quoting a value with special characters"


def duplicate_keys(header: list[str]) -> list[tuple[int, str, str]]:
    """Keys given twice at the start of a line: YAML and the line reader keep the last, silently."""
    first: dict[str, int] = {}
    found: list[tuple[int, str, str]] = []
    for index, line in enumerate(header):
        match = _KEY_RE.match(line)
        if match is None:
            continue
        key, number = match.group(1), index + 2
        if key in first:
            found.append(
                (number, f"`{key}` is given twice (lines {first[key]} and {number}); the last one is used", "keep one")
            )
        else:
            first[key] = number
    return found


def _load(source: str) -> object:
    """YAML with no implicit typing; libyaml when present, PyYAML's pure-Python parser otherwise.

    Both build the same values. Their error messages differ in wording, so on an error the pure-Python parser
    runs again and its error is the one raised: the reported problem does not depend on how PyYAML was built.
    """
    if _FastStringLoader is not None:
        try:
            return yaml.load(source, Loader=_FastStringLoader)
        except yaml.YAMLError:
            pass
    return yaml.load(source, Loader=_StringLoader)


def _simple_values(header: list[str]) -> tuple[dict[str, Value], dict[str, int], int] | None:
    """What YAML would load from `header` when every line is a simple `key: value` line, with each key's first
    line number (as `_key_lines` gives them) and how many lines hold a key (as many as `_KEY_RE` matches: every
    simple line is one); None otherwise."""
    loaded: dict[str, Value] = {}
    lines: dict[str, int] = {}
    keyed = 0
    for index, line in enumerate(header, start=2):  # +1 for the opening `---`, +1 for 1-based lines
        read = _simple_line(line)
        if read is None:
            return None
        if read is _BLANK:
            continue
        key, value = read
        keyed += 1
        if key not in lines:
            lines[key] = index
        loaded[key] = list(value) if isinstance(value, tuple) else value  # a list of its own for each file
    return loaded, lines, keyed


_BLANK = ("", "")  # a line of spaces only: no key, no value


@functools.lru_cache(maxsize=256)
def _simple_line(line: str) -> tuple[str, str | tuple[str, ...]] | None:
    """One simple line's key and value (a flow list as a tuple), `_BLANK` for a blank line, None for a line that
    needs YAML. Cached: most lines of a tree repeat in file after file (`status: open`, `depends_on: []`, the
    `github:` placeholder), and reading a line again cost half of the front matter's time. A few hundred lines
    are enough (a line that repeats comes back within a few files: 46,000 hits in 78,700 lines of a 10,000-item
    tree, 48,000 with 4,096) and hold ~60 KB, not the 1 MB of 4,096."""
    match = _SIMPLE_LINE_RE.fullmatch(line)
    if match is None:
        return None if line.strip(" ") else _BLANK
    key, raw = sys.intern(match.group(1)), match.group(2)
    if not raw:
        return key, ""  # no implicit typing: an empty value is the empty string, not null
    if raw[0] == "[" and raw[-1] == "]":
        inner = raw[1:-1].strip(" ")
        items = tuple(item.strip(" ") for item in inner.split(",")) if inner else ()
        if not all(_FLOW_ITEM_RE.fullmatch(item) for item in items):
            return None
        return key, items
    if _PLAIN_RE.fullmatch(raw) and ": " not in raw and " #" not in raw and raw[-1] != ":":
        return key, raw
    return None


def _normalise(value: object) -> Value | None:
    if value is None:
        return None
    if isinstance(value, list):
        return [str(item) for item in value if item is not None and not isinstance(item, (dict, list))]
    if isinstance(value, dict):
        return None  # nested maps are not part of any known schema
    return str(value)


def read_lines(header: list[str]) -> dict[str, Value]:
    """CCPM's own reading: `key: value` at the start of a line; `[a, b]` and `- item` lists; quotes stripped."""
    values: dict[str, Value] = {}
    current: str | None = None
    for line in header:
        match = _KEY_RE.match(line)
        if match:
            current = match.group(1)
            raw = _strip_comment(match.group(2).strip())
            if raw.startswith("[") and raw.endswith("]"):
                values[current] = [_unquote(item) for item in raw[1:-1].split(",") if item.strip()]
            elif raw:
                values[current] = _unquote(raw)
            else:
                values[current] = []
            continue
        stripped = line.strip()
        if current and stripped.startswith("- "):
            existing = values.get(current)
            items = existing if isinstance(existing, list) else []
            items.append(_unquote(stripped[2:]))
            values[current] = items
    return values


def _strip_comment(raw: str) -> str:
    # `depends_on: []  # list of task numbers`: a comment starts at ` #` outside quotes.
    if raw[:1] in "\"'":
        return raw
    index = raw.find(" #")
    return raw[:index].rstrip() if index >= 0 else raw


def _unquote(raw: str) -> str:
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        return raw[1:-1]
    return raw
