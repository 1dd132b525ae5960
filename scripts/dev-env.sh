# shellcheck shell=bash
# Sourced by the other scripts: makes .venv (once) and installs the project with the given extras, again only
# when pyproject.toml or the extras changed (a stamp in .venv records what was installed; an editable install
# picks up source edits by itself).
# Usage: . scripts/dev-env.sh [EXTRAS]   e.g. ". scripts/dev-env.sh test,lint"
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
extras=${1:-}
python=${PYTHON:-python3}
if [ ! -x "$repo/.venv/bin/python" ]; then
  "$python" -m venv "$repo/.venv"
fi
spec="$repo"
if [ -n "$extras" ]; then spec="${repo}[${extras}]"; fi
stamp="$repo/.venv/.batch-action-installed"
wanted="$(cksum <"$repo/pyproject.toml") extras=$extras"
# Installed already with these extras (or a superset: test,lint covers ""), from this pyproject.toml?
if [ ! -f "$stamp" ] || ! grep -qxF -e "$wanted" -e "$(cksum <"$repo/pyproject.toml") extras=test,lint" "$stamp"; then
  # Quiet unless it fails; pip's own output goes to a log the failure message points at.
  log=$(mktemp)
  if ! "$repo/.venv/bin/python" -m pip install --disable-pip-version-check -q -e "$spec" >"$log" 2>&1; then
    cat "$log" >&2
    echo "dev-env: pip install failed (above)" >&2
    exit 1
  fi
  rm -f "$log"
  echo "$wanted" >>"$stamp"
fi
export PATH="$repo/.venv/bin:$PATH"
