// Docker's device rules for a node's cgroup: any device node may be made, and only null, zero,
// full, random, urandom, tty, console, ptmx, the ptys and tun opened. A node has CAP_MKNOD, as
// Docker's do; without the rules it could make the node of a host disk and open it.
//   v1: "deny a", then one allow rule per write to devices.allow;
//   v2: a BPF_PROG_TYPE_CGROUP_DEVICE program, built from the same list, attached to the group.
#pragma once

#include <string>

#include "netctl/base/result.h"

namespace netctl::cgroup::device_rules {

Result<void> writeV1(const std::string& dir);
// Loads the program once per process and attaches it (BPF_F_ALLOW_MULTI, so an ancestor's
// program still runs too). A kernel without cgroup BPF says which option it lacks.
Result<void> attachV2(const std::string& dir);

}  // namespace netctl::cgroup::device_rules
