#!/usr/bin/env bash
# The container test (npm run test:containers, called by .ci/run):
#
#   bash scripts/containers/run.sh [--keep-image] [--no-compose]
#
#   1. podman, runc, mmdebstrap and docker-compose from Debian (apt-get, when missing)
#   2. the base image: scripts/containers/base-image.sh (pulled, or made here
#      without a registry; kept in podman's storage for the next run)
#   3. the image: podman build -f docker/Dockerfile, tagged localhost/faasbench:test-<tag>;
#      its size by part (image-size.sh)
#   4. scripts/containers/kube-test.mjs: the Kubernetes manifests' workers,
#      gateway pods (the five frameworks in turn), callers and analysis, run
#      from the image with podman; every request joined, probes pass,
#      SIGTERM flushes the records
#   5. the manifests against the Kubernetes schemas (validate-manifests.mjs,
#      with kubernetes-models installed into a temporary directory)
#   6. scripts/containers/compose-test.sh: the compose file end to end through
#      scripts/containers/compose.sh; down -v leaves nothing (--no-compose skips it)
#   7. removes the image it built (--keep-image keeps it); the base image stays.
# Prints each step's time. Needs Linux, root, node >= 20 and the checkout's
# node_modules (npm ci). Uses podman with scripts/containers/containers.conf.
set -euo pipefail
SAY_TAG=containers
ENGINE=podman
source "$(dirname "$0")/engine.sh"

keep_image=0
compose=1
while [ $# -gt 0 ]; do
  case "$1" in
    --keep-image) keep_image=1; shift ;;
    --no-compose) compose=0; shift ;;
    -h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) echo "containers: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

[ "$(uname -s)" = Linux ] || die "needs Linux"
[ "$(id -u)" = 0 ] || die "needs root (podman as root, mmdebstrap); run as root or skip it"
command -v node >/dev/null || die "needs node >= 20"
[ -d "$repo/node_modules/yaml" ] || die "no node_modules in $repo: run npm ci first"

# --- 1. Packages ------------------------------------------------------------------------
# No recommends: docker-compose would bring docker.io (a Docker daemon) along.
packages=(podman runc catatonit netavark aardvark-dns iptables mmdebstrap docker-compose)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get to install them"
  say "installing ${missing[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
podman info >/dev/null || die "podman info fails with CONTAINERS_CONF=$CONTAINERS_CONF"

tag=$(printf '%04x' $(( (RANDOM << 1 ^ $$) & 0xffff )))
image="localhost/faasbench:test-$tag"
work=$(mktemp -d "${TMPDIR:-/tmp}/faasbench-containers.XXXXXX")
built=0
finish() {
  local status=$?
  set +e
  trap - EXIT INT TERM
  if [ "$built" = 1 ] && [ "$keep_image" = 0 ]; then podman rmi -f "$image" >/dev/null 2>&1; fi
  [ "$keep_image" = 1 ] && [ "$built" = 1 ] && say "kept the image $image"
  rm -rf "$work"
  say "steps: ${step_times[*]:-none}"
  verdict "$status"
}
on_exit finish

# --- 2.-3. Base image and image ------------------------------------------------------------
step base bash "$containers_dir/base-image.sh" >/dev/null
say "podman build -f docker/Dockerfile -t $image"
# --layers=false: nothing but the image is left in podman's storage.
build() {
  built=1
  podman build --quiet --layers=false -f "$repo/docker/Dockerfile" -t "$image" "$repo" >"$work/build.log" 2>&1 ||
    { tail -n 40 "$work/build.log" >&2; return 1; }
}
step build build
bash "$containers_dir/image-size.sh" "$image" >&2
size=$(podman image inspect --format '{{.Size}}' "$image")
[ "$size" -le 250000000 ] || say "WARNING: the image is $((size / 1000000)) MB, over the 250 MB it was brought down to (docs/containers.md)"

# --- 4. The Kubernetes roles ---------------------------------------------------------------
step kube node "$containers_dir/kube-test.mjs" --image "$image"

# --- 5. The manifests against the schemas ----------------------------------------------------
say "kubernetes-models 4.5.1 into $work/models"
step validate sh -c "npm install --silent --no-save --no-audit --no-fund --prefix '$work/models' kubernetes-models@4.5.1 >&2 &&
  node '$containers_dir/validate-manifests.mjs' --models '$work/models' >&2"

# --- 6. The compose file ----------------------------------------------------------------------
if [ "$compose" = 1 ]; then
  step compose bash "$containers_dir/compose-test.sh" --image "$image"
fi
