"""Another workflow run through the REST API (needs `actions: read`): what the run is, and its artifacts."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import requests

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
    run_with_retries,
    signed_url_secrets,
)
from .archive import safe_extract, validate_artifact_name
from .errors import (
    ArtifactError,
    ArtifactExpiredError,
    ArtifactNotFoundError,
    ArtifactPermissionError,
    ArtifactServiceError,
)

API_VERSION = "2022-11-28"
PER_PAGE = 100
MAX_PAGES = 10  # the toolkit stops at 1000 artifacts too
_REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
_PERMISSION_HINT = "the token needs `actions: read` permission on {repo}"


def _api_get(
    session: requests.Session, url: str, params: Mapping[str, str] | None, *, what: str, sleep: Sleep
) -> requests.Response:
    def attempt() -> requests.Response:
        try:
            # Never follow redirects with this session: it carries the token.
            resp = session.get(url, params=params, timeout=TIMEOUT, allow_redirects=False)
        except NETWORK_ERRORS as exc:
            raise TransientError(type(exc).__name__) from None  # GETs are safe to repeat
        if resp.status_code in RETRYABLE_STATUSES:
            resp.close()
            raise TransientError(f"HTTP {resp.status_code}", resp.status_code)
        return resp

    return run_with_retries(attempt, what=what, sleep=sleep)


def _message(resp: requests.Response, token: str) -> str:
    try:
        body = resp.json()
    except ValueError:
        return ""
    msg = body.get("message") if isinstance(body, dict) else None
    return msg.replace(token, "***")[:300] if isinstance(msg, str) and token else ""


def _raise_for_api(resp: requests.Response, *, what: str, repository: str, token: str) -> None:
    status = resp.status_code
    msg = _message(resp, token)
    detail = f"{what}: HTTP {status}" + (f" ({msg})" if msg else "")
    hint = _PERMISSION_HINT.format(repo=repository)
    if status == 401:
        raise ArtifactPermissionError(f"{detail}; the token was refused: {hint}")
    if status == 403:
        if resp.headers.get("x-ratelimit-remaining") == "0":
            raise ArtifactServiceError(f"{detail}; API rate limit exhausted", status=status)
        raise ArtifactPermissionError(f"{detail}; {hint}")
    if status == 404:
        # GitHub answers 404 rather than 403 when the token cannot see the repository.
        raise ArtifactNotFoundError(f"{detail}; not found, or {hint}")
    if status == 410:
        raise ArtifactExpiredError(f"{detail}; the artifact has expired")
    raise ArtifactServiceError(detail, status=status)


@dataclass(frozen=True)
class WorkflowRun:
    """What GitHub says about a run: which workflow file, which event, and where its code came from."""

    id: int
    path: str  # the workflow file, ".github/workflows/sync.yml"
    event: str
    repository: str  # owner/name of the repository the run belongs to
    head_repository: str  # owner/name the run's code came from: another one for a pull request from a fork


@contextmanager
def _api_session(token: str) -> Iterator[requests.Session]:
    with new_session(HeaderAuth("token", token)) as api:
        api.headers.update({"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION})
        yield api


def _check_target(repository: str, token: str, run_id: str) -> str:
    if not _REPOSITORY.fullmatch(repository):
        raise ArtifactError(f"repository must look like 'owner/name', got {repository!r}")
    run_id = str(run_id)
    if not run_id.isdigit():
        raise ArtifactError(f"run id must be a number, got {run_id!r}")
    if not token:
        raise ArtifactPermissionError(f"no token given: {_PERMISSION_HINT.format(repo=repository)}")
    return run_id


def _get_json(
    session: requests.Session,
    url: str,
    params: Mapping[str, str] | None,
    *,
    what: str,
    repository: str,
    token: str,
    sleep: Sleep,
) -> Any:
    """One API GET that must answer 200 with JSON; anything else raises the matching `ArtifactError`."""
    resp = _api_get(session, url, params, what=what, sleep=sleep)
    with resp:
        if resp.status_code != 200:
            _raise_for_api(resp, what=what, repository=repository, token=token)
        try:
            return resp.json()
        except ValueError:
            raise ArtifactServiceError(f"{what}: the reply is not JSON", status=resp.status_code) from None


def _full_name(value: Any) -> str:
    name = value.get("full_name") if isinstance(value, dict) else None
    return name if isinstance(name, str) else ""


def get_workflow_run(
    api_url: str, repository: str, token: str, run_id: str, *, sleep: Sleep = time.sleep
) -> WorkflowRun:
    """`GET /repos/{repository}/actions/runs/{run_id}`; text fields GitHub leaves out come back empty."""
    run_id = _check_target(repository, token, run_id)
    url = f"{api_url.rstrip('/')}/repos/{repository}/actions/runs/{run_id}"
    what = f"reading run {run_id}"
    with _api_session(token) as api:
        body = _get_json(api, url, None, what=what, repository=repository, token=token, sleep=sleep)
    if not isinstance(body, dict) or body.get("id") != int(run_id):
        raise ArtifactServiceError(f"{what}: malformed reply (not run {run_id})")
    path, event = body.get("path"), body.get("event")
    return WorkflowRun(
        id=int(run_id),
        path=path if isinstance(path, str) else "",
        event=event if isinstance(event, str) else "",
        repository=_full_name(body.get("repository")),
        head_repository=_full_name(body.get("head_repository")),
    )


def _list_artifacts(
    session: requests.Session, base: str, repository: str, run_id: str, name: str, *, token: str, sleep: Sleep
) -> list[dict[str, Any]]:
    url = f"{base}/repos/{repository}/actions/runs/{run_id}/artifacts"
    what = f"listing artifacts of run {run_id}"
    found: list[dict[str, Any]] = []
    for page in range(1, MAX_PAGES + 1):
        params = {"name": name, "per_page": str(PER_PAGE), "page": str(page)}
        body = _get_json(session, url, params, what=what, repository=repository, token=token, sleep=sleep)
        items = body.get("artifacts") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise ArtifactServiceError(f"{what}: malformed reply (no artifacts list)")
        found += [item for item in items if isinstance(item, dict)]
        total = body.get("total_count")
        if not items or (isinstance(total, int) and len(found) >= total):
            break
    return found


def _pick(artifacts: list[dict[str, Any]], name: str, run_id: str) -> dict[str, Any]:
    named = [a for a in artifacts if a.get("name") == name and isinstance(a.get("id"), int)]
    if not named:
        raise ArtifactNotFoundError(f"run {run_id} has no artifact named {name!r}")
    live = [a for a in named if not a.get("expired")]
    if not live:
        raise ArtifactExpiredError(f"artifact {name!r} of run {run_id} has expired")
    # Newest: ISO 8601 UTC timestamps sort as text; the id breaks ties.
    return max(live, key=lambda a: (str(a.get("created_at") or ""), int(a["id"])))


def download_run_artifact(
    api_url: str,
    repository: str,
    token: str,
    run_id: str,
    name: str,
    dest: Path,
    *,
    sleep: Sleep = time.sleep,
    mask: Mask | None = None,
) -> list[Path]:
    """Download artifact `name` of workflow run `run_id` into `dest`; returns the extracted files."""
    validate_artifact_name(name)
    run_id = _check_target(repository, token, run_id)
    base = api_url.rstrip("/")
    # The redirect target is a pre-signed storage URL: it must never see the token.
    blob = new_session(NoAuth())
    with _api_session(token) as api, blob:
        artifacts = _list_artifacts(api, base, repository, run_id, name, token=token, sleep=sleep)
        artifact = _pick(artifacts, name, run_id)
        zip_url = f"{base}/repos/{repository}/actions/artifacts/{int(artifact['id'])}/zip"
        what = f"download of artifact {name!r} (id {artifact['id']}) of run {run_id}"
        resp = _api_get(api, zip_url, None, what=what, sleep=sleep)
        with resp:
            if resp.status_code != 302:
                if resp.status_code < 300:
                    raise ArtifactServiceError(f"{what}: expected a 302 redirect, got {resp.status_code}")
                _raise_for_api(resp, what=what, repository=repository, token=token)
            location = resp.headers.get("Location", "")
        if not location:
            raise ArtifactServiceError(f"{what}: the 302 answer has no Location")
        location = urljoin(zip_url, location)
        if mask is not None:
            for secret in signed_url_secrets(location):
                mask(secret)
        spool, _size, hex_digest = fetch_to_spool(blob, location, what=what, sleep=sleep)
        with spool:
            digest = artifact.get("digest")
            check_digest(digest if isinstance(digest, str) else None, hex_digest, what)
            return safe_extract(spool, dest)
