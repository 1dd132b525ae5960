"""How much a downloaded artifact may weigh. An artifact is untrusted input: its zip can claim any size and expand
to any size, so each size is capped where it is read, and a download past a cap is refused, never cut short.

The caps fit the one artifact this action downloads, its checkpoint, with room to spare. Measured on a 10,000-item
tree (`benchmarks/generate_tree.py --items 10000`, bodies of 1-3 KB) synced against the fake GitHub: state.json
37.8 MB, plan.json 11.1 MB, checkpoint.json 0.2 MB, and the journal 10.2 MB when 4,364 of 28,965 jobs were done
(265 bytes per planned job, 238 per started and done pair: ~15 MB for the whole run, ~30 MB for a run that
replayed another); deflated to a zip of 4.7 MB (about 12:1).
"""

from __future__ import annotations

from dataclasses import dataclass

MiB = 1024 * 1024
# The zip as downloaded: ~10 times a 10,000-item checkpoint's. Bounds the spool on disk, and the central directory.
MAX_DOWNLOAD_BYTES = 64 * MiB


@dataclass(frozen=True)
class ArchiveLimits:
    """What `safe_extract` accepts: checked on the declared sizes first, then again while copying."""

    # A checkpoint has 4 files; room for a few more in later versions.
    max_entries: int = 16
    # The largest file a replay loads: state.json, 37.8 MB at 10,000 items (the same cap as loading it).
    max_entry_bytes: int = 128 * MiB
    # Every entry at once: state, journal and plan each at the entry cap (~64 MB at 10,000 items).
    max_total_bytes: int = 384 * MiB
    # The central directory, which the zip reader parses whole before any entry: 16 entries of up to 4 KiB.
    max_directory_bytes: int = 64 * 1024


ARCHIVE_LIMITS = ArchiveLimits()
