#!/usr/bin/env bash
# docker-compose against podman, with the compose file's health checks run:
#
#   bash scripts/containers/compose.sh [docker-compose arguments]
#   e.g. bash scripts/containers/compose.sh -f docker/compose.yaml up -d
#
# For each command it starts `podman system service` on a socket of its own
# (DOCKER_HOST for docker-compose), and beside it runs the health checks of
# every running compose container at its interval: podman schedules health
# checks with systemd timers, so without systemd none runs, and a service that
# depends on another's health (`condition: service_healthy`) waits forever.
# Both stop when docker-compose ends; the containers go on.
# `down`: podman refuses to remove a container whose network namespace others
# share (the gateways share the first one's), and docker-compose 1.29 removes a
# project's containers all at once, so that one and the network and volumes
# would be left; the sharers are stopped (gracefully) and removed first.
# Takes docker-compose
# 1.29 (Debian's package docker-compose; `docker compose` v2 works the same).
# With a Docker engine, use docker compose itself: it runs the checks.
# ENGINE=docker refuses. Exit status: docker-compose's.
set -euo pipefail
SAY_TAG=compose
source "$(dirname "$0")/engine.sh"
case "${1:-}" in
  -h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
  "") echo "compose: docker-compose arguments expected (see --help)" >&2; exit 2 ;;
esac
[ "$ENGINE" = podman ] || { echo "compose: this is for podman; with Docker run docker compose itself" >&2; exit 2; }
if command -v docker-compose >/dev/null 2>&1; then compose=(docker-compose); else compose=(docker compose); fi

work=$(mktemp -d "${TMPDIR:-/tmp}/faasbench-compose.XXXXXX")
service=""
checker=""
finish() {
  local status=$?
  set +e
  # By pid: ours only.
  [ -n "$checker" ] && kill "$checker" 2>/dev/null && wait "$checker" 2>/dev/null
  [ -n "$service" ] && kill "$service" 2>/dev/null && wait "$service" 2>/dev/null
  rm -rf "$work"
  exit "$status"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

podman system service --time=0 "unix://$work/podman.sock" 2>"$work/service.log" &
service=$!
for _ in $(seq 1 100); do [ -S "$work/podman.sock" ] && break; sleep 0.1; done
[ -S "$work/podman.sock" ] || { cat "$work/service.log" >&2; die "podman system service did not open its socket"; }
export DOCKER_HOST="unix://$work/podman.sock"

# The health checks, as the Docker daemon runs them: for each running compose
# container that has one, a loop of its own that waits the container's
# interval, runs the check, and waits again once it is done (never two at once).
check_loop() {
  local id=$1 every=$2
  while [ "$(podman inspect --format '{{.State.Running}}' "$id" 2>/dev/null)" = true ]; do
    sleep "$every"
    podman healthcheck run "$id" >/dev/null 2>&1 || true
  done
}
run_checks() {
  declare -A seen
  local id ns
  trap 'kill $(jobs -p) 2>/dev/null; exit 0' TERM
  while :; do
    for id in $(podman ps -q --no-trunc --filter label=com.docker.compose.project 2>/dev/null); do
      [ -n "${seen[$id]:-}" ] && continue
      seen[$id]=1
      ns=$(podman inspect --format '{{json .Config.Healthcheck.Interval}}' "$id" 2>/dev/null || echo 0)
      [ "${ns:-0}" -gt 0 ] 2>/dev/null || continue
      check_loop "$id" "$(awk -v ns="$ns" 'BEGIN { printf "%.3f", ns / 1e9 }')" &
    done
    sleep 0.5
  done
}
run_checks &
checker=$!

# The compose command's global options (before the subcommand), and the subcommand.
global=()
subcommand=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    -f | --file | -p | --project-name | --project-directory | --env-file | --profile | -H | --host | -c | --context | --log-level)
      global+=("${args[i]}" "${args[i + 1]:-}"); i=$((i + 1)) ;;
    -*) global+=("${args[i]}") ;;
    *) subcommand=${args[i]}; break ;;
  esac
done

if [ "$subcommand" = down ]; then
  sharers=()
  running=0
  for id in $("${compose[@]}" "${global[@]}" ps -q); do
    mode=$(podman inspect --format '{{.HostConfig.NetworkMode}} {{.State.Running}}' "$id" 2>/dev/null || true)
    case "$mode" in container:*) sharers+=("$id") ;; esac
    case "$mode" in *" true") running=1 ;; esac
  done
  if [ ${#sharers[@]} -gt 0 ]; then
    # In compose's order and with its grace periods, so that every service flushes its records.
    [ "$running" = 0 ] || "${compose[@]}" "${global[@]}" stop
    podman rm -v "${sharers[@]}" >"$work/rm.log" 2>&1 || { cat "$work/rm.log" >&2; die "could not remove ${sharers[*]}"; }
  fi
fi
"${compose[@]}" "$@"
