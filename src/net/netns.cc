#include "netctl/net/netns.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "netctl/base/fs.h"
#include "netctl/base/process.h"

namespace netctl::netns {
namespace {

constexpr const char* kIpNetnsDir = "/run/netns";

// `ip netns` makes its directory a shared bind mount of itself so that unmounting a
// namespace propagates to mount namespaces created since; we do the same for ours. Only once:
// changing the propagation of a directory that already holds N namespace mounts costs O(N).
Result<void> ensureSharedMountDir(const std::string& dir) {
  NETCTL_TRY(fs::makeDirs(dir));
  struct statx st {};
  if (::statx(AT_FDCWD, dir.c_str(), 0, STATX_BASIC_STATS, &st) == 0 &&
      (st.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && (st.stx_attributes & STATX_ATTR_MOUNT_ROOT))
    return {};  // already our bind mount
  if (::mount(dir.c_str(), dir.c_str(), "none", MS_BIND, nullptr) != 0)
    return errnoError(fmt::format("bind-mounting {} onto itself", dir));
  if (::mount("", dir.c_str(), "none", MS_SHARED, nullptr) != 0)
    return errnoError(fmt::format("making {} a shared mount", dir));
  return {};
}

}  // namespace

Result<Handle> Handle::dup() const {
  int fd = ::fcntl(fd_.get(), F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return errnoError(fmt::format("duplicating netns handle {}", name_));
  return Handle(UniqueFd(fd), name_);
}

Result<ino_t> Handle::inode() const {
  struct stat st {};
  if (::fstat(fd_.get(), &st) != 0) return errnoError(fmt::format("stat of netns {}", name_));
  return st.st_ino;
}

Result<Handle> openPath(const std::string& path) {
  auto fd = NETCTL_TRYC(fs::open(path, O_RDONLY), "opening network namespace {}", path);
  return Handle(std::move(fd), path);
}

Result<Handle> openPid(pid_t pid) {
  auto fd = NETCTL_TRYC(fs::open(fmt::format("/proc/{}/ns/net", pid), O_RDONLY),
                        "opening network namespace of pid {}", pid);
  return Handle(std::move(fd), fmt::format("pid {}", pid));
}

Result<Handle> current() {
  auto fd = NETCTL_TRY(fs::open("/proc/thread-self/ns/net", O_RDONLY));
  return Handle(std::move(fd), "current");
}

Result<Handle> fromFd(int fd) {
  int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return errnoError(fmt::format("duplicating netns fd {}", fd));
  return Handle(UniqueFd(copy), fmt::format("fd {}", fd));
}

Result<Handle> createAnonymous() {
  auto fd = NETCTL_TRYC(newNetnsOnThread(), "creating a scratch network namespace");
  return Handle(std::move(fd), "current");
}

std::string namedPath(const std::string& stateRoot, const std::string& name) {
  return fmt::format("{}/netns/{}", stateRoot, name);
}

Result<Handle> createIn(const std::string& dir, const std::string& name) {
  auto ns = NETCTL_TRYC(createAnonymous(), "creating network namespace {}", name);
  NETCTL_TRYC(pinIn(dir, name, ns), "creating network namespace {}", name);
  return ns;
}

Result<void> pinIn(const std::string& dir, const std::string& name, const Handle& ns) {
  const std::string path = fmt::format("{}/{}", dir, name);
  const std::string link = fmt::format("{}/{}", kIpNetnsDir, name);
  auto where = fmt::format("pinning network namespace {} as {}", ns.name(), name);
  NETCTL_TRYC(ensureSharedMountDir(dir), "{}", where);
  int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
  if (fd < 0) return withContext(errnoError(path), where);
  ::close(fd);
  std::string source = fmt::format("/proc/self/fd/{}", ns.fd());
  if (::mount(source.c_str(), path.c_str(), "none", MS_BIND, nullptr) != 0) {
    auto err = errnoError("bind-mounting it");
    ::unlink(path.c_str());
    return withContext(std::move(err), where);
  }
  NETCTL_TRYC(fs::makeDirs(kIpNetnsDir), "{}", where);
  if (::symlink(path.c_str(), link.c_str()) != 0 && errno != EEXIST) {
    auto err = errnoError(fmt::format("linking {} to {}", link, path));
    (void)removeIn(dir, name);
    return withContext(std::move(err), where);
  }
  return {};
}

Result<void> removeIn(const std::string& dir, const std::string& name) {
  const std::string path = fmt::format("{}/{}", dir, name);
  const std::string link = fmt::format("{}/{}", kIpNetnsDir, name);
  if (::unlink(link.c_str()) != 0 && errno != ENOENT) return errnoError(fmt::format("removing {}", link));
  if (::umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
    return errnoError(fmt::format("unmounting network namespace {}", path));
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return errnoError(fmt::format("removing {}", path));
  return {};
}

Result<void> removeAllIn(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    if (errno == ENOENT) return {};
    return errnoError(fmt::format("listing {}", dir));
  }
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(d);
  for (const auto& name : names) {
    std::string link = fmt::format("{}/{}", kIpNetnsDir, name);
    ::unlink(link.c_str());  // ENOENT is fine: a link is only a convenience
  }
  // Detaching the directory's mount takes every namespace mount under it in one go.
  if (::umount2(dir.c_str(), MNT_DETACH) != 0 && errno != EINVAL)
    return errnoError(fmt::format("unmounting {}", dir));
  for (const auto& name : names) {
    std::string path = fmt::format("{}/{}", dir, name);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return errnoError(fmt::format("removing {}", path));
  }
  if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) return errnoError(fmt::format("removing {}", dir));
  return {};
}

Result<Handle> createNamed(const std::string& stateRoot, const std::string& name) {
  return createIn(stateRoot + "/netns", name);
}

Result<void> removeNamed(const std::string& stateRoot, const std::string& name) {
  return removeIn(stateRoot + "/netns", name);
}

Result<ScopedEnter> ScopedEnter::enter(const Handle& ns) {
  auto original = NETCTL_TRY(fs::open("/proc/thread-self/ns/net", O_RDONLY));
  if (::setns(ns.fd(), CLONE_NEWNET) != 0) return errnoError(fmt::format("entering network namespace {}", ns.name()));
  return ScopedEnter(std::move(original));
}

ScopedEnter::~ScopedEnter() {
  if (!original_) return;
  if (::setns(original_.get(), CLONE_NEWNET) != 0) {
    std::perror("netctl: returning to the original network namespace");
    std::abort();
  }
}

}  // namespace netctl::netns
