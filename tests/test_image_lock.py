"""The image's lock file (requirements.txt) and how the Dockerfile uses it.

The image installs exactly the lock, with `--require-hashes --no-deps`: so the lock must name every runtime
dependency of pyproject.toml at its pinned version, every package those need in turn, and hashes for each.
"""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parent.parent
LOCK = REPO / "requirements.txt"
PYPROJECT = REPO / "pyproject.toml"
DOCKERFILE = REPO / "Dockerfile"
HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}")


def _entries() -> dict[str, tuple[str, list[str]]]:
    """name → (version, hashes) of every requirement line of the lock, continuation lines joined."""
    text = LOCK.read_text(encoding="utf-8").replace("\\\n", " ")
    entries: dict[str, tuple[str, list[str]]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        spec, hashes = line.split("--hash=", 1)[0], HASH.findall(line)
        requirement = Requirement(spec.strip())
        (pin,) = requirement.specifier
        assert pin.operator == "==", f"{requirement.name} is not pinned with ==: {line}"
        entries[canonicalize_name(requirement.name)] = (pin.version, hashes)
    return entries


def _runtime_dependencies() -> list[Requirement]:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    return [Requirement(text) for text in project["dependencies"]]


def test_every_locked_package_is_pinned_with_hashes() -> None:
    entries = _entries()
    assert entries, "requirements.txt locks nothing"
    unhashed = sorted(name for name, (_, hashes) in entries.items() if not hashes)
    assert not unhashed, f"locked without a hash (pip --require-hashes refuses the whole file): {unhashed}"


def test_the_lock_pins_every_runtime_dependency_at_the_version_of_pyproject() -> None:
    entries = _entries()
    problems = []
    for requirement in _runtime_dependencies():
        name = canonicalize_name(requirement.name)
        if name not in entries:
            problems.append(f"{requirement}: not in requirements.txt")
        elif not requirement.specifier.contains(entries[name][0], prereleases=True):
            problems.append(f"{requirement}: requirements.txt has {entries[name][0]}")
    assert not problems, "regenerate the lock (its header has the command):\n" + "\n".join(problems)


def test_the_lock_holds_everything_its_packages_need() -> None:
    """Walks the dependency tree from pyproject.toml through the installed packages' metadata (a package this
    environment has at another version than the lock is not walked further: its metadata may differ)."""
    entries = _entries()
    environment: dict[str, str] = dict(default_environment())
    missing, seen = [], set()
    queue = [(requirement, "pyproject.toml") for requirement in _runtime_dependencies()]
    while queue:
        requirement, needed_by = queue.pop()
        name = canonicalize_name(requirement.name)
        if name not in entries:
            missing.append(f"{requirement} (needed by {needed_by})")
            continue
        key = (name, frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        if canonicalize_name(distribution.version) != canonicalize_name(entries[name][0]):
            continue
        for text in distribution.requires or []:
            needed = Requirement(text)
            extras = requirement.extras or {""}
            if needed.marker is None or any(needed.marker.evaluate(environment | {"extra": e}) for e in extras):
                queue.append((needed, name))
    assert not missing, f"requirements.txt lacks: {sorted(missing)}"


def test_the_lock_says_how_it_was_made_from_pyproject() -> None:
    header = LOCK.read_text(encoding="utf-8").splitlines()[:3]
    command = next((line for line in header if "compile" in line), "")
    assert "pyproject.toml" in command and "--generate-hashes" in command, header


def test_the_image_installs_the_lock_with_hashes_and_nothing_else() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    installs = [line for line in text.splitlines() if re.search(r"\bpip\b.*\binstall\b", line)]
    assert len(installs) == 1, installs
    (install,) = installs
    for flag in ("--require-hashes", "--no-deps", "-r /tmp/requirements.txt"):
        assert flag in install, f"the image's pip install lacks {flag}: {install}"
    assert "COPY requirements.txt" in text


def test_the_image_drops_only_a_locked_package_the_entry_point_never_loads() -> None:
    """cryptography is locked (PyGithub requires it through pyjwt[crypto]) but the action's process keeps it out
    (entrypoint.py), so the image leaves it behind; nothing else the lock installs may go."""
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    uninstalls = re.findall(r"\buninstall -y -q ((?:[\w\-]+ *)+)", text)  # the names, up to a comment or &&
    dropped = [name for names in uninstalls for name in names.split()]
    assert dropped == ["cryptography"], dropped
    assert "cryptography" in _entries()
    kept_out = (REPO / "entrypoint.py").read_text(encoding="utf-8")
    assert re.search(r'for unused in \([^)]*"cryptography"', kept_out), "the entry point no longer keeps it out"
