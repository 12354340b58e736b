#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstring>

#include "netctl/base/fs.h"
#include "runtime/steps.h"

namespace netctl::runtime::net_ns {

Result<void> enterInChild(int fd) {
  if (::setns(fd, CLONE_NEWNET) != 0) return errnoError("setns to the node's netns");
  return {};
}

Result<void> setUpInChild(const Spec& spec) {
  if (spec.namespaces.net) {
    // An ioctl, not netlink: the runtime stays independent of src/net (DESIGN.md section 1).
    UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!sock) return errnoError("socket for lo");
    ifreq req{};
    std::strncpy(req.ifr_name, "lo", IFNAMSIZ - 1);
    if (::ioctl(sock.get(), SIOCGIFFLAGS, &req) != 0) return errnoError("reading lo flags");
    req.ifr_flags |= IFF_UP;
    if (::ioctl(sock.get(), SIOCSIFFLAGS, &req) != 0) return errnoError("bringing lo up");
  }
  for (const auto& [key, value] : spec.sysctls) {
    std::string path = "/proc/sys/" + key;
    for (size_t i = 10; i < path.size(); ++i)
      if (path[i] == '.') path[i] = '/';
    NETCTL_TRYC(fs::writeFile(path, value), "sysctl {}", key);
  }
  return {};
}

}  // namespace netctl::runtime::net_ns
