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

# The tests' frame: `on_exit FN` runs FN on exit, an interrupt or SIGTERM
# included (FN ends with `verdict $status`); `step NAME CMD…` runs one timed
# step, its time noted in step_times, a failure ending the test.
started_at=$(date +%s)
step_times=()
on_exit() {
  trap "$1" EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}
verdict() {
  say "$( [ "$1" = 0 ] && echo PASSED || echo FAILED ) in $(( $(date +%s) - started_at )) s"
  exit "$1"
}
step() {
  local name=$1 t0 rc=0
  shift
  t0=$(date +%s)
  "$@" || rc=$?
  step_times+=("$name=$(( $(date +%s) - t0 ))s")
  say "$name: $(( $(date +%s) - t0 )) s"
  [ "$rc" = 0 ] || die "$name failed (exit $rc)"
}
