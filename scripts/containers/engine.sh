# Sourced by the scripts in scripts/containers/: the container engine and a
# few helpers. Not run on its own.
#
# ENGINE: podman (the default when installed) or docker.
# With podman, CONTAINERS_CONF defaults to containers.conf beside this file:
# runc instead of crun, which refuses every container on hybrid cgroups
# ("cgroups in hybrid mode not supported"), and ulimits a sandbox allows.

containers_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$containers_dir/../.." && pwd)"

if [ -z "${ENGINE:-}" ]; then
  if command -v podman >/dev/null 2>&1; then ENGINE=podman; else ENGINE=docker; fi
fi
case "$ENGINE" in
  podman) export CONTAINERS_CONF="${CONTAINERS_CONF:-$containers_dir/containers.conf}" ;;
  docker) ;;
  *) echo "ENGINE must be podman or docker, not '$ENGINE'" >&2; exit 2 ;;
esac

say() { printf '[%s %s] %s\n' "${SAY_TAG:-containers}" "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { say "FAILED: $*"; exit 1; }
engine() { "$ENGINE" "$@"; }
image_exists() { "$ENGINE" image inspect "$1" >/dev/null 2>&1; }
