// ChildProcess: the owner of a child pid. Unless released or waited, destruction kills the
// child with SIGKILL and reaps it, so no error path leaves a stray process or a zombie.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "netctl/base/result.h"
#include "netctl/base/unique_fd.h"

namespace netctl {

class ChildProcess {
 public:
  ChildProcess() = default;
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  ChildProcess(ChildProcess&& other) noexcept : pid_(other.release()) {}
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess() { killAndReap(); }

  pid_t pid() const { return pid_; }
  bool valid() const { return pid_ > 0; }
  pid_t release() { return std::exchange(pid_, -1); }

  // Waits for the child to exit; returns its wait status (as from waitpid).
  Result<int> wait();
  // SIGKILL and reap. Safe to call on an empty handle.
  void killAndReap();

 private:
  pid_t pid_ = -1;
};

// The exit code of a wait status the way a shell reports it (128+signal when killed).
int exitCodeOf(int waitStatus);

// A new network namespace, made on a short-lived thread so that the calling thread never
// leaves its own: an fd of it. The link engine's scratch namespaces and a node's netns
// (made by the runtime while the node's init mounts) both come from here.
Result<UniqueFd> newNetnsOnThread();

}  // namespace netctl
