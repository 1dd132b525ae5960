"""The release workflow cannot run here (it pushes to ghcr.io and signs with GitHub's OIDC token), so its structure
is the specification: what starts it, least-privilege permissions per job, actions pinned by commit, the digest of
the pushed image going into the attestations and the release commit. scripts/release-commit.sh, the part that
rewrites action.yml and moves the tags, runs for real on a scratch repository."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
WORKFLOWS = REPO / ".github" / "workflows"
RELEASE = WORKFLOWS / "release.yml"
SCRIPT = REPO / "scripts" / "release-commit.sh"
DIGEST = "sha256:" + "0123456789abcdef" * 4
IMAGE = "ghcr.io/octo/planning-issues-sync"
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*$")


def _load(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def release() -> dict[Any, Any]:
    return _load(RELEASE)


def _steps(release: dict[Any, Any], job: str) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = release["jobs"][job]["steps"]
    return steps


def _step(release: dict[Any, Any], job: str, uses: str) -> dict[str, Any]:
    (step,) = [s for s in _steps(release, job) if str(s.get("uses", "")).startswith(uses + "@")]
    return step


def test_a_version_tag_or_a_dispatch_starts_it(release: dict[Any, Any]) -> None:
    triggers = release[True]  # YAML 1.1 reads the key `on` as true
    assert triggers["push"] == {"tags": ["v*.*.*"]}
    version = triggers["workflow_dispatch"]["inputs"]["version"]
    assert version["required"] is True


def test_permissions_are_least_privilege_per_job(release: dict[Any, Any]) -> None:
    assert release["permissions"] == {}, "nothing at the top level; each job asks for its own"
    assert {job: spec.get("permissions") for job, spec in release["jobs"].items()} == {
        "image": {"contents": "read", "packages": "write", "id-token": "write", "attestations": "write"},
        "publish": {"contents": "write"},
    }


def test_every_action_of_every_workflow_is_pinned_to_a_commit() -> None:
    problems = []
    for path in sorted(WORKFLOWS.glob("*.y*ml")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = re.match(r"^\s*(?:-\s+)?uses:\s*(.+)$", line)
            if match and not match.group(1).startswith("./") and not PINNED.match(match.group(1).strip()):
                problems.append(f"{path.name}:{number}: {match.group(1)}")
    assert not problems, "pin each action as owner/name@<40-hex sha> # vX.Y.Z:\n" + "\n".join(problems)


def test_checkouts_keep_no_credentials(release: dict[Any, Any]) -> None:
    for job in release["jobs"]:
        step = _step(release, job, "actions/checkout")
        assert step["with"]["persist-credentials"] is False, job


def test_no_expression_is_expanded_inside_a_script(release: dict[Any, Any]) -> None:
    for job in release["jobs"]:
        for step in _steps(release, job):
            assert "${{" not in step.get("run", ""), f"{job}: {step.get('name')}: pass it through env instead"


def test_the_image_is_built_for_both_platforms_and_pushed(release: dict[Any, Any]) -> None:
    build = _step(release, "image", "docker/build-push-action")
    assert build["id"] == "build"
    assert set(build["with"]["platforms"].split(",")) == {"linux/amd64", "linux/arm64"}
    assert build["with"]["push"] is True
    assert "cache-from" not in build["with"], "a release is built without a shared cache"
    login = _step(release, "image", "docker/login-action")
    assert login["with"]["registry"] == "ghcr.io"


def test_the_pushed_digest_is_attested_and_substituted(release: dict[Any, Any]) -> None:
    digest = "${{ steps.build.outputs.digest }}"
    image = "${{ steps.names.outputs.image }}"
    for uses in ("actions/attest-build-provenance", "actions/attest-sbom"):
        step = _step(release, "image", uses)
        assert step["with"]["subject-digest"] == digest, uses
        assert step["with"]["subject-name"] == image, uses
        assert step["with"]["push-to-registry"] is True, uses
    assert _step(release, "image", "anchore/sbom-action")["with"]["image"] == f"{image}@{digest}"
    assert release["jobs"]["image"]["outputs"]["digest"] == digest
    publish = release["jobs"]["publish"]
    assert publish["needs"] == "image"
    (commit,) = [s for s in publish["steps"] if "release-commit.sh" in s.get("run", "")]
    assert commit["env"]["DIGEST"] == "${{ needs.image.outputs.digest }}"
    assert commit["run"].split() == ["bash", "scripts/release-commit.sh", '"$VERSION"', '"$IMAGE"', '"$DIGEST"']
    (push,) = [s for s in publish["steps"] if "git -c" in s.get("run", "")]
    assert 'refs/tags/$VERSION" "refs/tags/$major"' in push["run"], "the version tag and the moving major tag"


# --- scripts/release-commit.sh on a scratch repository ----------------------------------------------------------


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    """A repository holding what the script reads: action.yml, the package version and a CHANGELOG."""
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    (repo / "batch_action").mkdir()
    shutil.copy(SCRIPT, repo / "scripts" / SCRIPT.name)
    shutil.copy(REPO / "action.yml", repo / "action.yml")
    shutil.copy(REPO / "batch_action" / "__init__.py", repo / "batch_action" / "__init__.py")
    (repo / "CHANGELOG.md").write_text(f"# Changelog\n\n## [{_package_version()}]\n\n- first\n", encoding="utf-8")
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "source")
    return repo


def _package_version() -> str:
    text = (REPO / "batch_action" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__ = "(.+)"$', text, re.M)
    assert match
    return match.group(1)


def _release(repo: Path, version: str, digest: str = DIGEST) -> subprocess.CompletedProcess[str]:
    args = ["bash", "scripts/release-commit.sh", version, IMAGE, digest]
    return subprocess.run(args, cwd=repo, capture_output=True, text=True, check=False)


def test_the_release_commit_runs_the_image_by_digest_and_the_tags_move_to_it(scratch: Path) -> None:
    version = "v" + _package_version()
    source = _git(scratch, "rev-parse", "HEAD")
    result = _release(scratch, version)
    assert result.returncode == 0, result.stderr
    head = _git(scratch, "rev-parse", "HEAD")
    assert _git(scratch, "rev-parse", "HEAD^") == source
    assert _git(scratch, "rev-parse", f"{version}^{{commit}}") == head
    assert _git(scratch, "rev-parse", f"{version.split('.')[0]}^{{commit}}") == head
    assert _git(scratch, "diff", "--name-only", "HEAD^", "HEAD") == "action.yml"
    released, original = _load(scratch / "action.yml"), _load(REPO / "action.yml")
    assert released["runs"] == {"using": "docker", "image": f"docker://{IMAGE}@{DIGEST}"}
    assert {k: v for k, v in released.items() if k != "runs"} == {k: v for k, v in original.items() if k != "runs"}


@pytest.mark.parametrize(
    ("version", "digest", "says"),
    [
        ("v99.0.0", DIGEST, "bump it first"),
        ("1.2.3", DIGEST, "vMAJOR.MINOR.PATCH"),
        (None, "sha256:abc", "64 hex"),
        (None, "latest", "64 hex"),
    ],
)
def test_the_script_refuses_a_wrong_version_or_digest(
    scratch: Path, version: str | None, digest: str, says: str
) -> None:
    result = _release(scratch, version or "v" + _package_version(), digest)
    assert result.returncode != 0 and says in result.stderr, result.stderr
    assert _git(scratch, "status", "--porcelain") == "" and _git(scratch, "tag") == ""


def test_the_script_refuses_a_release_commit_or_a_missing_changelog_section(scratch: Path) -> None:
    version = "v" + _package_version()
    assert _release(scratch, version).returncode == 0
    again = _release(scratch, version)
    assert again.returncode != 0 and "already a release commit" in again.stderr
    (scratch / "CHANGELOG.md").write_text("# Changelog\n", encoding="utf-8")
    missing = _release(scratch, version)
    assert missing.returncode != 0 and "CHANGELOG.md has no" in missing.stderr


def test_main_builds_its_own_dockerfile() -> None:
    assert _load(REPO / "action.yml")["runs"]["image"] == "Dockerfile", "main must self-test its own code"


def test_the_changelog_has_an_unreleased_section() -> None:
    text = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert text.startswith("# Changelog") and "\n## [Unreleased]\n" in text


def test_the_package_and_pyproject_agree_on_the_version() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["version"] == _package_version(), "the release checks batch_action.__version__; keep both equal"
