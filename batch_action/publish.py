"""Uploading the run's files as workflow artifacts: the graph before the first write, the checkpoint during
long runs (at most once a minute) and at every ending, the report at the end.

Names: `<artifact-name>-graph`, `-checkpoint`, `-report`, with `-<attempt>` appended on re-run attempts, so an
attempt never overwrites the checkpoint the next attempt resumes from. Without a runtime token (a local run, or a
workflow that prefers `actions/upload-artifact`) the files stay in `output-dir` and one notice says so. An upload
that fails is a warning, never the end of the sync.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from batch_action.actions_io import ActionsIO
from batch_action.artifacts import ArtifactClient, ArtifactError

CHECKPOINT_INTERVAL = 60.0


def artifact_name(prefix: str, part: str, attempt: int) -> str:
    return f"{prefix}-{part}" + (f"-{attempt}" if attempt > 1 else "")


class Publisher:
    def __init__(
        self,
        client: ArtifactClient | None,
        io: ActionsIO,
        *,
        prefix: str,
        attempt: int,
        retention_days: int | None,
        enabled: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.enabled = enabled  # `upload-artifacts: false`: keep the files, say nothing
        self.client = client
        self.io = io
        self.prefix = prefix
        self.attempt = attempt
        self.retention_days = retention_days
        self.clock = clock
        self.uploaded: dict[str, int] = {}  # artifact name -> id
        self._last_checkpoint: float | None = None
        self._lock = threading.Lock()
        self._noticed = False

    def upload(self, part: str, files: Mapping[str, Path]) -> bool:
        name = artifact_name(self.prefix, part, self.attempt)
        present = {entry: path for entry, path in files.items() if path.is_file()}
        if not self.enabled:
            return False
        if self.client is None:
            if not self._noticed:
                self._noticed = True
                self.io.notice(
                    "No Actions runtime token here (a local run, or a `run:` step): the graph, checkpoint and report "
                    "stay in output-dir and are not uploaded as artifacts"
                )
            return False
        try:
            with self._lock:
                info = self.client.upload(name, present, retention_days=self.retention_days, replace=True)
        except (ArtifactError, OSError) as exc:
            self.io.warning(f"artifact {name} was not uploaded: {exc}", title="artifact upload")
            return False
        self.uploaded[name] = info.id
        self.io.log(f"artifact {name}: {info.size} bytes uploaded (id {info.id})")
        return True

    def checkpoint(self, files: Mapping[str, Path], *, final: bool) -> bool:
        """Refresh the checkpoint artifact: always when `final`, else at most once per CHECKPOINT_INTERVAL."""
        now = self.clock()
        if not final and self._last_checkpoint is not None and now - self._last_checkpoint < CHECKPOINT_INTERVAL:
            return False
        self._last_checkpoint = now
        return self.upload("checkpoint", files)
