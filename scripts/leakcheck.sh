#!/usr/bin/env bash
# Prints a snapshot of what the test suite must leave untouched on the machine: links, named
# network namespaces, mounts, nftables tables, forwarding sysctls, cgroups under our own cgroup
# /run/netctl and /var/lib/cni (libcni's cache). scripts/test.sh diffs a snapshot taken before the
# suite with one after.
set -u
echo "# links"
ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | sort
echo "# netns"
ip netns list 2>/dev/null | awk '{print $1}' | sort
echo "# mounts"
awk '{print $5, $9}' /proc/self/mountinfo | sort
echo "# nftables"
nft list tables 2>/dev/null | sort
echo "# sysctls"
for s in net/ipv4/ip_forward net/ipv6/conf/all/forwarding net/ipv4/conf/all/rp_filter; do
  echo "$s=$(cat /proc/sys/$s 2>/dev/null)"
done
echo "# cgroups"
while IFS=: read -r _ ctrls path; do
  if [ -z "$ctrls" ]; then
    base=/sys/fs/cgroup; [ -d /sys/fs/cgroup/unified ] && base=/sys/fs/cgroup/unified
  else
    base=/sys/fs/cgroup/${ctrls#name=}; [ -d "$base" ] || base=/sys/fs/cgroup/${ctrls%%,*}
  fi
  [ -d "$base$path" ] && find "$base$path" -mindepth 1 -type d 2>/dev/null | sort
done < /proc/self/cgroup
echo "# state"
ls -A /run/netctl 2>/dev/null
ls -A /run/netns 2>/dev/null
ls -A /var/lib/cni 2>/dev/null | sed 's|^|/var/lib/cni/|'
exit 0  # a snapshot, not a verdict: test.sh compares two of them
