"""Loopback double of the Artifacts v4 services (shared/docs/actions-runtime.md section 6).

Two stdlib servers on 127.0.0.1:
- "results": the Twirp results service (`/twirp/github.actions.results.api.v1.ArtifactService/*`) and the
  REST artifacts API (`/repos/{o}/{r}/actions/...`) on one port;
- "blob": an Azure-like blob host on another port, reached only through signed URLs.

Everything is recorded, so tests can assert request order, exact JSON keys, and that no credential
ever reached the blob host. Deliberately independent of batch_action's code: it re-implements the
rules it checks.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import re
import socket
import struct
import sys
import threading
import time
import uuid
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, cast
from urllib.parse import parse_qs, quote, urlencode, urlsplit
from xml.etree import ElementTree

TWIRP_PREFIX = "/twirp/github.actions.results.api.v1.ArtifactService/"
TWIRP_METHODS = (
    "CreateArtifact",
    "FinalizeArtifact",
    "ListArtifacts",
    "GetSignedArtifactURL",
    "DeleteArtifact",
)
# Twirp error codes and their HTTP statuses (twirp spec).
_TWIRP_CODE_FOR_STATUS = {
    400: "invalid_argument",
    401: "unauthenticated",
    403: "permission_denied",
    404: "not_found",
    409: "already_exists",
    412: "failed_precondition",
    429: "resource_exhausted",
    500: "internal",
    502: "unavailable",
    503: "unavailable",
    504: "deadline_exceeded",
}
CONFLICT_MSG = "an artifact with this name already exists on the workflow run"
QUOTA_MSG = "insufficient usage to create artifact: storage quota exceeded"
_NAME_FORBIDDEN = set('":<>|*?\r\n\\/')
_BASE_TIME = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
_REST_LIST = re.compile(r"^/repos/([^/]+)/([^/]+)/actions/runs/(\d+)/artifacts$")
_REST_ZIP = re.compile(r"^/repos/([^/]+)/([^/]+)/actions/artifacts/(\d+)/zip$")
_REST_RUN = re.compile(r"^/repos/([^/]+)/([^/]+)/actions/runs/(\d+)$")
WORKFLOW_PATH = ".github/workflows/sync.yml"  # the workflow every run belongs to unless a test says otherwise
_BLOB_PATH = re.compile(r"^/blobs/([0-9a-f]+)$")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint_runtime_token(
    run_backend_id: str,
    job_backend_id: str,
    *,
    extra_scopes: Iterable[str] = ("Actions.ExampleScope", "Actions.UploadArtifacts:0:0"),
    claims: Mapping[str, Any] | None = None,
) -> str:
    """An unsigned JWT (base64url, no padding) whose `scp` has `Actions.Results:<run>:<job>`."""
    header = {"typ": "JWT", "alg": "RS256", "x5t": "fake"}
    scp = " ".join([*extra_scopes, f"Actions.Results:{run_backend_id}:{job_backend_id}"])
    payload = {"nameid": "dddd", "scp": scp, "iss": "vstoken.actions.githubusercontent.com", **(claims or {})}
    parts = [_b64url(json.dumps(p, separators=(",", ":")).encode()) for p in (header, payload)]
    return f"{parts[0]}.{parts[1]}.{_b64url(b'not-a-real-signature')}"


def make_zip(files: Mapping[str, bytes]) -> bytes:
    """A zip with these raw entry names, unchecked, so tests can build hostile archives too."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for entry, data in files.items():
            zf.writestr(entry, data)
    return buf.getvalue()


def _snake(key: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key).lower()


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(word.capitalize() for word in rest)


def _camelize(value: Any) -> Any:
    if isinstance(value, dict):
        return {_camel(k): _camelize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camelize(v) for v in value]
    return value


def _rfc3339_nanos(moment: datetime) -> str:
    # The real service answers with nanosecond fractions; clients must cope.
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}789Z"


def _rest_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class RecordedRequest:
    server: str  # "results" or "blob"
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    raw_target: str  # path and query exactly as sent
    json: Any = None
    labels: tuple[str, ...] = ()
    at: float = 0.0  # time.monotonic() on arrival: comparable with other loopback fakes in the same process

    @property
    def rpc(self) -> str | None:
        if self.server == "results" and self.path.startswith(TWIRP_PREFIX):
            return self.path[len(TWIRP_PREFIX) :]
        return None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Fault:
    target: str
    status: int
    remaining: int
    body: bytes | None = None
    reset: bool = False
    msg: str = "injected fault"
    content_type: str | None = None


@dataclass
class StoredBlob:
    data: bytes | None = None
    content_type: str = "application/octet-stream"
    uncommitted: dict[str, bytes] = field(default_factory=dict)
    committed_blocks: dict[str, bytes] = field(default_factory=dict)
    block_id_length: int | None = None


@dataclass
class StoredArtifact:
    id: int
    run_backend_id: str
    job_backend_id: str
    name: str
    blob_key: str
    version: int
    mime_type: str | None
    expires_at: str | None
    created_at: datetime
    finalized: bool = False
    size: int = 0
    digest: str | None = None
    expired: bool = False


@dataclass(frozen=True)
class RestRun:
    """What `GET /repos/{o}/{r}/actions/runs/{id}` tells about a run; a fork's run has another head repository."""

    backend_id: str
    head_sha: str
    workflow_path: str = WORKFLOW_PATH
    event: str = "push"
    head_repository: str | None = None  # None: the repository itself


@dataclass
class _Grant:
    blob_key: str
    permissions: str
    expired: bool


class _TwirpError(Exception):
    def __init__(self, status: int, msg: str, code: str | None = None) -> None:
        super().__init__(msg)
        self.status = status
        self.msg = msg
        self.code = code or _TWIRP_CODE_FOR_STATUS.get(status, "unknown")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, service: FakeArtifactService, role: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.service = service
        self.role = role

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client hanging up (a test ending, an upload cut short on purpose) is normal; anything else is a bug.
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 5  # idle keep-alive connections end by themselves

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without NODELAY each reply waits on a delayed ACK.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _dispatch(self) -> None:
        server = cast(_Server, self.server)
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            body = b""
            server.service._record(server.role, self, body)
            self._send(411, b"length required", "text/plain")
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        server.service._handle(server.role, self, body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _dispatch

    def _send(self, status: int, body: bytes, content_type: str, headers: Mapping[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _reset(self) -> None:
        # SO_LINGER 0 turns close() into a TCP RST: the client sees ECONNRESET, not a clean EOF.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()


class FakeArtifactService:
    """Results service + REST API + blob host. Use as a context manager; see `env()`."""

    def __init__(
        self,
        *,
        run_backend_id: str = "c4d5e6f7-0000-4000-8000-00000000a001",
        job_backend_id: str = "d1e2f3a4-0000-4000-8000-00000000b001",
        repository: str = "octo-org/planning",
        rest_run_id: str = "1001",
        first_artifact_id: int = 1,
        camel_case: bool = False,
    ) -> None:
        self.lock = threading.RLock()
        self.run_backend_id = run_backend_id
        self.job_backend_id = job_backend_id
        self.repository = repository
        self.rest_run_id = rest_run_id
        self.camel_case = camel_case  # answer Twirp in lowerCamel JSON names, as act's emulator does
        self.issue_expired_urls = False  # newly signed URLs are already expired (403 at the blob host)
        self.rest_page_size_cap = 100  # lower it to force REST pagination with few artifacts
        self.tokens: dict[str, tuple[str, str]] = {}
        self.token = self.add_job_token(run_backend_id, job_backend_id)
        self.rest_token = "ghs_fakeRestTokenWithActionsRead0001"
        self.rest_token_without_actions_read = "ghs_fakeRestTokenWithoutActionsRead02"
        self.rest_runs: dict[str, RestRun] = {rest_run_id: RestRun(run_backend_id, "a" * 40)}
        self.artifacts: dict[int, StoredArtifact] = {}
        self.blobs: dict[str, StoredBlob] = {}
        self.requests: list[RecordedRequest] = []
        self.faults: list[Fault] = []
        self.blob_authorization_seen: list[RecordedRequest] = []
        self._grants: dict[str, _Grant] = {}
        self._next_id = first_artifact_id
        self._ticks = 0
        self._results = _Server(self, "results")
        self._blob = _Server(self, "blob")
        self._threads: list[threading.Thread] = []

    # -- lifecycle ---------------------------------------------------------------------------------------

    def start(self) -> FakeArtifactService:
        for srv in (self._results, self._blob):
            thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def close(self) -> None:
        for srv in (self._results, self._blob):
            srv.shutdown()
            srv.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> FakeArtifactService:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def results_port(self) -> int:
        return int(self._results.server_address[1])

    @property
    def blob_port(self) -> int:
        return int(self._blob.server_address[1])

    @property
    def results_url(self) -> str:
        # A path on purpose: clients must use the origin only.
        return f"http://127.0.0.1:{self.results_port}/runner/abc123/"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.results_port}"

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            "ACTIONS_RUNTIME_TOKEN": self.token,
            "ACTIONS_RESULTS_URL": self.results_url,
            "ACTIONS_RUNTIME_URL": "http://127.0.0.1:9/unused-by-v4/",
            "GITHUB_API_URL": self.api_url,
            "GITHUB_REPOSITORY": self.repository,
            "GITHUB_RUN_ID": self.rest_run_id,
        }
        env.update(extra)
        return env

    # -- setup helpers -----------------------------------------------------------------------------------

    def add_job_token(self, run_backend_id: str, job_backend_id: str) -> str:
        token = mint_runtime_token(run_backend_id, job_backend_id)
        with self.lock:
            self.tokens[token] = (run_backend_id, job_backend_id)
        return token

    def add_run(
        self,
        rest_run_id: str,
        run_backend_id: str,
        *,
        head_sha: str = "b" * 40,
        workflow_path: str = WORKFLOW_PATH,
        event: str = "push",
        head_repository: str | None = None,
    ) -> None:
        """A workflow run the REST half knows: its workflow file, its event, and the head repository (a fork's
        full name for a pull request from a fork)."""
        with self.lock:
            self.rest_runs[rest_run_id] = RestRun(run_backend_id, head_sha, workflow_path, event, head_repository)

    def seed_artifact(
        self,
        name: str,
        files: Mapping[str, bytes] | None = None,
        *,
        data: bytes | None = None,
        run_backend_id: str | None = None,
        job_backend_id: str | None = None,
        finalized: bool = True,
        expired: bool = False,
        digest: str | None = "auto",
    ) -> StoredArtifact:
        """Store an artifact directly (another run, a hostile zip, an unfinalized leftover...)."""
        payload = data if data is not None else make_zip(files or {"file.txt": b"seeded\n"})
        with self.lock:
            art = self._new_artifact(
                run_backend_id or self.run_backend_id,
                job_backend_id or self.job_backend_id,
                name,
                7,
                None,
                None,
            )
            blob = self.blobs[art.blob_key]
            if finalized:
                blob.data = payload
                blob.content_type = "application/zip"
                art.finalized = True
                art.size = len(payload)
                art.digest = "sha256:" + hashlib.sha256(payload).hexdigest() if digest == "auto" else digest
            art.expired = expired
            return art

    def inject(
        self,
        target: str,
        *,
        status: int = 503,
        times: int = 1,
        body: bytes | None = None,
        reset: bool = False,
        msg: str = "injected fault",
        content_type: str | None = None,
    ) -> None:
        """Fail the next `times` requests matching `target`: a Twirp method, "twirp", "blob", "blob:PUT",
        "blob:PUT:block", "blob:PUT:blocklist", "blob:GET", "rest", "rest:list", "rest:run" or "rest:zip"."""
        with self.lock:
            self.faults.append(Fault(target, status, times, body, reset, msg, content_type))

    def inject_quota_exceeded(self, target: str = "CreateArtifact", *, status: int = 429) -> None:
        self.inject(target, status=status, msg=QUOTA_MSG)

    def expire_signed_urls(self) -> None:
        with self.lock:
            for grant in self._grants.values():
                grant.expired = True

    # -- inspection --------------------------------------------------------------------------------------

    def twirp_requests(self, method: str | None = None) -> list[RecordedRequest]:
        with self.lock:
            return [r for r in self.requests if r.rpc and (method is None or r.rpc == method)]

    def blob_requests(self) -> list[RecordedRequest]:
        with self.lock:
            return [r for r in self.requests if r.server == "blob"]

    def rest_requests(self) -> list[RecordedRequest]:
        with self.lock:
            return [r for r in self.requests if r.server == "results" and r.path.startswith("/repos/")]

    def events(self) -> list[str]:
        """One label per request, in order: Twirp method names, "blob:PUT:block", "rest:list", ..."""
        with self.lock:
            return [r.labels[-1] if r.labels else f"{r.server}:{r.method}" for r in self.requests]

    def blob_leaks(self) -> list[str]:
        """Every credential that reached the blob host: an Authorization header or any known token."""
        secrets = [*self.tokens, self.rest_token, self.rest_token_without_actions_read]
        leaks: list[str] = []
        with self.lock:
            for rec in self.blob_requests():
                if "authorization" in rec.headers:
                    leaks.append(f"Authorization header on {rec.method} {rec.path}")
                for secret in secrets:
                    if secret in rec.raw_target or any(secret in v for v in rec.headers.values()):
                        leaks.append(f"token in {rec.method} {rec.path}")
        return leaks

    def live_artifacts(self, run_backend_id: str | None = None) -> list[StoredArtifact]:
        run = run_backend_id or self.run_backend_id
        with self.lock:
            return sorted(
                (a for a in self.artifacts.values() if a.run_backend_id == run and a.finalized),
                key=lambda a: a.id,
            )

    def stored(self, name: str, run_backend_id: str | None = None) -> StoredArtifact | None:
        with self.lock:
            return self._by_name(run_backend_id or self.run_backend_id, name)

    def blob_of(self, art: StoredArtifact) -> StoredBlob:
        with self.lock:
            return self.blobs[art.blob_key]

    # -- internals ---------------------------------------------------------------------------------------

    def _now(self) -> datetime:
        self._ticks += 1
        return _BASE_TIME + timedelta(seconds=self._ticks, microseconds=123456)

    def _new_artifact(
        self, run: str, job: str, name: str, version: int, mime: str | None, expires_at: str | None
    ) -> StoredArtifact:
        art = StoredArtifact(
            id=self._next_id,
            run_backend_id=run,
            job_backend_id=job,
            name=name,
            blob_key=uuid.uuid4().hex,
            version=version,
            mime_type=mime,
            expires_at=expires_at,
            created_at=self._now(),
        )
        self._next_id += 1
        self.artifacts[art.id] = art
        self.blobs[art.blob_key] = StoredBlob()
        return art

    def _by_name(self, run: str, name: str) -> StoredArtifact | None:
        for art in self.artifacts.values():
            if art.run_backend_id == run and art.name == name:
                return art
        return None

    def _signed_url(self, blob_key: str, permissions: str) -> str:
        raw = hashlib.sha256(f"{blob_key}:{permissions}:{len(self._grants)}".encode()).digest()
        sig = base64.b64encode(raw).decode()  # has '=' and often '+' or '/', like a real SAS signature
        expired = self.issue_expired_urls
        self._grants[sig] = _Grant(blob_key, permissions, expired)
        expiry = "2000-01-01T00:00:00Z" if expired else "2099-01-01T00:00:00Z"
        query = f"sv=2024-11-04&sr=b&sp={permissions}&se={quote(expiry, safe='')}&sig={quote(sig, safe='')}"
        return f"http://127.0.0.1:{self.blob_port}/blobs/{blob_key}?{query}"

    def _record(self, role: str, h: _Handler, body: bytes) -> RecordedRequest:
        parts = urlsplit(h.path)
        rec = RecordedRequest(
            server=role,
            method=h.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in h.headers.items()},
            body=body,
            raw_target=h.path,
            at=time.monotonic(),
        )
        with self.lock:
            self.requests.append(rec)
        return rec

    def _take_fault(self, labels: Iterable[str]) -> Fault | None:
        wanted = set(labels)
        for fault in self.faults:
            if fault.remaining > 0 and fault.target in wanted:
                fault.remaining -= 1
                return fault
        return None

    def _handle(self, role: str, h: _Handler, body: bytes) -> None:
        rec = self._record(role, h, body)
        with self.lock:
            if role == "blob":
                self._handle_blob(h, rec)
            elif rec.path.startswith(TWIRP_PREFIX):
                self._handle_twirp(h, rec)
            elif rec.path.startswith("/repos/"):
                self._handle_rest(h, rec)
            else:
                h._send(404, b"not found", "text/plain")

    def _apply_fault(self, h: _Handler, rec: RecordedRequest, kind: str) -> bool:
        fault = self._take_fault(rec.labels)
        if fault is None:
            return False
        if fault.reset:
            h._reset()
            return True
        if fault.body is not None:
            h._send(fault.status, fault.body, fault.content_type or "application/json")
        elif kind == "twirp":
            code = _TWIRP_CODE_FOR_STATUS.get(fault.status, "unknown")
            h._send(fault.status, json.dumps({"code": code, "msg": fault.msg}).encode(), "application/json")
        elif kind == "blob":
            h._send(fault.status, _azure_error("InjectedFault", fault.msg), "application/xml")
        else:
            h._send(fault.status, json.dumps({"message": fault.msg}).encode(), "application/json")
        return True

    # -- Twirp -------------------------------------------------------------------------------------------

    def _twirp_reply(self, h: _Handler, obj: Mapping[str, Any]) -> None:
        out = _camelize(dict(obj)) if self.camel_case else dict(obj)
        h._send(200, json.dumps(out).encode(), "application/json")

    def _handle_twirp(self, h: _Handler, rec: RecordedRequest) -> None:
        method = rec.rpc or ""
        rec.labels = ("twirp", method)
        try:
            if h.command != "POST" or method not in TWIRP_METHODS:
                raise _TwirpError(404, f"no handler for {h.command} {rec.path}", "bad_route")
            auth = rec.header("Authorization") or ""
            scheme, _, token = auth.partition(" ")
            if scheme != "Bearer" or token not in self.tokens:
                raise _TwirpError(401, "invalid or missing bearer token")
            content_type = (rec.header("Content-Type") or "").split(";")[0].strip().lower()
            if content_type != "application/json":
                raise _TwirpError(400, f"unexpected Content-Type {content_type!r}", "malformed")
            if self._apply_fault(h, rec, "twirp"):
                return
            try:
                raw = json.loads(rec.body)
            except ValueError:
                raise _TwirpError(400, "body is not JSON", "malformed") from None
            if not isinstance(raw, dict):
                raise _TwirpError(400, "body is not a JSON object", "malformed")
            rec.json = raw
            req = {_snake(k): v for k, v in raw.items()}  # both spellings; unknown fields are ignored
            run, job = self.tokens[token]
            if req.get("workflow_run_backend_id") != run:
                raise _TwirpError(403, "workflow_run_backend_id does not match the token", "permission_denied")
            handler = getattr(self, f"_rpc_{method}")
            self._twirp_reply(h, handler(req, job))
        except _TwirpError as err:
            h._send(err.status, json.dumps({"code": err.code, "msg": err.msg}).encode(), "application/json")

    @staticmethod
    def _str_field(req: Mapping[str, Any], key: str, *, required: bool = True) -> str | None:
        value = req.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, str) or (required and not value):
            raise _TwirpError(400, f"{key} must be a non-empty string")
        return value

    @staticmethod
    def _int64_field(req: Mapping[str, Any], key: str) -> int | None:
        value = req.get(key)
        if value is None:
            return None
        # Proto3 JSON: int64 is normally a string; a number is accepted too. Tests check which one was sent.
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise _TwirpError(400, f"{key} must be an int64")
        try:
            return int(value)
        except ValueError:
            raise _TwirpError(400, f"{key} must be an int64") from None

    def _own_job(self, req: Mapping[str, Any], job: str) -> None:
        if req.get("workflow_job_run_backend_id") != job:
            raise _TwirpError(403, "workflow_job_run_backend_id does not match the token", "permission_denied")

    def _rpc_CreateArtifact(self, req: Mapping[str, Any], job: str) -> dict[str, Any]:
        self._own_job(req, job)
        name = self._str_field(req, "name") or ""
        if any(c in _NAME_FORBIDDEN for c in name):
            raise _TwirpError(400, f"invalid artifact name {name!r}")
        version = req.get("version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise _TwirpError(400, "version must be a positive int32")
        mime = self._str_field(req, "mime_type", required=False)
        expires_at = self._str_field(req, "expires_at", required=False)
        if expires_at is not None:
            try:
                datetime.fromisoformat(expires_at)
            except ValueError:
                raise _TwirpError(400, "expires_at is not an RFC 3339 timestamp") from None
        run = str(req["workflow_run_backend_id"])
        if self._by_name(run, name) is not None:
            raise _TwirpError(409, CONFLICT_MSG, "already_exists")
        art = self._new_artifact(run, job, name, version, mime, expires_at)
        return {"ok": True, "signed_upload_url": self._signed_url(art.blob_key, "cw")}

    def _rpc_FinalizeArtifact(self, req: Mapping[str, Any], job: str) -> dict[str, Any]:
        self._own_job(req, job)
        name = self._str_field(req, "name") or ""
        art = self._by_name(str(req["workflow_run_backend_id"]), name)
        if art is None or art.job_backend_id != job:
            raise _TwirpError(404, f"artifact {name!r} was not created")
        if art.finalized:
            raise _TwirpError(412, f"artifact {name!r} is already finalized")
        data = self.blobs[art.blob_key].data
        if data is None:
            raise _TwirpError(412, "nothing was uploaded")
        size = self._int64_field(req, "size")
        if size != len(data):
            raise _TwirpError(400, f"size {size} does not match the {len(data)} uploaded bytes")
        digest = self._str_field(req, "hash", required=False)
        if digest is not None and digest != "sha256:" + hashlib.sha256(data).hexdigest():
            raise _TwirpError(400, "hash does not match the uploaded bytes")
        art.finalized = True
        art.size = size
        art.digest = digest
        art.created_at = self._now()
        return {"ok": True, "artifact_id": str(art.id)}

    def _listing(self, art: StoredArtifact) -> dict[str, Any]:
        item: dict[str, Any] = {
            "workflow_run_backend_id": art.run_backend_id,
            "workflow_job_run_backend_id": art.job_backend_id,
            "database_id": str(art.id),
            "name": art.name,
            "size": str(art.size),
            "created_at": _rfc3339_nanos(art.created_at),
        }
        if art.digest:
            item["digest"] = art.digest
        return item

    def _rpc_ListArtifacts(self, req: Mapping[str, Any], job: str) -> dict[str, Any]:
        name = self._str_field(req, "name_filter", required=False)
        wanted_id = self._int64_field(req, "id_filter")
        arts = [
            a
            for a in self.live_artifacts(str(req["workflow_run_backend_id"]))
            if not a.expired and (name is None or a.name == name) and (wanted_id is None or a.id == wanted_id)
        ]
        return {"artifacts": [self._listing(a) for a in arts]}

    def _find_for_job(self, req: Mapping[str, Any], *, finalized: bool) -> StoredArtifact:
        name = self._str_field(req, "name") or ""
        art = self._by_name(str(req["workflow_run_backend_id"]), name)
        # Looked up per job: a client must send the uploader's job id, not its own.
        if (
            art is None
            or art.job_backend_id != req.get("workflow_job_run_backend_id")
            or (finalized and not art.finalized)
        ):
            raise _TwirpError(404, f"artifact {name!r} not found")
        return art

    def _rpc_GetSignedArtifactURL(self, req: Mapping[str, Any], job: str) -> dict[str, Any]:
        art = self._find_for_job(req, finalized=True)
        return {"signed_url": self._signed_url(art.blob_key, "r")}

    def _rpc_DeleteArtifact(self, req: Mapping[str, Any], job: str) -> dict[str, Any]:
        art = self._find_for_job(req, finalized=False)
        del self.artifacts[art.id]
        del self.blobs[art.blob_key]
        return {"ok": True, "artifact_id": str(art.id)}

    # -- blob host ---------------------------------------------------------------------------------------

    def _handle_blob(self, h: _Handler, rec: RecordedRequest) -> None:
        comp = (rec.query.get("comp") or [""])[0]
        rec.labels = (
            "blob",
            f"blob:{h.command}",
            f"blob:{h.command}:{comp}" if comp else f"blob:{h.command}",
        )
        if "authorization" in rec.headers:
            # A SAS URL must travel alone; Azure refuses a request that also carries credentials.
            self.blob_authorization_seen.append(rec)
            h._send(
                403,
                _azure_error("AuthorizationFailure", "Authorization header on a SAS request"),
                "application/xml",
            )
            return
        if self._apply_fault(h, rec, "blob"):
            return
        match = _BLOB_PATH.match(rec.path)
        sig = (rec.query.get("sig") or [""])[0]
        grant = self._grants.get(sig)
        if not match or not sig or not rec.query.get("se") or grant is None or grant.blob_key != match.group(1):
            h._send(403, _azure_error("AuthenticationFailed", "Signature did not match"), "application/xml")
            return
        if grant.expired:
            h._send(403, _azure_error("AuthenticationFailed", "Signed expiry time has passed"), "application/xml")
            return
        blob = self.blobs.get(grant.blob_key)
        if blob is None:
            h._send(404, _azure_error("BlobNotFound", "The specified blob does not exist."), "application/xml")
            return
        if h.command == "PUT" and "w" in grant.permissions:
            self._blob_put(h, rec, blob, comp)
        elif h.command in ("GET", "HEAD") and "r" in grant.permissions:
            if blob.data is None:
                h._send(404, _azure_error("BlobNotFound", "The specified blob does not exist."), "application/xml")
            else:
                h._send(200, blob.data, blob.content_type, {"x-ms-blob-type": "BlockBlob"})
        else:
            h._send(403, _azure_error("AuthorizationPermissionMismatch", "not allowed"), "application/xml")

    def _blob_put(self, h: _Handler, rec: RecordedRequest, blob: StoredBlob, comp: str) -> None:
        def bad(code: str, msg: str) -> None:
            h._send(400, _azure_error(code, msg), "application/xml")

        if comp == "block":
            block_id = (rec.query.get("blockid") or [""])[0]
            try:
                decoded = base64.b64decode(block_id, validate=True)
            except (binascii.Error, ValueError):
                return bad("InvalidQueryParameterValue", "blockid is not base64")
            if not block_id or len(decoded) > 64:
                return bad("InvalidQueryParameterValue", "blockid must be base64 of at most 64 bytes")
            if blob.block_id_length not in (None, len(block_id)):
                return bad("InvalidBlobOrBlock", "all block ids of a blob must have the same length")
            blob.block_id_length = len(block_id)
            blob.uncommitted[block_id] = rec.body
        elif comp == "blocklist":
            try:
                root = ElementTree.fromstring(rec.body)
            except ElementTree.ParseError:
                return bad("InvalidXmlDocument", "block list is not XML")
            if root.tag != "BlockList":
                return bad("InvalidXmlDocument", "root element must be BlockList")
            parts: list[bytes] = []
            committed: dict[str, bytes] = {}
            for child in root:
                block_id = (child.text or "").strip()
                sources = {
                    "Latest": (blob.uncommitted, blob.committed_blocks),
                    "Uncommitted": (blob.uncommitted,),
                    "Committed": (blob.committed_blocks,),
                }.get(child.tag)
                chosen = next((s[block_id] for s in sources or () if block_id in s), None)
                if chosen is None:
                    return bad("InvalidBlockList", f"unknown block {block_id!r} in <{child.tag}>")
                parts.append(chosen)
                committed[block_id] = chosen
            blob.data = b"".join(parts)
            blob.committed_blocks = committed
            blob.uncommitted = {}
            blob.block_id_length = None
            blob.content_type = rec.header("x-ms-blob-content-type") or "application/octet-stream"
        elif comp == "":
            if rec.header("x-ms-blob-type") != "BlockBlob":
                return bad("MissingRequiredHeader", "x-ms-blob-type: BlockBlob is required")
            blob.data = rec.body
            blob.content_type = (
                rec.header("x-ms-blob-content-type") or rec.header("Content-Type") or "application/octet-stream"
            )
        else:
            return bad("InvalidQueryParameterValue", f"unsupported comp={comp}")
        h._send(201, b"", "application/octet-stream", {"ETag": f'"0x{uuid.uuid4().hex[:16].upper()}"'})

    # -- REST --------------------------------------------------------------------------------------------

    def _rest_json(self, h: _Handler, status: int, obj: Any) -> None:
        h._send(status, json.dumps(obj).encode(), "application/json; charset=utf-8")

    def _handle_rest(self, h: _Handler, rec: RecordedRequest) -> None:
        list_match = _REST_LIST.match(rec.path)
        zip_match = _REST_ZIP.match(rec.path)
        run_match = _REST_RUN.match(rec.path)
        kind = "list" if list_match else "zip" if zip_match else "run" if run_match else "other"
        rec.labels = ("rest", f"rest:{kind}")
        auth = rec.header("Authorization")
        if not auth:
            return self._rest_json(h, 401, {"message": "Requires authentication"})
        scheme, _, token = auth.partition(" ")
        if scheme.lower() not in ("token", "bearer"):
            return self._rest_json(h, 401, {"message": "Bad credentials"})
        if token == self.rest_token_without_actions_read:
            return self._rest_json(h, 403, {"message": "Resource not accessible by integration"})
        if token != self.rest_token:
            return self._rest_json(h, 401, {"message": "Bad credentials"})
        if self._apply_fault(h, rec, "rest"):
            return
        match = list_match or zip_match or run_match
        if h.command != "GET" or match is None or f"{match.group(1)}/{match.group(2)}" != self.repository:
            return self._rest_json(h, 404, {"message": "Not Found"})
        if list_match:
            self._rest_list(h, rec, list_match.group(3))
        elif run_match:
            self._rest_run(h, run_match.group(3))
        else:
            self._rest_zip(h, int(match.group(3)))

    def _repository_json(self, full_name: str) -> dict[str, Any]:
        owner, _, name = full_name.partition("/")
        return {
            "id": 42 if full_name == self.repository else 4242,
            "name": name,
            "full_name": full_name,
            "owner": {"login": owner},
            "fork": full_name != self.repository,
        }

    def _rest_run(self, h: _Handler, rest_run_id: str) -> None:
        run = self.rest_runs.get(rest_run_id)
        if run is None:
            return self._rest_json(h, 404, {"message": "Not Found"})
        head = run.head_repository or self.repository
        self._rest_json(
            h,
            200,
            {
                "id": int(rest_run_id),
                "name": run.workflow_path.rsplit("/", 1)[-1],
                "path": run.workflow_path,
                "event": run.event,
                "head_branch": "main",
                "head_sha": run.head_sha,
                "status": "completed",
                "repository": self._repository_json(self.repository),
                "head_repository": self._repository_json(head),
            },
        )

    def _rest_item(self, art: StoredArtifact, rest_run_id: str) -> dict[str, Any]:
        base = f"{self.api_url}/repos/{self.repository}/actions/artifacts/{art.id}"
        expires = art.created_at + timedelta(days=90)
        run = self.rest_runs[rest_run_id]
        return {
            "id": art.id,
            "node_id": f"MDg6QXJ0aWZhY3Q{art.id}",
            "name": art.name,
            "size_in_bytes": art.size,
            "url": base,
            "archive_download_url": f"{base}/zip",
            "expired": art.expired,
            "digest": art.digest,
            "created_at": _rest_time(art.created_at),
            "updated_at": _rest_time(art.created_at),
            "expires_at": _rest_time(expires),
            "workflow_run": {
                "id": int(rest_run_id),
                "repository_id": 42,
                "head_repository_id": self._repository_json(run.head_repository or self.repository)["id"],
                "head_branch": "main",
                "head_sha": run.head_sha,
            },
        }

    def _rest_list(self, h: _Handler, rec: RecordedRequest, rest_run_id: str) -> None:
        known = self.rest_runs.get(rest_run_id)
        if known is None:
            return self._rest_json(h, 404, {"message": "Not Found"})
        run = known.backend_id
        names = rec.query.get("name")
        name = names[0] if names else None
        try:
            per_page = min(int((rec.query.get("per_page") or ["30"])[0]), 100, self.rest_page_size_cap)
            page = int((rec.query.get("page") or ["1"])[0])
        except ValueError:
            return self._rest_json(h, 422, {"message": "Validation Failed"})
        newest_first = reversed(self.live_artifacts(run))
        arts = [a for a in newest_first if name is None or a.name == name]
        chunk = arts[(page - 1) * per_page : page * per_page] if page >= 1 and per_page >= 1 else []
        body = {"total_count": len(arts), "artifacts": [self._rest_item(a, rest_run_id) for a in chunk]}
        # GitHub also paginates through a Link header.
        last = max(1, -(-len(arts) // max(per_page, 1)))
        query = {k: v[0] for k, v in rec.query.items()}
        link = f"{self.api_url}{rec.path}?"
        rels = [("next", page + 1)] if page < last else []
        rels += [("last", last)] if page < last else [("first", 1)]
        headers = {"Link": ", ".join(f'<{link}{urlencode({**query, "page": n})}>; rel="{r}"' for r, n in rels)}
        h._send(200, json.dumps(body).encode(), "application/json; charset=utf-8", headers)

    def _rest_zip(self, h: _Handler, artifact_id: int) -> None:
        art = self.artifacts.get(artifact_id)
        runs = {run.backend_id for run in self.rest_runs.values()}
        if art is None or not art.finalized or art.run_backend_id not in runs:
            return self._rest_json(h, 404, {"message": "Not Found"})
        if art.expired:
            return self._rest_json(h, 410, {"message": "Artifact has expired"})
        h._send(302, b"", "text/plain", {"Location": self._signed_url(art.blob_key, "r")})


def _azure_error(code: str, message: str) -> bytes:
    xml = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    return f'<?xml version="1.0" encoding="utf-8"?>{xml}'.encode()
