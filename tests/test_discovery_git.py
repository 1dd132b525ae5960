"""discover_changes against real git repositories made in tmp_path (local file:// remotes, no network)."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from batch_action.discovery import (
    Change,
    ChangeSet,
    GitNotFoundError,
    GitResult,
    GitRunner,
    discover_changes,
    parse_name_status,
)

ZERO40 = "0" * 40
ZERO64 = "0" * 64


@pytest.fixture(autouse=True)
def isolated_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # The host's git config (a global safe.directory = * in particular) must not make tests pass by accident.
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    # "not a repository" must not find some repository above tmp_path.
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_CONFIG_COUNT", "GIT_CONFIG_PARAMETERS"):
        monkeypatch.delenv(name, raising=False)
    # git trusts SUDO_UID when root; it would blur the ownership test.
    monkeypatch.delenv("SUDO_UID", raising=False)
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Test")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "test@example.invalid")


def run_git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout.strip()


class Repo:
    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def init(cls, path: Path) -> Repo:
        path.mkdir(parents=True)
        run_git(path, "init", "-q", "-b", "main")
        return cls(path)

    def git(self, *args: str) -> str:
        return run_git(self.path, *args)

    def write(self, rel: str, text: str | None = None) -> None:
        target = self.path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        # Distinct multi-line bodies so that rename detection has something to match on.
        body = text if text is not None else "".join(f"{rel} line {n}\n" for n in range(20))
        target.write_text(body, encoding="utf-8")

    def remove(self, rel: str) -> None:
        (self.path / rel).unlink()

    def move(self, src: str, dst: str) -> None:
        (self.path / dst).parent.mkdir(parents=True, exist_ok=True)
        (self.path / src).rename(self.path / dst)

    def commit(self, message: str = "change") -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")

    def has_object(self, sha: str) -> bool:
        done = subprocess.run(["git", "cat-file", "-e", f"{sha}^{{commit}}"], cwd=self.path, capture_output=True)
        return done.returncode == 0


EPIC = ".claude/epics/auth"


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    r = Repo.init(tmp_path / "repo")
    r.write(".claude/prds/auth.md")
    r.write(f"{EPIC}/epic.md")
    r.write(f"{EPIC}/001.md")
    r.write(f"{EPIC}/002.md")
    r.write("README.md")
    r.commit("initial")
    return r


def discover(repo: Repo, base: str | None, *, under: str = ".claude", runner: GitRunner | None = None) -> ChangeSet:
    return discover_changes(repo.path, base, under=under, runner=runner)


# --- real diffs -----------------------------------------------------------------------------------------


def test_modification(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    repo.write(f"{EPIC}/001.md", "status: closed\n")
    head = repo.commit()

    result = discover(repo, base)

    assert result.changes == (Change("M", f"{EPIC}/001.md"),)
    assert result.base == base
    assert result.head == head
    assert not result.whole_tree
    assert result.reason == f"diffed {base[:7]}..{head[:7]} (1 file under .claude)"


def test_addition_and_deletion(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    repo.write(f"{EPIC}/003.md")
    repo.remove(f"{EPIC}/002.md")
    repo.commit()

    result = discover(repo, base)

    assert result.changes == (Change("D", f"{EPIC}/002.md"), Change("A", f"{EPIC}/003.md"))
    assert "(2 files under .claude)" in result.reason


def test_rename_of_task_file_is_detected(repo: Repo) -> None:
    # The sync renames 001.md to the issue number and edits the front matter a little.
    base = repo.git("rev-parse", "HEAD")
    body = (repo.path / f"{EPIC}/001.md").read_text(encoding="utf-8")
    repo.remove(f"{EPIC}/001.md")
    repo.write(f"{EPIC}/1234.md", "github: https://github.com/o/r/issues/1234\n" + body)
    repo.commit()

    result = discover(repo, base)

    assert result.changes == (Change("R", f"{EPIC}/1234.md", old_path=f"{EPIC}/001.md"),)


def test_epic_folder_moved_into_archived(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    repo.move(EPIC, ".claude/epics/archived/auth")
    repo.commit()

    result = discover(repo, base)

    assert result.changes is not None
    assert set(result.changes) == {
        Change("R", f".claude/epics/archived/auth/{name}", old_path=f"{EPIC}/{name}")
        for name in ("001.md", "002.md", "epic.md")
    }


def test_files_outside_under_are_ignored(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    repo.write("README.md", "changed\n")
    repo.write(".claude-other/x.md")  # shares the prefix but is another folder
    repo.write("docs/.claude/y.md")  # a nested .claude is not the planning folder
    repo.write(".claude/context/notes.md")
    repo.commit()

    result = discover(repo, base)

    assert result.changes == (Change("A", ".claude/context/notes.md"),)


def test_moves_across_the_folder_boundary_are_add_and_delete(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    repo.move(f"{EPIC}/002.md", "attic/002.md")
    repo.move("README.md", ".claude/README.md")
    repo.commit()

    result = discover(repo, base)

    assert result.changes == (Change("A", ".claude/README.md"), Change("D", f"{EPIC}/002.md"))


def test_paths_with_spaces_unicode_and_control_characters(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    odd = [
        ".claude/epics/my epic/tâche été.md",
        ".claude/epics/日本語/タスク 1.md",
        ".claude/epics/tab\there/new\nline.md",
        '.claude/epics/"quoted" and \\back.md',
    ]
    for rel in odd:
        repo.write(rel)
    repo.move(f"{EPIC}/002.md", f"{EPIC}/deux é.md")
    repo.commit()

    result = discover(repo, base)

    assert result.changes is not None
    assert set(result.changes) == {Change("A", rel) for rel in odd} | {
        Change("R", f"{EPIC}/deux é.md", old_path=f"{EPIC}/002.md")
    }
    for change in result.changes:
        assert (repo.path / change.path).is_file()


def test_nothing_changed_under_the_folder(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    repo.write("README.md", "only this\n")
    head = repo.commit()

    result = discover(repo, base)

    assert result.changes == ()
    assert result.reason == f"diffed {base[:7]}..{head[:7]} (0 files under .claude)"


def test_base_equal_to_head(repo: Repo) -> None:
    head = repo.git("rev-parse", "HEAD")
    assert discover(repo, head).changes == ()


def test_base_that_is_not_an_ancestor_still_gives_the_tree_diff(repo: Repo) -> None:
    # A force push whose old tip is still in the checkout: comparing the two trees is still right.
    root = repo.git("rev-parse", "HEAD")
    repo.write(f"{EPIC}/003.md")
    old_tip = repo.commit("old")
    repo.git("update-ref", "refs/heads/main", root)  # rewrite history without touching the worktree
    repo.git("read-tree", "HEAD")
    repo.remove(f"{EPIC}/003.md")
    repo.write(f"{EPIC}/004.md")
    repo.commit("new")

    result = discover(repo, old_tip)

    assert result.changes == (Change("D", f"{EPIC}/003.md"), Change("A", f"{EPIC}/004.md"))


def test_base_given_as_a_revision_name_or_short_sha(repo: Repo) -> None:
    first = repo.git("rev-parse", "HEAD")
    repo.write(f"{EPIC}/epic.md", "changed\n")
    repo.commit()

    assert discover(repo, "main~1").changes == (Change("M", f"{EPIC}/epic.md"),)
    assert discover(repo, first[:10]).base == first


def test_under_can_be_another_folder_or_the_whole_workspace(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    repo.write("README.md", "changed\n")
    repo.write(f"{EPIC}/epic.md", "changed\n")
    repo.commit()

    assert discover(repo, base, under=f"{EPIC}/").changes == (Change("M", f"{EPIC}/epic.md"),)
    whole = discover(repo, base, under=".")
    assert whole.changes == (Change("M", f"{EPIC}/epic.md"), Change("M", "README.md"))
    assert "under" not in whole.reason
    with pytest.raises(ValueError):
        discover(repo, base, under="../elsewhere")


def test_workspace_in_a_subfolder_of_the_repository(tmp_path: Path) -> None:
    repo = Repo.init(tmp_path / "mono")
    repo.write("app/.claude/prds/a.md")
    repo.write(".claude/prds/top.md")
    base = repo.commit()
    repo.write("app/.claude/prds/a.md", "changed\n")
    repo.write(".claude/prds/top.md", "changed\n")
    repo.commit()

    result = discover_changes(repo.path / "app", base)

    # Workspace-relative paths, and nothing from outside the workspace.
    assert result.changes == (Change("M", ".claude/prds/a.md"),)


# --- shallow checkouts and fetching the base ------------------------------------------------------------


def make_origin(tmp_path: Path) -> tuple[Repo, list[str]]:
    origin = Repo.init(tmp_path / "origin")
    origin.write(f"{EPIC}/epic.md")
    origin.write(f"{EPIC}/001.md")
    shas = [origin.commit("one")]
    origin.write(f"{EPIC}/001.md", "status: in-progress\n")
    shas.append(origin.commit("two"))
    origin.write(f"{EPIC}/002.md")
    origin.write("README.md")
    shas.append(origin.commit("three"))
    return origin, shas


def shallow_clone(origin: Repo, into: Path) -> Repo:
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{origin.path}", str(into)],
        check=True,
        capture_output=True,
    )
    return Repo(into)


def test_shallow_clone_fetches_the_missing_base(tmp_path: Path) -> None:
    origin, shas = make_origin(tmp_path)
    clone = shallow_clone(origin, tmp_path / "clone")
    base = shas[1]  # HEAD~1 of the origin
    assert not clone.has_object(base)

    result = discover(clone, base)

    assert result.changes == (Change("A", f"{EPIC}/002.md"),)
    assert result.base == base
    assert result.head == shas[2]
    assert "base fetched from origin" in result.reason
    # The checkout is left as it was: still shallow, same HEAD, nothing staged.
    assert clone.git("rev-parse", "--is-shallow-repository") == "true"
    assert clone.git("rev-parse", "HEAD") == shas[2]
    assert clone.git("status", "--porcelain") == ""


def test_shallow_clone_whose_origin_is_unreachable_falls_back(tmp_path: Path) -> None:
    origin, shas = make_origin(tmp_path)
    clone = shallow_clone(origin, tmp_path / "clone")
    clone.git("remote", "set-url", "origin", f"file://{tmp_path / 'gone'}")

    result = discover(clone, shas[1])

    assert result.changes is None
    assert result.head == shas[2]
    assert result.base == shas[1]
    assert "could not be fetched from origin" in result.reason
    assert "comparing the whole tree" in result.reason


def test_force_push_whose_base_is_gone_everywhere(tmp_path: Path) -> None:
    origin, shas = make_origin(tmp_path)
    old_tip = shas[2]
    # Rewrite the last commit and make the old one truly unfetchable.
    origin.git("reset", "-q", "--hard", shas[1])
    origin.write(f"{EPIC}/003.md")
    new_tip = origin.commit("three, rewritten")
    origin.git("reflog", "expire", "--expire=now", "--all")
    origin.git("gc", "-q", "--prune=now")
    assert not origin.has_object(old_tip)
    clone = shallow_clone(origin, tmp_path / "clone")

    result = discover(clone, old_tip)

    assert result.changes is None
    assert result.base == old_tip
    assert result.head == new_tip
    assert f"base commit {old_tip[:7]} is not in the checkout and could not be fetched" in result.reason
    assert "force push" in result.reason


def test_abbreviated_missing_base_is_not_fetched(tmp_path: Path) -> None:
    origin, shas = make_origin(tmp_path)
    clone = shallow_clone(origin, tmp_path / "clone")

    result = discover(clone, shas[1][:12])

    assert result.changes is None
    assert "only full SHAs are fetched" in result.reason


def test_hanging_fetch_is_killed_at_the_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    origin, _ = make_origin(tmp_path)
    clone = shallow_clone(origin, tmp_path / "clone")
    # An "ssh" that never answers: it is a grandchild of git, so only a process-group kill ends it.
    clone.git("remote", "set-url", "origin", "ssh://git.example.invalid/o/r.git")
    monkeypatch.setenv("GIT_SSH_COMMAND", "sleep 30; :")
    monkeypatch.setenv("GIT_SSH_VARIANT", "simple")

    started = time.monotonic()
    result = discover(clone, "1" * 40, runner=GitRunner(fetch_timeout=0.5))

    assert time.monotonic() - started < 10
    assert result.changes is None
    assert "timed out" in result.reason


# --- fallbacks --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("base", [ZERO40, ZERO64])
def test_new_branch_all_zero_base(repo: Repo, base: str) -> None:
    result = discover(repo, base)

    assert result.changes is None
    assert result.whole_tree
    assert "all-zero SHA" in result.reason
    assert result.head == repo.git("rev-parse", "HEAD")


@pytest.mark.parametrize("base", [None, "", "   "])
def test_workflow_dispatch_without_base(repo: Repo, base: str | None) -> None:
    result = discover(repo, base)

    assert result.changes is None
    assert result.base is None
    assert result.head == repo.git("rev-parse", "HEAD")
    assert result.reason.startswith("no base commit was given")


@pytest.mark.parametrize("base", ["--output=/tmp/x", "main two", "HEAD\x00"])
def test_malformed_base(repo: Repo, base: str) -> None:
    result = discover(repo, base)

    assert result.changes is None
    assert "not a valid revision" in result.reason


def test_unknown_revision_name(repo: Repo) -> None:
    result = discover(repo, "no-such-branch")

    assert result.changes is None
    assert "is not a commit in the checkout" in result.reason


def test_not_a_repository(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    (plain / ".claude").mkdir(parents=True)

    result = discover_changes(plain, "a" * 40)

    assert result == ChangeSet(None, f"{plain} is not a git repository: comparing the whole tree", "a" * 40, None)


def test_repository_without_commits(tmp_path: Path) -> None:
    empty = Repo.init(tmp_path / "empty")

    result = discover(empty, "a" * 40)

    assert result.changes is None
    assert result.head is None
    assert "does not name a commit" in result.reason


def test_missing_workspace(tmp_path: Path) -> None:
    result = discover_changes(tmp_path / "nowhere", "a" * 40)

    assert result.changes is None
    assert "does not exist" in result.reason


def test_git_missing(repo: Repo, tmp_path: Path) -> None:
    result = discover(repo, "a" * 40, runner=GitRunner(git=str(tmp_path / "bin" / "git")))

    assert result.changes is None
    assert result.head is None
    assert result.reason.startswith("git is not available")


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to hand the repository to another uid")
def test_dubious_ownership_is_handled_without_writing_config(tmp_path: Path) -> None:
    origin, shas = make_origin(tmp_path)
    clone = shallow_clone(origin, tmp_path / "clone")
    for folder, dirs, files in os.walk(clone.path):
        for name in [*dirs, *files]:
            os.lchown(os.path.join(folder, name), 1001, 1001)
    os.lchown(clone.path, 1001, 1001)
    config_before = (clone.path / ".git" / "config").read_bytes()
    # Plain git refuses this repository, as it does in the action's container.
    refused = subprocess.run(["git", "rev-parse", "HEAD"], cwd=clone.path, capture_output=True)
    assert refused.returncode != 0
    assert b"dubious ownership" in refused.stderr

    # The base is missing too, so the fetch has to be trusted as well as rev-parse and diff.
    result = discover(clone, shas[1])

    assert result.changes == (Change("A", f"{EPIC}/002.md"),)
    assert result.head == shas[2]
    assert (clone.path / ".git" / "config").read_bytes() == config_before
    assert not (tmp_path / "home" / ".gitconfig").exists()


# --- the runner and the parser, without git ---------------------------------------------------------------


def test_runner_environment_appends_to_existing_config_entries(tmp_path: Path) -> None:
    runner = GitRunner(
        env={
            "PATH": "/usr/bin",
            "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": "a.b",
            "GIT_CONFIG_VALUE_0": "c",
        }
    )

    env = runner.environment(tmp_path)

    assert env["GIT_CONFIG_COUNT"] == "2"
    assert (env["GIT_CONFIG_KEY_0"], env["GIT_CONFIG_VALUE_0"]) == ("a.b", "c")
    assert (env["GIT_CONFIG_KEY_1"], env["GIT_CONFIG_VALUE_1"]) == ("safe.directory", str(tmp_path.resolve()))
    assert env["GIT_TERMINAL_PROMPT"] == "0"


def test_runner_trusts_the_repository_top_and_accepts_an_override(repo: Repo) -> None:
    sub = repo.path / ".claude" / "prds"
    assert GitRunner(env={}).environment(sub)["GIT_CONFIG_VALUE_0"] == str(repo.path.resolve())
    assert GitRunner(env={}, safe_directory="*").environment(sub)["GIT_CONFIG_VALUE_0"] == "*"


def test_runner_reports_a_missing_git(tmp_path: Path) -> None:
    with pytest.raises(GitNotFoundError):
        GitRunner(git="definitely-not-git-xyz").run(["--version"], cwd=tmp_path)


def test_parse_name_status_all_statuses() -> None:
    data = (
        b"M\0a.md\0"
        b"A\0dir with space/b.md\0"
        b"D\0c.md\0"
        b"R100\0old/t\xc3\xa2che.md\0new/t\xc3\xa2che.md\0"
        b"R067\0x.md\0y.md\0"
        b"C090\0src.md\0copy.md\0"
        b"T\0link.md\0"
    )

    assert parse_name_status(data) == (
        Change("M", "a.md"),
        Change("A", "dir with space/b.md"),
        Change("D", "c.md"),
        Change("R", "new/tâche.md", "old/tâche.md"),
        Change("R", "y.md", "x.md"),
        Change("A", "copy.md"),
        Change("M", "link.md"),
    )
    assert parse_name_status(b"") == ()


def test_parse_name_status_keeps_non_utf8_names_as_the_filesystem_does() -> None:
    (change,) = parse_name_status(b"A\0caf\xe9.md\0")
    assert change.path == os.fsdecode(b"caf\xe9.md")


@pytest.mark.parametrize("data", [b"X\0a\0", b"R100\0only-old\0", b"M\0", b"M\0\0", b"a.md\0M\0", b"R1000\0a\0b\0"])
def test_parse_name_status_rejects_malformed_output(data: bytes) -> None:
    with pytest.raises(ValueError):
        parse_name_status(data)


class CannedRunner(GitRunner):
    """Answers git calls from a table, to reach the paths real git does not take."""

    def __init__(self, answers: dict[str, GitResult]) -> None:
        super().__init__()
        self.answers = answers
        self.calls: list[tuple[str, ...]] = []

    def run(self, args: Sequence[str], *, cwd: Path, timeout: float | None = None) -> GitResult:
        self.calls.append(tuple(args))
        verb = next(a for a in args if not a.startswith("-") and "=" not in a)
        return self.answers[verb]


def ok(stdout: bytes) -> GitResult:
    return GitResult((), 0, stdout, b"")


def test_unreadable_diff_output_falls_back(tmp_path: Path) -> None:
    head, base = "b" * 40, "a" * 40
    runner = CannedRunner({"rev-parse": ok(head.encode() + b"\n"), "diff": ok(b"Q\0weird\0")})

    result = discover_changes(tmp_path, base, runner=runner)

    assert result.changes is None
    assert result.reason.startswith("could not read the git diff output")
    diff_call = runner.calls[-1]
    assert diff_call[:4] == ("-c", "core.quotepath=off", "diff", "--name-status")
    assert diff_call[-2:] == ("--", ":(literal).claude")


def test_failing_diff_falls_back_with_gits_message(tmp_path: Path) -> None:
    runner = CannedRunner(
        {
            "rev-parse": ok(b"b" * 40 + b"\n"),
            "diff": GitResult((), 128, b"", b"warning: x\nfatal: bad object\nhint: y\n"),
        }
    )

    result = discover_changes(tmp_path, "a" * 40, runner=runner)

    assert result.changes is None
    assert "(fatal: bad object)" in result.reason
