#!/usr/bin/env bash
# Makes the release commit of VERSION on top of the checked-out commit: action.yml runs the published image,
# pinned by digest, instead of building the Dockerfile; then points the tags VERSION and its major (v1) at it.
# Run by .github/workflows/release.yml after the image is pushed; it pushes the tags itself. Local, no network.
#
# Usage: scripts/release-commit.sh VERSION IMAGE DIGEST
#   VERSION  vMAJOR.MINOR.PATCH, equal to batch_action.__version__ with a v, and a `## [MAJOR.MINOR.PATCH]`
#            section in CHANGELOG.md
#   IMAGE    the image's name without tag, e.g. ghcr.io/octo/planning-issues-sync (lower case)
#   DIGEST   sha256:<64 hex>, the digest of the pushed multi-platform image index
set -euo pipefail
cd "$(dirname "$0")/.."

die() { printf 'release-commit: ERROR: %s\n' "$*" >&2; exit 1; }
(($# == 3)) || die "usage: $0 VERSION IMAGE DIGEST"
version=$1 image=$2 digest=$3

[[ $version =~ ^v([0-9]+)\.[0-9]+\.[0-9]+$ ]] || die "VERSION must be vMAJOR.MINOR.PATCH, got '$version'"
major=v${BASH_REMATCH[1]}
[[ $image =~ ^ghcr\.io/[a-z0-9._-]+/[a-z0-9._/-]+$ ]] || die "IMAGE must be ghcr.io/owner/name in lower case, got '$image'"
[[ $digest =~ ^sha256:[0-9a-f]{64}$ ]] || die "DIGEST must be sha256:<64 hex digits>, got '$digest'"

package_version=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' batch_action/__init__.py)
[[ v$package_version == "$version" ]] || die "batch_action.__version__ is '$package_version', not ${version#v}: bump it first"
grep -q "^## \[${version#v}\]" CHANGELOG.md || die "CHANGELOG.md has no '## [${version#v}]' section"

# main's action.yml builds the Dockerfile; exactly that line becomes the pinned image.
[[ $(grep -c '^  image: "Dockerfile"$' action.yml) == 1 ]] || die "action.yml has no single line '  image: \"Dockerfile\"' (already a release commit?)"
sed -i "s|^  image: \"Dockerfile\"\$|  image: \"docker://$image@$digest\"|" action.yml

git add action.yml
git -c user.name="github-actions[bot]" -c user.email="41898282+github-actions[bot]@users.noreply.github.com" \
  -c commit.gpgsign=false commit -q -m "Release $version: action.yml runs $image@$digest"
git tag -f "$version" >/dev/null
git tag -f "$major" >/dev/null
printf 'release-commit: %s and %s -> %s (%s@%s)\n' "$version" "$major" "$(git rev-parse HEAD)" "$image" "$digest"
