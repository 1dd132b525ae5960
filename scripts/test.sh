#!/usr/bin/env bash
# Sets up .venv and runs the whole test suite (lint and type checks included). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/dev-env.sh test,lint
bash scripts/install-linters.sh
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
