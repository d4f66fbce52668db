#!/usr/bin/env bash
# Builds the faasbench archive that the playbooks copy to the hosts: dist/,
# functions/, package.json and the production node_modules of a checkout, as a
# reproducible .tar.gz (same content, same bytes), so that copying it again
# changes nothing. Needs no network: dev dependencies are pruned from a copy.
#
#   ansible/build-archive.sh [--source DIR] [--out DIR] [--no-build]
#
# The last line of output is JSON: {"archive", "sha256", "version", "changed"}.
set -euo pipefail

source_dir="$(cd "$(dirname "$0")/.." && pwd)"
out_dir="$(dirname "$0")/.build"
build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --source) source_dir="$2"; shift 2 ;;
    --out) out_dir="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    *) echo "build-archive: unknown argument $1" >&2; exit 2 ;;
  esac
done
source_dir="$(cd "$source_dir" && pwd)"
mkdir -p "$out_dir"
out_dir="$(cd "$out_dir" && pwd)"

cd "$source_dir"
[ -d node_modules ] || { echo "build-archive: no node_modules in $source_dir: run npm ci first" >&2; exit 1; }
if [ "$build" = 1 ]; then
  npm run --silent build >&2
fi
[ -f dist/src/cli.js ] || { echo "build-archive: no dist/src/cli.js in $source_dir: run npm run build" >&2; exit 1; }
version="$(node -p 'require("./package.json").version')"

stage="$(mktemp -d "${TMPDIR:-/tmp}/faasbench-archive.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/faasbench"
cp -a package.json package-lock.json dist functions "$stage/faasbench/"
# node_modules may be a symlink (a git worktree sharing a checkout's): copy its
# contents, never the link, or the prune below would prune the original.
mkdir "$stage/faasbench/node_modules"
cp -a node_modules/. "$stage/faasbench/node_modules/"
[ ! -L "$stage/faasbench/node_modules" ] || { echo "build-archive: node_modules copied as a link" >&2; exit 1; }
# Tests, test support and benchmarks are not needed on the hosts (as in the npm package).
find "$stage/faasbench/dist" \( -name '*.test.js' -o -name '*.test.js.map' \) -delete
rm -rf "$stage/faasbench/dist/src/testing" "$stage/faasbench/dist/src/bench"
(cd "$stage/faasbench" && npm prune --omit=dev --offline --no-audit --no-fund --ignore-scripts --loglevel=error >&2)
rm -rf "$stage/faasbench/node_modules/.bin" "$stage/faasbench/node_modules/.package-lock.json"

# Reproducible: sorted names, fixed times and owners, no gzip timestamp.
tar --sort=name --mtime='2000-01-01 00:00:00Z' --owner=0 --group=0 --numeric-owner \
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
  -C "$stage" -cf - faasbench | gzip -n -6 >"$stage/archive.tar.gz"

archive="$out_dir/faasbench-$version.tar.gz"
new_sum="$(sha256sum "$stage/archive.tar.gz" | cut -d' ' -f1)"
old_sum=""
[ -f "$archive" ] && old_sum="$(sha256sum "$archive" | cut -d' ' -f1)"
changed=false
if [ "$new_sum" != "$old_sum" ]; then
  mv "$stage/archive.tar.gz" "$archive"
  changed=true
fi
echo "build-archive: $archive ($(du -h "$archive" | cut -f1), sha256 $new_sum, changed: $changed)" >&2
printf '{"archive":"%s","sha256":"%s","version":"%s","changed":%s}\n' "$archive" "$new_sum" "$version" "$changed"
