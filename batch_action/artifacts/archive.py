"""Artifact name rules, zip building, and extraction that refuses to write outside its folder."""

from __future__ import annotations

import os
import re
import shutil
import stat
import struct
import time
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import IO

from .errors import ArtifactIntegrityError, ArtifactNameError, ArtifactTooLargeError, UnsafeArchiveError
from .limits import ARCHIVE_LIMITS, ArchiveLimits

# path-and-artifact-name-validation.ts: names refuse these; entry paths the same minus \ and /.
_NAME_FORBIDDEN = ('"', ":", "<", ">", "|", "*", "?", "\r", "\n", "\\", "/")
_PATH_FORBIDDEN = ('"', ":", "<", ">", "|", "*", "?", "\r", "\n")
_DRIVE = re.compile(r"^[A-Za-z]:")
_COPY_CHUNK = 1024 * 1024
# End of central directory record: signature, disk numbers, entry counts, directory size and offset, comment length.
_END_RECORD = struct.Struct("<4sHHHHIIH")
_ZIP64_LOCATOR = b"PK\x06\x07"


def validate_artifact_name(name: str) -> None:
    if not name:
        raise ArtifactNameError("artifact name must not be empty")
    bad = [c for c in _NAME_FORBIDDEN if c in name]
    if bad:
        raise ArtifactNameError(f"artifact name {name!r} contains forbidden character(s): {' '.join(map(repr, bad))}")


def validate_entry_path(path: str) -> None:
    """Archive entry names: the toolkit's rule, plus no backslash, absolute path or dot segment."""
    if not path:
        raise ArtifactNameError("archive entry path must not be empty")
    bad = [c for c in _PATH_FORBIDDEN if c in path]
    if bad:
        raise ArtifactNameError(f"archive entry {path!r} contains forbidden character(s): {' '.join(map(repr, bad))}")
    # A backslash is a separator on Windows extractors, so it would hide a traversal from a POSIX check.
    if "\\" in path:
        raise ArtifactNameError(f"archive entry {path!r} must use '/' as separator")
    parts = path.split("/")
    if path.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ArtifactNameError(f"archive entry {path!r} must be a plain relative path without '.' or '..'")


def write_zip(files: Mapping[str, Path], out: IO[bytes], *, compresslevel: int = 6) -> None:
    """Deflate `files` (entry name -> source file) into `out`, in sorted order for stable bytes."""
    if not files:
        raise ArtifactNameError("no files to upload")
    for entry in files:
        validate_entry_path(entry)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as zf:
        for entry in sorted(files):
            source = Path(files[entry])
            try:
                st = source.stat()
            except OSError as exc:
                raise ArtifactNameError(f"cannot read {source}: {exc.strerror}") from exc
            if not stat.S_ISREG(st.st_mode):
                raise ArtifactNameError(f"{source} is not a regular file")
            # Zip timestamps cannot predate 1980.
            mtime = time.gmtime(max(st.st_mtime, 315532800))
            info = zipfile.ZipInfo(entry, date_time=mtime[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (stat.S_IFREG | 0o644) << 16  # permissions are not kept (upload-artifact)
            with source.open("rb") as src, zf.open(info, "w") as dst:
                shutil.copyfileobj(src, dst, _COPY_CHUNK)


def _check_member(info: zipfile.ZipInfo, root: Path) -> Path:
    name = info.filename
    if "\\" in name or name.startswith("/") or _DRIVE.match(name):
        raise UnsafeArchiveError(f"refusing archive entry {name!r}: absolute or backslash path")
    if ".." in PurePosixPath(name).parts:
        raise UnsafeArchiveError(f"refusing archive entry {name!r}: it escapes the destination")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise UnsafeArchiveError(f"refusing archive entry {name!r}: symbolic link")
    target = (root / name).resolve()
    # resolve() also follows links already present under root, which could point elsewhere.
    if target != root and not target.is_relative_to(root):
        raise UnsafeArchiveError(f"refusing archive entry {name!r}: it escapes the destination")
    return target


def safe_extract(archive: IO[bytes], dest: Path, limits: ArchiveLimits = ARCHIVE_LIMITS) -> list[Path]:
    """Extract every file of the zip into `dest`; all entries (paths and declared sizes) are checked before anything
    is written, and the sizes again while copying. Past a limit, `ArtifactTooLargeError`: what was written stays for
    the caller to remove with `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    _check_directory_size(archive, limits)
    try:
        zf = zipfile.ZipFile(archive)
    except zipfile.BadZipFile as exc:
        raise ArtifactIntegrityError(f"downloaded artifact is not a valid zip: {exc}") from exc
    with zf:
        infos = zf.infolist()
        _check_declared_sizes(infos, limits)
        members = [(info, _check_member(info, root)) for info in infos]
        written: list[Path] = []
        room = limits.max_total_bytes
        for info, target in members:
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with zf.open(info) as src, open(target, "wb") as dst:
                    room -= _copy_bounded(src, dst, min(limits.max_entry_bytes, room), info.filename)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error) as exc:
                raise ArtifactIntegrityError(f"archive entry {info.filename!r} is corrupt: {exc}") from exc
            written.append(target)
    return written


def _check_directory_size(archive: IO[bytes], limits: ArchiveLimits) -> None:
    """The zip reader parses the whole central directory into objects before any entry can be looked at: bound it
    from the end record first (a few MB of directory are a million entries)."""
    archive.seek(0, os.SEEK_END)
    size = archive.tell()
    tail_start = max(0, size - _END_RECORD.size - 0xFFFF)  # the record ends the file, after a comment of <= 64 KiB
    archive.seek(tail_start)
    tail = archive.read()
    archive.seek(0)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _END_RECORD.size:
        raise ArtifactIntegrityError("downloaded artifact is not a valid zip: no end of central directory")
    if tail[max(0, at - 20) : at].startswith(_ZIP64_LOCATOR):
        # ZIP64 is for archives past 4 GiB or 65,535 entries: far beyond any checkpoint.
        raise ArtifactTooLargeError("the archive is a ZIP64 archive (larger than 4 GiB or 65,535 entries)")
    directory_bytes = _END_RECORD.unpack_from(tail, at)[5]
    if directory_bytes > limits.max_directory_bytes:
        raise ArtifactTooLargeError(
            f"the archive's central directory is too large ({directory_bytes} bytes, the limit is "
            f"{limits.max_directory_bytes})"
        )


def _check_declared_sizes(infos: list[zipfile.ZipInfo], limits: ArchiveLimits) -> None:
    if len(infos) > limits.max_entries:
        raise ArtifactTooLargeError(
            f"the archive is too large: {len(infos)} entries, the limit is {limits.max_entries}"
        )
    for info in infos:
        if info.file_size > limits.max_entry_bytes:
            raise ArtifactTooLargeError(
                f"archive entry {info.filename!r} is too large ({info.file_size} bytes, the limit is "
                f"{limits.max_entry_bytes})"
            )
    total = sum(info.file_size for info in infos)
    if total > limits.max_total_bytes:
        raise ArtifactTooLargeError(
            f"the archive is too large when extracted ({total} bytes, the limit is {limits.max_total_bytes})"
        )


def _copy_bounded(src: IO[bytes], dst: IO[bytes], limit: int, entry: str) -> int:
    """Copy at most `limit` bytes; more means the declared size lied (or the reader does not keep to it)."""
    copied = 0
    while chunk := src.read(_COPY_CHUNK):
        copied += len(chunk)
        if copied > limit:
            raise ArtifactTooLargeError(f"archive entry {entry!r} is too large: it expands past {limit} bytes")
        dst.write(chunk)
    return copied
