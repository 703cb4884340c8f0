#!/bin/sh
# The flannel DaemonSet's command (kubeproof's offline kind node image): runs flanneld and, once
# flanneld has leased this node's subnet (/run/flannel/subnet.env), writes the node's CNI
# configuration. flannel's own CNI plugin (github.com/flannel-io/cni-plugin) is not served by
# the Go module proxy, so the pods are wired by the containernetworking bridge, host-local and
# portmap plugins (Debian's, in the node): the bridge and subnet flannel's plugin would delegate
# to. flanneld (host-gw backend) routes every other node's subnet through that node.
set -eu

# kind adds the API server's host:port, so flanneld needs no Service routing (kube-proxy) to reach it.
if [ -n "${CONTROL_PLANE_ENDPOINT:-}" ]; then
  export KUBERNETES_SERVICE_HOST="${CONTROL_PLANE_ENDPOINT%:*}" KUBERNETES_SERVICE_PORT="${CONTROL_PLANE_ENDPOINT##*:}"
fi

/opt/bin/flanneld "$@" &
flanneld=$!
trap 'kill -TERM "$flanneld" 2>/dev/null; wait "$flanneld"; exit $?' TERM INT

# flanneld writes the file once it holds the lease; it gives no other signal.
while [ ! -s /run/flannel/subnet.env ]; do
  if ! kill -0 "$flanneld" 2>/dev/null; then
    wait "$flanneld"
    exit $?
  fi
  sleep 1
done
. /run/flannel/subnet.env

# host-local wants the network address: 10.244.1.1/24 → 10.244.1.0/24.
len=${FLANNEL_SUBNET#*/}
IFS=. read -r a b c d <<EOF
${FLANNEL_SUBNET%/*}
EOF
n=$(( ((a << 24) | (b << 16) | (c << 8) | d) & ((0xffffffff << (32 - len)) & 0xffffffff) ))
subnet="$((n >> 24 & 255)).$((n >> 16 & 255)).$((n >> 8 & 255)).$((n & 255))/$len"

conf=/etc/cni/net.d/10-flannel.conflist
cat >"$conf.tmp" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "cbr0",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "mtu": ${FLANNEL_MTU},
      "ipam": { "type": "host-local", "ranges": [[{ "subnet": "${subnet}" }]], "routes": [{ "dst": "0.0.0.0/0" }] }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
EOF
mv -f "$conf.tmp" "$conf"
echo "wrote $conf: bridge cni0, subnet $subnet, mtu $FLANNEL_MTU"
wait "$flanneld"
