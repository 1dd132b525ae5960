# Image of the "Planning issues sync" action. On main, action.yml says `runs.image: Dockerfile` and the runner
# builds this for every job; a release publishes it to ghcr.io and points action.yml at its digest
# (.github/workflows/release.yml). The runner starts it as root with the workspace mounted at
# /github/workspace, so there is deliberately no USER (GitHub's Dockerfile support requires root).
#
# Base: the official Debian slim image of Python 3.12. Kept as a plain tag so that a local stand-in of the same
# name can be used offline (podman build --pull=never); dependabot's docker ecosystem proposes base-image
# updates. The code also runs on Python 3.11.
#
# Two stages: the first installs the locked dependencies into a virtual environment without pip and compiles
# everything to byte-code; the second is the base image, git, and that environment and the code copied in.
# Nothing of the build (pip's state, the lock file, test suites shipped inside wheels) reaches the image.

FROM python:3.12-slim AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore

# requirements.txt is the lock: every package the run imports, pinned, with the hashes of its files.
COPY requirements.txt /tmp/requirements.txt
RUN python -m venv --without-pip /opt/venv \
    && python -m pip --python /opt/venv/bin/python install --require-hashes --no-deps --no-compile \
        -r /tmp/requirements.txt \
    # cryptography (~16 MB) is locked because PyGithub requires it through pyjwt[crypto], for GitHub App keys;
    # the action signs in with a token and its entry point never loads it (entrypoint.py), so it leaves here.
    && python -m pip --python /opt/venv/bin/python uninstall -y -q cryptography \
    # networkx ships its own test suite (9 MB); no installed package imports a `tests` package at run time.
    && find /opt/venv/lib -depth -type d -name tests -prune -exec rm -rf {} + \
    && find /opt/venv/lib -name conftest.py -delete

# The code runs from /app (entrypoint.py beside the package): nothing to build, so nothing to install.
COPY batch_action/ /app/batch_action/
COPY entrypoint.py /app/

# Byte-code ahead of time, checked against nothing: the image never changes, and the run neither compiles
# (~0.3 s for the package at every start) nor stats a source file to validate a .pyc.
RUN /opt/venv/bin/python -m compileall -q -j 0 --invalidation-mode unchecked-hash /opt/venv/lib /app


FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH

# git is needed for changed-file discovery (git fetch / git diff in the workspace). The official slim image has
# none; a base that already ships git is left as it is. apt's lists and caches and git's documentation stay out.
# The workspace belongs to the runner's user (uid 1001), not root: without safe.directory git stops with
# "detected dubious ownership". The system config is honoured wherever HOME points.
# hadolint ignore=DL3008
RUN if ! command -v git >/dev/null 2>&1; then \
        apt-get update \
        && apt-get install -y --no-install-recommends ca-certificates git \
        && apt-get clean \
        && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log \
            /usr/share/doc/* /usr/share/man/* /usr/share/info/*; \
    fi \
    && git config --system --add safe.directory /github/workspace \
    && git --version

COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
WORKDIR /app

ENTRYPOINT ["python", "-u", "/app/entrypoint.py"]
