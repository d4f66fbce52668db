#!/usr/bin/env bash
# The compose experiment end to end, as docs/containers.md tells a podman user
# to run it (scripts/containers/compose.sh: docker-compose against podman):
#
#   bash scripts/containers/compose-test.sh --image IMAGE [--experiment FILE] [--report DIR]
#
#   up -d (worker, then the five gateways once it is healthy), run --rm caller
#   (once all five are healthy), stop (records flushed), run --rm analyze into
#   the report directory, down -v; then checks the report (scripts/rehearsal/
#   check-summary.mjs: every request joined, records of the three roles, one
#   host each) and that no container, volume or network of the project is left.
#
# --image IMAGE     the image to run (FAASBENCH_IMAGE; built already)
# --experiment FILE default scripts/containers/experiment.json (docker/experiment.json
#                   is the compose file's own: 20 cells, a few minutes)
# --report DIR      keep the report there (default: a temporary directory, removed)
# Each compose command is bounded in time (COMPOSE_TEST_TIMEOUT, default 600 s).
# On failure or interrupt it still brings the project down and removes what is left.
set -euo pipefail
SAY_TAG=compose-test
source "$(dirname "$0")/engine.sh"

image=""
experiment="$containers_dir/experiment.json"
report=""
usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --image | --experiment | --report)
      [ $# -ge 2 ] && [ -n "$2" ] || { echo "compose-test: $1 needs a value" >&2; exit 2; }
      case "$1" in --image) image=$2 ;; --experiment) experiment=$2 ;; --report) report=$2 ;; esac
      shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "compose-test: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$image" ] || { echo "compose-test: --image IMAGE is required (see --help)" >&2; exit 2; }
[ -f "$experiment" ] || { echo "compose-test: no experiment file $experiment" >&2; exit 2; }
image_exists "$image" || die "no image $image: build it first"

project="fbc$(printf '%04x' $(( (RANDOM << 1 ^ $$) & 0xffff )))"
work=$(mktemp -d "${TMPDIR:-/tmp}/faasbench-compose-test.XXXXXX")
report=${report:-$work/report}
mkdir -p "$report"
FAASBENCH_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
export FAASBENCH_SECRET FAASBENCH_IMAGE="$image" FAASBENCH_EXPERIMENT="$(cd "$(dirname "$experiment")" && pwd)/$(basename "$experiment")"
compose() {
  timeout "${COMPOSE_TEST_TIMEOUT:-600}" bash "$containers_dir/compose.sh" -p "$project" -f "$repo/docker/compose.yaml" "$@"
}
leftovers() {
  local label="label=com.docker.compose.project=$project"
  echo "$(podman ps -a -q --filter "$label" | wc -l) containers, $(podman volume ls -q --filter "$label" | wc -l) volumes, $(podman network ls -q --filter "$label" | wc -l) networks"
}
brought_down=0
finish() {
  local status=$?
  set +e
  trap - EXIT INT TERM
  if [ "$brought_down" = 0 ]; then
    say "bringing the project down after a failure"
    compose down -v >"$work/down.log" 2>&1
  fi
  local label="label=com.docker.compose.project=$project"
  local ids
  ids=$(podman ps -a -q --filter "$label"); [ -n "$ids" ] && podman rm -f -v $ids >/dev/null 2>&1
  ids=$(podman volume ls -q --filter "$label"); [ -n "$ids" ] && podman volume rm -f $ids >/dev/null 2>&1
  ids=$(podman network ls -q --filter "$label"); [ -n "$ids" ] && podman network rm -f $ids >/dev/null 2>&1
  rm -rf "$work"
  verdict "$status"
}
on_exit finish

# One compose command as a step, its output in a log shown when it fails.
logged() {
  local name=$1
  shift
  compose "$@" >"$work/$name.log" 2>&1 || { tail -n 40 "$work/$name.log" >&2; return 1; }
}
say "project $project, image $image, experiment $FAASBENCH_EXPERIMENT"
step up logged up up -d --no-build
step caller logged caller run --rm caller
step stop logged stop stop
exits=$(podman ps -a --filter "label=com.docker.compose.project=$project" --format '{{.Names}} {{.ExitCode}}')
echo "$exits" | awk '$2 != 0 { bad = 1 } END { exit bad }' || die "not stopped cleanly: $exits"
# As the records' owner (node, 1000) would not be allowed to write a root-owned report directory.
step analyze logged analyze run --rm --user "$(id -u):$(id -g)" -v "$report:/report" analyze
records=$(podman volume inspect --format '{{.Mountpoint}}' "${project}_records")
printf '{"callers":[{"host":"caller","address":"caller"}],"gateways":[{"host":"gateway","address":"gateway"}],"workers":[{"host":"worker","address":"worker"}],"workerPort":%s}\n' \
  "$(node -p "require('$FAASBENCH_EXPERIMENT').ports.worker")" >"$work/expected.json"
# check-summary reads RUN_DIR/report/summary.json.
mkdir -p "$work/run" && ln -sfn "$(cd "$report" && pwd)" "$work/run/report"
node "$repo/scripts/rehearsal/check-summary.mjs" "$work/run" "$work/expected.json" "$records" >"$work/check.json" 2>"$work/check.log" ||
  { cat "$work/check.log" >&2; die "the report's checks failed"; }
say "report: $(node -e 'const c=require(process.argv[1]); console.log(`${c.joins.joined} requests joined (${c.joins.measured} measured), nothing unjoined, records ${JSON.stringify(c.records)}`)' "$work/check.json")"
step down logged down down -v
brought_down=1
left=$(leftovers)
[ "$left" = "0 containers, 0 volumes, 0 networks" ] || die "down -v left $left"
say "down -v left nothing: $left"
