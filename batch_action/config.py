"""The config file (`.github/issue-sync.yml`): the settings that belong in the repository, not in every workflow.
Pure: text in, values with their lines out, or problems naming file, line and key.

Its keys (README "Config file"):
- any input's name (`scope: all`, `kinds: [prd, epic]`, `labels: [planning, q3]`) with the value the input
  would have: a string, a number, a boolean or a list of strings (read as the comma-separated text the input
  takes). An input given in the workflow wins over the file; the file wins over the default.
- `kind-labels`: labels per kind, `{prd: [...], epic: [...], task: [...]}`, besides the ones every issue of the
  kind carries.
- `close-statuses`: the `status:` values that close an issue, in place of the built-in list.
- `titles`: a title format per kind, `{task: "{epic}: {title}"}`, from the fields in `TITLE_FIELDS`.
- `fields`: front-matter fields shown on the issue, `{component: label, owner: assignee}`: a `label` field gives
  the label `<field>:<value>` (one per value of a list), an `assignee` field names GitHub logins to assign.

Which wins (README "Config file"): an input given in the workflow, then the file, then the input's default. The
runner gives a container action every declared input, filled with its default when the workflow leaves it out, so
an action cannot see whether `with:` named it: an input whose value equals its action.yml default counts as not
given, and the file's value applies (`explicit`). A workflow therefore cannot set an input back to its default
over the file; the file is the place to change it. `github-token`, `project-token` and `config` are never read
from the file.

YAML is read as nodes (`yaml.compose`, SafeLoader), never constructed into objects, so every value keeps its
line and a scalar keeps the text it was written as (`true`, `08`): the file says what a workflow's `with:` says.
Anchors and aliases, duplicate keys and files over `MAX_CONFIG_BYTES` are refused: a config file is a short list
of settings, and one that expands or says a thing twice is a mistake or an attack.
"""

from __future__ import annotations

import difflib
import re
import string
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from batch_action import limits
from batch_action.model import Kind

DEFAULT_CONFIG = ".github/issue-sync.yml"
MAX_CONFIG_BYTES = 64 * 1024
KIND_LABELS, CLOSE_STATUSES, TITLES, FIELDS = "kind-labels", "close-statuses", "titles", "fields"
SECTIONS = (KIND_LABELS, CLOSE_STATUSES, TITLES, FIELDS)
# Inputs a file may not set, and why.
NOT_IN_FILE = {
    "github-token": "a token is a secret, and a file in the repository is no place for one; pass it in the workflow",
    "project-token": "a token is a secret, and a file in the repository is no place for one; pass it in the workflow",
    "config": "the file cannot name another file; set the `config` input in the workflow",
}
FIELD_TARGETS = ("label", "assignee")
_FIELD_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,39}$")
# What a title format may name: the file's title (without the built-in `PRD: `/`Epic: `), the item's short
# name (file stem or folder), its key, its kind and its epic (empty for a PRD).
TITLE_FIELDS = ("title", "name", "key", "kind", "epic")
_NULL = "tag:yaml.org,2002:null"
_KINDS = tuple(kind.value for kind in Kind)


@dataclass(frozen=True)
class Located:
    """An input's raw text as the file gives it, and where."""

    value: str
    line: int


@dataclass
class ConfigFile:
    path: str  # as shown in messages: workspace-relative
    inputs: dict[str, Located] = field(default_factory=dict)
    kind_labels: dict[Kind, tuple[str, ...]] = field(default_factory=dict)
    close_statuses: frozenset[str] | None = None  # None: the built-in list
    titles: dict[Kind, str] = field(default_factory=dict)
    field_labels: tuple[str, ...] = ()  # front-matter fields that become `<field>:<value>` labels
    field_assignees: tuple[str, ...] = ()  # front-matter fields that name assignees
    problems: list[str] = field(default_factory=list)  # each "path:line: key `k`: what is wrong; the fix"

    def where(self, name: str) -> str:
        """`path:line` of an input the file sets, for a message about its value."""
        return f"{self.path}:{self.inputs[name].line}"


def load_config(
    workspace: Path, value: str, input_names: Collection[str], *, given: bool
) -> tuple[ConfigFile | None, list[str]]:
    """The file the `config` input names, read (at most `MAX_CONFIG_BYTES`) and checked; or None when there is
    none. Missing is fine for the default; a file the workflow names (`given`) must exist. The one effect here."""
    shown = value.strip() or DEFAULT_CONFIG
    path = (workspace / shown).resolve()
    if not path.is_relative_to(workspace.resolve()):
        return None, [f"input `config`: {shown!r} leads outside the workspace; name a file in the checkout"]
    if not path.exists():
        return None, ([f"input `config`: file {shown!r} does not exist in the workspace"] if given else [])
    if not path.is_file():
        return None, [f"input `config`: {shown!r} is not a file"]
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        return None, [f"input `config`: {shown!r} could not be read ({exc.strerror or type(exc).__name__})"]
    if len(data) > MAX_CONFIG_BYTES:
        return None, [f"{shown}:1: the file is larger than {MAX_CONFIG_BYTES // 1024} KiB; keep it a short list"]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return None, [f"{shown}:{line}: not valid UTF-8 (byte {exc.start}); save the file as UTF-8"]
    config = read_config(text, shown, input_names)
    return config, list(config.problems)


def read_config(text: str, path: str, input_names: Collection[str]) -> ConfigFile:
    """The file's settings. `input_names`: the inputs a file may set (not the tokens, not `config`)."""
    config = ConfigFile(path)
    reader = _Reader(config, input_names)
    if len(text.encode()) > MAX_CONFIG_BYTES:
        reader.problem(1, "", f"the file is larger than {MAX_CONFIG_BYTES // 1024} KiB; a config file is a short list")
        return config
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reader.problem(mark.line + 1 if mark else 1, "", f"not valid YAML ({exc.problem or exc.context})")
        return config
    except yaml.YAMLError as exc:
        reader.problem(1, "", f"not valid YAML ({exc})")
        return config
    if root is None or (isinstance(root, yaml.ScalarNode) and root.tag == _NULL):
        return config  # an empty file sets nothing
    reader.top(root)
    return config


class _Reader:
    def __init__(self, config: ConfigFile, input_names: Collection[str]) -> None:
        self.config = config
        self.input_names = tuple(input_names)
        self.repeated: set[int] = set()

    def problem(self, line: int, key: str, message: str) -> None:
        named = f" key `{key}`:" if key else ""
        self.config.problems.append(f"{self.config.path}:{line}:{named} {message}")

    def entries(self, node: yaml.Node, where: str) -> Iterator[tuple[str, yaml.Node, int]]:
        """(key, value, line) of a mapping's entries; a key that is no plain string, or is given twice, is a
        problem and skipped."""
        if not isinstance(node, yaml.MappingNode):
            what = "a list" if isinstance(node, yaml.SequenceNode) else "a single value"
            self.problem(_line(node), where, f"is {what}; write a mapping of `key: value` lines")
            return
        given: dict[str, int] = {}
        for key_node, value in node.value:
            line = _line(key_node)
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _NULL:
                self.problem(line, where, "a key must be a plain name")
                continue
            key = key_node.value
            if key in given:
                self.problem(line, _join(where, key), f"is given twice (first at line {given[key]}); keep one")
                continue
            given[key] = line
            if self.aliased(value):
                self.problem(line, _join(where, key), "anchors and aliases (&, *) are not read; write it out")
                continue
            yield key, value, line

    def aliased(self, node: yaml.Node) -> bool:
        """True when the value holds a node met more than once in the file: an alias."""
        return any(id(part) in self.repeated for part in _nodes(node))

    def top(self, root: yaml.Node) -> None:
        self.repeated = _repeated(root)
        valid = [name for name in (*self.input_names, *SECTIONS) if name not in NOT_IN_FILE]
        for key, value, line in self.entries(root, ""):
            if key in NOT_IN_FILE:
                self.problem(line, key, f"is not read from the config file: {NOT_IN_FILE[key]}")
            elif key in self.input_names:
                text = self.input_text(key, value)
                if text is not None:
                    self.config.inputs[key] = Located(text, line)
            elif key == KIND_LABELS:
                self.kind_labels(value)
            elif key == CLOSE_STATUSES:
                statuses = self.strings(value, key)
                if statuses is not None:
                    self.config.close_statuses = frozenset(s.strip().lower() for s in statuses if s.strip())
            elif key == TITLES:
                self.titles(value)
            elif key == FIELDS:
                self.fields(value)
            else:
                self.unknown(line, "", key, valid, "a key of the config file")

    def unknown(self, line: int, where: str, key: str, valid: Collection[str], what: str) -> None:
        close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
        hint = f"; did you mean `{close[0]}`?" if close else f"; use one of {', '.join(sorted(valid))}"
        self.problem(line, _join(where, key), f"is not {what}{hint}")

    def input_text(self, key: str, node: yaml.Node) -> str | None:
        """The text an `INPUT_*` variable would hold: a scalar as written, a list joined with commas."""
        if isinstance(node, yaml.ScalarNode):
            return "" if node.tag == _NULL else str(node.value)
        items = self.strings(node, key)
        return None if items is None else ",".join(items)

    def strings(self, node: yaml.Node, key: str) -> list[str] | None:
        """A list of plain values (a single value counts as a list of one)."""
        if isinstance(node, yaml.ScalarNode):
            return [] if node.tag == _NULL else [str(node.value)]
        if isinstance(node, yaml.SequenceNode) and all(isinstance(item, yaml.ScalarNode) for item in node.value):
            return [str(item.value) for item in node.value if item.tag != _NULL]
        self.problem(_line(node), key, "is not a value or a list of values")
        return None

    def kind_labels(self, node: yaml.Node) -> None:
        for kind_name, value, line in self.entries(node, KIND_LABELS):
            where = _join(KIND_LABELS, kind_name)
            if kind_name not in _KINDS:
                self.unknown(line, KIND_LABELS, kind_name, _KINDS, "a kind")
                continue
            labels = self.strings(value, where)
            if labels is None:
                continue
            kept = tuple(dict.fromkeys(label.strip() for label in labels if label.strip()))
            for label in kept:
                if len(label) > limits.LABEL_NAME_CHARS.value:
                    self.problem(_line(value), where, f"{label!r} is longer than GitHub's 50 characters for a label")
            self.config.kind_labels[Kind(kind_name)] = kept

    def titles(self, node: yaml.Node) -> None:
        for kind_name, value, line in self.entries(node, TITLES):
            where = _join(TITLES, kind_name)
            if kind_name not in _KINDS:
                self.unknown(line, TITLES, kind_name, _KINDS, "a kind")
                continue
            if not isinstance(value, yaml.ScalarNode) or value.tag == _NULL:
                self.problem(_line(value), where, 'is not a title format; write e.g. "{epic}: {title}"')
                continue
            problem = title_format_problem(str(value.value))
            if problem:
                self.problem(_line(value), where, problem)
            else:
                self.config.titles[Kind(kind_name)] = str(value.value)

    def fields(self, node: yaml.Node) -> None:
        labels: list[str] = []
        assignees: list[str] = []
        for name, value, line in self.entries(node, FIELDS):
            where = _join(FIELDS, name)
            if not _FIELD_NAME_RE.match(name):
                self.problem(line, where, "is not a front-matter field name (letters, digits, _ and -, 40 at most)")
                continue
            target = str(value.value).strip().lower() if isinstance(value, yaml.ScalarNode) else ""
            target = target.removesuffix("s") if target in ("labels", "assignees") else target
            if target not in FIELD_TARGETS:
                close = difflib.get_close_matches(target, FIELD_TARGETS, n=1, cutoff=0.6)
                hint = f"; did you mean `{close[0]}`?" if close else ""
                self.problem(_line(value), where, f"is not `label` or `assignee`{hint}")
                continue
            (labels if target == "label" else assignees).append(name)
        self.config.field_labels, self.config.field_assignees = tuple(labels), tuple(assignees)


def explicit(value: str | None, default: str) -> bool:
    """Whether the workflow gave an input: set, not empty, and not its action.yml default (the runner fills an
    input the workflow leaves out with its default, so equal to it reads as not given)."""
    return value is not None and value.strip() != "" and value.strip() != default


def layer(raw: Mapping[str, str], given: Collection[str], config: ConfigFile) -> tuple[dict[str, str], dict[str, str]]:
    """Each input's value, the workflow's (`given`) over the file's over `raw`'s (the defaults for the rest); and,
    for each input the file decided, its `path:line` (for messages)."""
    values = dict(raw)
    origins: dict[str, str] = {}
    for name, located in config.inputs.items():
        if name in values and name not in given and located.value.strip():  # empty: the default, as for an input
            values[name] = located.value.strip()
            origins[name] = f"{config.path}:{located.line}"
    return values, origins


def relabel(problems: Sequence[str], origins: Mapping[str, str]) -> list[str]:
    """Settings problems about inputs the file set, told as the file's: `input `scope`: …` becomes
    `.github/issue-sync.yml:3: key `scope`: …`, the same message at the file's line."""
    out = []
    for problem in problems:
        name = problem[len("input `") : problem.find("`:")] if problem.startswith("input `") else ""
        where = origins.get(name)
        out.append(f"{where}: key `{name}`:{problem[len(name) + 9 :]}" if where else problem)
    return out


def title_format_problem(text: str) -> str:
    """What is wrong with a title format, or "": only `{field}` of `TITLE_FIELDS`, no conversion or format spec
    (`{title:>99999}` would make a title of any length), and `{{`/`}}` for braces."""
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError as exc:
        return f"is not a title format ({exc}); write braces as {{{{ and }}}}"
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in TITLE_FIELDS:
            close = difflib.get_close_matches(name, TITLE_FIELDS, n=1, cutoff=0.6)
            hint = f"did you mean {{{close[0]}}}?" if close else "use " + ", ".join(f"{{{f}}}" for f in TITLE_FIELDS)
            return f"names {{{name}}}, which is not a field of a title; {hint}"
        if spec or conversion:
            return f"{{{name}}} has a conversion or format spec; write {{{name}}} alone"
    return ""


def _nodes(root: yaml.Node) -> Iterator[yaml.Node]:
    """Every node under `root`, each once (an alias may point at a node that holds it)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        stack.extend(_children(node))


def _repeated(root: yaml.Node) -> set[int]:
    """The nodes met more than once under `root`: the targets of aliases."""
    seen: set[int] = set()
    again: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            again.add(id(node))
            continue
        seen.add(id(node))
        stack.extend(_children(node))
    return again


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key
