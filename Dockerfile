# Image of the "Planning issues sync" action (action.yml: runs.image: Dockerfile).
# The runner builds it for every job and starts it as root with the workspace mounted at
# /github/workspace, so there is deliberately no USER (GitHub's Dockerfile support requires root).
#
# Base: the official Debian slim image of Python 3.12. Kept as a plain tag so that a local
# stand-in of the same name can be used offline (podman build --pull=never); dependabot's docker
# ecosystem proposes base-image updates. The code also runs on Python 3.11.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore

# git is needed for changed-file discovery (git fetch / git diff in the workspace). The official
# slim image has none; a base that already ships git is left as it is.
# The workspace belongs to the runner's user (uid 1001), not root: without safe.directory git
# stops with "detected dubious ownership". The system config is honoured wherever HOME points.
# hadolint ignore=DL3008
RUN if ! command -v git >/dev/null 2>&1; then \
        apt-get update \
        && apt-get install -y --no-install-recommends ca-certificates git \
        && rm -rf /var/lib/apt/lists/*; \
    fi \
    && git config --system --add safe.directory /github/workspace \
    && git --version

WORKDIR /app

# Dependencies first, from the exact pins in pyproject.toml, in their own cached layer.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && python -m pip install --no-cache-dir -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Then the package itself (README.md is part of the project metadata).
COPY README.md ./
COPY batch_action/ ./batch_action/
RUN python -m pip install --no-cache-dir --no-deps . \
    && rm -rf build ./*.egg-info

COPY entrypoint.py ./
# Byte-code ahead of time: with PYTHONDONTWRITEBYTECODE every start would otherwise compile the package (~0.3 s).
RUN python -m compileall -q /app/batch_action

ENTRYPOINT ["python", "-u", "/app/entrypoint.py"]
