#!/usr/bin/env bash
# Installs GitHub's published GraphQL schema, which tests validate every query and mutation of the action against
# (tests/test_graphql_schema.py, with graphql-core from the `test` extra).
#
# The schema ships in the npm package @octokit/graphql-schema (schema.graphql, generated from GitHub's API). This
# fetches that one package with `npm pack` (no install scripts, none of its dependencies), checks the tarball
# against the pinned integrity (sha512, as the npm registry publishes it), and unpacks it into
# $BATCH_ACTION_TOOLS_DIR (default ${XDG_CACHE_HOME:-~/.cache}/batch-action-tools)/graphql-schema/VERSION,
# outside the repository. Idempotent: does nothing when that version is already there. Prints the schema's path.
set -euo pipefail

package=@octokit/graphql-schema
version=15.26.1
integrity=sha512-RFDC2MpRBd4AxSRvUeBIVeBU7ojN/SxDfALUd7iVYOSeEK3gZaqR2MGOysj4Zh2xj2RY5fQAUT+Oqq7hWTraMA==
tools_dir=${BATCH_ACTION_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/batch-action-tools}
target=$tools_dir/graphql-schema/$version
schema=$target/schema.graphql

say() { printf 'install-graphql-schema: %s\n' "$*"; }
die() { printf 'install-graphql-schema: ERROR: %s\n' "$*" >&2; exit 1; }

if [[ -s $schema ]]; then
  say "$package $version already installed: $schema"
  echo "$schema"
  exit 0
fi
command -v npm >/dev/null 2>&1 || die "npm is needed to fetch $package (GitHub's GraphQL schema)"
command -v openssl >/dev/null 2>&1 || die "openssl is needed to check the package's integrity"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
say "fetching $package@$version"
(cd "$work" && npm pack --silent --ignore-scripts "$package@$version" >/dev/null) || die "npm pack $package@$version failed"
tarball=$(find "$work" -maxdepth 1 -name '*.tgz' -print -quit)
[[ -n $tarball ]] || die "npm pack left no tarball"
got="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 | tr -d '\n')"
[[ $got == "$integrity" ]] || die "$package@$version does not match the pinned integrity (got $got)"
tar -xzf "$tarball" -C "$work" package/schema.graphql
[[ -s $work/package/schema.graphql ]] || die "the package holds no schema.graphql"
mkdir -p "$target"
mv "$work/package/schema.graphql" "$schema.tmp"
mv "$schema.tmp" "$schema"
say "installed: $schema"
echo "$schema"
