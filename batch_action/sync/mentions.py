"""`@name` and `@org/team` in an issue body, rendered so that GitHub links (and notifies) no one.

Planning files are full of `@dataclass`, `@types/node`, `@media` and `@pytest.fixture`; copied verbatim, a first
sync pings whoever owns those names. Each mention outside code is wrapped in backticks (`@types/node`), which keeps
it readable: GitHub does not look for mentions inside code.

What counts as a mention (GitHub's rules for user names and team mentions): `@` not preceded by an ASCII letter
or digit (so `user@example.com` is none; a `_` before it may be emphasis, gone once rendered), then a name of
letters, digits and single hyphens, not starting with a hyphen, at most 39 characters. `/team` and the rest of a
dotted or slashed word (`@types/node`, `@pytest.fixture`) are wrapped with it, trailing punctuation is not.
What counts as code (CommonMark): a code span is a run of N backticks closed by the next run of exactly N, within
one paragraph; a fence is ``` or ~~~ (3 or more, at most 3 spaces of indent, any indent inside a list) closed by a
fence of the same character at least as long; an indented code block is 4 spaces of indent after a blank line,
outside lists. URLs, autolinks, link destinations and `<code>` are left as they are (GitHub links no user in them,
and a backtick would break a URL). Other HTML, comments included, is treated as text.

The markdown around a mention must keep its meaning: a backtick next to the mention, or a lone backtick earlier in
the same paragraph (which the inserted one would close), makes the wrap `<code>…</code>` instead; a backslash that
escaped the `@` is dropped with it. When unsure whether text is code, it is treated as prose: a visible pair of
backticks costs less than a ping.
"""

from __future__ import annotations

import re
from bisect import bisect_right

MODES = ("escape", "keep")

_QUOTE_RE = re.compile(r"^(?: {0,3}> ?)*")
_FENCE_RE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_LIST_ITEM_RE = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)")
_HEADING_RE = re.compile(r"^ {0,3}#{1,6}(?:[ \t]|$)")
_TABLE_ROW_RE = re.compile(r"^ {0,3}\|")
_CELL_SPLIT_RE = re.compile(r"((?<!\\)\|)")
_BACKTICKS_RE = re.compile(r"`+")
_OPAQUE_RE = re.compile(
    r"\]\([^)\n]*\)?"  # a link's destination and title
    r"|<[A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*>"  # an autolink
    r"|<[^\s<>@]+@[^\s<>]+>"  # an email autolink
    r"|(?:https?://|www\.)[^\s<`]*"  # a URL GitHub links by itself
    r"|<code>.*?</code>",  # code in HTML, as the fallback below writes it
    re.IGNORECASE | re.DOTALL,
)
_MENTION_RE = re.compile(r"(?<![A-Za-z0-9])@[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9]))*")
_NAME_LIMIT = 39
_WORD_TAIL_RE = re.compile(r"[A-Za-z0-9_./-]*")


def escape_mentions(body: str) -> str:
    """`body` with every mention outside code wrapped so that it links no one; the same string when there is none."""
    if "@" not in body or not _MENTION_RE.search(body):  # e-mail addresses only, say: nothing to look at
        return body
    out: list[str] = []
    paragraph: list[str] = []  # the lines of one inline context: a code span cannot reach beyond it

    def flush() -> None:
        if paragraph:
            out.append(_escape_inline("".join(paragraph)))
            paragraph.clear()

    fence: tuple[str, int] | None = None  # the open fence's character and length
    code_may_start = True  # after a blank line (or at the start) an indented line is code
    in_list = False
    depth = 0  # of block quotes: a change of depth starts a new block
    for line in body.splitlines(keepends=True):
        prefix = _QUOTE_RE.match(line)
        assert prefix is not None  # the pattern matches the empty string
        text = line[prefix.end() :].rstrip("\r\n")
        if fence is not None:
            out.append(line)
            if _closes(text, fence, in_list):
                fence = None
            continue
        opening = _FENCE_RE.match(text)
        if opening and _opens(opening, in_list):
            flush()
            out.append(line)
            fence = (opening["fence"][0], len(opening["fence"]))
            continue
        if not text.strip():
            flush()
            out.append(line)
            code_may_start = True
            continue
        indent = len(text.expandtabs(4)) - len(text.expandtabs(4).lstrip(" "))
        if indent >= 4 and code_may_start and not in_list:
            flush()
            out.append(line)  # an indented code block; the next indented line continues it
            continue
        code_may_start = False
        line_depth = prefix.group().count(">")
        if line_depth != depth:
            flush()
            depth = line_depth
        if _LIST_ITEM_RE.match(text) and (indent <= 3 or in_list):  # deeper only as a nested item
            flush()
            in_list = True
        elif indent == 0 and not paragraph:
            in_list = False  # a paragraph at the margin ends the list
        if _HEADING_RE.match(text):
            flush()
            out.append(_escape_inline(line))
        elif _TABLE_ROW_RE.match(text):
            flush()  # GitHub splits a table row into cells before it looks for code spans
            out.append("".join(_escape_inline(cell) for cell in _CELL_SPLIT_RE.split(line)))
        else:
            paragraph.append(line)
    flush()
    return "".join(out)


def _opens(opening: re.Match[str], in_list: bool) -> bool:
    if len(opening["indent"]) > 3 and not in_list:
        return False
    return not (opening["fence"][0] == "`" and "`" in opening["info"])  # ```a` is inline code, not a fence


def _closes(text: str, fence: tuple[str, int], in_list: bool) -> bool:
    stripped = text.lstrip(" \t")
    if len(text) - len(stripped) > 3 and not in_list:
        return False
    char, length = fence
    run = len(stripped) - len(stripped.lstrip(char))
    return run >= length and not stripped[run:].strip()


def _escape_inline(text: str) -> str:
    """Wrap the mentions of one paragraph (or heading, or table cell) that are outside its code and links."""
    if "@" not in text:
        return text
    spans, lone_ticks = _code_spans(text)
    opaque = spans + _links(text, spans)
    pieces: list[str] = []
    done = 0
    for match in _MENTION_RE.finditer(text):
        start = match.start()
        if len(match.group()) - 1 > _NAME_LIMIT or _inside(start, opaque):
            continue
        tail = _WORD_TAIL_RE.match(text, match.end())
        assert tail is not None  # the pattern matches the empty string
        end = match.end() + len(tail.group().rstrip("./-_"))
        cut = start - 1 if _escaped(text, start) else start  # `\@x` shows `@x`: the backslash goes too
        token = text[start:end]
        beside = (text[cut - 1 : cut], text[end : end + 1])
        # A backtick here would join the run beside it, or close a lone one earlier on.
        risky = "`" in beside or any(tick < start for tick in lone_ticks)
        wrapped = f"<code>{token}</code>" if risky else f"`{token}`"
        pieces += [text[done:cut], wrapped]
        done = end
    pieces.append(text[done:])
    return "".join(pieces)


def _code_spans(text: str) -> tuple[list[tuple[int, int]], list[int]]:
    """The code spans of `text` as (start, end), and where each single backtick that closes nothing stands."""
    runs = [match.span() for match in _BACKTICKS_RE.finditer(text)]
    spans: list[tuple[int, int]] = []
    lone: list[int] = []
    index = 0
    while index < len(runs):
        start, end = runs[index]
        index += 1
        if _escaped(text, start):  # outside a code span `\`` is a literal backtick
            start += 1
            if start == end:
                continue
        length = end - start
        closer = next((i for i in range(index, len(runs)) if runs[i][1] - runs[i][0] == length), None)
        if closer is None:
            if length == 1:
                lone.append(start)
            continue
        spans.append((start, runs[closer][1]))
        index = closer + 1
    return spans, lone


def _links(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """URLs, autolinks and link destinations outside code spans."""
    found: list[tuple[int, int]] = []
    starts = [start for start, _ in spans]
    position = 0
    while (match := _OPAQUE_RE.search(text, position)) is not None:
        at = bisect_right(starts, match.start()) - 1
        if at >= 0 and match.start() < spans[at][1]:
            position = spans[at][1]  # inside code: look again after the span
            continue
        found.append(match.span())
        position = match.end()
    return found


def _inside(position: int, ranges: list[tuple[int, int]]) -> bool:
    return any(start <= position < end for start, end in ranges)


def _escaped(text: str, position: int) -> bool:
    """Whether the character at `position` follows an odd number of backslashes."""
    count = 0
    while position - count > 0 and text[position - count - 1] == "\\":
        count += 1
    return count % 2 == 1
