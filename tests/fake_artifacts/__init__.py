"""Loopback double of the Artifacts v4 results service, blob host and REST artifacts API."""

from .server import (
    CONFLICT_MSG,
    QUOTA_MSG,
    TWIRP_PREFIX,
    WORKFLOW_PATH,
    FakeArtifactService,
    Fault,
    RecordedRequest,
    RestRun,
    StoredArtifact,
    StoredBlob,
    make_zip,
    mint_runtime_token,
)

__all__ = [
    "CONFLICT_MSG",
    "QUOTA_MSG",
    "TWIRP_PREFIX",
    "WORKFLOW_PATH",
    "FakeArtifactService",
    "Fault",
    "RecordedRequest",
    "RestRun",
    "StoredArtifact",
    "StoredBlob",
    "make_zip",
    "mint_runtime_token",
]
