#include "netctl/runtime/spawner.h"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>

#include "runtime/sync.h"

namespace netctl::runtime {
namespace {

// The spawner's side: one create per request (a spec index, uint64), answered with the init's
// pid or the create's error, until the caller closes its end.
[[noreturn]] void serveInChild(int fd, Runtime rt, const std::vector<Spec>& specs, pid_t caller) {
  // Dies with the caller, as a fork of the caller's own would: a lab's up killed halfway must
  // not go on making nodes that its cleanup has already looked for.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != caller) ::_exit(0);
  for (;;) {
    uint64_t index = 0;
    ssize_t n = ::recv(fd, &index, sizeof index, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n != sizeof index) ::_exit(0);
    auto made = index < specs.size() ? rt.create(specs[index])
                                     : std::unexpected(Error(Error::Kind::kSystem, EINVAL, "no such spec"));
    if (made) (void)sync::sendPid(fd, made->initPid);
    else sync::sendError(fd, made.error());
  }
}

}  // namespace

Result<Spawner> Spawner::start(const Runtime& rt, const std::vector<Spec>& specs) {
  auto pair = NETCTL_TRYC(sync::makePair(), "starting a spawner");
  pid_t caller = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return errnoError("forking a spawner");
  if (pid == 0) {
    pair.parent.reset();
    serveInChild(pair.child.get(), rt, specs, caller);
  }
  return Spawner(std::move(pair.parent), pid);
}

Spawner::~Spawner() {
  if (!child_.valid()) return;  // moved from
  sock_.reset();
  (void)child_.wait();  // should that fail, child_'s own destructor kills and reaps it
}

Result<pid_t> Spawner::create(size_t index) {
  uint64_t request = index;
  while (::send(sock_.get(), &request, sizeof request, MSG_NOSIGNAL) < 0) {
    if (errno != EINTR) return errnoError("asking the spawner");
  }
  auto reply = NETCTL_TRYC(sync::receive(sock_.get()), "waiting for the spawner");
  if (reply.msg == sync::Msg::kPid) return reply.sentPid;
  if (reply.msg == sync::Msg::kError && reply.error) return std::unexpected(std::move(*reply.error));
  return sysError(EPROTO, "the spawner sent an unexpected answer");
}

}  // namespace netctl::runtime
