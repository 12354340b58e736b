// The child side of the launcher, as one readable list of steps (contain.cc).
#pragma once

#include <string>
#include <vector>

#include "netctl/base/result.h"
#include "runtime/plan.h"

namespace netctl::runtime::contain {

// The process the parent forks: rlimits (before any user namespace, as crun does), unshare of
// the new namespaces, then the fork of the node's init (PID 1 of the new pid namespace).
// Reports errors over plan.syncFd. Never returns.
[[noreturn]] void runIntermediate(const Plan& plan);

// Without a user namespace there is no need for the intermediate: the parent's thread
// unshares its pid namespace for children, forks the init (with glibc's fork, so the malloc
// locks of a multi-threaded parent are safe) and goes back; the init unshares the rest itself.
// Runs in the parent; returns the init's pid.
Result<pid_t> forkInitFromParent(const Plan& plan);

// argv[0] as execve needs it: itself when it has a '/', else searched in env's PATH.
Result<std::string> resolveCommand(const std::string& name, const std::vector<std::string>& env);

// Closes every fd >= 3 except those listed.
void closeFdsExcept(std::vector<int> keep);

}  // namespace netctl::runtime::contain
