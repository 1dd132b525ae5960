"""The front-matter fast path (simple `key: value` lines read without YAML) must equal YAML, always.

Differential: every header the fast path takes is read both ways, `_simple_values` against the YAML loader
(`_read_values`) and `_key_lines`, on the bundled example trees, a generated benchmark tree and a few thousand
generated near-miss headers.
"""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path

import pytest

from batch_action.parsing import frontmatter as fm

REPO = Path(__file__).resolve().parent.parent


def _fast_path_agrees(header: list[str]) -> bool:
    """Whether the fast path took `header`; when it did, it must give what YAML and `_key_lines` give."""
    fast = fm._simple_values(header)
    if fast is not None:
        assert (fast[0], [], False) == fm._read_values(header), header
        assert fast[1] == fm._key_lines(header), header
        assert fast[2] == sum(1 for line in header if fm._KEY_RE.match(line)), header  # lines holding a key
    return fast is not None


def _headers(root: Path) -> list[list[str]]:
    out = []
    for path in sorted(root.rglob("*.md")):
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            continue
        lines = text.removeprefix("\ufeff").replace("\r\n", "\n").split("\n")
        if lines[0].strip() == "---" and any(line.strip() == "---" for line in lines[1:]):
            end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
            out.append(lines[1:end])
    return out


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = importlib.util.spec_from_file_location("generate_tree", REPO / "benchmarks" / "generate_tree.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["generate_tree"] = module
    spec.loader.exec_module(module)
    out = tmp_path_factory.mktemp("tree")
    module.generate_tree(out, 400, seed=11)
    return out


def test_real_and_generated_headers_read_the_same(generated: Path) -> None:
    headers = _headers(REPO / "examples") + _headers(generated)
    assert len(headers) > 400
    simple = 0
    for header in headers:
        simple += _fast_path_agrees(header)
        # and split(), which dispatches between the two, gives YAML's values and the key lines either way
        front = fm.split("---\n" + "\n".join(header) + "\n---\nbody\n")
        assert (front.values, front.lines) == (fm._read_values(header)[0], fm._key_lines(header)), header
    assert simple >= 400  # the generated files all take the fast path


_KEYS = ["name", "status", "depends_on", "github", "a-b", "_x", "x1"]
# fmt: off
_PIECES = [
    "open", "Add the API", " ", "  ", ":", ": ", " #", "#", "[", "]", "{", "}", ",", "-", "- ", "'", '"', "&a",
    "*a", "!", "|", ">", "%", "@", "`", "?", "~", "null", "001", "2026-89-23T04:27:55Z", "https://x.y/o/r/issues/1",
    "\t", "\\", "é", "検索", "✨", "\x85", "\u2028", "\ufeff", "\x07", "\x7f", "\xa0", "a:b", "(x)", "50%", "a, b",
]
# fmt: on


def _value(rng: random.Random) -> str:
    text = "".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 4)))
    if rng.random() < 0.3:
        items = ["".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 2))) for _ in range(rng.randint(0, 3))]
        text = "[" + ",".join(items) + "]"
    return text


def _line(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.05:
        return rng.choice(["", "  ", "# comment", "- item", "  - item", "---x", "...", " key: v"])
    key = rng.choice(_KEYS)
    sep = rng.choice([": ", ":", ":  ", " : ", ":\t"]) if rng.random() < 0.3 else ": "
    return f"{key}{sep}{_value(rng)}" + (" " if rng.random() < 0.1 else "")


def test_generated_near_misses_read_the_same() -> None:
    rng = random.Random(20261122)
    taken = 0
    for _ in range(4000):
        header = [_line(rng) for _ in range(rng.randint(0, 6))]
        taken += _fast_path_agrees(header)
    assert taken > 500  # the fast path was really exercised, not only the fallback
