#!/usr/bin/env bash
# Debian's packages the offline kind node image is built with (debootstrap, for its Debian root
# filesystem), installed when this runs as root on a machine with apt-get and one is missing.
# The Docker engine itself is scripts/docker-engine.sh's. Exit 0 when they are there (or were
# installed); 1 when they are missing and cannot be installed here, with the reason on stderr.
set -uo pipefail
have() { command -v debootstrap >/dev/null; }
have && exit 0
if [ "$(id -u)" != 0 ]; then echo "debootstrap is missing and this is not root: as root, apt-get install debootstrap" >&2; exit 1; fi
if ! command -v apt-get >/dev/null; then echo "debootstrap is missing and there is no apt-get here" >&2; exit 1; fi
echo "installing debootstrap (the kind node image's Debian root filesystem)…" >&2
if ! (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null); then
  echo "could not install debootstrap" >&2; exit 1
fi
have
