#!/bin/sh
# An OCI runtime for dockerd (`--add-runtime`), for CI and tests on this project's sandboxes only.
#
# Why: the sandboxes CI runs in have a capability bounding set without CAP_SYS_RESOURCE, and
# Docker 20.10 (Debian's docker.io) gives a `--privileged` container every capability the
# kernel knows, so runc fails with "unable to apply caps: operation not permitted" — and kind
# runs every node --privileged and does everything through `docker exec`. This is a property
# of the sandbox, not of users' machines: a Linux Docker with full capabilities or Docker
# Desktop needs no wrapper, and Docker 23+ limits --privileged to the daemon's own capabilities.
#
# What: removes CAP_SYS_RESOURCE from every capability set of the bundle's config.json
# (`runc create|run [--bundle DIR]`) and of the `--process FILE` JSON (`runc exec`), then execs
# /usr/sbin/runc with the same arguments. Where the bounding set has the capability, it only
# execs runc. Needs jq (a Debian package).
set -eu

RUNC=${KUBEPROOF_RUNC:-/usr/sbin/runc}
CAP_SYS_RESOURCE=24

while read -r key value; do
  if [ "$key" = "CapBnd:" ]; then bounding=$value; break; fi
done </proc/self/status
if [ $(( (0x${bounding:-ffffffffffffffff} >> CAP_SYS_RESOURCE) & 1 )) -eq 1 ]; then exec "$RUNC" "$@"; fi

# drop FILE PATH-TO-CAPABILITIES: rewrite FILE (JSON) without CAP_SYS_RESOURCE in that object's arrays.
drop() {
  [ -f "$1" ] || return 0
  grep -q CAP_SYS_RESOURCE "$1" || return 0
  tmp="$1.kubeproof-$$"
  jq -c "$2 |= (if type == \"object\" then map_values(if type == \"array\" then map(select(. != \"CAP_SYS_RESOURCE\")) else . end) else . end)" "$1" >"$tmp"
  mv -f "$tmp" "$1"
}

# The subcommand is the first word that is neither a global option nor the value of one.
command=''
expect_value=0
for arg in "$@"; do
  if [ "$expect_value" -eq 1 ]; then expect_value=0; continue; fi
  case "$arg" in
    --root | --log | --log-format | --criu | --rootless) expect_value=1 ;;
    -*) ;;
    *) command=$arg; break ;;
  esac
done

case "$command" in
  create | run | exec) ;;
  *) exec "$RUNC" "$@" ;;
esac

# The bundle and process options after the subcommand (containerd's shim passes them first).
bundle=.
process=''
seen=0
take=''
for arg in "$@"; do
  if [ "$seen" -eq 0 ]; then
    [ "$arg" = "$command" ] && seen=1
    continue
  fi
  if [ -n "$take" ]; then
    eval "$take=\$arg"
    take=''
    continue
  fi
  case "$arg" in
    --bundle | -b) take=bundle ;;
    --bundle=*) bundle=${arg#--bundle=} ;;
    --process | -p) take=process ;;
    --process=*) process=${arg#--process=} ;;
  esac
done

case "$command" in
  create | run) drop "$bundle/config.json" .process.capabilities ;;
  exec) [ -z "$process" ] || drop "$process" .capabilities ;;
esac
exec "$RUNC" "$@"
