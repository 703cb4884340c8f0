#!/usr/bin/env bash
# Debian's packages a real node needs (containerd, runc, CNI plugins, iptables, iproute2, openssl),
# installed when this runs as root on a machine with apt-get and any of them is missing.
# Exit 0 when they are there (or were installed); 1 when they are missing and cannot be installed
# here (not root, no apt-get, or the install failed), with the reason on stderr.
set -uo pipefail
have() { command -v containerd >/dev/null && command -v runc >/dev/null && [ -x /usr/lib/cni/bridge ] && command -v iptables >/dev/null && command -v ip >/dev/null && command -v openssl >/dev/null; }
have && exit 0
if [ "$(id -u)" != 0 ]; then echo "real-node packages missing and this is not root: as root, apt-get install containerd runc containernetworking-plugins iptables iproute2 openssl" >&2; exit 1; fi
if ! command -v apt-get >/dev/null; then echo "real-node packages missing and there is no apt-get here" >&2; exit 1; fi
echo "installing the real-node packages (containerd runc containernetworking-plugins iptables iproute2 openssl)…" >&2
if ! (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq containerd runc containernetworking-plugins iptables iproute2 openssl >/dev/null); then
  echo "could not install the real-node packages" >&2; exit 1
fi
have
