"""Artifacts v4 client: Twirp JSON to the results service, Azure block upload to the signed URL.

Protocol and the official client's observed behaviour: shared/docs/actions-runtime.md sections 3 and 7.
"""

from __future__ import annotations

import base64
import binascii
import builtins
import contextlib
import hashlib
import json
import logging
import re
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote, urlencode, urlsplit

from ._transport import (
    NETWORK_ERRORS,
    RETRYABLE_STATUSES,
    TIMEOUT,
    HeaderAuth,
    Mask,
    NoAuth,
    Sleep,
    TransientError,
    check_digest,
    fetch_to_spool,
    new_session,
    raise_for_blob_status,
    redact_url,
    run_with_retries,
    signed_url_secrets,
)
from .archive import safe_extract, validate_artifact_name, write_zip
from .errors import (
    ArtifactConflictError,
    ArtifactError,
    ArtifactNetworkError,
    ArtifactNotFoundError,
    ArtifactPermissionError,
    ArtifactQuotaError,
    ArtifactServiceError,
)

log = logging.getLogger("batch_action.artifacts")

SERVICE_PATH = "/twirp/github.actions.results.api.v1.ArtifactService/"
# @actions/artifact >= 6.2 sends version 7 with a mime type; the content is still a zip.
ARTIFACT_VERSION = 7
ZIP_MIME = "application/zip"
BLOCK_SIZE = 8 * 1024 * 1024
X_MS_VERSION = "2024-11-04"
MAX_RETENTION_DAYS = 90
_FRACTION = re.compile(r"\.(\d+)")


@dataclass(frozen=True)
class ArtifactInfo:
    id: int  # database_id: int64, already beyond 2**32 on github.com
    name: str
    size: int
    digest: str | None  # "sha256:<hex>" when the service knows it
    job_backend_id: str  # the uploading job; GetSignedArtifactURL and DeleteArtifact need it
    run_backend_id: str
    created_at: datetime | None


def backend_ids_from_token(token: str) -> tuple[str, str]:
    """(run backend id, job backend id) from the JWT's `Actions.Results:<run>:<job>` scope."""
    segments = token.split(".")
    if len(segments) < 2:
        raise ArtifactError("ACTIONS_RUNTIME_TOKEN is not a JWT")
    encoded = segments[1]
    try:
        # base64url without padding; no signature check is needed on the client side.
        payload = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    except (ValueError, binascii.Error):
        raise ArtifactError("ACTIONS_RUNTIME_TOKEN payload cannot be decoded") from None
    scp = payload.get("scp") if isinstance(payload, dict) else None
    if isinstance(scp, str):
        scopes = scp.split()
    elif isinstance(scp, builtins.list):
        scopes = [s for s in scp if isinstance(s, str)]
    else:
        scopes = []
    for scope in scopes:
        parts = scope.split(":")
        if parts[0] == "Actions.Results":
            if len(parts) != 3 or not parts[1] or not parts[2]:
                raise ArtifactError("ACTIONS_RUNTIME_TOKEN has a malformed Actions.Results scope")
            return parts[1], parts[2]
    raise ArtifactError("ACTIONS_RUNTIME_TOKEN has no Actions.Results scope")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise ArtifactError(f"ACTIONS_RESULTS_URL is not an http(s) URL: {redact_url(url)!r}")
    return f"{parts.scheme.lower()}://{host}"


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(word.capitalize() for word in rest)


def _field(reply: Mapping[str, Any], key: str) -> Any:
    """Proto3 JSON readers accept both the proto name and the lowerCamel JSON name."""
    if key in reply:
        return reply[key]
    return reply.get(_camel(key))


def _int64(value: Any, what: str) -> int:
    # Proto3 JSON writes int64 as a string, but a number is valid too.
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    raise ArtifactServiceError(f"malformed reply: {what} is not an integer")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _parse_timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    # RFC 3339 may carry nanoseconds; datetime keeps microseconds.
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), value, count=1)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _json_object(raw: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _with_query(url: str, params: Mapping[str, str]) -> str:
    # Block ids are base64 ('+', '/', '='), so encode everything.
    extra = urlencode(params, quote_via=quote, safe="")
    base, _, fragment = url.partition("#")
    joined = f"{base}&{extra}" if urlsplit(base).query else f"{base.rstrip('?')}?{extra}"
    return f"{joined}#{fragment}" if fragment else joined


def _retention_cap(env: Mapping[str, str]) -> int | None:
    raw = env.get("GITHUB_RETENTION_DAYS", "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else None


class ArtifactClient:
    """Upload, list, download and delete the current workflow run's artifacts (Artifacts v4)."""

    def __init__(
        self,
        results_url: str,
        token: str,
        *,
        retention_cap_days: int | None = None,
        mask: Mask | None = None,
        sleep: Sleep = time.sleep,
        clock: Callable[[], datetime] | None = None,
        block_size: int = BLOCK_SIZE,
    ) -> None:
        if not token:
            raise ArtifactError("ACTIONS_RUNTIME_TOKEN is empty")
        self._mask: Mask = mask if mask is not None else (lambda _secret: None)
        self._mask(token)  # before anything could log it
        self._token = token
        self.run_backend_id, self.job_backend_id = backend_ids_from_token(token)
        self.origin = _origin(results_url)
        self._retention_cap = retention_cap_days
        self._sleep = sleep
        self._clock: Callable[[], datetime] = clock if clock is not None else (lambda: datetime.now(UTC))
        if block_size <= 0:
            raise ValueError("block_size must be positive")
        self._block_size = block_size
        self._twirp = new_session(HeaderAuth("Bearer", token))
        # The blob host gets a signed URL and nothing else: a separate session whose auth strips any header.
        self._blob = new_session(NoAuth())

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str],
        *,
        mask: Mask | None = None,
        sleep: Sleep = time.sleep,
        clock: Callable[[], datetime] | None = None,
    ) -> ArtifactClient | None:
        """None when the runtime token or results URL is missing (e.g. a `run:` step or a local run)."""
        token = env.get("ACTIONS_RUNTIME_TOKEN", "")
        results_url = env.get("ACTIONS_RESULTS_URL", "")
        if not token or not results_url:
            return None
        return cls(
            results_url,
            token,
            retention_cap_days=_retention_cap(env),
            mask=mask,
            sleep=sleep,
            clock=clock,
        )

    def __repr__(self) -> str:
        ids = f"run={self.run_backend_id!r}, job={self.job_backend_id!r}"
        return f"ArtifactClient(origin={self.origin!r}, {ids})"

    def close(self) -> None:
        self._twirp.close()
        self._blob.close()

    def __enter__(self) -> ArtifactClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- public API ---------------------------------------------------------------------------------------

    def upload(
        self,
        name: str,
        files: Mapping[str, Path],
        *,
        retention_days: int | None = None,
        replace: bool = True,
    ) -> ArtifactInfo:
        """Zip `files` (entry name -> path) and upload them as artifact `name` of this run."""
        validate_artifact_name(name)
        expires_at = self._expires_at(retention_days)
        with tempfile.TemporaryFile() as spool:
            write_zip(files, spool)
            if replace:
                # Deliberate overwrite, as upload-artifact's `overwrite: true` does.
                for old in self.list(name):
                    self._delete(old)
            signed_url = self._create(name, expires_at, replace=replace)
            size, hex_digest = self._upload_blocks(signed_url, spool)
            artifact_id = self._finalize(name, size, hex_digest)
        log.info("uploaded artifact %r (id %d, %d bytes)", name, artifact_id, size)
        return ArtifactInfo(
            id=artifact_id,
            name=name,
            size=size,
            digest=f"sha256:{hex_digest}",
            job_backend_id=self.job_backend_id,
            run_backend_id=self.run_backend_id,
            created_at=self._clock(),
        )

    def list(self, name: str | None = None) -> builtins.list[ArtifactInfo]:
        """Finalized artifacts of the whole run (every job), optionally only those named `name`."""
        return self._list(name=name)

    def get(self, artifact_id: int) -> ArtifactInfo:
        found = self._list(artifact_id=artifact_id)
        if not found:
            raise ArtifactNotFoundError(f"no artifact with id {artifact_id} in this workflow run")
        return found[0]

    def download(self, name: str, dest: Path) -> builtins.list[Path]:
        """Download artifact `name` of this run into `dest`; returns the extracted files."""
        info = self._find(name)
        reply = self._call(
            "GetSignedArtifactURL",
            # The uploader's own job id: the service looks the artifact up per job.
            {**self._ids(info.run_backend_id, info.job_backend_id), "name": info.name},
        )
        url = _text(_field(reply, "signed_url"))
        if not url:
            raise ArtifactServiceError("GetSignedArtifactURL: the reply has no signed_url")
        self._mask_url(url)
        what = f"download of artifact {name!r}"
        spool, _size, hex_digest = fetch_to_spool(self._blob, url, what=what, sleep=self._sleep)
        with spool:
            check_digest(info.digest, hex_digest, what)
            return safe_extract(spool, dest)

    def delete(self, name: str) -> int:
        """Delete artifact `name` of this run; returns its id."""
        return self._delete(self._find(name))

    # -- Twirp --------------------------------------------------------------------------------------------

    def _ids(self, run: str | None = None, job: str | None = None) -> dict[str, Any]:
        return {
            "workflow_run_backend_id": run or self.run_backend_id,
            "workflow_job_run_backend_id": job or self.job_backend_id,
        }

    def _scrub(self, text: str) -> str:
        return text.replace(self._token, "***")[:500]

    def _call(self, method: str, body: Mapping[str, Any]) -> dict[str, Any]:
        url = self.origin + SERVICE_PATH + method
        payload = json.dumps(body, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}

        def attempt() -> dict[str, Any]:
            try:
                resp = self._twirp.post(url, data=payload, headers=headers, timeout=TIMEOUT, allow_redirects=False)
            except NETWORK_ERRORS as exc:
                # The official client rethrows socket errors at once (NetworkError); a Create may have landed.
                raise ArtifactNetworkError(
                    f"{method}: connection to {self.origin} failed ({type(exc).__name__})"
                ) from exc
            status = resp.status_code
            reply = _json_object(resp.content)
            resp.close()
            if 200 <= status < 300:
                if reply is None:
                    raise TransientError(f"HTTP {status} with an unparsable body", status)
                return reply
            code = self._scrub(_text(reply.get("code"))) if reply else ""
            msg = self._scrub(_text(reply.get("msg"))) if reply else ""
            if "insufficient usage" in msg.lower():
                raise ArtifactQuotaError(
                    f"{method}: the artifact storage quota is used up ({msg}); free space by deleting "
                    "old artifacts or wait for the usage to be recalculated"
                )
            detail = f"{method} answered {status}" + (f" {code}" if code else "") + (f": {msg}" if msg else "")
            if status in RETRYABLE_STATUSES:
                raise TransientError(detail, status)
            if status == 409:
                raise ArtifactConflictError(detail, status=status, code=code or None)
            if status == 404:
                raise ArtifactNotFoundError(detail)
            if status in (401, 403):
                raise ArtifactPermissionError(f"{detail}; the runtime token was refused")
            raise ArtifactServiceError(detail, status=status, code=code or None)

        return run_with_retries(attempt, what=method, sleep=self._sleep)

    def _info(self, item: Mapping[str, Any]) -> ArtifactInfo:
        digest = _text(_field(item, "digest"))
        return ArtifactInfo(
            id=_int64(_field(item, "database_id"), "database_id"),
            name=_text(_field(item, "name")),
            size=_int64(_field(item, "size") or 0, "size"),
            digest=digest or None,
            job_backend_id=_text(_field(item, "workflow_job_run_backend_id")) or self.job_backend_id,
            run_backend_id=_text(_field(item, "workflow_run_backend_id")) or self.run_backend_id,
            created_at=_parse_timestamp(_field(item, "created_at")),
        )

    def _list(self, *, name: str | None = None, artifact_id: int | None = None) -> builtins.list[ArtifactInfo]:
        body = self._ids()
        if name is not None:
            body["name_filter"] = name
        if artifact_id is not None:
            body["id_filter"] = str(artifact_id)
        items = _field(self._call("ListArtifacts", body), "artifacts") or []
        if not isinstance(items, builtins.list):
            raise ArtifactServiceError("ListArtifacts: malformed reply (artifacts is not a list)")
        infos = [self._info(item) for item in items if isinstance(item, dict)]
        # Filter again: some emulators ignore the filters.
        return [i for i in infos if (name is None or i.name == name) and (artifact_id is None or i.id == artifact_id)]

    def _find(self, name: str) -> ArtifactInfo:
        validate_artifact_name(name)
        found = self._list(name=name)
        if not found:
            raise ArtifactNotFoundError(
                f"no artifact named {name!r} in this workflow run; to download from a different run, "
                "use download_run_artifact with a token that has `actions: read` permission"
            )
        return max(found, key=lambda i: i.id)

    def _delete(self, info: ArtifactInfo) -> int:
        reply = self._call("DeleteArtifact", {**self._ids(info.run_backend_id, info.job_backend_id), "name": info.name})
        if _field(reply, "ok") is not True:
            raise ArtifactServiceError(f"DeleteArtifact of {info.name!r}: the service answered ok=false")
        deleted = _field(reply, "artifact_id")
        log.info("deleted artifact %r (id %d)", info.name, info.id)
        return info.id if deleted in (None, "") else _int64(deleted, "artifact_id")

    def _expires_at(self, retention_days: int | None) -> str | None:
        if retention_days is None:
            return None
        if isinstance(retention_days, bool) or not 1 <= retention_days <= MAX_RETENTION_DAYS:
            raise ArtifactError(f"retention_days must be between 1 and {MAX_RETENTION_DAYS}, got {retention_days!r}")
        days = retention_days
        if self._retention_cap is not None and self._retention_cap < days:
            log.info("retention of %d days capped to the repository's %d", days, self._retention_cap)
            days = self._retention_cap
        return (self._clock() + timedelta(days=days)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _create(self, name: str, expires_at: str | None, *, replace: bool) -> str:
        body: dict[str, Any] = {
            **self._ids(),
            "name": name,
            "version": ARTIFACT_VERSION,
            "mime_type": ZIP_MIME,
        }
        if expires_at is not None:
            body["expires_at"] = expires_at
        try:
            reply = self._call("CreateArtifact", body)
        except ArtifactConflictError as exc:
            if not replace:
                raise ArtifactConflictError(
                    f"an artifact named {name!r} already exists in this workflow run (replace=False)",
                    status=exc.status,
                    code=exc.code,
                ) from None
            # Still there after list+delete: an unfinalized leftover or a racing upload. Delete, retry once.
            log.info("artifact %r already exists; deleting it and creating it again", name)
            self._delete_leftover(name)
            reply = self._call("CreateArtifact", body)
        if _field(reply, "ok") is not True:
            raise ArtifactServiceError(f"CreateArtifact of {name!r}: the service answered ok=false")
        url = _text(_field(reply, "signed_upload_url"))
        if not url:
            raise ArtifactServiceError(f"CreateArtifact of {name!r}: the reply has no signed_upload_url")
        self._mask_url(url)
        return url

    def _delete_leftover(self, name: str) -> None:
        listed = self._list(name=name)
        for info in listed:
            self._delete(info)
        if listed:
            return
        # Unfinalized artifacts are not listed; try our own job's.
        with contextlib.suppress(ArtifactNotFoundError):
            self._call("DeleteArtifact", {**self._ids(), "name": name})

    def _finalize(self, name: str, size: int, hex_digest: str) -> int:
        reply = self._call(
            "FinalizeArtifact",
            {**self._ids(), "name": name, "size": str(size), "hash": f"sha256:{hex_digest}"},
        )
        if _field(reply, "ok") is not True:
            raise ArtifactServiceError(f"FinalizeArtifact of {name!r}: the service answered ok=false")
        return _int64(_field(reply, "artifact_id"), "artifact_id")

    # -- blob ---------------------------------------------------------------------------------------------

    def _mask_url(self, url: str) -> None:
        for secret in signed_url_secrets(url):
            self._mask(secret)

    def _upload_blocks(self, url: str, spool: IO[bytes]) -> tuple[int, str]:
        """Put Block per chunk, then Put Block List; returns size and sha256 hex of exactly the bytes sent."""
        spool.seek(0)
        digest = hashlib.sha256()
        size = 0
        # Ids must be equal length within a blob; a fresh prefix keeps retries apart from stale blocks.
        prefix = uuid.uuid4().hex
        block_ids: builtins.list[str] = []
        while chunk := spool.read(self._block_size):
            digest.update(chunk)
            size += len(chunk)
            raw_id = f"{prefix}-{len(block_ids):031d}".encode()  # 64 bytes, the maximum Azure allows
            block_id = base64.b64encode(raw_id).decode()
            self._blob_put(
                _with_query(url, {"comp": "block", "blockid": block_id}),
                chunk,
                {"Content-Type": "application/octet-stream"},
                what=f"Put Block {len(block_ids)}",
            )
            block_ids.append(block_id)
        block_list = "".join(f"<Latest>{b}</Latest>" for b in block_ids)
        xml = f'<?xml version="1.0" encoding="utf-8"?><BlockList>{block_list}</BlockList>'
        self._blob_put(
            _with_query(url, {"comp": "blocklist"}),
            xml.encode(),
            # The blob's content type decides whether download-artifact unzips it.
            {"Content-Type": "application/xml", "x-ms-blob-content-type": ZIP_MIME},
            what="Put Block List",
        )
        return size, digest.hexdigest()

    def _blob_put(self, url: str, data: bytes, headers: Mapping[str, str], *, what: str) -> None:
        all_headers = {"x-ms-version": X_MS_VERSION, **headers}

        def attempt() -> None:
            try:
                resp = self._blob.put(url, data=data, headers=all_headers, timeout=TIMEOUT, allow_redirects=False)
            except NETWORK_ERRORS as exc:
                # Put Block and Put Block List are idempotent, so unlike Twirp calls they are retried.
                raise TransientError(type(exc).__name__) from None
            with resp:
                if resp.status_code in (200, 201):
                    return
                if resp.status_code in RETRYABLE_STATUSES:
                    raise TransientError(f"HTTP {resp.status_code}", resp.status_code)
                raise_for_blob_status(resp, what, url)

        run_with_retries(attempt, what=what, sleep=self._sleep)
