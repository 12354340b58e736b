#!/usr/bin/env bash
# The main job, end to end: bring up configs/examples/quickstart.yaml (a web node and a client
# on a NAT bridge, the web server published on port 8080), show it, send a request through the
# published port and between the nodes, and take it down again.
#
# The demo runs inside a throwaway network and mount namespace, so it never changes this
# machine's own network. For a real lab, run `netctl up FILE` yourself (see README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
netctl=$(realpath "${NETCTL:-build/netctl}")

if [ "${NETCTL_DEMO_INSIDE:-}" != 1 ]; then
  exec unshare --net --mount --propagation private env NETCTL_DEMO_INSIDE=1 "$0" "$@"
fi

mount -t tmpfs tmpfs /run
ip link set lo up
export NETCTL_ROOT=/run/netctl NETCTL_CGROUP_PARENT="netctl-demo-$$"

cleanup() {
  "$netctl" down --all >/dev/null 2>&1 || true
  # The cgroup parent lives under our own cgroup in every hierarchy (cgroups are not namespaced).
  while IFS=: read -r _ ctrls path; do
    if [ -z "$ctrls" ]; then base=/sys/fs/cgroup/unified; [ -d "$base" ] || base=/sys/fs/cgroup
    else base=/sys/fs/cgroup/${ctrls#name=}; [ -d "$base" ] || base=/sys/fs/cgroup/${ctrls%%,*}; fi
    rmdir "$base${path%/}/$NETCTL_CGROUP_PARENT" 2>/dev/null || true
  done < /proc/self/cgroup
}
trap cleanup EXIT

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
fetch=(curl -sS --max-time 5 -o /dev/null -w 'HTTP %{http_code}, %{size_download} bytes from %{remote_ip}:%{remote_port}\n')

step "$netctl" up configs/examples/quickstart.yaml
step "$netctl" inspect quickstart
# python3's http.server needs a moment to bind after the node starts.
for _ in $(seq 50); do "${fetch[@]}" http://127.0.0.1:8080/ >/dev/null 2>&1 && break; sleep 0.1; done
step "${fetch[@]}" http://127.0.0.1:8080/
step "$netctl" exec quickstart client -- ping -c 2 web
step "$netctl" exec quickstart client -- "${fetch[@]}" http://web/
step "$netctl" down quickstart
echo
echo "demo: the quickstart lab came up, served a request on its published port, and went away."
