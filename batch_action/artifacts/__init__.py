"""GitHub Actions Artifacts v4 client (no Node.js): upload, list, download and delete run artifacts."""

from .archive import safe_extract, validate_artifact_name, validate_entry_path
from .client import ArtifactClient, ArtifactInfo, backend_ids_from_token
from .errors import (
    ArtifactConflictError,
    ArtifactError,
    ArtifactExpiredError,
    ArtifactIntegrityError,
    ArtifactNameError,
    ArtifactNetworkError,
    ArtifactNotFoundError,
    ArtifactPermissionError,
    ArtifactQuotaError,
    ArtifactServiceError,
    ArtifactTooLargeError,
    UnsafeArchiveError,
)
from .limits import ARCHIVE_LIMITS, MAX_DOWNLOAD_BYTES, ArchiveLimits
from .rest import WorkflowRun, download_run_artifact, get_workflow_run

__all__ = [
    "ARCHIVE_LIMITS",
    "MAX_DOWNLOAD_BYTES",
    "ArchiveLimits",
    "ArtifactClient",
    "ArtifactConflictError",
    "ArtifactError",
    "ArtifactExpiredError",
    "ArtifactInfo",
    "ArtifactIntegrityError",
    "ArtifactNameError",
    "ArtifactNetworkError",
    "ArtifactNotFoundError",
    "ArtifactPermissionError",
    "ArtifactQuotaError",
    "ArtifactServiceError",
    "ArtifactTooLargeError",
    "UnsafeArchiveError",
    "WorkflowRun",
    "backend_ids_from_token",
    "download_run_artifact",
    "get_workflow_run",
    "safe_extract",
    "validate_artifact_name",
    "validate_entry_path",
]
