"""Shape of the bundled example trees and of the benchmark tree generator.

These tests deliberately do not use the project's parser: they look at globs and raw bytes, so that a
parser bug cannot hide a broken fixture (and a fixture edit cannot silently remove a pitfall the parser
tests rely on). PyYAML is used only to prove that each YAML pitfall still trips a naive loader.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
GOOD = REPO / "examples" / ".claude"
BROKEN = REPO / "examples" / "broken" / ".claude"
BOM = b"\xef\xbb\xbf"
TASK_NAME = re.compile(r"^(\d+|task-\d+|bug-\d+-[a-z0-9-]+)\.md$")


def _epic_dirs(root: Path) -> list[Path]:
    return sorted(p.parent for p in (root / "epics").rglob("epic.md"))


def _tasks(root: Path) -> list[Path]:
    return sorted(p for d in _epic_dirs(root) for p in d.glob("*.md") if TASK_NAME.match(p.name))


def _front_lines(data: bytes) -> dict[str, str]:
    """CCPM-style line reader: `key: value` lines between the first two `---` lines, values as text."""
    text = data.decode("utf-8").removeprefix("\ufeff").replace("\r\n", "\n")
    lines = text.split("\n")
    if not lines or lines[0] != "---" or "---" not in lines[1:]:
        return {}
    end = lines.index("---", 1)
    out = {}
    for line in lines[1:end]:
        key, sep, value = line.partition(":")
        if sep:
            out[key.strip()] = value.strip()
    return out


def _tokens(value: str) -> list[str]:
    return [t.strip() for t in value.strip().strip("[]").split(",") if t.strip()]


def _yaml_front(path: Path) -> object:
    text = path.read_bytes().decode("utf-8").removeprefix("\ufeff").replace("\r\n", "\n")
    return yaml.safe_load(text.split("\n---\n", 1)[0].removeprefix("---\n"))


# --------------------------------------------------------------------------------------------------------
# The good tree


def test_counts_by_kind() -> None:
    assert len(list((GOOD / "prds").glob("*.md"))) == 7
    epics = _epic_dirs(GOOD)
    assert len(epics) == 7
    assert [p.name for p in epics if p.parent.name == "archived"] == ["onboarding"]
    assert [p.name for p in epics if p.parent.name == ".archived"] == ["csv-export"]
    tasks = _tasks(GOOD)
    assert len(tasks) == 30
    assert len([p for p in tasks if re.match(r"^\d+\.md$", p.name)]) == 28
    assert [p.name for p in tasks if p.name.startswith("task-")] == ["task-001.md"]
    assert [p.name for p in tasks if p.name.startswith("bug-")] == ["bug-87-slow-signin-on-small-plan.md"]
    # An epic without tasks.
    assert not [p for p in (GOOD / "epics/localization").iterdir() if p.name != "epic.md"]


@pytest.mark.parametrize(
    "rel",
    [
        "epics/search/12-analysis.md",
        "epics/search/updates/12/progress.md",
        "epics/search/updates/12/stream-A.md",
        "epics/search/relevance-fixtures.json",
        "epics/auth/github-mapping.md",
        "epics/auth/execution-status.md",
        "epics/billing/migration-roadmap.md",
        "epics/billing/analysis/notes.md",
    ],
)
def test_non_task_files_exist_and_are_not_task_shaped(rel: str) -> None:
    path = GOOD / rel
    assert path.is_file()
    assert not TASK_NAME.match(path.name)


def test_every_file_is_utf8_and_only_the_pitfall_files_have_bom_or_crlf() -> None:
    bom, crlf = [], []
    for path in sorted(GOOD.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        data.decode("utf-8")
        if data.startswith(BOM):
            bom.append(path.relative_to(GOOD).as_posix())
        if b"\r\n" in data:
            crlf.append(path.relative_to(GOOD).as_posix())
    assert bom == ["epics/billing/005.md"]
    assert crlf == ["epics/search/003.md"]


def test_bom_file() -> None:
    data = (GOOD / "epics/billing/005.md").read_bytes()
    assert data.startswith(BOM + b"---\nname: Invoice PDF with hours summary\n")
    assert data.count(BOM) == 1


def test_crlf_file() -> None:
    data = (GOOD / "epics/search/003.md").read_bytes()
    assert data.startswith(b"---\r\nname: Search API endpoint with cursor pagination\r\n")
    assert data.count(b"\n") == data.count(b"\r\n")


def test_no_front_matter_file() -> None:
    data = (GOOD / "epics/search/005.md").read_bytes()
    assert data.startswith(b"# Task: Search usage analytics\n")
    assert b"\n---\n" not in data and not data.startswith(b"---")


def test_impossible_timestamp_breaks_yaml() -> None:
    path = GOOD / "epics/search/004.md"
    assert _front_lines(path.read_bytes())["created"] == "2026-89-23T04:27:55Z"
    with pytest.raises(ValueError, match=r"month must be in 1\.\.12"):
        _yaml_front(path)


def test_date_only_timestamp() -> None:
    path = GOOD / "epics/billing/002.md"
    assert _front_lines(path.read_bytes())["created"] == "2026-04-09"
    assert type(_yaml_front(path)["created"]).__name__ == "date"  # type: ignore[index]


def test_github_placeholders_and_bare_int() -> None:
    assert _yaml_front(GOOD / "epics/billing/epic.md")["github"] == [  # type: ignore[index]
        "Will be updated when synced to GitHub"
    ]
    assert _front_lines((GOOD / "epics/billing/009.md").read_bytes())["github"] == "(will be set on sync)"
    assert _yaml_front(GOOD / "epics/.archived/csv-export/002.md")["github"] == 1  # type: ignore[index]


def test_octal_trap_and_fan_in() -> None:
    path = GOOD / "epics/billing/011.md"
    assert _front_lines(path.read_bytes())["depends_on"] == "[008, 009, 010]"
    assert _yaml_front(path)["depends_on"] == ["008", "009", 8]  # type: ignore[index]
    for n in ("008", "009", "010"):
        assert (GOOD / f"epics/billing/{n}.md").is_file()


def test_unquoted_colon_in_name_breaks_yaml() -> None:
    for rel in ("epics/search/002.md", "epics/auth/bug-87-slow-signin-on-small-plan.md"):
        path = GOOD / rel
        assert re.match(r"^(Refactor|Bug): ", _front_lines(path.read_bytes())["name"])
        with pytest.raises(yaml.YAMLError, match="mapping values are not allowed here"):
            _yaml_front(path)


def test_progress_percent_and_unicode_title() -> None:
    assert _front_lines((GOOD / "epics/search/epic.md").read_bytes())["progress"] == "0%"
    name = _front_lines((GOOD / "epics/search/006.md").read_bytes())["name"]
    assert name == "検索結果のハイライト — highlight matched terms ✨"


def test_synced_task_stale_reference_and_bug_task() -> None:
    synced = _front_lines((GOOD / "epics/auth/87.md").read_bytes())
    assert synced["github"] == "https://github.com/octo/repo/issues/87"
    assert _front_lines((GOOD / "epics/auth/002.md").read_bytes())["depends_on"] == "[001]"
    assert not (GOOD / "epics/auth/001.md").exists()
    bug = _front_lines((GOOD / "epics/auth/bug-87-slow-signin-on-small-plan.md").read_bytes())
    assert bug["bug_for"] == "87"


def test_autopm_files() -> None:
    prd = _yaml_front(GOOD / "prds/prd-003-email-notifications.md")
    assert isinstance(prd, dict)
    assert (prd["id"], prd["status"], str(prd["created"])) == ("prd-003", "draft", "2025-01-01")
    task = _yaml_front(GOOD / "epics/epic-003-email-notifications/task-001.md")
    assert isinstance(task, dict)
    assert task["id"] == "task-epic-003-001" and task["epic_id"] == "epic-003"
    assert task["status"] == "pending" and task["dependencies"] == []


def test_statuses_cover_the_vocabulary() -> None:
    statuses = {_front_lines(p.read_bytes()).get("status") for p in _tasks(GOOD)}
    assert {"open", "in-progress", "closed", "completed", "in_progress", "pending"} <= statuses


def test_archived_epics_are_done() -> None:
    for d in (GOOD / "epics/archived/onboarding", GOOD / "epics/.archived/csv-export"):
        assert _front_lines((d / "epic.md").read_bytes())["status"] == "completed"
        for task in d.glob("[0-9]*.md"):
            assert _front_lines(task.read_bytes())["status"] in {"closed", "completed"}


def _graph(root: Path) -> dict[Path, list[Path]]:
    """Resolve depends_on/conflicts_with tokens within each epic. Returns depends_on edges.

    A token that names no file resolves through CCPM's rename: when exactly one pre-sync sequence number is
    missing and exactly one task file is named by an issue number, the two are the same task.
    """
    edges: dict[Path, list[Path]] = {}
    for epic in _epic_dirs(root):
        tasks = {p.stem: p for p in epic.glob("*.md") if re.match(r"^\d+\.md$", p.name)}
        seq = sorted(int(s) for s in tasks if len(s) == 3)
        missing = [f"{n:03d}" for n in range(1, max(seq, default=0) + 1) if f"{n:03d}" not in tasks]
        renamed = [s for s in tasks if len(s) != 3]
        alias = {missing[0]: tasks[renamed[0]]} if len(missing) == 1 and len(renamed) == 1 else {}
        for path in tasks.values():
            fields = _front_lines(path.read_bytes())
            for key in ("depends_on", "conflicts_with"):
                targets = []
                for tok in _tokens(fields.get(key, "")):
                    target = tasks.get(tok) or alias.get(tok)
                    assert target is not None, f"{path}: {key} {tok} does not resolve"
                    targets.append(target)
                if key == "depends_on":
                    edges[path] = targets
    return edges


def test_good_tree_references_resolve_and_are_acyclic() -> None:
    edges = _graph(GOOD)
    state: dict[Path, int] = {}

    def visit(node: Path) -> None:
        assert state.get(node) != 1, f"cycle through {node}"
        if state.get(node) == 2:
            return
        state[node] = 1
        for nxt in edges.get(node, []):
            visit(nxt)
        state[node] = 2

    for node in edges:
        visit(node)
    assert edges[GOOD / "epics/auth/002.md"] == [GOOD / "epics/auth/87.md"]
    assert len(edges[GOOD / "epics/billing/011.md"]) == 3
    for epic in _epic_dirs(GOOD):
        prd = _front_lines((epic / "epic.md").read_bytes()).get("prd")
        if prd:
            assert (GOOD.parent / prd).is_file(), prd


def test_only_octo_repo_urls() -> None:
    for path in GOOD.rglob("*.md"):
        for url in re.findall(rb"https://github\.com/[^\s)]+", path.read_bytes()):
            assert url.startswith(b"https://github.com/octo/repo/issues/"), (path, url)


# --------------------------------------------------------------------------------------------------------
# The broken tree

R = BROKEN / "epics/reports"


def test_broken_tree_files() -> None:
    assert len(list((BROKEN / "prds").glob("*.md"))) == 1
    assert len(_epic_dirs(BROKEN)) == 2
    assert len(_tasks(BROKEN)) == 12
    f = {n: _front_lines((R / f"{n}.md").read_bytes()) for n in ("001", "002", "003", "005", "006", "007")}
    assert (f["001"]["depends_on"], f["002"]["depends_on"]) == ("[002]", "[001]")
    assert f["003"]["depends_on"] == "[999]" and not (R / "999.md").exists()
    assert f["005"]["created"] == "2026-02-30T25:61:00Z"
    assert f["006"]["conflicts_with"] == "[404]"
    assert f["007"]["depends_on"] == "[007]"


def test_broken_tree_bytes() -> None:
    unclosed = (R / "004.md").read_bytes().split(b"\n")
    assert unclosed[0] == b"---" and unclosed.count(b"---") == 1
    bom = (R / "006.md").read_bytes()
    assert bom.startswith(BOM + b"---\n") and bom.split(b"\n")[8] == b"conflicts_with: [404]"
    crlf = (R / "007.md").read_bytes()
    assert crlf.count(b"\n") == crlf.count(b"\r\n") and crlf.split(b"\r\n")[6] == b"depends_on: [007]"
    assert not (R / "008.md").read_bytes().startswith(b"---")
    with pytest.raises(UnicodeDecodeError):
        (R / "009.md").read_bytes().decode("utf-8")
    assert (R / "011.md").read_bytes() == b""
    assert isinstance(_yaml_front(R / "012.md"), list)
    assert b"octo/old-repo" in (R / "010.md").read_bytes()
    assert not (BROKEN / "prds/does-not-exist.md").exists()


# --------------------------------------------------------------------------------------------------------
# The benchmark generator


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_tree", REPO / "benchmarks" / "generate_tree.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["generate_tree"] = module
    spec.loader.exec_module(module)
    return module


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(p.relative_to(root).as_posix().encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


@pytest.mark.parametrize("n", [10, 137, 1000])
def test_generator_writes_exactly_n_items(gen: ModuleType, tmp_path: Path, n: int) -> None:
    counts = gen.generate_tree(tmp_path, n, seed=7)
    root = tmp_path / ".claude"
    prds = list(root.glob("prds/*.md"))
    epics = list(root.glob("epics/*/epic.md"))
    tasks = list(root.glob("epics/*/[0-9]*.md"))
    assert len(prds) + len(epics) + len(tasks) == n == counts["items"]
    assert (len(prds), len(epics), len(tasks)) == (counts["prds"], counts["epics"], counts["tasks"])
    assert counts["bytes"] == sum(p.stat().st_size for p in [*prds, *epics, *tasks])
    # Every reference resolves inside its epic and points backwards (so there is no cycle).
    for task in tasks:
        fields = _front_lines(task.read_bytes())
        for key in ("depends_on", "conflicts_with"):
            for tok in _tokens(fields[key]):
                assert (task.parent / f"{tok}.md").is_file()
                if key == "depends_on":
                    assert int(tok) < int(task.stem)
    for epic in epics:
        assert (tmp_path / _front_lines(epic.read_bytes())["prd"]).is_file()


def test_generator_is_deterministic_and_touch_changes_bodies(gen: ModuleType, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    gen.generate_tree(a, 137, seed=3)
    gen.generate_tree(b, 137, seed=3)
    assert _digest(a / ".claude") == _digest(b / ".claude")
    gen.generate_tree(b, 137, seed=4)  # regenerating over its own output is allowed
    assert _digest(a / ".claude") != _digest(b / ".claude")

    before = {p: p.read_bytes() for p in gen.task_files(a)}
    changed = gen.touch_tasks(a, 2, seed=1)
    assert len(changed) == 2
    for p, old in before.items():
        new = p.read_bytes()
        if p in changed:
            assert new != old and new.startswith(old)  # body appended, front matter untouched
        else:
            assert new == old
    assert gen.touch_tasks(a, 2, seed=1) == changed  # same seed, same files


def test_generator_all_open_changes_only_done_statuses(gen: ModuleType, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    gen.generate_tree(a, 300, seed=5)
    gen.generate_tree(b, 300, seed=5, all_open=True)
    done = {"closed", "completed", "complete"}
    files_a = sorted(p.relative_to(a) for p in (a / ".claude").rglob("*.md"))
    assert files_a == sorted(p.relative_to(b) for p in (b / ".claude").rglob("*.md"))
    seen_done = 0
    for rel in files_a:
        old, new = (a / rel).read_text(), (b / rel).read_text()
        status_old, status_new = _front_lines(old.encode())["status"], _front_lines(new.encode())["status"]
        assert status_new not in done
        seen_done += status_old in done
        if status_old not in done:
            assert new == old
        else:  # the same file apart from its status line
            assert old.replace(f"status: {status_old}\n", "") == new.replace(f"status: {status_new}\n", "")
    assert seen_done > 0


def test_generator_refuses_foreign_tree(gen: ModuleType, tmp_path: Path) -> None:
    (tmp_path / ".claude").mkdir()
    (tmp_path / ".claude" / "keep.md").write_text("mine")
    with pytest.raises(FileExistsError):
        gen.generate_tree(tmp_path, 10)
    assert (tmp_path / ".claude" / "keep.md").read_text() == "mine"
