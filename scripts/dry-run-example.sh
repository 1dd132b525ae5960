#!/usr/bin/env bash
# The main job on the bundled example tree, no token needed: prints the plan and writes plan.json,
# task-graph.json/.mmd, report.md/.json into ./out/example (or the folder given as $1).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/dev-env.sh ""  # no extras: the action alone
out=${1:-out/example}
exec batch-action --dry-run --scope all --path examples/.claude --repository octo/repo --output-dir "$out"
