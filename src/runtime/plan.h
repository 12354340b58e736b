// What the parent prepares for the child before the fork: resolved paths, the capability mask,
// the compiled seccomp filter and the file descriptors the child uses. The child reads it from
// its copy of the parent's memory and never has to compute anything that could fail slowly.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "netctl/runtime/cgroup.h"
#include "netctl/runtime/seccomp.h"
#include "netctl/runtime/spec.h"

namespace netctl::runtime {

struct Plan {
  const Spec* spec = nullptr;
  std::string bundleDir;  // <stateRoot>/containers/<name>
  std::string rootfsDir;  // bundleDir/rootfs: the mount point of the new root
  std::string lowerDir;   // overlay lower layer ("/" for the host)
  std::string upperDir;
  std::string workDir;
  std::string etcDir;     // bundleDir/etc: hosts, hostname, resolv.conf (bound in for kDirectory)
  uint64_t capMask = 0;
  seccomp::Program seccomp;
  int syncFd = -1;    // the child's end of the channel
  int parentSyncFd = -1;  // the parent's end: closed in the child, so a dead parent reads as EOF
  const cgroup::Group* cgroup = nullptr;  // non-null: the init joins its v1 hierarchies itself
  bool netFromParent = false;  // the parent makes the netns meanwhile and passes it with "go"
  int statusFd = -1;  // bundleDir/exit: where the init records the command's wait status
  int fifoFd = -1;    // O_PATH of bundleDir/exec.fifo: start opens it, then the command execs
  int stdio[3] = {-1, -1, -1};  // the command's stdio; -1 = /dev/null
  std::vector<std::string> argv;
  std::vector<std::string> env;
};

}  // namespace netctl::runtime
