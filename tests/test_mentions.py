"""escape_mentions: which `@` GitHub would link, and how wrapping them keeps the markdown around them intact."""

from __future__ import annotations

import pytest

from batch_action.sync.mentions import escape_mentions

CASES = [
    # (what, body, expected)
    ("a user", "ask @someone today", "ask `@someone` today"),
    ("a team", "ask @org/team today", "ask `@org/team` today"),
    ("a package scope", "install @types/node first", "install `@types/node` first"),
    ("a decorator", "use @dataclass here", "use `@dataclass` here"),
    ("a dotted decorator", "mark it @pytest.fixture.", "mark it `@pytest.fixture`."),
    ("at the start of the body", "@someone: look", "`@someone`: look"),
    ("at the start of a later line", "one\n@someone two", "one\n`@someone` two"),
    ("at the end", "thanks @someone", "thanks `@someone`"),
    ("before punctuation", "(@a), @b; @c! @d? @e.", "(`@a`), `@b`; `@c`! `@d`? `@e`."),
    ("a trailing slash or hyphen stays outside", "@org/ and @name-", "`@org`/ and `@name`-"),
    ("inside link text", "[by @writer](https://x.test/p)", "[by `@writer`](https://x.test/p)"),
    ("in emphasis", "*@a* **@b** _@c_ ~@d~", "*`@a`* **`@b`** _`@c`_ ~`@d`~"),
    # `_` may be an emphasis delimiter, gone once rendered: the mention after it would be linked.
    ("after an underscore", "x_@name", "x_`@name`"),
    ("a doubled at sign", "ping @@name", "ping @`@name`"),
    ("two in a row", "@a @b", "`@a` `@b`"),
    ("separated by a slash", "@a/@b", "`@a`/`@b`"),
    ("after a non-ASCII letter", "é@name", "é`@name`"),
    ("a heading", "# Owner @lead\n", "# Owner `@lead`\n"),
    ("a list item", "- [ ] ask @qa\n", "- [ ] ask `@qa`\n"),
    ("a block quote", "> from @pm\n", "> from `@pm`\n"),
    ("a table cell", "| who | @dev |\n", "| who | `@dev` |\n"),
    ("a 39-character name", "@" + "a" * 39, "`@" + "a" * 39 + "`"),
    ("a name with single hyphens", "@a-b-c", "`@a-b-c`"),
    ("a double hyphen: the name stops, the word is wrapped", "@a--b", "`@a--b`"),
    # The markdown around must keep its meaning.
    ("a backslash-escaped at sign", r"see \@name", "see `@name`"),
    ("an escaped backslash before it", r"see \\@name", r"see \\`@name`"),
    ("right after a code span", "`x`@name", "`x`<code>@name</code>"),
    ("right before a backtick", "@name`", "<code>@name</code>`"),
    ("after a lone backtick", "a ` b @name", "a ` b <code>@name</code>"),
    ("a lone backtick in an earlier paragraph is no matter", "a ` b\n\n@name", "a ` b\n\n`@name`"),
    ("a lone double backtick is no matter", "a `` b @name", "a `` b `@name`"),
    ("an escaped backtick opens no span", r"\`@a` @b", r"\`<code>@a</code>` <code>@b</code>"),
    # Not mentions: left exactly as they are.
    ("an email address", "mail user@example.com", None),
    ("a dotted email address", "first.last@example.com", None),
    ("a hyphen first", "@-name", None),
    ("a 40-character name", "@" + "a" * 40, None),
    ("an at sign alone", "a @ b and @", None),
    ("no at sign", "plain text", None),
    # Code: left exactly as it is.
    ("a code span", "use `@types/node` here", None),
    ("a double-backtick span", "``a `@tick` b``", None),
    ("a code span over two lines", "`a\n@name`", None),
    ("a backtick fence", "```python\n@pytest.fixture\n```", None),
    ("a tilde fence", "~~~\n@media print\n~~~", None),
    ("a longer fence closes only on as long a one", "````\n```\n@a\n````", None),
    ("an indented fence", "   ```\n   @a\n   ```", None),
    ("a fence in a list item", "- step:\n\n    ```\n    @a\n    ```", None),
    ("an unclosed fence runs to the end", "```\n@a\n\n@b", None),
    ("an indented code block", "text\n\n    @decorator\n    def f(): ...", None),
    ("a fence in a block quote", "> ```\n> @a\n> ```", None),
    # Links: a backtick would break them, and GitHub links no user in them.
    ("a URL", "see https://medium.com/@writer/post", None),
    ("an autolink", "see <https://medium.com/@writer>", None),
    ("an email autolink", "<user@example.com>", None),
    ("a link destination", "[post](/@writer/post)", None),
]


@pytest.mark.parametrize(("what", "body", "expected"), CASES, ids=[case[0] for case in CASES])
def test_escape_mentions(what: str, body: str, expected: str | None) -> None:
    assert escape_mentions(body) == (body if expected is None else expected)


MIXED = [
    ("prose and a fence", "@a\n```\n@b\n```\n@c", "`@a`\n```\n@b\n```\n`@c`"),
    ("after a fence closes", "~~~\n@a\n~~~\nthen @b", "~~~\n@a\n~~~\nthen `@b`"),
    ("a span on one line, prose on the next", "`@a`\n@b", "`@a`\n`@b`"),
    ("an indented line continues a paragraph", "text\n    @a", "text\n    `@a`"),
    ("an indented line in a list is prose", "- a\n\n    - b @c", "- a\n\n    - b `@c`"),
    ("a span does not reach into the next list item", "- a ` b\n- c @d `", "- a ` b\n- c `@d` `"),
    ("a table row's pipe ends a span", "| `a | @b` |", "| `a | <code>@b</code>` |"),
    ("a mention and a URL naming it", "@w at https://x.test/@w", "`@w` at https://x.test/@w"),
    ("CRLF line ends", "a @b\r\n```\r\n@c\r\n```\r\n", "a `@b`\r\n```\r\n@c\r\n```\r\n"),
]


@pytest.mark.parametrize(("what", "body", "expected"), MIXED, ids=[case[0] for case in MIXED])
def test_escape_mentions_across_blocks(what: str, body: str, expected: str) -> None:
    assert escape_mentions(body) == expected


def test_escaping_twice_changes_nothing_more() -> None:
    for _, body, _ in CASES + MIXED:
        once = escape_mentions(body)
        assert escape_mentions(once) == once, body
