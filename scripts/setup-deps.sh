#!/usr/bin/env bash
# Installs everything netctl needs to build, test and benchmark on Debian 12.
# Idempotent: packages already present are left alone, and apt-get update runs only when needed.
set -euo pipefail

build_pkgs=(
  build-essential cmake ninja-build pkg-config
  libnl-3-dev libnl-route-3-dev libmnl-dev libnftnl-dev
  libboost-program-options-dev libspdlog-dev libfmt-dev libyaml-cpp-dev nlohmann-json3-dev
  libseccomp-dev libgtest-dev libgmock-dev libbenchmark-dev
)
# Tools the demo, tests and benchmarks use (python3 serves HTTP in the quickstart lab) as peers or to
# read kernel state from outside netctl. mininet + bridge-utils: the Mininet star in lab_bench;
# containerd, podman: the `ctr run --cni` and podman e2e tests.
test_pkgs=(iproute2 nftables iputils-ping procps util-linux curl python3 crun runc containernetworking-plugins conntrack
  mininet bridge-utils containerd podman)

missing=()
for p in "${build_pkgs[@]}" "${test_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if [ "$(id -u)" -ne 0 ]; then
  echo "setup-deps: missing packages ${missing[*]}; run as root to install them" >&2
  exit 1
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
