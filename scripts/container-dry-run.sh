#!/usr/bin/env bash
# Builds the action's image with podman and runs it the way the GitHub runner runs a Docker
# container action (docs: shared/docs/actions-runtime.md §1), in dry-run mode on a copy of the
# example planning tree, then checks what a workflow would see: the exit code, $GITHUB_OUTPUT
# and the step summary.
#
# Usage: scripts/container-dry-run.sh [--build-only | --no-build] [--keep] [INPUT_NAME=value ...]
#   --build-only   build the image, report build time and size, and stop
#   --no-build     reuse the image already built
#   --keep         keep the temporary runner folders (they are always kept when a check fails)
#   INPUT_X=value  extra or overriding inputs / environment for the container
# Environment:
#   IMAGE            image tag to build and run (default batch-action:dev)
#   EXAMPLE_PATH     planning folder inside the example tree (default examples/.claude)
#   RUN_NETWORK      podman network for the run (default none: a dry run must not need one)
#   CONTAINER_BASE   path of container-base.sh (default ../shared/tools/container-base.sh beside the repo)
#
# Needs root (as on these machines) to install podman and to give the workspace to uid 1001.
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$script_dir/.." && pwd)
image=${IMAGE:-batch-action:dev}
example_path=${EXAMPLE_PATH:-examples/.claude}
run_network=${RUN_NETWORK:-none}
container_base=${CONTAINER_BASE:-$repo/../shared/tools/container-base.sh}
runner_uid=1001 # the hosted runner's user; the container runs as root, as the runner starts it

build=1 run=1 keep=0
extra_env=()
for arg in "$@"; do
  case $arg in
    --build-only) run=0 ;;
    --no-build) build=0 ;;
    --keep) keep=1 ;;
    -h | --help) sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *=*) extra_env+=("$arg") ;;
    *) echo "container-dry-run: unknown argument: $arg (see --help)" >&2; exit 2 ;;
  esac
done

say() { printf 'container-dry-run: %s\n' "$*"; }
die() { printf 'container-dry-run: ERROR: %s\n' "$*" >&2; exit 1; }
now_ms() { date +%s%3N; }
secs() { awk -v ms="$1" 'BEGIN { printf "%.1f", ms / 1000 }'; }

# --- 1. podman and the base image -------------------------------------------------------------
base=$(awk 'toupper($1) == "FROM" { print $2; exit }' "$repo/Dockerfile")
[[ -n $base ]] || die "no FROM line in $repo/Dockerfile"
if ! command -v podman >/dev/null 2>&1 || ! podman image exists "$base"; then
  if [[ -f $container_base ]]; then
    say "installing podman and a local stand-in for $base with $container_base"
    bash "$container_base" "$base"
  elif command -v podman >/dev/null 2>&1; then
    # Elsewhere (a registry in reach): the real base image.
    case $base in */*) qualified=$base ;; *) qualified=docker.io/library/$base ;; esac
    say "$container_base not found: pulling $qualified"
    podman pull "$qualified" || die "cannot pull $qualified"
  else
    die "podman is missing, and $container_base was not found to install it"
  fi
fi

# --- 2. build --------------------------------------------------------------------------------
if ((build)); then
  say "building $image from $repo"
  t0=$(now_ms)
  podman build --network host --pull=never -t "$image" "$repo" || die "podman build failed"
  build_ms=$(($(now_ms) - t0))
  size=$(podman image inspect "$image" --format '{{.Size}}')
  say "build time: $(secs "$build_ms") s; image size: $((size / 1000000)) MB ($size bytes)"
else
  podman image exists "$image" || die "--no-build given but image $image does not exist"
fi
((run)) || exit 0

# --- 3. the runner's folders -----------------------------------------------------------------
[[ -d $repo/$example_path ]] || die "the example tree $example_path does not exist in $repo"
work=$(mktemp -d "${TMPDIR:-/tmp}/batch-action-dry-run.XXXXXX")
ws=$work/workspace fc=$work/file_commands rt=$work/runner_temp home=$work/home wf=$work/workflow
mkdir -p "$ws" "$fc" "$rt" "$home" "$wf"

# The workspace is a checkout: a git repository holding a copy of the example tree.
top=${example_path%%/*}
cp -a "$repo/$top" "$ws/$top"
git -C "$ws" init -q
git -C "$ws" add -A
git -C "$ws" -c user.name=octocat -c user.email=octocat@users.noreply.github.com \
  -c commit.gpgsign=false commit -q -m "example planning tree"
git -C "$ws" branch -M main
sha=$(git -C "$ws" rev-parse HEAD)

# File commands: a fresh empty file of each kind for the step, as the runner makes them.
id=$(cat /proc/sys/kernel/random/uuid 2>/dev/null || echo "$$-$RANDOM")
for kind in set_output set_env save_state add_path step_summary; do : >"$fc/${kind}_$id"; done
cat >"$wf/event.json" <<JSON
{"inputs": {}, "ref": "refs/heads/main", "repository": {"full_name": "octo/repo", "name": "repo", "owner": {"login": "octo"}}, "sender": {"login": "octocat"}, "workflow": ".github/workflows/self-test.yml"}
JSON

# Everything the runner mounts belongs to the runner's user, so git in the container sees a
# workspace owned by someone else ("detected dubious ownership") unless the image handles it.
if [[ $(id -u) == 0 ]]; then
  chown -R "$runner_uid:$runner_uid" "$work"
else
  say "WARNING: not root: the workspace stays owned by $(id -un); dubious ownership is not reproduced"
fi

# --- 4. inputs: every declared input with its default, as the runner exports them -------------
# Read action.yml with the image's own Python and PyYAML, so the host needs neither.
defaults_text=$(podman run --rm --network none --entrypoint python \
  -v "$repo/action.yml:/action.yml:ro" "$image" -c '
import sys, yaml
context = {
    "github.token": "", "github.repository": "octo/repo", "github.api_url": "https://api.github.com",
    "github.event.before": "",
}
for name, spec in (yaml.safe_load(open("/action.yml"))["inputs"] or {}).items():
    value = "" if spec.get("default") is None else str(spec["default"])
    if "${{" in value:
        expr = value.replace("${{", "").replace("}}", "").strip()
        if expr not in context:
            print(f"unknown default expression for {name}: {value}", file=sys.stderr)
        value = context.get(expr, "")
    if "\n" in value:
        sys.exit(f"multi-line default for {name} is not supported here")
    print("INPUT_" + name.replace(" ", "_").upper() + "=" + value)
') || die "could not read the inputs of action.yml with the image's Python"
mapfile -t defaults <<<"$defaults_text"

env_args=()
for kv in "${defaults[@]}"; do [[ -z $kv ]] || env_args+=(-e "$kv"); done
for kv in \
  INPUT_DRY-RUN=true "INPUT_PATH=$example_path" INPUT_SCOPE=all INPUT_GITHUB-TOKEN= \
  INPUT_REPOSITORY=octo/repo INPUT_UPLOAD-ARTIFACTS=false \
  GITHUB_ACTIONS=true CI=true HOME=/github/home \
  GITHUB_WORKSPACE=/github/workspace RUNNER_TEMP=/github/runner_temp \
  "GITHUB_OUTPUT=/github/file_commands/set_output_$id" \
  "GITHUB_STEP_SUMMARY=/github/file_commands/step_summary_$id" \
  "GITHUB_ENV=/github/file_commands/set_env_$id" \
  "GITHUB_STATE=/github/file_commands/save_state_$id" \
  "GITHUB_PATH=/github/file_commands/add_path_$id" \
  GITHUB_EVENT_PATH=/github/workflow/event.json GITHUB_EVENT_NAME=workflow_dispatch \
  GITHUB_REPOSITORY=octo/repo GITHUB_REPOSITORY_OWNER=octo "GITHUB_SHA=$sha" \
  GITHUB_REF=refs/heads/main GITHUB_REF_NAME=main GITHUB_REF_TYPE=branch \
  GITHUB_RUN_ID=1 GITHUB_RUN_NUMBER=1 GITHUB_RUN_ATTEMPT=1 GITHUB_RETENTION_DAYS=90 \
  GITHUB_WORKFLOW=Self-test GITHUB_JOB=dry-run GITHUB_ACTION=sync GITHUB_ACTOR=octocat \
  GITHUB_API_URL=https://api.github.com GITHUB_SERVER_URL=https://github.com \
  GITHUB_GRAPHQL_URL=https://api.github.com/graphql \
  RUNNER_OS=Linux RUNNER_ARCH=X64 RUNNER_NAME=container-dry-run RUNNER_ENVIRONMENT=github-hosted \
  "${extra_env[@]}"; do
  env_args+=(-e "$kv")
done

# --- 5. run it as the runner does -------------------------------------------------------------
say "running $image (network: $run_network; workspace $ws)"
t0=$(now_ms)
set +e
podman run --rm --network "$run_network" --workdir /github/workspace \
  -v "$ws:/github/workspace" -v "$fc:/github/file_commands" -v "$rt:/github/runner_temp" \
  -v "$home:/github/home" -v "$wf:/github/workflow" \
  "${env_args[@]}" "$image" 2>&1 | tee "$work/run.log"
rc=${PIPESTATUS[0]}
set -e
say "container exit code: $rc; run time: $(secs $(($(now_ms) - t0))) s"

# --- 6. checks --------------------------------------------------------------------------------
problems=()
((rc == 0)) || problems+=("the container exited with $rc, expected 0")

# Parse GITHUB_OUTPUT like the runner (NAME=value or NAME<<DELIM ... DELIM) into outputs.json.
if ! python3 - "$fc/set_output_$id" >"$work/outputs.json" 2>"$work/outputs.err" <<'PY'; then
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
if lines and lines[-1] == "":
    lines.pop()
outputs, i = {}, 0
while i < len(lines):
    line = lines[i]
    i += 1
    if not line:
        continue
    eq, hd = line.find("="), line.find("<<")
    if eq >= 0 and (hd < 0 or eq < hd):
        outputs[line[:eq]] = line[eq + 1:]
        continue
    if hd < 0:
        sys.exit(f"line {i} is neither NAME=value nor NAME<<DELIMITER: {line!r}")
    name, delim, value = line[:hd], line[hd + 2:], []
    while i < len(lines) and lines[i] != delim:
        value.append(lines[i])
        i += 1
    if i >= len(lines):
        sys.exit(f"matching delimiter {delim!r} not found for output {name!r}")
    i += 1
    outputs[name] = "\n".join(value)
json.dump(outputs, sys.stdout, indent=2)
PY
  problems+=("GITHUB_OUTPUT is malformed: $(cat "$work/outputs.err")")
  echo '{}' >"$work/outputs.json"
fi
output() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], ""))' "$work/outputs.json" "$1"; }
host_path() {
  case $1 in
    /github/runner_temp/*) printf '%s\n' "$rt/${1#/github/runner_temp/}" ;;
    /github/workspace/*) printf '%s\n' "$ws/${1#/github/workspace/}" ;;
    /*) printf '%s\n' "$work/not-mounted$1" ;;
    *) printf '%s\n' "$ws/$1" ;;
  esac
}
for name in report-path graph-path; do
  value=$(output "$name")
  if [[ -z $value ]]; then
    problems+=("GITHUB_OUTPUT has no non-empty $name")
  elif [[ ! -s $(host_path "$value") ]]; then
    problems+=("$name is $value, but no such non-empty file is in a mounted folder")
  fi
done
created=$(output created)
if ! grep -q '^created[=<]' "$fc/set_output_$id"; then
  problems+=("GITHUB_OUTPUT has no created output")
elif [[ ! $created =~ ^[0-9]+$ ]]; then
  problems+=("output created is '$created', expected a count")
fi

summary=$fc/step_summary_$id
if [[ ! -s $summary ]]; then
  problems+=("the step summary is empty")
else
  grep -q '^```mermaid' "$summary" || problems+=("the step summary has no mermaid block")
  (($(stat -c %s "$summary") <= 1048576)) || problems+=("the step summary is over GitHub's 1 MiB limit")
fi

# Not fatal: files the action left in the workspace are root-owned on a real runner.
if [[ $(id -u) == 0 ]]; then
  stray=$(find "$ws" -path "$ws/.git" -prune -o -user 0 -print | head -20)
  [[ -z $stray ]] || say "WARNING: the action wrote into the workspace (root-owned on a runner): $stray"
fi

say "outputs (GITHUB_OUTPUT):"
sed 's/^/  /' "$work/outputs.json"; echo
if ((${#problems[@]})); then
  for p in "${problems[@]}"; do printf 'container-dry-run: FAILED: %s\n' "$p" >&2; done
  die "${#problems[@]} check(s) failed; runner folders kept in $work (run log: $work/run.log)"
fi
if ((keep)); then say "runner folders kept in $work"; else rm -rf "$work"; fi
say "OK: exit 0, report-path, graph-path and created in GITHUB_OUTPUT, step summary with a mermaid block"
