#!/bin/sh
# A Docker engine for CI and tests (kind clusters): docker-engine.sh start | stop | status
#
#   start   installs Debian's docker.io (and jq) when dockerd is missing, then starts a dockerd
#           with a data root and exec root of its own and the OCI runtime wrapper
#           scripts/runc-no-sys-resource.sh as its default runtime; returns when the socket
#           answers (deadline 60 s); raises fs.inotify.max_user_instances to 512 for kind (put
#           back at stop). Does nothing when the dockerd it started is running.
#   stop    stops the dockerd that `start` started — and only that one: the pid in the state file
#           must still be a dockerd with the start time recorded then — waits until it is gone, then
#           removes the iptables rules and chains and the cgroup directories it added (recorded
#           before it started), which dockerd leaves behind.
#   status  says whether it runs; exit 0 when it does, 1 when not.
#
# The wrapper is there because this project's sandboxes lack CAP_SYS_RESOURCE in their
# capability bounding set, which Docker 20.10 `--privileged` containers (kind's nodes) ask for.
# That is a property of the sandbox, not of users' machines: users run kind on their own Docker.
#
# Environment: KUBEPROOF_DOCKER_ROOT (default /var/lib/kubeproof-docker: data root, log, state),
# KUBEPROOF_DOCKER_EXEC_ROOT (default /run/kubeproof-docker), KUBEPROOF_DOCKER_SOCK (default
# /var/run/docker.sock, where the docker CLI and kind look without DOCKER_HOST).
set -eu

ROOT=${KUBEPROOF_DOCKER_ROOT:-/var/lib/kubeproof-docker}
EXEC_ROOT=${KUBEPROOF_DOCKER_EXEC_ROOT:-/run/kubeproof-docker}
SOCK=${KUBEPROOF_DOCKER_SOCK:-/var/run/docker.sock}
STATE=$ROOT/dockerd.state
LOG=$ROOT/dockerd.log
BEFORE=$ROOT/host-before
WRAPPER=$(cd "$(dirname "$0")" && pwd)/runc-no-sys-resource.sh
RUNTIME=kubeproof-runc
DEADLINE_SECONDS=60
INOTIFY_INSTANCES=512

say() { printf 'docker-engine: %s\n' "$*" >&2; }

# The start time of a process (field 22 of /proc/PID/stat, in clock ticks since boot).
start_time() {
  [ -r "/proc/$1/stat" ] || return 1
  # The command name (field 2) may hold spaces: take what follows its closing parenthesis.
  sed 's/^.*) //' "/proc/$1/stat" | cut -d' ' -f20
}

# The pid of the dockerd this script started, if it is still that process.
our_pid() {
  [ -r "$STATE" ] || return 1
  read -r pid started <"$STATE" || return 1
  [ -n "${pid:-}" ] && [ -n "${started:-}" ] || return 1
  [ "$(start_time "$pid" 2>/dev/null)" = "$started" ] || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ] || return 1
  echo "$pid"
}

docker_answers() { docker -H "unix://$SOCK" version --format '{{.Server.Version}}' >/dev/null 2>&1; }

install_engine() {
  command -v dockerd >/dev/null 2>&1 && command -v jq >/dev/null 2>&1 && return 0
  say "installing Debian's docker.io and jq"
  apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker.io jq >&2
}

start() {
  if pid=$(our_pid); then
    say "running (pid $pid, socket $SOCK)"
    return 0
  fi
  if [ -S "$SOCK" ] && docker_answers; then
    say "another Docker engine already answers on $SOCK: not starting a second one"
    exit 1
  fi
  install_engine
  mkdir -p "$ROOT/data" "$EXEC_ROOT"
  rm -f "$STATE"
  record_host
  say "starting dockerd (data root $ROOT/data, exec root $EXEC_ROOT, runtime $WRAPPER, log $LOG)"
  # --ip-forward=false: dockerd would otherwise turn on the host's forwarding and set the
  # FORWARD policy to DROP; kind's nodes talk over one bridge and reach nothing outside.
  # --bridge=none: no docker0 (kind makes a network of its own).
  DOCKER_BUILDKIT=0 setsid dockerd \
    --data-root "$ROOT/data" \
    --exec-root "$EXEC_ROOT" \
    --pidfile "$EXEC_ROOT/dockerd.pid" \
    --host "unix://$SOCK" \
    --add-runtime "$RUNTIME=$WRAPPER" \
    --default-runtime "$RUNTIME" \
    --ip-forward=false \
    --bridge=none \
    </dev/null >>"$LOG" 2>&1 &
  pid=$!
  started=$(start_time "$pid")
  echo "$pid $started" >"$STATE"
  t0=$(date +%s)
  until docker_answers; do
    if ! kill -0 "$pid" 2>/dev/null; then
      say "dockerd exited during start-up; the end of $LOG:"
      tail -n 20 "$LOG" >&2
      rm -f "$STATE"
      exit 1
    fi
    if [ $(($(date +%s) - t0)) -ge "$DEADLINE_SECONDS" ]; then
      say "dockerd (pid $pid) did not answer on $SOCK within ${DEADLINE_SECONDS} s; the end of $LOG:"
      tail -n 20 "$LOG" >&2
      exit 1
    fi
    sleep 0.2 # polling the socket: dockerd gives no readiness signal
  done
  say "dockerd $(docker -H "unix://$SOCK" version --format '{{.Server.Version}}') ready in $(($(date +%s) - t0)) s (pid $pid)"
}

stop() {
  if ! pid=$(our_pid); then
    say "not running (no dockerd started by this script)"
    rm -f "$STATE"
    return 0
  fi
  say "stopping dockerd (pid $pid)"
  kill -TERM "$pid"
  t0=$(date +%s)
  while [ -d "/proc/$pid" ] && [ "$(start_time "$pid" 2>/dev/null)" = "$(cut -d' ' -f2 "$STATE")" ]; do
    if [ $(($(date +%s) - t0)) -ge "$DEADLINE_SECONDS" ]; then
      say "dockerd (pid $pid) still running after ${DEADLINE_SECONDS} s; the end of $LOG:"
      tail -n 20 "$LOG" >&2
      exit 1
    fi
    sleep 0.2 # polling /proc: the process is not our child
  done
  rm -f "$STATE"
  restore_host
  say "stopped in $(($(date +%s) - t0)) s"
}

# What dockerd adds to the host and leaves there when it stops: iptables chains and rules (filter
# and nat: its DOCKER* chains and the rules for its bridges), its bridges (docker0, and br-<id>
# for each network, kind's among them: dockerd keeps them for its next start), and a docker/
# directory in each cgroup v1 hierarchy. Recorded before it starts.
record_host() {
  mkdir -p "$BEFORE"
  for table in filter nat; do iptables -t "$table" -S >"$BEFORE/iptables-$table" 2>/dev/null || :; done
  ls -d /sys/fs/cgroup/*/docker 2>/dev/null >"$BEFORE/cgroups" || :
  bridges >"$BEFORE/links" || :
  # kind's known issue: every node's systemd, kubelet and containerd take inotify instances, and
  # the kernel's default 128 per user runs out at about two 4-node clusters ("too many open
  # files", node containers dying during create). Raised for the engine's life, put back at stop.
  cat /proc/sys/fs/inotify/max_user_instances >"$BEFORE/inotify-instances" 2>/dev/null || :
  if [ "$(cat "$BEFORE/inotify-instances" 2>/dev/null || echo 0)" -lt "$INOTIFY_INSTANCES" ] 2>/dev/null; then
    echo "$INOTIFY_INSTANCES" >/proc/sys/fs/inotify/max_user_instances && say "fs.inotify.max_user_instances $(cat "$BEFORE/inotify-instances") → $INOTIFY_INSTANCES (put back at stop)" || :
  fi
}

# The network interfaces named as dockerd names its bridges.
bridges() {
  ip -o link show 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | grep -E '^(docker0|br-[0-9a-f]{12})$'
}

restore_host() {
  [ -d "$BEFORE" ] || return 0
  # Its bridges (the veths on them went with the containers); one there before it started stays.
  for link in $(bridges); do
    grep -qxF "$link" "$BEFORE/links" 2>/dev/null && continue
    ip link delete "$link" || say "could not remove bridge $link"
  done
  for table in filter nat; do
    [ -f "$BEFORE/iptables-$table" ] || continue
    iptables -t "$table" -S >"$BEFORE/iptables-$table.now" 2>/dev/null || continue
    # Only dockerd's own (its DOCKER* chains, its bridges), never another program's added meanwhile.
    # Rules first (newest first), then its chains: all flushed, then deleted.
    grep '^-A ' "$BEFORE/iptables-$table.now" | grep -vxF -f "$BEFORE/iptables-$table" | grep -E 'DOCKER|docker0| br-[0-9a-f]{12}' | tac |
      while read -r rule; do
        eval "iptables -t $table -D ${rule#-A }" || say "could not remove iptables -t $table $rule"
      done
    chains=$(grep '^-N DOCKER' "$BEFORE/iptables-$table.now" | grep -vxF -f "$BEFORE/iptables-$table" | cut -d' ' -f2)
    for chain in $chains; do iptables -t "$table" -F "$chain" || :; done
    for chain in $chains; do iptables -t "$table" -X "$chain" || say "could not remove iptables chain $table/$chain"; done
    rm -f "$BEFORE/iptables-$table.now"
  done
  for dir in /sys/fs/cgroup/*/docker; do
    [ -d "$dir" ] || continue
    grep -qxF "$dir" "$BEFORE/cgroups" 2>/dev/null && continue
    # rmdir removes a cgroup only when it is empty: one still in use stays.
    rmdir "$dir" 2>/dev/null || say "cgroup $dir not empty: left in place"
  done
  if [ -s "$BEFORE/inotify-instances" ]; then cat "$BEFORE/inotify-instances" >/proc/sys/fs/inotify/max_user_instances || say "could not put fs.inotify.max_user_instances back"; fi
  rm -rf "$BEFORE"
}

status() {
  if pid=$(our_pid); then
    say "running (pid $pid, socket $SOCK, data root $ROOT/data)"
    return 0
  fi
  say "not running"
  return 1
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
