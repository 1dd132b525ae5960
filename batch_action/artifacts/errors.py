"""Typed errors of the artifacts client. Messages never carry a token or a signed URL's query."""

from __future__ import annotations


class ArtifactError(Exception):
    """Base class: every failure of the artifacts client is one of these."""


class ArtifactNameError(ArtifactError):
    """An artifact name or an archive entry path that the service (or a safe zip) would refuse."""


class ArtifactServiceError(ArtifactError):
    """A final error answer from the results service, the blob host or the REST API."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class ArtifactConflictError(ArtifactServiceError):
    """409: the name already exists on this workflow run."""


class ArtifactNotFoundError(ArtifactError):
    """No artifact of that name (or id) is visible."""


class ArtifactPermissionError(ArtifactError):
    """The token was refused (401/403), or a signed URL was rejected."""


class ArtifactExpiredError(ArtifactError):
    """The artifact (410) or its signed URL has expired."""


class ArtifactQuotaError(ArtifactError):
    """The service reported `insufficient usage`: the storage quota is used up."""


class ArtifactNetworkError(ArtifactError):
    """The connection failed (reset, refused, timed out)."""


class ArtifactTooLargeError(ArtifactError):
    """A download, an archive or one of its entries is larger than the caps allow (artifacts/limits.py)."""


class ArtifactIntegrityError(ArtifactError):
    """Downloaded bytes do not match the digest, or the archive is not a readable zip."""


class UnsafeArchiveError(ArtifactIntegrityError):
    """A zip entry would land outside the destination folder (zip slip) or is a link."""
