#include "support/sandbox.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "netctl/base/fs.h"
#include "netctl/base/unique_fd.h"

namespace netctl::sandbox {
namespace {

Info g_info;

Result<void> bringLoopbackUp() {
  UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) return errnoError("socket for lo");
  ifreq req{};
  std::strncpy(req.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(sock.get(), SIOCGIFFLAGS, &req) != 0) return errnoError("reading lo flags");
  req.ifr_flags |= IFF_UP;
  if (::ioctl(sock.get(), SIOCSIFFLAGS, &req) != 0) return errnoError("bringing lo up");
  return {};
}

// A fresh sysfs shows this network namespace's devices; the cgroup mounts under it are carried
// over with a move so the tests still see (and nest under) the real cgroup hierarchy.
Result<void> remountSys() {
  const char* keep = "/run/.sandbox-cgroup";
  NETCTL_TRY(fs::makeDirs(keep));
  if (::mount("/sys/fs/cgroup", keep, nullptr, MS_BIND | MS_REC, nullptr) != 0)
    return errnoError("keeping /sys/fs/cgroup");
  if (::mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
    return errnoError("mounting sysfs on /sys");
  if (::mount(keep, "/sys/fs/cgroup", nullptr, MS_MOVE, nullptr) != 0)
    return errnoError("moving /sys/fs/cgroup back");
  ::rmdir(keep);
  return {};
}

std::string makeCgroupParentName() { return fmt::format("netctl-test-{}", ::getpid()); }

}  // namespace

std::string unavailableReason() {
  if (::geteuid() != 0) return "kernel tests need root (CAP_NET_ADMIN and CAP_SYS_ADMIN)";
  return "";
}

Result<Info> enter() {
  if (auto why = unavailableReason(); !why.empty()) return unsupported(why);
  if (::unshare(CLONE_NEWNET | CLONE_NEWNS) != 0) return errnoError("unshare(CLONE_NEWNET|CLONE_NEWNS)");
  if (::mount("", "/", nullptr, MS_PRIVATE | MS_REC, nullptr) != 0) return errnoError("making / private");
  if (::mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") != 0)
    return errnoError("mounting a tmpfs on /run");
  NETCTL_TRY(remountSys());
  NETCTL_TRY(bringLoopbackUp());

  g_info.stateRoot = "/run/netctl";
  g_info.cgroupParent = makeCgroupParentName();
  ::setenv("NETCTL_ROOT", g_info.stateRoot.c_str(), 1);
  ::setenv("NETCTL_CGROUP_PARENT", g_info.cgroupParent.c_str(), 1);
  ::setenv("NETCTL_IN_SANDBOX", "1", 1);
  return g_info;
}

// Kills every process in dir and its children, then removes them, deepest first. Nodes outlive
// the netctl process that started them, so a test that failed before its `down` would leave
// them running on the machine; this is the net under every test.
void killAndRemoveCgroup(const std::string& dir) {
  if (DIR* d = ::opendir(dir.c_str())) {
    std::vector<std::string> children;
    while (dirent* e = ::readdir(d))
      if (e->d_type == DT_DIR && e->d_name[0] != '.') children.push_back(dir + "/" + e->d_name);
    ::closedir(d);
    for (const auto& child : children) killAndRemoveCgroup(child);
  }
  for (int attempt = 0; attempt < 200; ++attempt) {
    std::ifstream procs(dir + "/cgroup.procs");
    pid_t pid = 0;
    bool any = false;
    while (procs >> pid) {
      ::kill(pid, SIGKILL);
      any = true;
    }
    if (!any) break;
    ::usleep(10'000);
  }
  ::rmdir(dir.c_str());
}

void leave() {
  // The cgroup parent exists in each v1 hierarchy and in the unified one, under our own cgroup.
  std::ifstream cgroups("/proc/self/cgroup");
  std::string line;
  while (std::getline(cgroups, line)) {
    // "ID:controllers:path"
    auto first = line.find(':');
    auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    std::string controllers = line.substr(first + 1, second - first - 1);
    std::string path = line.substr(second + 1);
    std::string mount;
    if (controllers.empty()) {
      mount = fs::exists("/sys/fs/cgroup/unified") ? "/sys/fs/cgroup/unified" : "/sys/fs/cgroup";
    } else {
      if (controllers.rfind("name=", 0) == 0) controllers = controllers.substr(5);
      auto comma = controllers.find(',');
      mount = "/sys/fs/cgroup/" + controllers.substr(0, comma);
      if (!fs::exists(mount)) mount = "/sys/fs/cgroup/" + controllers;
    }
    if (path == "/") path.clear();
    killAndRemoveCgroup(fmt::format("{}{}/{}", mount, path, g_info.cgroupParent));
  }
}

const Info& info() { return g_info; }

}  // namespace netctl::sandbox
