"""Artifacts v4 client against the loopback double (tests/fake_artifacts)."""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from batch_action.artifacts import (
    ArtifactClient,
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
    backend_ids_from_token,
    download_run_artifact,
    safe_extract,
)
from tests.fake_artifacts import (
    CONFLICT_MSG,
    TWIRP_PREFIX,
    FakeArtifactService,
    make_zip,
    mint_runtime_token,
)

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
IDS = ("workflow_run_backend_id", "workflow_job_run_backend_id")
OTHER_RUN = "e0e0e0e0-0000-4000-8000-00000000c002"


# -- fixtures ---------------------------------------------------------------------------------------------


@pytest.fixture
def service() -> Iterator[FakeArtifactService]:
    with FakeArtifactService() as svc:
        yield svc


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def masked() -> list[str]:
    return []


def make_client(
    service: FakeArtifactService,
    sleeps: list[float],
    *,
    masked: list[str] | None = None,
    env: dict[str, str] | None = None,
) -> ArtifactClient:
    mask = None if masked is None else masked.append
    client = ArtifactClient.from_env(service.env(**(env or {})), sleep=sleeps.append, clock=lambda: NOW, mask=mask)
    assert client is not None
    return client


@pytest.fixture
def client(service: FakeArtifactService, sleeps: list[float], masked: list[str]) -> Iterator[ArtifactClient]:
    with make_client(service, sleeps, masked=masked) as c:
        yield c


def write_files(root: Path, files: dict[str, bytes]) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for entry, data in files.items():
        path = root / entry
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        out[entry] = path
    return out


THREE: dict[str, dict[str, bytes]] = {
    "issue-sync-graph": {
        "task-graph.json": json.dumps({"nodes": ["epic-1", "task-1"], "edges": [["epic-1", "task-1"]]}).encode(),
        "task-graph.mmd": b"graph TD\n  epic-1 --> task-1\n",
    },
    "issue-sync-checkpoint": {"journal.jsonl": b'{"op":"create","id":"task-1","issue":12}\n' * 50},
    "issue-sync-report": {
        "report.json": b'{"created":1,"updated":0,"failed":0}',
        "summary.md": b"# Sync report\n\n| created | 1 |\n",
        "details/perf/timings.csv": b"op,ms\ncreate,120\n",
    },
}


def read_tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# -- environment and token --------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["ACTIONS_RUNTIME_TOKEN", "ACTIONS_RESULTS_URL"])
def test_from_env_is_none_without_runtime_variables(service: FakeArtifactService, missing: str) -> None:
    env = service.env()
    del env[missing]
    assert ArtifactClient.from_env(env) is None
    assert ArtifactClient.from_env({**service.env(), missing: ""}) is None


@pytest.mark.parametrize("run_len", range(30, 34))  # every base64 padding residue
def test_backend_ids_from_unpadded_base64url_token(run_len: int) -> None:
    run, job = "r" * run_len, "job-ü?>~"  # '?>~' give '-' and '_' in base64url
    token = mint_runtime_token(run, job)
    assert "=" not in token
    assert backend_ids_from_token(token) == (run, job)


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        "aaa.!!!notbase64!!!.sig",
        "aaa." + base64.urlsafe_b64encode(b'{"scp":"Actions.Other:1:2"}').decode().rstrip("=") + ".sig",
        "aaa." + base64.urlsafe_b64encode(b'{"scp":"Actions.Results:only-run"}').decode().rstrip("=") + ".sig",
    ],
)
def test_bad_runtime_token_is_a_clear_error_without_the_token(service: FakeArtifactService, token: str) -> None:
    with pytest.raises(ArtifactError, match="ACTIONS_RUNTIME_TOKEN") as info:
        ArtifactClient.from_env(service.env(ACTIONS_RUNTIME_TOKEN=token))
    assert token not in str(info.value) and token not in repr(info.value)
    assert info.value.__cause__ is None


def test_client_repr_and_mask_never_expose_token(
    service: FakeArtifactService, client: ArtifactClient, masked: list[str]
) -> None:
    assert service.token not in repr(client)
    assert masked[0] == service.token
    assert (client.run_backend_id, client.job_backend_id) == (service.run_backend_id, service.job_backend_id)
    assert client.origin == service.api_url  # path of ACTIONS_RESULTS_URL dropped


# -- the main flow ----------------------------------------------------------------------------------------


def test_upload_list_download_three_artifacts(
    service: FakeArtifactService, client: ArtifactClient, tmp_path: Path, sleeps: list[float]
) -> None:
    uploaded = {}
    for name, files in THREE.items():
        src = write_files(tmp_path / "src" / name, files)
        uploaded[name] = client.upload(name, src)

    # Each upload: overwrite check, Create, then the blob, then Finalize; nothing else.
    one_upload = [
        "ListArtifacts",
        "CreateArtifact",
        "blob:PUT:block",
        "blob:PUT:blocklist",
        "FinalizeArtifact",
    ]
    assert service.events() == one_upload * 3

    listed = {info.name: info for info in client.list()}
    assert set(listed) == set(THREE)
    for name, info in uploaded.items():
        stored = service.stored(name)
        assert stored is not None and stored.finalized
        blob = service.blob_of(stored)
        assert blob.data is not None
        # download-artifact unzips only a blob served as application/zip.
        assert blob.content_type == "application/zip"
        digest = "sha256:" + hashlib.sha256(blob.data).hexdigest()
        assert info.digest == stored.digest == listed[name].digest == digest
        assert info.size == stored.size == listed[name].size == len(blob.data)
        assert info.id == listed[name].id == stored.id
        assert listed[name].job_backend_id == service.job_backend_id
        created_at = listed[name].created_at
        assert created_at is not None and created_at.tzinfo is not None

    for name, files in THREE.items():
        dest = tmp_path / "dl" / name
        written = client.download(name, dest)
        assert sorted(p.relative_to(dest).as_posix() for p in written) == sorted(files)
        assert read_tree(dest) == files
    assert sleeps == []
    assert service.blob_leaks() == []


def test_request_shapes_match_the_official_client(
    service: FakeArtifactService, client: ArtifactClient, tmp_path: Path
) -> None:
    client.upload("issue-sync-report", write_files(tmp_path, THREE["issue-sync-report"]))
    client.download("issue-sync-report", tmp_path / "out")

    for rec in service.twirp_requests():
        assert rec.path.startswith(TWIRP_PREFIX)  # origin only, never the URL's /runner/... path
        assert rec.header("Authorization") == f"Bearer {service.token}"
        assert rec.header("Content-Type") == "application/json"

    create = service.twirp_requests("CreateArtifact")[0].json
    assert create == {
        IDS[0]: service.run_backend_id,
        IDS[1]: service.job_backend_id,
        "name": "issue-sync-report",
        "version": 7,
        "mime_type": "application/zip",
    }
    finalize = service.twirp_requests("FinalizeArtifact")[0].json
    assert set(finalize) == {*IDS, "name", "size", "hash"}
    assert isinstance(finalize["size"], str) and finalize["size"].isdigit()  # int64 as a string
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", finalize["hash"])
    assert service.twirp_requests("ListArtifacts")[0].json == {
        IDS[0]: service.run_backend_id,
        IDS[1]: service.job_backend_id,
        "name_filter": "issue-sync-report",
    }
    assert set(service.twirp_requests("GetSignedArtifactURL")[0].json) == {*IDS, "name"}

    blocks = [r for r in service.blob_requests() if r.method == "PUT"]
    for rec in blocks[:-1]:
        assert rec.query["comp"] == ["block"]
        assert rec.header("Content-Type") == "application/octet-stream"
        assert len(base64.b64decode(rec.query["blockid"][0])) == 64
        assert rec.header("x-ms-version")
    block_list = blocks[-1]
    assert block_list.query["comp"] == ["blocklist"]
    assert block_list.header("x-ms-blob-content-type") == "application/zip"
    assert block_list.body.startswith(b'<?xml version="1.0" encoding="utf-8"?><BlockList><Latest>')
    # The Finalize size covers exactly the committed bytes.
    assert int(finalize["size"]) == sum(len(r.body) for r in blocks[:-1])


def test_multi_block_upload_keeps_order_and_equal_length_ids(
    service: FakeArtifactService, sleeps: list[float], tmp_path: Path
) -> None:
    payload = random.Random(7).randbytes(5000)  # incompressible, so the zip spans several blocks
    with ArtifactClient(service.results_url, service.token, sleep=sleeps.append, block_size=1000) as client:
        info = client.upload("issue-sync-checkpoint", write_files(tmp_path / "src", {"blob.bin": payload}))
        puts = [r for r in service.blob_requests() if r.query.get("comp") == ["block"]]
        assert len(puts) == -(-info.size // 1000) >= 6
        ids = [r.query["blockid"][0] for r in puts]
        assert len(set(ids)) == len(ids) and len({len(i) for i in ids}) == 1
        listed = re.findall(r"<Latest>([^<]+)</Latest>", service.blob_requests()[-1].body.decode())
        assert listed == ids
        client.download("issue-sync-checkpoint", tmp_path / "out")
    assert (tmp_path / "out" / "blob.bin").read_bytes() == payload


def test_upload_replaces_an_existing_name(service: FakeArtifactService, client: ArtifactClient, tmp_path: Path) -> None:
    first = client.upload("issue-sync-graph", write_files(tmp_path / "v1", {"g.json": b"v1"}))
    n = len(service.requests)
    second = client.upload("issue-sync-graph", write_files(tmp_path / "v2", {"g.json": b"v2"}))
    assert service.events()[n:] == [
        "ListArtifacts",
        "DeleteArtifact",
        "CreateArtifact",
        "blob:PUT:block",
        "blob:PUT:blocklist",
        "FinalizeArtifact",
    ]
    delete = service.twirp_requests("DeleteArtifact")[0].json
    assert delete == {
        IDS[0]: service.run_backend_id,
        IDS[1]: service.job_backend_id,
        "name": "issue-sync-graph",
    }
    assert second.id != first.id
    assert [i.id for i in client.list("issue-sync-graph")] == [second.id]
    client.download("issue-sync-graph", tmp_path / "out")
    assert (tmp_path / "out" / "g.json").read_bytes() == b"v2"


def test_conflict_from_an_unfinalized_leftover_is_deleted_and_retried_once(
    service: FakeArtifactService, client: ArtifactClient, tmp_path: Path
) -> None:
    service.seed_artifact("issue-sync-report", finalized=False)  # invisible to ListArtifacts
    client.upload("issue-sync-report", write_files(tmp_path, {"r.json": b"{}"}))
    assert service.events()[:6] == [
        "ListArtifacts",
        "CreateArtifact",  # 409
        "ListArtifacts",
        "DeleteArtifact",
        "CreateArtifact",
        "blob:PUT:block",
    ]
    assert len(client.list("issue-sync-report")) == 1


def test_replace_false_keeps_the_existing_artifact(
    service: FakeArtifactService, client: ArtifactClient, tmp_path: Path
) -> None:
    client.upload("issue-sync-report", write_files(tmp_path / "a", {"r.json": b"first"}))
    with pytest.raises(ArtifactConflictError, match="already exists in this workflow run") as info:
        client.upload("issue-sync-report", write_files(tmp_path / "b", {"r.json": b"second"}), replace=False)
    assert info.value.status == 409
    assert service.twirp_requests("DeleteArtifact") == []
    client.download("issue-sync-report", tmp_path / "out")
    assert (tmp_path / "out" / "r.json").read_bytes() == b"first"


def test_same_run_download_uses_the_uploading_jobs_id(
    service: FakeArtifactService, client: ArtifactClient, tmp_path: Path, sleeps: list[float]
) -> None:
    other_job = "f0f0f0f0-0000-4000-8000-00000000b002"
    other_token = service.add_job_token(service.run_backend_id, other_job)
    with ArtifactClient(service.results_url, other_token, sleep=sleeps.append) as uploader:
        uploader.upload("issue-sync-graph", write_files(tmp_path / "src", {"g.json": b"from job 2"}))
    [info] = client.list()
    assert info.job_backend_id == other_job
    client.download("issue-sync-graph", tmp_path / "out")
    assert service.twirp_requests("GetSignedArtifactURL")[-1].json[IDS[1]] == other_job
    assert (tmp_path / "out" / "g.json").read_bytes() == b"from job 2"


def test_delete_and_missing_names(service: FakeArtifactService, client: ArtifactClient, tmp_path: Path) -> None:
    info = client.upload("issue-sync-graph", write_files(tmp_path, {"g.json": b"x"}))
    assert client.get(info.id).name == "issue-sync-graph"
    assert client.delete("issue-sync-graph") == info.id
    assert client.list() == []
    with pytest.raises(ArtifactNotFoundError):
        client.delete("issue-sync-graph")
    with pytest.raises(ArtifactNotFoundError, match="different run"):
        client.download("issue-sync-graph", tmp_path / "out")
    with pytest.raises(ArtifactNotFoundError):
        client.get(info.id)


@pytest.mark.parametrize("name", ["", "a/b", "a\\b", 'quote"', "colon:x", "star*", "q?", "new\nline", "pipe|"])
def test_invalid_artifact_names_fail_before_any_request(
    service: FakeArtifactService, client: ArtifactClient, tmp_path: Path, name: str
) -> None:
    with pytest.raises(ArtifactNameError):
        client.upload(name, write_files(tmp_path, {"a.txt": b"a"}))
    assert service.requests == []


@pytest.mark.parametrize("entry", ["../up.txt", "/abs.txt", "a/../b.txt", "a\\b.txt", "c:x.txt", "a//b", ""])
def test_invalid_entry_paths_fail_before_any_request(
    service: FakeArtifactService, client: ArtifactClient, tmp_path: Path, entry: str
) -> None:
    src = tmp_path / "a.txt"
    src.write_bytes(b"a")
    with pytest.raises(ArtifactNameError):
        client.upload("issue-sync-report", {entry: src})
    with pytest.raises(ArtifactNameError):
        client.upload("issue-sync-report", {})
    assert service.requests == []


# -- retries and faults -----------------------------------------------------------------------------------


def test_retryable_statuses_back_off_like_the_official_client(
    service: FakeArtifactService, client: ArtifactClient, tmp_path: Path, sleeps: list[float]
) -> None:
    for status in (429, 500, 502, 503):
        service.inject("CreateArtifact", status=status)
    client.upload("issue-sync-graph", write_files(tmp_path, {"g.json": b"{}"}))
    assert sleeps == [3.0, 4.5, 6.75, 10.125]
    assert len(service.twirp_requests("CreateArtifact")) == 5


def test_retries_give_up_after_five_attempts(
    service: FakeArtifactService, client: ArtifactClient, tmp_path: Path, sleeps: list[float]
) -> None:
    service.inject("FinalizeArtifact", status=504, times=5)
    with pytest.raises(ArtifactServiceError, match="after 5 attempts") as info:
        client.upload("issue-sync-graph", write_files(tmp_path, {"g.json": b"{}"}))
    assert info.value.status == 504
    assert sleeps == [3.0, 4.5, 6.75, 10.125]
    assert len(service.twirp_requests("FinalizeArtifact")) == 5


def test_unparsable_success_body_is_retried(
    service: FakeArtifactService, client: ArtifactClient, sleeps: list[float]
) -> None:
    service.inject("ListArtifacts", status=200, body=b"<html>proxy says hi</html>", content_type="text/html")
    assert client.list() == []
    assert sleeps == [3.0]


def test_bad_request_is_final(
    service: FakeArtifactService, client: ArtifactClient, tmp_path: Path, sleeps: list[float]
) -> None:
    service.inject("CreateArtifact", status=400, msg="bad expires_at")
    with pytest.raises(ArtifactServiceError, match="CreateArtifact answered 400 invalid_argument: bad expires_at"):
        client.upload("issue-sync-graph", write_files(tmp_path, {"g.json": b"{}"}))
    assert sleeps == []
    assert len(service.twirp_requests("CreateArtifact")) == 1


def test_insufficient_usage_is_a_quota_error_at_once(
    service: FakeArtifactService, client: ArtifactClient, tmp_path: Path, sleeps: list[float]
) -> None:
    service.inject_quota_exceeded("CreateArtifact", status=429)  # retryable status, but quota wins
    with pytest.raises(ArtifactQuotaError, match="quota"):
        client.upload("issue-sync-graph", write_files(tmp_path, {"g.json": b"{}"}))
    assert sleeps == []
    assert service.events() == ["ListArtifacts", "CreateArtifact"]


def test_twirp_connection_reset_is_not_retried(
    service: FakeArtifactService, client: ArtifactClient, tmp_path: Path, sleeps: list[float]
) -> None:
    service.inject("CreateArtifact", reset=True)
    with pytest.raises(ArtifactNetworkError, match="CreateArtifact"):
        client.upload("issue-sync-graph", write_files(tmp_path, {"g.json": b"{}"}))
    assert sleeps == []


def test_blob_reset_and_5xx_are_retried(
    service: FakeArtifactService, client: ArtifactClient, tmp_path: Path, sleeps: list[float]
) -> None:
    service.inject("blob:PUT:block", reset=True)
    service.inject("blob:PUT:blocklist", status=503)
    service.inject("blob:GET", status=500)
    client.upload("issue-sync-graph", write_files(tmp_path, {"g.json": b"graph"}))
    client.download("issue-sync-graph", tmp_path / "out")
    assert sleeps == [3.0, 3.0, 3.0]  # each blob operation has its own retry sequence
    assert (tmp_path / "out" / "g.json").read_bytes() == b"graph"


def test_expired_signed_url_is_a_clear_error(
    service: FakeArtifactService, client: ArtifactClient, tmp_path: Path, sleeps: list[float]
) -> None:
    service.issue_expired_urls = True
    with pytest.raises(ArtifactPermissionError, match="may have expired") as info:
        client.upload("issue-sync-graph", write_files(tmp_path, {"g.json": b"{}"}))
    assert "sig=" not in str(info.value)  # the signed query is a credential
    assert sleeps == []
    service.issue_expired_urls = False
    client.upload("issue-sync-graph", write_files(tmp_path, {"g.json": b"{}"}))
    service.issue_expired_urls = True
    with pytest.raises(ArtifactPermissionError, match="AuthenticationFailed"):
        client.download("issue-sync-graph", tmp_path / "out")


def test_refused_runtime_token_is_a_permission_error(service: FakeArtifactService, sleeps: list[float]) -> None:
    stranger = mint_runtime_token(service.run_backend_id, "job-unknown-to-the-service")
    with (
        ArtifactClient(service.results_url, stranger, sleep=sleeps.append) as client,
        pytest.raises(ArtifactPermissionError, match="401") as info,
    ):
        client.list()
    assert stranger not in str(info.value) and stranger not in repr(info.value)
    assert sleeps == []


def test_camel_case_replies_are_accepted(sleeps: list[float], tmp_path: Path) -> None:
    with FakeArtifactService(camel_case=True) as service, make_client(service, sleeps) as client:
        raw = requests.post(
            service.api_url + TWIRP_PREFIX + "ListArtifacts",
            json={"workflowRunBackendId": service.run_backend_id, "workflowJobRunBackendId": "x"},
            headers={"Authorization": f"Bearer {service.token}"},
            timeout=5,
        )
        assert raw.status_code == 200 and raw.json() == {"artifacts": []}
        info = client.upload("issue-sync-report", write_files(tmp_path / "src", {"r.json": b"camel"}))
        [listed] = client.list()
        assert listed.id == info.id and listed.digest == info.digest and listed.size == info.size
        client.download("issue-sync-report", tmp_path / "out")
        assert (tmp_path / "out" / "r.json").read_bytes() == b"camel"
        client.upload("issue-sync-report", write_files(tmp_path / "src", {"r.json": b"again"}))
        assert len(client.list()) == 1


@pytest.mark.parametrize(
    ("cap", "requested", "expected_days"),
    [(None, None, None), (None, 30, 30), ("5", 30, 5), ("90", 7, 7), ("junk", 14, 14)],
)
def test_retention_days_capped_by_github_retention_days(
    service: FakeArtifactService,
    sleeps: list[float],
    tmp_path: Path,
    cap: str | None,
    requested: int | None,
    expected_days: int | None,
) -> None:
    env = {} if cap is None else {"GITHUB_RETENTION_DAYS": cap}
    with make_client(service, sleeps, env=env) as client:
        client.upload("issue-sync-graph", write_files(tmp_path, {"g.json": b"{}"}), retention_days=requested)
    create = service.twirp_requests("CreateArtifact")[0].json
    if expected_days is None:
        assert "expires_at" not in create
    else:
        assert create["expires_at"] == (NOW + timedelta(days=expected_days)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("days", [0, 91, -1])
def test_retention_days_out_of_range(
    service: FakeArtifactService, client: ArtifactClient, tmp_path: Path, days: int
) -> None:
    with pytest.raises(ArtifactError, match="between 1 and 90"):
        client.upload("issue-sync-graph", write_files(tmp_path, {"g.json": b"{}"}), retention_days=days)
    assert service.requests == []


# -- credentials never reach the blob host ----------------------------------------------------------------


def test_blob_host_never_sees_authorization_even_with_a_netrc(
    service: FakeArtifactService,
    client: ArtifactClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sleeps: list[float],
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login netrc-user password netrc-secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))  # requests would add Basic auth from it on a plain session
    client.upload("issue-sync-graph", write_files(tmp_path / "src", {"g.json": b"{}"}))
    client.download("issue-sync-graph", tmp_path / "out")
    service.add_run("2002", service.run_backend_id)
    download_run_artifact(
        service.api_url,
        service.repository,
        service.rest_token,
        "2002",
        "issue-sync-graph",
        tmp_path / "rest",
        sleep=sleeps.append,
    )
    blob = service.blob_requests()
    assert {r.method for r in blob} == {"PUT", "GET"}
    assert service.blob_leaks() == []
    assert service.blob_authorization_seen == []
    for rec in blob:
        assert "authorization" not in rec.headers
        assert not any("netrc" in v for v in rec.headers.values())
    assert all(r.header("Authorization") == f"Bearer {service.token}" for r in service.twirp_requests())


def test_the_double_refuses_and_records_authorization_at_the_blob_host(
    service: FakeArtifactService, client: ArtifactClient, tmp_path: Path
) -> None:
    client.upload("issue-sync-graph", write_files(tmp_path, {"g.json": b"{}"}))
    url = requests.post(
        service.api_url + TWIRP_PREFIX + "GetSignedArtifactURL",
        json={IDS[0]: service.run_backend_id, IDS[1]: service.job_backend_id, "name": "issue-sync-graph"},
        headers={"Authorization": f"Bearer {service.token}"},
        timeout=5,
    ).json()["signed_url"]
    assert requests.get(url, timeout=5).status_code == 200
    leaked = requests.get(url, headers={"Authorization": f"Bearer {service.token}"}, timeout=5)
    assert leaked.status_code == 403
    assert len(service.blob_authorization_seen) == 1
    assert len(service.blob_leaks()) == 2  # the header, and the token inside it


def test_mask_gets_the_token_signed_urls_and_sig_values(
    service: FakeArtifactService, client: ArtifactClient, masked: list[str], tmp_path: Path
) -> None:
    client.upload("issue-sync-graph", write_files(tmp_path, {"g.json": b"{}"}))
    client.download("issue-sync-graph", tmp_path / "out")
    assert service.token in masked
    sigs = {r.query["sig"][0] for r in service.blob_requests()}
    assert len(sigs) == 2  # the upload URL and the download URL
    for sig in sigs:
        assert sig in masked and quote(sig, safe="") in masked
        assert any(m.startswith("http://127.0.0.1:") and quote(sig, safe="") in m for m in masked)


# -- download safety --------------------------------------------------------------------------------------


def test_digest_mismatch_is_refused(service: FakeArtifactService, client: ArtifactClient, tmp_path: Path) -> None:
    service.seed_artifact("issue-sync-graph", {"g.json": b"x"}, digest="sha256:" + "0" * 64)
    with pytest.raises(ArtifactIntegrityError, match="sha256 mismatch"):
        client.download("issue-sync-graph", tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "entry", ["../escape.txt", "a/../../escape.txt", "/abs/escape.txt", "C:/escape.txt", "..\\escape.txt"]
)
def test_zip_slip_is_refused(service: FakeArtifactService, client: ArtifactClient, tmp_path: Path, entry: str) -> None:
    service.seed_artifact("issue-sync-graph", data=make_zip({"fine.txt": b"ok", entry: b"pwned"}))
    dest = tmp_path / "deep" / "out"
    with pytest.raises(UnsafeArchiveError, match="refusing archive entry"):
        client.download("issue-sync-graph", dest)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []  # checked before anything is written


def test_extraction_does_not_follow_links_out_of_dest(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "link").symlink_to(outside)
    with (tmp_path / "a.zip").open("wb") as fh:
        fh.write(make_zip({"link/evil.txt": b"pwned"}))
    with (tmp_path / "a.zip").open("rb") as fh, pytest.raises(UnsafeArchiveError):
        safe_extract(fh, dest)
    assert list(outside.iterdir()) == []


def test_corrupt_zip_is_an_integrity_error(
    service: FakeArtifactService, client: ArtifactClient, tmp_path: Path
) -> None:
    service.seed_artifact("issue-sync-graph", data=b"PK\x03\x04 this is not a zip")
    with pytest.raises(ArtifactIntegrityError, match="not a valid zip"):
        client.download("issue-sync-graph", tmp_path / "out")


# -- int64 ids --------------------------------------------------------------------------------------------


def test_ids_beyond_two_to_the_32(sleeps: list[float], tmp_path: Path) -> None:
    big = 2**32 + 7
    with FakeArtifactService(first_artifact_id=big) as service, make_client(service, sleeps) as client:
        info = client.upload("issue-sync-graph", write_files(tmp_path / "src", {"g.json": b"big"}))
        assert info.id == big
        assert client.get(big).id == big
        assert service.twirp_requests("ListArtifacts")[-1].json["id_filter"] == str(big)
        [listed] = client.list()
        assert listed.id == big
        service.add_run("2002", service.run_backend_id)
        download_run_artifact(
            service.api_url,
            service.repository,
            service.rest_token,
            "2002",
            "issue-sync-graph",
            tmp_path / "rest",
            sleep=sleeps.append,
        )
        assert service.rest_requests()[-1].path.endswith(f"/actions/artifacts/{big}/zip")
        assert (tmp_path / "rest" / "g.json").read_bytes() == b"big"


# -- REST: another run ------------------------------------------------------------------------------------


def rest_download(service: FakeArtifactService, dest: Path, sleeps: list[float], **kw: str) -> list[Path]:
    args = {"token": service.rest_token, "run_id": "2002", "name": "issue-sync-checkpoint", **kw}
    return download_run_artifact(
        service.api_url,
        service.repository,
        args["token"],
        args["run_id"],
        args["name"],
        dest,
        sleep=sleeps.append,
    )


@pytest.fixture
def other_run(service: FakeArtifactService) -> FakeArtifactService:
    service.add_run("2002", OTHER_RUN, head_sha="c" * 40)
    service.seed_artifact("issue-sync-checkpoint", {"journal.jsonl": b"old\n"}, run_backend_id=OTHER_RUN)
    service.seed_artifact("issue-sync-checkpoint", {"journal.jsonl": b"newest\n"}, run_backend_id=OTHER_RUN)
    service.seed_artifact("issue-sync-checkpoint", {"journal.jsonl": b"gone"}, run_backend_id=OTHER_RUN, expired=True)
    service.seed_artifact("issue-sync-graph", {"g.json": b"{}"}, run_backend_id=OTHER_RUN)
    return service


def test_cross_run_download_follows_the_redirect_by_hand(
    other_run: FakeArtifactService, tmp_path: Path, sleeps: list[float], masked: list[str]
) -> None:
    service = other_run
    written = download_run_artifact(
        service.api_url + "/",
        service.repository,
        service.rest_token,
        "2002",
        "issue-sync-checkpoint",
        tmp_path / "out",
        sleep=sleeps.append,
        mask=masked.append,
    )
    assert written == [tmp_path / "out" / "journal.jsonl"]
    assert written[0].read_bytes() == b"newest\n"  # newest non-expired of the same name
    assert service.events() == ["rest:list", "rest:zip", "blob:GET"]
    listing, zip_req = service.rest_requests()
    assert listing.query == {"name": ["issue-sync-checkpoint"], "per_page": ["100"], "page": ["1"]}
    for rec in (listing, zip_req):
        assert rec.header("Authorization") == f"token {service.rest_token}"
        assert rec.header("X-GitHub-Api-Version") == "2022-11-28"
    [blob_get] = service.blob_requests()
    assert "authorization" not in blob_get.headers and service.blob_leaks() == []
    assert any(blob_get.query["sig"][0] == m for m in masked)
    assert sleeps == []


def test_cross_run_listing_is_paginated(other_run: FakeArtifactService, tmp_path: Path, sleeps: list[float]) -> None:
    service = other_run
    service.rest_page_size_cap = 1
    rest_download(service, tmp_path / "out", sleeps)
    assert [r.query["page"] for r in service.rest_requests() if r.labels[-1] == "rest:list"] == [
        ["1"],
        ["2"],
        ["3"],
    ]
    assert (tmp_path / "out" / "journal.jsonl").read_bytes() == b"newest\n"
    first = requests.get(
        f"{service.api_url}/repos/{service.repository}/actions/runs/2002/artifacts?per_page=1",
        headers={"Authorization": f"token {service.rest_token}"},
        timeout=5,
    )
    assert first.links["next"]["url"].endswith("per_page=1&page=2")
    assert first.links["last"]["url"].endswith("page=4")


@pytest.mark.parametrize(
    ("token", "error", "match"),
    [
        ("", ArtifactPermissionError, "`actions: read`"),
        ("ghs_wrong", ArtifactPermissionError, "401.*Bad credentials.*`actions: read`"),
        ("NO_ACTIONS_READ", ArtifactPermissionError, "403.*`actions: read`"),
    ],
)
def test_cross_run_permission_errors(
    other_run: FakeArtifactService,
    tmp_path: Path,
    sleeps: list[float],
    token: str,
    error: type[Exception],
    match: str,
) -> None:
    token = other_run.rest_token_without_actions_read if token == "NO_ACTIONS_READ" else token
    with pytest.raises(error, match=match) as info:
        rest_download(other_run, tmp_path / "out", sleeps, token=token)
    assert not token or token not in str(info.value)
    assert sleeps == []


def test_cross_run_missing_run_or_name(other_run: FakeArtifactService, tmp_path: Path, sleeps: list[float]) -> None:
    with pytest.raises(ArtifactNotFoundError, match="`actions: read`"):
        rest_download(other_run, tmp_path / "out", sleeps, run_id="9999")
    with pytest.raises(ArtifactNotFoundError, match="no artifact named 'nope'"):
        rest_download(other_run, tmp_path / "out", sleeps, name="nope")


def test_cross_run_expired(other_run: FakeArtifactService, tmp_path: Path, sleeps: list[float]) -> None:
    service = other_run
    service.seed_artifact("issue-sync-report", run_backend_id=OTHER_RUN, expired=True)
    with pytest.raises(ArtifactExpiredError, match="expired"):
        rest_download(service, tmp_path / "out", sleeps, name="issue-sync-report")
    service.inject("rest:zip", status=410, msg="Artifact has expired")
    with pytest.raises(ArtifactExpiredError, match="410"):
        rest_download(service, tmp_path / "out", sleeps)


def test_cross_run_requires_a_302(other_run: FakeArtifactService, tmp_path: Path, sleeps: list[float]) -> None:
    other_run.inject("rest:zip", status=200, body=b"PK...", content_type="application/zip")
    with pytest.raises(ArtifactServiceError, match="expected a 302"):
        rest_download(other_run, tmp_path / "out", sleeps)


def test_cross_run_retries_and_checks_the_digest(
    other_run: FakeArtifactService, tmp_path: Path, sleeps: list[float]
) -> None:
    service = other_run
    service.inject("rest:list", status=502)
    service.inject("rest:zip", reset=True)
    rest_download(service, tmp_path / "ok", sleeps)
    assert sleeps == [3.0, 3.0]
    service.seed_artifact("issue-sync-report", {"r.json": b"{}"}, run_backend_id=OTHER_RUN, digest="sha256:" + "f" * 64)
    with pytest.raises(ArtifactIntegrityError, match="sha256 mismatch"):
        rest_download(service, tmp_path / "bad", sleeps, name="issue-sync-report")


@pytest.mark.parametrize(
    ("repository", "run_id"), [("not-a-repo", "2002"), ("o/r/x", "2002"), ("octo-org/planning", "12a")]
)
def test_cross_run_argument_checks(service: FakeArtifactService, tmp_path: Path, repository: str, run_id: str) -> None:
    with pytest.raises(ArtifactError):
        download_run_artifact(service.api_url, repository, service.rest_token, run_id, "x", tmp_path)
    assert service.requests == []


# -- the double itself ------------------------------------------------------------------------------------


def twirp(service: FakeArtifactService, method: str, body: object, **headers: str) -> requests.Response:
    hdrs = {"Authorization": f"Bearer {service.token}", "Content-Type": "application/json", **headers}
    return requests.post(service.api_url + TWIRP_PREFIX + method, data=json.dumps(body), headers=hdrs, timeout=5)


def test_double_twirp_checks(service: FakeArtifactService) -> None:
    ids = {IDS[0]: service.run_backend_id, IDS[1]: service.job_backend_id}
    assert twirp(service, "ListArtifacts", ids, Authorization="Bearer nope").status_code == 401
    assert twirp(service, "ListArtifacts", ids, **{"Content-Type": "text/plain"}).status_code == 400
    assert twirp(service, "Nope", ids).status_code == 404
    bad_name = twirp(service, "CreateArtifact", {**ids, "name": "a/b", "version": 7})
    assert (bad_name.status_code, bad_name.json()["code"]) == (400, "invalid_argument")
    # camelCase keys and unknown fields are fine.
    camel = {
        "workflowRunBackendId": service.run_backend_id,
        "workflowJobRunBackendId": service.job_backend_id,
    }
    created = twirp(service, "CreateArtifact", {**camel, "name": "n", "version": 7, "futureField": 1})
    assert created.status_code == 200 and created.json()["ok"] is True
    dup = twirp(service, "CreateArtifact", {**ids, "name": "n", "version": 7})
    assert (dup.status_code, dup.json()) == (409, {"code": "already_exists", "msg": CONFLICT_MSG})
    early = twirp(service, "FinalizeArtifact", {**ids, "name": "n", "size": "0"})
    assert early.status_code == 412
    url = created.json()["signed_upload_url"]
    put = requests.put(url, data=b"zipbytes", headers={"x-ms-blob-type": "BlockBlob"}, timeout=5)
    assert put.status_code == 201
    assert twirp(service, "FinalizeArtifact", {**ids, "name": "n", "size": "7"}).status_code == 400
    wrong_hash = {**ids, "name": "n", "size": "8", "hash": "sha256:" + "0" * 64}
    assert twirp(service, "FinalizeArtifact", wrong_hash).status_code == 400
    done = twirp(service, "FinalizeArtifact", {**ids, "name": "n", "size": 8})
    assert done.json() == {"ok": True, "artifact_id": "1"}
    assert twirp(service, "GetSignedArtifactURL", {**ids, "name": "other"}).status_code == 404
    other_run = {IDS[0]: "someone-elses-run", IDS[1]: service.job_backend_id}
    assert twirp(service, "ListArtifacts", other_run).status_code == 403


def test_double_blob_checks(service: FakeArtifactService) -> None:
    ids = {IDS[0]: service.run_backend_id, IDS[1]: service.job_backend_id}
    url = twirp(service, "CreateArtifact", {**ids, "name": "n", "version": 7}).json()["signed_upload_url"]
    unsigned = url.split("?")[0]
    assert requests.put(unsigned, data=b"x", headers={"x-ms-blob-type": "BlockBlob"}, timeout=5).status_code == 403
    assert requests.put(url, data=b"x", timeout=5).status_code == 400  # Put Blob needs x-ms-blob-type
    assert requests.put(url + "&comp=block&blockid=QUFB", data=b"a", timeout=5).status_code == 201
    assert requests.put(url + "&comp=block&blockid=QUFBQQ%3D%3D", data=b"b", timeout=5).status_code == 400
    bad_list = b"<BlockList><Latest>QkJC</Latest></BlockList>"
    assert requests.put(url + "&comp=blocklist", data=bad_list, timeout=5).status_code == 400
    good_list = b"<BlockList><Latest>QUFB</Latest></BlockList>"
    headers = {"x-ms-blob-content-type": "application/zip"}
    assert requests.put(url + "&comp=blocklist", data=good_list, headers=headers, timeout=5).status_code == 201
    # The upload URL is write-only; reading needs a URL signed for reading.
    assert requests.get(url, timeout=5).status_code == 403
    twirp(service, "FinalizeArtifact", {**ids, "name": "n", "size": "1"})
    read_url = twirp(service, "GetSignedArtifactURL", {**ids, "name": "n"}).json()["signed_url"]
    got = requests.get(read_url, timeout=5)
    assert (got.status_code, got.content, got.headers["Content-Type"]) == (200, b"a", "application/zip")
    service.expire_signed_urls()
    assert requests.get(read_url, timeout=5).status_code == 403


def test_double_rest_checks(other_run: FakeArtifactService) -> None:
    service = other_run
    base = f"{service.api_url}/repos/{service.repository}/actions"
    assert requests.get(f"{base}/runs/2002/artifacts", timeout=5).status_code == 401
    ok = requests.get(
        f"{base}/runs/2002/artifacts", headers={"Authorization": f"token {service.rest_token}"}, timeout=5
    )
    body = ok.json()
    assert body["total_count"] == 4  # expired ones are listed, flagged
    assert body["artifacts"][0]["workflow_run"]["head_sha"] == "c" * 40
    expired = next(a for a in body["artifacts"] if a["expired"])
    gone = requests.get(
        f"{base}/artifacts/{expired['id']}/zip",
        headers={"Authorization": f"Bearer {service.rest_token}"},
        allow_redirects=False,
        timeout=5,
    )
    assert gone.status_code == 410
