#!/usr/bin/env bash
# The deployment rehearsal: the ansible playbooks, for real, against six
# "hosts" that are network namespaces on this machine: 2 callers, 2 gateways,
# 2 workers (the three-host layout is --callers 1 --gateways 1 --workers 1).
#
#   bash scripts/rehearsal/run.sh [--callers N] [--gateways N] [--workers N] [--keep]
#   (npm run test:rehearsal)
#
# Creates one network namespace per host (callers, gateways, workers) joined by
# a bridge on the private subnet 10.213.0.0/24 (the only non-loopback addresses
# anything here talks to), each with its own sshd and its own hostname (a UTS
# namespace), and runs ansible over ssh against them:
#   1. ansible-lint on ansible/
#   2. site.yml: install faasbench, start workers and gateways, run the small
#      experiment scripts/rehearsal/experiment.json from every caller at one
#      start time, each spreading its connections over every gateway, stop
#      everything, fetch the records, analyse them on the controller
#   3. site.yml again: must change nothing (changed=0 on every host)
#   4. stop.yml: must change nothing either (everything is stopped)
#   5. check-summary.mjs: records of callers, gateways and workers joined, none
#      unjoined, each role from its own hosts and addresses (callers and
#      workers named by faasbench_host_name, gateways by their hostname: both
#      ways of naming a host); the analysis merged
#      every caller, and every gateway and every worker served
#   6. the secret: generated once, 0600, given to every service, in no log
#   7. check-permissions.sh on every host: the service user (a system user
#      made for the rehearsal) may write the run's records and nothing root
#      runs; it executes the service definitions, as a systemd unit's User=
#      would; systemd-analyze verify on the rendered systemd unit
#   8. failover: start.yml again (run id rehearsal-failover), a caller on the
#      first caller host drives the first gateway, the last worker host's
#      service is killed (SIGKILL) mid-run, stop.yml; check-failover.mjs: only
#      calls in flight on that worker were lost
#   9. kernel stamps: site.yml once more, one cell (kernel-experiment.json) with
#      faasbench_kernel_stamps on every host (bpftrace; the services keep root
#      for it); check-kernel.mjs: every tracer stopped, no event lost, every
#      request in the figures has both links split
# Everything it created is torn down on exit, failure or not: processes in the
# namespaces (by pid), sshds, namespaces, bridge, veths, the service user, the
# hosts' files.
#
# REHEARSAL_CONFIG=FILE runs another experiment config (keep it small);
# FAASBENCH_REHEARSAL_KERNEL=0 skips step 9;
# REHEARSAL_PLAYBOOK_TIMEOUT (seconds, default 1800) bounds each playbook run.
# Needs: Linux, root, `ip netns`, node >= 20 and the checkout's node_modules
# (npm ci). Installs its Debian packages (ansible, ansible-lint, openssh-server,
# netcat-openbsd) with apt-get when missing. Takes the shared benchmark lock
# /tmp/faasbench-bench.lock (REHEARSAL_LOCK) while the playbooks run.
set -euo pipefail

repo="$(cd "$(dirname "$0")/../.." && pwd)"
here="$repo/scripts/rehearsal"
callers=2
gateways=2
workers=2
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --callers) callers="$2"; shift 2 ;;
    --gateways) gateways="$2"; shift 2 ;;
    --workers) workers="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    -h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) echo "rehearsal: unknown argument $1" >&2; exit 2 ;;
  esac
done
for n in "$callers" "$gateways" "$workers"; do
  case "$n" in [1-9]) ;; *) echo "rehearsal: --callers, --gateways and --workers must be 1 to 9" >&2; exit 2 ;; esac
done

say() { printf '[rehearsal %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { say "FAILED: $*"; exit 1; }
started_at=$(date +%s)

# --- Prerequisites ----------------------------------------------------------------
[ "$(uname -s)" = Linux ] || die "needs Linux network namespaces"
[ "$(id -u)" = 0 ] || die "needs root (network namespaces, sshd); run as root or skip it"
command -v ip >/dev/null && ip netns list >/dev/null 2>&1 || die "needs 'ip netns' (iproute2) and the right to use it"
command -v node >/dev/null || die "needs node >= 20"
[ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ] || die "needs node >= 20, found $(node --version)"
[ -d "$repo/node_modules" ] || die "no node_modules in $repo: run npm ci first"

packages=(ansible ansible-lint openssh-server netcat-openbsd iproute2 util-linux bpftrace)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get to install them"
  say "installing ${missing[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq "${missing[@]}" >&2
fi
for c in ansible-playbook ansible-lint sshd nc unshare ssh-keygen setsid setpriv useradd userdel; do
  command -v "$c" >/dev/null || [ -x "/usr/sbin/$c" ] || die "no $c after installing packages"
done
sshd_bin=$(command -v sshd || echo /usr/sbin/sshd)

# --- Names ------------------------------------------------------------------------
# A short tag keeps this rehearsal's names apart from anything else on the machine.
tag=$(printf '%04x' $(( (RANDOM << 1 ^ $$) & 0xffff )))
subnet=10.213.0
bridge="fbr${tag}br"
work=$(mktemp -d "${TMPDIR:-/tmp}/faasbench-rehearsal.XXXXXX")
hosts=()
declare -A addr ns
for i in $(seq 1 "$callers"); do hosts+=("caller$i"); addr[caller$i]=$subnet.$((10 + i)); done
for i in $(seq 1 "$gateways"); do hosts+=("gateway$i"); addr[gateway$i]=$subnet.$((20 + i)); done
for i in $(seq 1 "$workers"); do hosts+=("worker$i"); addr[worker$i]=$subnet.$((30 + i)); done
for h in "${hosts[@]}"; do ns[$h]="fbr-$tag-$h"; done
# The services' user: the hosts share /etc/passwd, so one for all of them.
svc_user="fbsvc$tag"

# --- Teardown, always -------------------------------------------------------------
sshd_pids=()
child=""
created_run_sshd=0
created_user=0
teardown() {
  local status=$?
  set +e
  trap - EXIT INT TERM
  say "tearing down (exit status $status)"
  # A playbook or the lock wait still running (we were interrupted): stop it first.
  if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
    kill -TERM "$child" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$child" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$child" 2>/dev/null
  fi
  # The ssh masters, before the sshds they talk to go.
  for sock in "$work"/ssh/cp/*; do
    [ -S "$sock" ] && ssh -o ControlPath="$sock" -O exit rehearsal-host >/dev/null 2>&1
  done
  # Every process left in our namespaces (sshd, faasbench services, sessions), by pid.
  local pids=()
  for h in "${hosts[@]}"; do
    [ -e "/run/netns/${ns[$h]}" ] || continue
    mapfile -t -O "${#pids[@]}" pids < <(ip netns pids "${ns[$h]}" 2>/dev/null)
  done
  pids+=("${sshd_pids[@]}")
  if [ ${#pids[@]} -gt 0 ]; then
    kill -TERM "${pids[@]}" 2>/dev/null
    for _ in $(seq 1 50); do
      local alive=()
      for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive+=("$p"); done
      [ ${#alive[@]} -eq 0 ] && break
      sleep 0.1
    done
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && { say "killing pid $p"; kill -KILL "$p" 2>/dev/null; }; done
  fi
  for h in "${hosts[@]}"; do
    ip link del "fbr${tag}v${h: -1}${h:0:1}" 2>/dev/null
    [ -e "/run/netns/${ns[$h]}" ] && ip netns del "${ns[$h]}"
  done
  ip link del "$bridge" 2>/dev/null
  [ "$created_run_sshd" = 1 ] && rmdir /run/sshd 2>/dev/null
  # After its processes are gone (userdel refuses a user with processes).
  [ "$created_user" = 1 ] && { userdel "$svc_user" 2>/dev/null || say "WARNING: could not remove user $svc_user"; }
  local left
  left=$(ip netns list 2>/dev/null | grep -c "fbr-$tag-")
  [ "$left" = 0 ] || say "WARNING: $left namespaces of this rehearsal are left"
  ip link show "$bridge" >/dev/null 2>&1 && say "WARNING: bridge $bridge is left"
  if [ "$keep" = 1 ]; then
    say "kept everything under $work"
  else
    # Keep the results and logs (small); drop the hosts' installations.
    rm -rf "$work/hosts" "$work/build" "$work/ssh"
    say "results and logs kept under $work"
  fi
  say "$( [ "$status" = 0 ] && echo PASSED || echo FAILED ) in $(( $(date +%s) - started_at )) s"
  exit "$status"
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "tag $tag, work directory $work, hosts: $(for h in "${hosts[@]}"; do printf '%s=%s ' "$h" "${addr[$h]}"; done)"

# --- 1. ansible-lint ----------------------------------------------------------------
say "ansible-lint"
(cd "$repo/ansible" && ansible-lint --offline --nocolor) >"$work/ansible-lint.log" 2>&1 ||
  { cat "$work/ansible-lint.log" >&2; die "ansible-lint failed"; }
tail -n 2 "$work/ansible-lint.log" >&2

# --- The service user ----------------------------------------------------------------
# A real unprivileged user, so that the services drop to it (faasbench-service's
# setpriv, the daemon counterpart of a unit's User=) and the permissions matter.
id "$svc_user" >/dev/null 2>&1 && die "user $svc_user exists already"
useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$svc_user"
created_user=1
# mktemp made it 0700: the service user must reach the hosts' roots inside.
chmod 0755 "$work"

# --- Network: a bridge, and one namespace per host --------------------------------
ip link add "$bridge" type bridge
ip link set "$bridge" up
for h in "${hosts[@]}"; do
  n=${ns[$h]}
  # Interface names are at most 15 characters: fbr<tag>v<digit><c|g|w>.
  veth="fbr${tag}v${h: -1}${h:0:1}"
  ip netns add "$n"
  ip link add "$veth" type veth peer name eth0 netns "$n"
  ip link set "$veth" master "$bridge" up
  ip -n "$n" link set lo up
  ip -n "$n" addr add "${addr[$h]}/24" dev eth0
  ip -n "$n" link set eth0 up
done

# --- sshd in each namespace, with the host's own hostname --------------------------
mkdir -p "$work/ssh" "$work/hosts" "$work/logs"
ssh-keygen -q -t ed25519 -N '' -C rehearsal -f "$work/ssh/id"
ssh-keygen -q -t ed25519 -N '' -C rehearsal-host -f "$work/ssh/host_ed25519"
cp "$work/ssh/id.pub" "$work/ssh/authorized_keys"
if [ ! -d /run/sshd ]; then mkdir -p /run/sshd && chmod 0755 /run/sshd && created_run_sshd=1; fi
for h in "${hosts[@]}"; do
  cat >"$work/ssh/sshd-$h.conf" <<EOF
ListenAddress ${addr[$h]}:22
HostKey $work/ssh/host_ed25519
PidFile $work/ssh/sshd-$h.pid
AuthorizedKeysFile $work/ssh/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
# The keys sit outside ~/.ssh, in a directory sshd would find too open.
StrictModes no
Subsystem sftp internal-sftp
EOF
  # ip netns exec, unshare and sh each exec the next: $! is sshd's pid.
  ip netns exec "${ns[$h]}" unshare --uts sh -c 'hostname "$1" && exec "$2" -D -e -f "$3"' \
    sh "rehearsal-$h" "$sshd_bin" "$work/ssh/sshd-$h.conf" >>"$work/logs/sshd-$h.log" 2>&1 &
  sshd_pids+=($!)
done
for h in "${hosts[@]}"; do
  for _ in $(seq 1 50); do
    ip netns exec "${ns[$h]}" nc -z -w 1 "${addr[$h]}" 22 2>/dev/null && break
    sleep 0.1
  done
  ip netns exec "${ns[$h]}" nc -z -w 1 "${addr[$h]}" 22 || { cat "$work/logs/sshd-$h.log" >&2; die "sshd of $h does not listen"; }
done

# --- Inventory: the same playbooks, pointed at the namespaces ----------------------
inv="$work/inventory"
mkdir -p "$inv/group_vars"
{
  echo "# Generated by scripts/rehearsal/run.sh: hosts are network namespaces of one machine."
  echo "all:"
  echo "  children:"
  for group in callers gateways workers; do
    echo "    $group:"
    echo "      hosts:"
    for h in "${hosts[@]}"; do
      case "$group:$h" in callers:caller* | gateways:gateway* | workers:worker*) ;; *) continue ;; esac
      echo "        $h:"
      echo "          ansible_host: ${addr[$h]}"
      # No route from here into the namespaces: ssh goes through nc inside the host's own.
      echo "          ansible_ssh_common_args: >-"
      echo "            -o ProxyCommand=\"ip netns exec ${ns[$h]} nc %h %p\""
      echo "            -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o LogLevel=ERROR"
      # Callers and workers are named in their records by faasbench_host_name, gateways by their hostname.
      case "$h" in caller* | worker*) echo "          faasbench_host_name: named-$h" ;; esac
    done
  done
} >"$inv/hosts.yml"
cat >"$inv/group_vars/all.yml" <<EOF
# The hosts share this machine's filesystem, users and node: each gets its own
# root directory, the services run as plain daemons (the hosts would share one
# systemd) dropping to a user the rehearsal made (the hosts would race to
# create it), and node is the one already installed. ssh logs in as root.
ansible_user: root
ansible_ssh_private_key_file: $work/ssh/id
faasbench_become: false
faasbench_create_user: false
faasbench_user: $svc_user
faasbench_root: "$work/hosts/{{ inventory_hostname }}/opt/faasbench"
faasbench_service_manager: daemon
faasbench_node_install: system
faasbench_node_bin: $(command -v node)
faasbench_source_dir: $repo
faasbench_archive_dir: $work/build
faasbench_config_file: ${REHEARSAL_CONFIG:-$here/experiment.json}
faasbench_run_id: rehearsal
faasbench_run_timeout: 300
faasbench_run_poll: 2
# Launching the callers took 24-26 s on this machine at a load average of 10:
# a start time 15 s ahead had passed when they were ready.
faasbench_start_delay: 40
faasbench_results_dir: $work/results
faasbench_controller_node: $(command -v node)
EOF
# Each role's hosts as the records must name them (PREFIX + inventory name), with their addresses.
role_hosts() {
  local sep=''
  for i in $(seq 1 "$2"); do printf '%s{"host":"%s%s%s","address":"%s"}' "$sep" "$3" "$1" "$i" "${addr[$1$i]}"; sep=','; done
}
printf '{"callers":[%s],"gateways":[%s],"workers":[%s],"workerPort":%s}\n' \
  "$(role_hosts caller "$callers" named-)" "$(role_hosts gateway "$gateways" rehearsal-)" "$(role_hosts worker "$workers" named-)" \
  "$(node -p "require('${REHEARSAL_CONFIG:-$here/experiment.json}').ports.worker")" >"$work/expected.json"

export ANSIBLE_CONFIG="$repo/ansible/ansible.cfg"
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0
# One ssh connection per host for the whole rehearsal (a master each, in
# $work/ssh/cp) instead of a new ssh, ProxyCommand and sshd for every task of
# every host. The masters are told to exit at teardown.
export ANSIBLE_SSH_ARGS='-o ControlMaster=auto -o ControlPersist=300s'
export ANSIBLE_SSH_CONTROL_PATH_DIR="$work/ssh/cp"
export ANSIBLE_LOCAL_TEMP="$work/ansible-local"

# Runs a playbook (bounded in time), with any further ansible-playbook arguments; its output goes to logs/NAME.log; prints the recap.
playbook() {
  local name=$1 file=$2
  shift 2
  say "ansible-playbook $file ($name) $*"
  local rc=0
  # In the background and waited for, so that a signal reaches the trap at once.
  # The bound is generous: a shared, loaded machine stretches a 1-minute playbook many times.
  (cd "$repo/ansible" && exec timeout "${REHEARSAL_PLAYBOOK_TIMEOUT:-1800}" ansible-playbook -i "$inv/hosts.yml" "$file" "$@") >"$work/logs/$name.log" 2>&1 &
  child=$!
  wait "$child" || rc=$?
  child=""
  sed -n '/^PLAY RECAP/,$p' "$work/logs/$name.log" | sed '/^$/d' >&2
  if [ "$rc" != 0 ]; then
    tail -n 60 "$work/logs/$name.log" >&2
    die "$file ($name) exited with $rc; the whole log is $work/logs/$name.log"
  fi
}
# The recap's changed= total.
changed_total() {
  sed -n '/^PLAY RECAP/,$p' "$work/logs/$1.log" | grep -o 'changed=[0-9]*' | awk -F= '{ s += $2 } END { print s + 0 }'
}

# --- 2.-4. The playbooks, under the shared benchmark lock ---------------------------
lock="${REHEARSAL_LOCK:-/tmp/faasbench-bench.lock}"
exec 9>"$lock"
say "waiting for the benchmark lock $lock"
lock_wait=$(date +%s)
# The lock belongs to fd 9's open file, which this shell keeps: flock may take it in the background.
flock -w 1800 9 &
child=$!
wait "$child" || die "could not take the benchmark lock $lock in 30 minutes"
child=""
t_first=$(date +%s)
say "took the lock after $((t_first - lock_wait)) s"
playbook first site.yml
t_second=$(date +%s)
playbook second site.yml
[ "$(changed_total second)" = 0 ] || die "the second run of site.yml changed something: not idempotent"
say "second run of site.yml: changed=0 on every host"
t_stop=$(date +%s)
playbook stop stop.yml
[ "$(changed_total stop)" = 0 ] || die "stop.yml after the run changed something: a service was still running"
t_done=$(date +%s)
flock -u 9

# --- 5. What came back -----------------------------------------------------------
run_dir="$work/results/rehearsal"
say "records fetched: $(cd "$run_dir/records" && find . -type f | sort | tr '\n' ' ')"
node "$here/check-summary.mjs" "$run_dir" "$work/expected.json" | tee "$work/check.json"
say "site.yml: first run $((t_second - t_first)) s, second run $((t_stop - t_second)) s; stop.yml $((t_done - t_stop)) s; report: $run_dir/report/report.html"

# --- 6. The shared secret ------------------------------------------------------------
# Generated once on the controller beside the inventory; every service got it;
# it is in no log of ansible's or the services'.
secret_file="$inv/faasbench.secret"
[ -f "$secret_file" ] || die "no secret was generated at $secret_file"
[ "$(stat -c %a "$secret_file")" = 600 ] || die "$secret_file is mode $(stat -c %a "$secret_file"), not 600"
secret=$(cat "$secret_file")
[ ${#secret} -ge 32 ] || die "the generated secret has ${#secret} characters"
definitions=0
for h in "${hosts[@]}"; do
  for def in "$work/hosts/$h/opt/faasbench/services"/*.sh; do
    [ -e "$def" ] || continue
    grep -qxF "export FAASBENCH_SECRET=$secret" "$def" || die "service $def does not get the secret"
    definitions=$((definitions + 1))
  done
done
[ "$definitions" -ge $((workers + 2 * gateways)) ] || die "only $definitions service definitions have the secret"
leaks=$(grep -rlF -- "$secret" "$work/logs" "$work/results" "$work"/hosts/*/opt/faasbench/log 2>/dev/null || true)
[ -z "$leaks" ] || die "the secret appears in: $leaks"
say "secret: generated once (mode 600), in all $definitions service definitions, in no log"

# --- 7. Who may change what ----------------------------------------------------------
for h in "${hosts[@]}"; do
  bash "$here/check-permissions.sh" "$work/hosts/$h/opt/faasbench" "$svc_user" rehearsal >"$work/logs/permissions-$h.log" 2>&1 ||
    { cat "$work/logs/permissions-$h.log" >&2; die "permissions on $h"; }
  say "permissions on $h: $(grep -c '^ok' "$work/logs/permissions-$h.log") checks passed as $svc_user"
done
# The unit systemd would run on a worker (systemd itself does not run here).
if command -v systemd-analyze >/dev/null; then
  unit="$work/unit/faasbench-worker.service"
  mkdir -p "$work/unit"
  vars=$(printf '{"item":{"name":"worker"},"faasbench_root":"%s","faasbench_run_user":"%s","faasbench_run_group":"%s","faasbench_kernel_stamps":false,"faasbench_stop_timeout":20}' \
    "$work/hosts/worker1/opt/faasbench" "$svc_user" "$svc_user")
  (cd "$repo/ansible" && ANSIBLE_LOCALHOST_WARNING=0 ansible localhost -o -m ansible.builtin.template \
    -a "src=roles/faasbench/templates/faasbench.service.j2 dest=$unit" -e "$vars") >"$work/logs/unit.log" 2>&1 ||
    { cat "$work/logs/unit.log" >&2; die "could not render the systemd unit"; }
  verify=$(systemd-analyze verify "$unit" 2>&1) && [ -z "$verify" ] || die "systemd-analyze verify $unit: $verify"
  say "systemd-analyze verify: the worker's unit is clean"
else
  say "no systemd-analyze: the systemd unit was not verified"
fi
# --- 8. Failover: a worker host's service killed mid-run ------------------------------
# Its own run id, so the records of the run above stay as they were checked.
failover_cell() {
  local run_id=rehearsal-failover connections=8
  local victim="worker$workers" gw=gateway1 cl=caller1
  local out="$work/failover"
  mkdir -p "$out"
  # The installed faasbench drops to the service user, who writes the caller's records.
  chown "$svc_user:$svc_user" "$out"
  say "failover: take the benchmark lock again"
  flock -w 1800 9 &
  child=$!
  wait "$child" || die "could not take the benchmark lock $lock in 30 minutes"
  child=""
  playbook failover-start start.yml -e "faasbench_run_id=$run_id"
  local port url framework config="${REHEARSAL_CONFIG:-$here/experiment.json}"
  # The first framework's gateway listens on ports.gateway.
  port=$(node -p "require('$config').ports.gateway")
  framework=$(node -p "require('$config').frameworks[0]")
  url="http://${addr[$gw]}:$port/sleep?ms=20"
  say "failover: $cl drives $url with $connections connections for 12 s; $victim's worker is killed 4 s in"
  ip netns exec "${ns[$cl]}" "$work/hosts/$cl/opt/faasbench/bin/faasbench" caller --url "$url" --connections "$connections" \
    --duration 12s --out "$out/caller.ndjson" >"$out/caller.log" 2>&1 &
  child=$!
  sleep 4
  local pid
  pid=$(cat "$work/hosts/$victim/opt/faasbench/run/worker.pid")
  # The service's own pid (faasbench-service keeps it), in the victim's namespace.
  ip netns pids "${ns[$victim]}" | grep -qx "$pid" || die "failover: pid $pid is not in $victim's namespace"
  kill -KILL "$pid"
  wait "$child" || { cat "$out/caller.log" >&2; die "failover: the caller failed"; }
  child=""
  playbook failover-stop stop.yml -e "faasbench_run_id=$run_id"
  flock -u 9
  node "$here/check-failover.mjs" "$work/hosts/$gw/opt/faasbench/records/$run_id/gateway-$framework.ndjson" "$out/caller.ndjson" \
    "${addr[$victim]}:$(node -p "require('$config').ports.worker")" "$connections" |
    tee "$out/check.json" || die "failover: more was lost than the calls in flight on the killed worker"
  say "failover: only the calls in flight on the killed worker were lost"
}
if [ "$workers" -ge 2 ]; then failover_cell; else say "failover: skipped (one worker: killing it would leave none)"; fi

# --- 9. Kernel stamps ----------------------------------------------------------------
# After the permission checks: with kernel stamps the services keep root (bpftrace needs it).
# On by default; FAASBENCH_REHEARSAL_KERNEL=0 skips it (a machine without bpftrace or BTF).
if [ "${FAASBENCH_REHEARSAL_KERNEL:-1}" != 0 ]; then
  say "waiting for the benchmark lock $lock"
  flock -w 1800 9 &
  child=$!
  wait "$child" || die "could not take the benchmark lock $lock in 30 minutes"
  child=""
  t_kernel=$(date +%s)
  playbook kernel site.yml -e faasbench_kernel_stamps=true -e faasbench_run_id=kernel -e "faasbench_config_file=$here/kernel-experiment.json"
  flock -u 9
  node "$here/check-kernel.mjs" "$work/results/kernel" | tee "$work/check-kernel.json"
  say "kernel stamps: every request of the cell split on every host in $(( $(date +%s) - t_kernel )) s; report: $work/results/kernel/report/report.html"
else
  say "kernel stamps: skipped (FAASBENCH_REHEARSAL_KERNEL=0)"
fi

say "PASSED all checks"
