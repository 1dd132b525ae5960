"""The planning folder on disk, listed and read without trusting what is in it.

Anyone with push access edits the folder, and the run holds a token that can write issues, so nothing below the
folder is followed or opened on its word:

- No symbolic link is followed, file or folder, even one that points inside the folder: a checkout holds only
  what the commit holds, so a link is a mistake or an attack, and following a "safe" one would need the same
  checks. Links (dangling ones and loops too) and other non-regular files (FIFOs, sockets, devices) are listed
  as refused, with the reason, and never opened: opening a FIFO would block the run.
- Every open goes one path component at a time from the folder's descriptor (`O_DIRECTORY|O_NOFOLLOW` per
  folder, `O_NOFOLLOW` for the file) and the file is checked with fstat to be a regular file, so an entry
  swapped for a link after the walk (a body is read again when its issue is written) is refused, not followed.
- Reads are bounded by `MAX_FILE_BYTES`.
- A name that is not valid UTF-8 is refused for the user to rename, shown with its bad bytes as `\\xNN`; so is
  a name with a backslash (a path separator on Windows, never accepted in a path read later).

Paths are plain strings (`os.scandir`, not pathlib): pathlib objects cost more than the parsing itself in a
10,000-file tree.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field
from types import TracebackType

# GitHub keeps at most 65,536 characters of an issue body; a planning file 16 times that is no planning file.
MAX_FILE_BYTES = 1024 * 1024
LINK_REASON = "symbolic link: not followed"
RENAME_FIX = "rename the file to a UTF-8 name"
BACKSLASH_FIX = "rename the file without a backslash"
PERMISSIONS_FIX = "check its permissions"

_FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: a FIFO swapped in after the walk opens at once (then fstat refuses it) instead of blocking.
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


@dataclass(frozen=True)
class Refused:
    """An entry under the folder that is not read. With a `fix` the user must act (it counts as failed);
    without one it is skipped (links, FIFOs and the like)."""

    path: str  # relative to the planning folder, printable
    reason: str
    fix: str = ""


@dataclass
class Listing:
    files: list[str] = field(default_factory=list)  # regular files, relative posix paths, in pathlib's order
    skipped: list[Refused] = field(default_factory=list)
    failed: list[Refused] = field(default_factory=list)


class UnreadableFile(Exception):
    """A file that cannot be read safely, with the reason and the fix for the user."""

    def __init__(self, reason: str, fix: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fix = fix


class UnsafePath(ValueError):
    """A path handed in to be read (e.g. from a checkpoint) that does not name a file inside the folder."""


def printable(name: str) -> str:
    """`name` as reports and logs can carry it: bytes that are not UTF-8 become `\\xNN` escapes."""
    if name.isascii():
        return name
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def _is_utf8(name: str) -> bool:
    # os.scandir decodes a name's bad bytes to lone surrogates (surrogateescape), which UTF-8 cannot encode.
    if name.isascii():
        return True
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def is_plain_relative(path: str) -> bool:
    """`a/b.md`: not absolute, no `..`, no empty or `.` segment, no backslash, no NUL."""
    return (
        bool(path)
        and "\\" not in path
        and "\0" not in path
        and all(part not in ("", ".", "..") for part in path.split("/"))
    )


def inside_folder(path: str, folder: str) -> str:
    """`path` as reports name files (e.g. `.claude/epics/e/001.md`) made relative to the planning folder, whose
    name `folder` is (`.claude`; "" or "." for the workspace itself). Raises `UnsafePath` for anything else."""
    prefix = "" if folder in ("", ".") else folder.rstrip("/") + "/"
    if path.startswith(prefix) and is_plain_relative(path[len(prefix) :]):
        return path[len(prefix) :]
    raise UnsafePath(f"{printable(path)!r} is not a plain relative path inside {folder or '.'}")


def _special_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "not a regular file"


class PlanningFolder:
    """The planning folder, opened once by its configured path; everything below it without following links.

    Not for sharing between threads (it keeps the last folder it opened); open one per reader.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self._root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        self._cached: tuple[str, int] | None = None  # the folder of the last read: files come folder by folder

    def close(self) -> None:
        self._forget()
        os.close(self._root_fd)

    def __enter__(self) -> PlanningFolder:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def walk(self) -> Listing:
        """Every entry under the folder: regular files to read, the rest refused with the reason."""
        listing = Listing()
        pending = [""]
        while pending:
            folder = pending.pop()
            try:
                fd = self._open_folder(folder)
                try:
                    self._list(fd, folder, listing, pending)
                finally:
                    if fd != self._root_fd:
                        os.close(fd)
            except OSError as exc:
                listing.failed.append(Refused(folder, f"cannot list the folder ({exc.strerror})", PERMISSIONS_FIX))
        listing.files.sort(key=_path_order)
        listing.skipped.sort(key=lambda refused: _path_order(refused.path))
        listing.failed.sort(key=lambda refused: _path_order(refused.path))
        return listing

    @staticmethod
    def _list(fd: int, folder: str, listing: Listing, pending: list[str]) -> None:
        # Every question about an entry is asked inside the `with`: the entries answer through its descriptor.
        with os.scandir(fd) as entries:
            for entry in entries:
                relative = f"{folder}/{entry.name}" if folder else entry.name
                if not _is_utf8(entry.name):
                    listing.failed.append(Refused(printable(relative), "the name is not valid UTF-8", RENAME_FIX))
                    continue
                if "\\" in entry.name:  # legal here, but no path read later may hold one (`is_plain_relative`)
                    listing.failed.append(Refused(relative, "the name holds a backslash", BACKSLASH_FIX))
                    continue
                try:
                    if entry.is_symlink():
                        listing.skipped.append(Refused(relative, LINK_REASON))
                    elif entry.is_dir(follow_symlinks=False):
                        pending.append(relative)
                    elif entry.is_file(follow_symlinks=False):
                        listing.files.append(relative)
                    else:
                        kind = _special_kind(entry.stat(follow_symlinks=False).st_mode)
                        listing.skipped.append(Refused(relative, f"{kind}: not read"))
                except OSError as exc:  # gone since the listing, or a stat refused
                    listing.failed.append(Refused(relative, f"cannot read it ({exc.strerror})", PERMISSIONS_FIX))

    def read(self, relative: str, limit: int = MAX_FILE_BYTES) -> bytes:
        """The bytes of the regular file at `relative` (a plain relative path), at most `limit` of them.

        Raises `UnsafePath` for a path that is not plain and `UnreadableFile` for a link (at any component), a
        non-regular file, a file over the limit, or an error of the system.
        """
        if not is_plain_relative(relative):
            raise UnsafePath(f"{printable(relative)!r} is not a plain relative path")
        folder, _, name = relative.rpartition("/")
        try:
            dir_fd = self._folder_of(folder)
            fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
        except OSError as exc:
            raise self._unreadable(exc, relative) from exc
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise UnreadableFile(f"{_special_kind(info.st_mode)}: not read", "commit it as a regular file")
            if info.st_size > limit:
                raise _too_large(info.st_size, limit)
            data = _read_at_most(fd, limit + 1, info.st_size + 1)
        except OSError as exc:
            raise UnreadableFile(f"cannot read the file ({exc.strerror})", PERMISSIONS_FIX) from exc
        finally:
            os.close(fd)
        if len(data) > limit:  # it grew after the fstat
            raise _too_large(len(data), limit)
        return data

    def _folder_of(self, folder: str) -> int:
        if not folder:
            return self._root_fd
        if self._cached is not None and self._cached[0] == folder:
            return self._cached[1]
        self._forget()
        fd = self._open_folder(folder)
        self._cached = (folder, fd)
        return fd

    def _forget(self) -> None:
        if self._cached is not None:
            os.close(self._cached[1])
            self._cached = None

    def _open_folder(self, folder: str) -> int:
        """A descriptor of `folder` (the root's itself for ""), opened a component at a time, never via a link."""
        fd = self._root_fd
        try:
            for part in folder.split("/") if folder else ():
                inner = os.open(part, _FOLDER_FLAGS, dir_fd=fd)
                if fd != self._root_fd:
                    os.close(fd)
                fd = inner
        except BaseException:
            if fd != self._root_fd:
                os.close(fd)
            raise
        return fd

    def _unreadable(self, exc: OSError, relative: str) -> UnreadableFile:
        # O_NOFOLLOW answers ELOOP for a link as the file, O_DIRECTORY ENOTDIR for a link as a folder.
        if exc.errno in (errno.ELOOP, errno.ENOTDIR) and self._link_on_the_way(relative):
            return UnreadableFile(LINK_REASON, "commit the file itself, not a link to it")
        return UnreadableFile(f"cannot read the file ({exc.strerror})", PERMISSIONS_FIX)

    def _link_on_the_way(self, relative: str) -> bool:
        fd = self._root_fd
        parts = relative.split("/")
        try:
            for index, part in enumerate(parts):
                if stat.S_ISLNK(os.stat(part, dir_fd=fd, follow_symlinks=False).st_mode):
                    return True
                if index < len(parts) - 1:
                    inner = os.open(part, _FOLDER_FLAGS, dir_fd=fd)
                    if fd != self._root_fd:
                        os.close(fd)
                    fd = inner
        except OSError:
            return False
        finally:
            if fd != self._root_fd:
                os.close(fd)
        return False


def read_file(root: str | os.PathLike[str], relative: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """One file below the folder at `root`, read as `PlanningFolder.read` does (for one-off reads in any thread)."""
    with PlanningFolder(root) as folder:
        return folder.read(relative, limit)


def _read_at_most(fd: int, most: int, expected: int) -> bytes:
    chunks: list[bytes] = []
    left = most
    while left > 0:
        chunk = os.read(fd, min(left, max(expected, 64 * 1024)))  # one read for a file that kept its size
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _too_large(size: int, limit: int) -> UnreadableFile:
    return UnreadableFile(
        f"the file holds {size:,} bytes, more than the {limit:,} a planning file may hold",
        "split it into smaller files (an issue body holds at most 65,536 characters)",
    )


def _path_order(relative: str) -> list[str]:
    return relative.split("/")  # pathlib's order: part by part, not character by character
