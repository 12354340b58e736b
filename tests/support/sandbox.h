// The throwaway "host" every integration test, e2e test and benchmark runs in (DESIGN.md
// section 6). enter() must be the first thing main() does, before any thread exists:
//  - a new network namespace (the machine's own network is never seen again) with lo up;
//  - a new mount namespace, all mounts private, a tmpfs on /run (so /run/netns and the state
//    root /run/netctl are private), and /sys remounted to show this namespace's devices;
//  - a cgroup parent under the process's own cgroup for everything the tests start.
#pragma once

#include <string>

#include "netctl/base/result.h"

namespace netctl::sandbox {

struct Info {
  std::string stateRoot;     // where netctl keeps its state (NETCTL_ROOT is set to it)
  std::string cgroupParent;  // relative to our own cgroup (NETCTL_CGROUP_PARENT is set to it)
};

Result<Info> enter();
// Kills whatever still runs under the cgroup parent (nodes of a test that failed before its
// `down`) and removes the parent and everything below it. Call after the tests.
void leave();
const Info& info();

// Why the current process cannot run kernel tests (not root, no CAP_SYS_ADMIN), or "".
std::string unavailableReason();

}  // namespace netctl::sandbox
