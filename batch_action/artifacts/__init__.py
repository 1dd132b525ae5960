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
    UnsafeArchiveError,
)
from .rest import download_run_artifact

__all__ = [
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
    "UnsafeArchiveError",
    "backend_ids_from_token",
    "download_run_artifact",
    "safe_extract",
    "validate_artifact_name",
    "validate_entry_path",
]
