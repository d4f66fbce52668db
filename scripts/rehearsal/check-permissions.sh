#!/usr/bin/env bash
# Checks a host's faasbench installation from the service user's side: that
# user may write only the records of a run, never what root runs (code,
# bin/, service definitions, pidfiles), and may read and execute the service
# definitions, as systemd's User= and faasbench-service both make it do.
#
#   check-permissions.sh ROOT USER RUN_ID
#
# Run as root. Prints one line per check; exits 1 if any fails.
set -euo pipefail

root=${1:?usage: check-permissions.sh ROOT USER RUN_ID}
user=${2:?usage: check-permissions.sh ROOT USER RUN_ID}
run_id=${3:?usage: check-permissions.sh ROOT USER RUN_ID}
[ "$(id -u)" = 0 ] || { echo "check-permissions: run it as root" >&2; exit 2; }
[ "$user" != root ] || { echo "check-permissions: the service user is root: nothing to check" >&2; exit 2; }

failures=0
pass() { printf 'ok    %s\n' "$*"; }
fail() { printf 'FAIL  %s\n' "$*"; failures=$((failures + 1)); }
as_user() { setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups -- "$@"; }

# The user must fail to do it, and with EACCES (not because the path is missing).
denied() {
  local what=$1 err
  shift
  if err=$(as_user "$@" 2>&1); then
    fail "$user could $what"
  elif [[ $err == *"Permission denied"* ]]; then
    pass "$user cannot $what"
  else
    fail "$user failed to $what, but not for want of permission: $err"
  fi
}
allowed() {
  local what=$1 err
  shift
  if err=$(as_user "$@" 2>&1); then pass "$user can $what"; else fail "$user cannot $what: $err"; fi
}
create=(sh -c ': >"$1"' sh)
append=(sh -c ': >>"$1"' sh)

release=$(readlink -f "$root/current")
[ -f "$release/package.json" ] || { echo "check-permissions: no release at $root/current" >&2; exit 1; }

for dir in "$root" "$root/bin" "$root/releases" "$root/services" "$root/run" "$root/config" \
  "$root/records" "$release" "$release/dist/src" "$release/node_modules"; do
  denied "create a file in ${dir#"$root"/}" "${create[@]}" "$dir/planted"
done
denied "plant a release" mkdir "$root/releases/planted"
for file in "$root/bin/faasbench" "$root/bin/faasbench-service" "$release/dist/src/cli.js" "$release/package.json"; do
  denied "change ${file#"$root"/}" "${append[@]}" "$file"
done
shopt -s nullglob
for def in "$root"/services/*.sh; do
  denied "change ${def#"$root"/}" "${append[@]}" "$def"
  allowed "read and execute ${def#"$root"/}" sh -c 'test -r "$1" && test -x "$1"' sh "$def"
  owner=$(stat -c '%U:%a' "$def")
  [ "$owner" = root:750 ] && pass "${def#"$root"/} is root's, mode 750" || fail "${def#"$root"/} is $owner, not root:750"
done

records="$root/records/$run_id"
allowed "write the run's records" "${create[@]}" "$records/.probe"
rm -f "$records/.probe"
# The services and the caller wrote their records as the service user (not as root).
for f in "$records"/*.ndjson "$records"/caller/*.ndjson; do
  owner=$(stat -c '%U' "$f")
  [ "$owner" = "$user" ] && pass "${f#"$root"/} written by $user" || fail "${f#"$root"/} written by $owner, not $user"
done

[ "$failures" = 0 ] || { echo "check-permissions: $failures check(s) failed under $root" >&2; exit 1; }
