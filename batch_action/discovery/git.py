"""Which planning files changed between two commits, asked of real git.

The push payload that Actions hands us has no file lists, so the changed files come from
`git diff --name-status -z -M <before> <head> -- <under>`. Whenever that cannot be answered exactly (no base,
a new branch, a base lost to a force push, no repository, no git) the result says "compare the whole tree"
(`changes=None`) with a sentence saying why; a full comparison is always correct, only slower.

Every git call goes through `GitRunner`, which trusts the workspace via `safe.directory` passed in the
environment (the container runs as root on a checkout owned by the runner's uid) without writing any config.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from batch_action.model import Change, ChangeSet

__all__ = [
    "Change",
    "ChangeSet",
    "GitNotFoundError",
    "GitResult",
    "GitRunner",
    "discover_changes",
    "parse_name_status",
]

# Only full object names can be fetched by id: servers do not expand abbreviations.
_FULL_SHA = re.compile(r"[0-9a-fA-F]{40}|[0-9a-fA-F]{64}")
_ZERO_SHA = re.compile(r"0{40}|0{64}")
_STATUS = re.compile(rb"([ACDMRTU])([0-9]{0,3})")


class GitNotFoundError(RuntimeError):
    """The git executable could not be started."""


@dataclass(frozen=True)
class GitResult:
    args: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: bytes
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def message(self) -> str:
        """The most telling line of stderr, for reasons shown to users."""
        if self.timed_out:
            return "timed out"
        lines = [line.strip() for line in self.stderr.decode("utf-8", "replace").splitlines()]
        lines = [line for line in lines if line]
        # git puts the verdict on the "fatal:"/"error:" line; hints come after it.
        for line in lines:
            if line.startswith(("fatal:", "error:")):
                return line
        return lines[0] if lines else f"exit status {self.returncode}"


class GitRunner:
    """Runs git with bytes output, a timeout, and the environment the container needs.

    Tests may subclass it and override `run` to feed canned output to `discover_changes`.
    """

    def __init__(
        self,
        *,
        git: str = "git",
        timeout: float = 30.0,
        fetch_timeout: float = 60.0,
        env: Mapping[str, str] | None = None,
        safe_directory: str | None = None,
    ) -> None:
        self.git = git
        self.timeout = timeout
        self.fetch_timeout = fetch_timeout
        self._env = env
        # None: trust exactly the repository that holds the working directory (see `environment`).
        self._safe_directory = safe_directory

    def environment(self, cwd: Path) -> dict[str, str]:
        env = dict(os.environ if self._env is None else self._env)
        # Append to any GIT_CONFIG_COUNT entries already set instead of clobbering them.
        try:
            count = max(int(env.get("GIT_CONFIG_COUNT", "0")), 0)
        except ValueError:
            count = 0
        env["GIT_CONFIG_COUNT"] = str(count + 1)
        env[f"GIT_CONFIG_KEY_{count}"] = "safe.directory"
        env[f"GIT_CONFIG_VALUE_{count}"] = self._safe_directory or _repository_top(cwd)
        # A fetch must fail rather than wait for a password nobody will type.
        env["GIT_TERMINAL_PROMPT"] = "0"
        # English messages, so the reasons read the same in every log.
        env["LC_ALL"] = "C"
        env.pop("LANGUAGE", None)
        return env

    def run(self, args: Sequence[str], *, cwd: Path, timeout: float | None = None) -> GitResult:
        limit = self.timeout if timeout is None else timeout
        command = [self.git, *args]
        try:
            # Own process group, so a timeout also kills helpers (ssh, git-remote-https) that would
            # otherwise keep the pipes open and hang communicate().
            proc = subprocess.Popen(
                command,
                cwd=cwd,
                env=self.environment(cwd),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except (FileNotFoundError, PermissionError, NotADirectoryError) as exc:
            if exc.filename is not None and os.fspath(exc.filename) == os.fspath(cwd):
                raise
            raise GitNotFoundError(f"cannot run {self.git!r}: {exc.strerror or exc}") from exc
        timed_out = False
        with proc:
            try:
                out, err = proc.communicate(timeout=limit)
            except subprocess.TimeoutExpired:
                _kill_group(proc)
                out, err = proc.communicate()
                timed_out = True
            except BaseException:
                # KeyboardInterrupt (SIGINT from the runner): do not leave git running behind us.
                _kill_group(proc)
                raise
        return GitResult(tuple(args), proc.returncode, out, err, timed_out)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def _repository_top(cwd: Path) -> str:
    """The work tree that git will find from `cwd`, found without git (which refuses to help until trusted).

    git matches safe.directory against the real path of the work tree top, not against the cwd.
    """
    start = cwd.resolve()
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return str(folder)
    return str(start)


def parse_name_status(data: bytes) -> tuple[Change, ...]:
    """Parse `git diff --name-status -z` output: `R100\\0old\\0new\\0`, `M\\0path\\0`, …

    Copies become additions of the new path and type changes become modifications. Raises ValueError on
    anything unexpected, so that a caller can fall back to the whole tree instead of trusting a bad list.
    """
    fields = data.split(b"\0")
    if fields and fields[-1] == b"":
        fields.pop()
    changes: list[Change] = []
    i = 0
    while i < len(fields):
        match = _STATUS.fullmatch(fields[i])
        if match is None:
            raise ValueError(f"unexpected status field {fields[i]!r} in git diff output")
        letter = match.group(1).decode("ascii")
        npaths = 2 if letter in "RC" else 1
        paths = fields[i + 1 : i + 1 + npaths]
        if len(paths) != npaths or not all(paths):
            raise ValueError(f"git diff output ends early after status {letter!r}")
        # Same decoding as os.listdir, so the paths name the files on disk even if they are not UTF-8.
        names = [os.fsdecode(p) for p in paths]
        if letter == "R":
            changes.append(Change("R", names[1], names[0]))
        elif letter == "C":
            changes.append(Change("A", names[1]))
        elif letter in "TU":
            changes.append(Change("M", names[0]))
        else:
            changes.append(Change(letter, names[0]))
        i += 1 + npaths
    return tuple(changes)


def _normalise_under(under: str) -> str:
    path = PurePosixPath(under.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts:
        raise ValueError(f"`under` must be a path inside the workspace, got {under!r}")
    return str(path)  # "" and "./" become "."


def _short(sha: str) -> str:
    return sha[:7]


def discover_changes(
    workspace: Path, base_sha: str | None, *, under: str = ".claude", runner: GitRunner | None = None
) -> ChangeSet:
    """The files under `under` that changed between `base_sha` and HEAD of the repository at `workspace`.

    Never raises for git trouble: every failure becomes `changes=None` with a reason. Raises ValueError only
    for an `under` that points outside the workspace.
    """
    folder = _normalise_under(under)
    base = (base_sha or "").strip() or None
    git = runner if runner is not None else GitRunner()
    workspace = Path(workspace)
    if not workspace.is_dir():
        why = f"the workspace {workspace} does not exist"
        return ChangeSet(None, f"{why}: comparing the whole tree", base, None)
    try:
        return _discover(git, workspace, base, folder)
    except GitNotFoundError as exc:
        return ChangeSet(None, f"git is not available ({exc}): comparing the whole tree", base, None)


def _discover(git: GitRunner, workspace: Path, base: str | None, folder: str) -> ChangeSet:
    head_run = git.run(["rev-parse", "--verify", "HEAD^{commit}"], cwd=workspace)
    if not head_run.ok:
        detail = head_run.message()
        if "not a git repository" in detail:
            why = f"{workspace} is not a git repository"
        else:
            why = f"HEAD of {workspace} does not name a commit ({detail})"
        return ChangeSet(None, f"{why}: comparing the whole tree", base, None)
    head = head_run.stdout.decode("ascii").strip()

    def whole(why: str) -> ChangeSet:
        return ChangeSet(None, f"{why}: comparing the whole tree", base, head)

    if base is None:
        return whole("no base commit was given (workflow_dispatch, or an event without `before`)")
    if _ZERO_SHA.fullmatch(base):
        return whole("the base is the all-zero SHA (a new branch or tag was pushed)")
    if base.startswith("-") or any(c.isspace() or not c.isprintable() for c in base):
        # A leading dash would be read as an option by git.
        return whole(f"the base {base!r} is not a valid revision")

    fetched = False
    resolved = _resolve_commit(git, workspace, base)
    if resolved is None:
        if not _FULL_SHA.fullmatch(base):
            return whole(f"the base {base!r} is not a commit in the checkout (only full SHAs are fetched)")
        # Shallow checkout (fetch-depth 1): the base object is simply not here yet; the two trees suffice.
        fetch = git.run(
            [
                "fetch",
                "--quiet",
                "--depth=1",
                "--no-tags",
                "--no-recurse-submodules",
                "--no-write-fetch-head",
                "--no-auto-gc",
                "origin",
                base,
            ],
            cwd=workspace,
            timeout=git.fetch_timeout,
        )
        if not fetch.ok:
            return whole(
                f"the base commit {_short(base)} is not in the checkout and could not be fetched from origin"
                f" ({fetch.message()}); a force push may have removed it"
            )
        resolved = _resolve_commit(git, workspace, base)
        if resolved is None:
            return whole(f"the base {_short(base)} was fetched from origin but is not a commit")
        fetched = True

    diff = git.run(
        [
            "-c",
            "core.quotepath=off",
            "diff",
            "--name-status",
            "-z",
            "-M",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            # Paths relative to the workspace even when it is a subfolder of the repository.
            "--relative",
            resolved,
            head,
            "--",
            f":(literal){folder}",
        ],
        cwd=workspace,
    )
    if not diff.ok:
        return whole(f"git diff {_short(resolved)}..{_short(head)} failed ({diff.message()})")
    try:
        changes = parse_name_status(diff.stdout)
    except ValueError as exc:
        return whole(f"could not read the git diff output ({exc})")
    count = len(changes)
    where = "" if folder == "." else f" under {folder}"
    note = "; base fetched from origin" if fetched else ""
    files = f"{count} file{'' if count == 1 else 's'}"
    reason = f"diffed {_short(resolved)}..{_short(head)} ({files}{where}{note})"
    return ChangeSet(changes, reason, resolved, head)


def _resolve_commit(git: GitRunner, workspace: Path, rev: str) -> str | None:
    result = git.run(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], cwd=workspace)
    if not result.ok:
        return None
    return result.stdout.decode("ascii").strip() or None
