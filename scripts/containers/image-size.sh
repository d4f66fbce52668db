#!/usr/bin/env bash
# What makes up an image's size: its files by part, in MB (10^6 bytes, as
# podman reports image sizes), apparent sizes.
#
#   bash scripts/containers/image-size.sh IMAGE
#
# Parts: node's binary; npm and corepack; node's C headers; the production
# node_modules, split into sharp with libvips (@img) and the rest; faasbench's
# compiled code; everything else (the Debian system). Needs podman and root
# (it mounts the image read-only).
set -euo pipefail
SAY_TAG=image-size
source "$(dirname "$0")/engine.sh"
case "${1:-}" in
  -h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
  "" | -*) echo "image-size: usage: image-size.sh IMAGE (see --help)" >&2; exit 2 ;;
esac
[ $# = 1 ] || { echo "image-size: one image only (see --help)" >&2; exit 2; }
image=$1
[ "$ENGINE" = podman ] || die "needs podman (it mounts the image)"
image_exists "$image" || { echo "image-size: no image $image" >&2; exit 2; }

root=$(podman image mount "$image")
trap 'podman image unmount "$image" >/dev/null' EXIT
bytes() { if [ -e "$root/$1" ]; then du -s --apparent-size -B1 "$root/$1" | cut -f1; else echo 0; fi; }
app=opt/faasbench
node=$(bytes usr/local/bin/node)
npm=$(bytes usr/local/lib/node_modules)
headers=$(bytes usr/local/include)
img=$(bytes $app/node_modules/@img)
modules=$(( $(bytes $app/node_modules) - img ))
code=$(( $(bytes $app) - img - modules ))
total=$(du -s --apparent-size -B1 "$root" | cut -f1)
system=$(( total - node - npm - headers - img - modules - code ))
files=$(find "$root/$app/node_modules" -type f 2>/dev/null | wc -l)
mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1e6 }'; }
printf '%s: %s MB of files (podman: %s)\n' "$image" "$(mb "$total")" "$(podman image inspect --format '{{.Size}}' "$image" | awk '{ printf "%.1f MB", $1 / 1e6 }')"
printf '  node binary            %6s MB\n' "$(mb "$node")"
printf '  npm, corepack          %6s MB\n' "$(mb "$npm")"
printf '  node C headers         %6s MB\n' "$(mb "$headers")"
printf '  sharp + libvips (@img) %6s MB\n' "$(mb "$img")"
printf '  other node_modules     %6s MB (%s files in node_modules)\n' "$(mb "$modules")" "$files"
printf '  faasbench (dist, …)    %6s MB\n' "$(mb "$code")"
printf '  Debian system          %6s MB\n' "$(mb "$system")"
