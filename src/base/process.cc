#include "netctl/base/process.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>

#include <thread>

#include "netctl/base/fs.h"

namespace netctl {

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    killAndReap();
    pid_ = other.release();
  }
  return *this;
}

Result<int> ChildProcess::wait() {
  if (pid_ <= 0) return sysError(ECHILD, "waiting for a child that is not there");
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR) return errnoError(fmt::format("waiting for pid {}", pid_));
  }
  pid_ = -1;
  return status;
}

void ChildProcess::killAndReap() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

int exitCodeOf(int waitStatus) {
  if (WIFEXITED(waitStatus)) return WEXITSTATUS(waitStatus);
  if (WIFSIGNALED(waitStatus)) return 128 + WTERMSIG(waitStatus);
  return 1;
}

Result<UniqueFd> newNetnsOnThread() {
  Result<UniqueFd> made = UniqueFd();
  std::thread([&made] {
    if (::unshare(CLONE_NEWNET) != 0) {
      made = errnoError("unshare(CLONE_NEWNET)");
      return;
    }
    made = fs::open("/proc/thread-self/ns/net", O_RDONLY);
  }).join();
  return made;
}

}  // namespace netctl
