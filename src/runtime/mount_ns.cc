#include "runtime/mount_ns.h"

#include <fcntl.h>
#include <sched.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>

#include "netctl/base/fs.h"

namespace netctl::runtime::mount_ns {
namespace {

std::string fdPath(int fd) { return fmt::format("/proc/self/fd/{}", fd); }

// Opens path (absolute, inside the rootfs) with every ".." and symlink kept inside the root.
Result<UniqueFd> openInRoot(int rootFd, const std::string& path, int flags = O_PATH) {
  size_t first = path.find_first_not_of('/');
  const std::string rel = first == std::string::npos ? std::string(".") : path.substr(first);
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  int fd = static_cast<int>(::syscall(SYS_openat2, rootFd, rel.c_str(), &how, sizeof how));
  if (fd < 0) return errnoError(fmt::format("opening {} inside the rootfs", path));
  return UniqueFd(fd);
}

// openInRoot, creating what is missing: directories along the way, and the last component as a
// directory or an empty file (a bind mount target must match its source's type).
Result<UniqueFd> makeInRoot(int rootFd, const std::string& path, bool directory) {
  if (auto fd = openInRoot(rootFd, path)) return fd;
  std::string prefix;
  size_t pos = 0;
  while (pos < path.size()) {
    size_t next = path.find('/', pos + 1);
    std::string component = path.substr(pos + 1, next == std::string::npos ? next : next - pos - 1);
    std::string parent = prefix.empty() ? "/" : prefix;
    prefix.push_back('/');
    prefix.append(component);
    pos = next == std::string::npos ? path.size() : next;
    if (component.empty() || openInRoot(rootFd, prefix)) continue;
    auto parentFd = NETCTL_TRY(openInRoot(rootFd, parent, O_RDONLY | O_DIRECTORY));
    bool last = pos >= path.size();
    if (last && !directory) {
      int fd = ::openat(parentFd.get(), component.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
      if (fd < 0 && errno != EEXIST) return errnoError(fmt::format("creating {} inside the rootfs", prefix));
      if (fd >= 0) ::close(fd);
    } else if (::mkdirat(parentFd.get(), component.c_str(), 0755) != 0 && errno != EEXIST) {
      return errnoError(fmt::format("creating directory {} inside the rootfs", prefix));
    }
  }
  return openInRoot(rootFd, path);
}

Result<void> mountOnFd(const char* source, int targetFd, const char* type, unsigned long flags,
                       const std::string& data, const std::string& what) {
  if (::mount(source, fdPath(targetFd).c_str(), type, flags, data.empty() ? nullptr : data.c_str()) != 0)
    return errnoError(fmt::format("mounting {}", what));
  return {};
}

// A read-only remount must keep the flags the kernel locked on the mount (nosuid, nodev,
// noexec), or it fails with EPERM in a user namespace.
unsigned long lockedFlags(const char* path) {
  struct statvfs st{};
  if (::statvfs(path, &st) != 0) return 0;
  unsigned long flags = 0;
  if (st.f_flag & ST_NOSUID) flags |= MS_NOSUID;
  if (st.f_flag & ST_NODEV) flags |= MS_NODEV;
  if (st.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
  if (st.f_flag & ST_NOATIME) flags |= MS_NOATIME;
  if (st.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
  if (st.f_flag & ST_RELATIME) flags |= MS_RELATIME;
  return flags;
}

Result<void> remountReadonly(const std::string& path) {
  if (::mount(nullptr, path.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | lockedFlags(path.c_str()),
              nullptr) != 0)
    return errnoError(fmt::format("remounting {} read-only", path));
  return {};
}

Result<UniqueFd> rootFd(const Plan& plan) {
  return fs::open(plan.rootfsDir, O_PATH | O_DIRECTORY);
}

size_t depthOf(const std::string& target) {
  return static_cast<size_t>(std::count(target.begin(), target.end(), '/'));
}

Result<void> bindInChild(int root, const BindMount& b) {
  auto source = NETCTL_TRYC(fs::open(b.source, O_PATH), "bind {}", b.target);
  struct stat st{};
  if (::fstat(source.get(), &st) != 0) return errnoError(fmt::format("bind source {}", b.source));
  auto target = NETCTL_TRYC(makeInRoot(root, b.target, S_ISDIR(st.st_mode)), "bind {}", b.target);
  auto from = fdPath(source.get()), to = fdPath(target.get());
  if (::mount(from.c_str(), to.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
    return errnoError(fmt::format("binding {} on {}", b.source, b.target));
  if (!b.readonly) return {};
  auto again = NETCTL_TRY(openInRoot(root, b.target));
  NETCTL_TRYC(remountReadonly(fdPath(again.get())), "bind {}", b.target);
  return {};
}

Result<void> tmpfsInChild(int root, const TmpfsMount& t) {
  auto target = NETCTL_TRYC(makeInRoot(root, t.target, true), "tmpfs {}", t.target);
  return mountOnFd("tmpfs", target.get(), "tmpfs", MS_NOSUID | MS_NODEV, t.options, "tmpfs on " + t.target);
}

}  // namespace

Result<void> makePrivateInChild() {
  // Nothing the node mounts may propagate back to the host (or the host's mounts to the node).
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return errnoError("making / private");
  return {};
}

// The overlay (or the directory's bind) on plan.rootfsDir.
Result<void> mountRootfs(const Plan& plan);

Result<void> mountRootfsInChild(const Plan& plan) {
  const Spec& spec = *plan.spec;
  if (spec.namespaces.user.enabled) {
    // Mounted by the intermediate (mountRootfsBeforeUserNs) and now locked in this namespace:
    // a bind of it onto itself is a mount of our own, which pivot_root accepts.
    if (::mount(plan.rootfsDir.c_str(), plan.rootfsDir.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
      return errnoError("binding the rootfs onto itself");
    return {};
  }
  return mountRootfs(plan);
}

Result<void> mountRootfsBeforeUserNs(const Plan& plan) {
  if (::unshare(CLONE_NEWNS) != 0) return errnoError("unshare(CLONE_NEWNS)");
  NETCTL_TRY(makePrivateInChild());
  return mountRootfs(plan);
}

Result<void> mountRootfs(const Plan& plan) {
  const Spec& spec = *plan.spec;
  if (spec.rootfs.kind == RootfsKind::kDirectory) {
    if (::mount(spec.rootfs.path.c_str(), plan.rootfsDir.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
      return errnoError(fmt::format("binding directory {}", spec.rootfs.path));
    return {};
  }
  for (const auto* dir : {&plan.lowerDir, &plan.upperDir, &plan.workDir}) {
    if (dir->find_first_of(",:") != std::string::npos)
      return invalidInput(fmt::format("{}: overlayfs cannot take a path with ',' or ':'", *dir));
  }
  struct stat st{};
  if (::stat(plan.lowerDir.c_str(), &st) != 0) return errnoError(fmt::format("lower layer {}", plan.lowerDir));
  if (!S_ISDIR(st.st_mode)) return sysError(ENOTDIR, fmt::format("lower layer {}", plan.lowerDir));
  std::string data = fmt::format("lowerdir={},upperdir={},workdir={}", plan.lowerDir, plan.upperDir, plan.workDir);
  if (::mount("overlay", plan.rootfsDir.c_str(), "overlay", 0, data.c_str()) != 0)
    return errnoError(fmt::format("mounting the overlay (lower {}, upper {})", plan.lowerDir, plan.upperDir));
  return {};
}

Result<void> mountSpecMountsInChild(const Plan& plan) {
  // Parents before children, as Docker sorts them: a bind on /tmp/x goes onto the node's /tmp
  // tmpfs instead of being hidden under it. Equal depths keep the spec's order.
  struct Step {
    size_t depth;
    const BindMount* bind;
    const TmpfsMount* tmpfs;
  };
  std::vector<Step> steps;
  for (const auto& b : plan.spec->binds) steps.push_back({depthOf(b.target), &b, nullptr});
  for (const auto& t : plan.spec->tmpfs) steps.push_back({depthOf(t.target), nullptr, &t});
  std::stable_sort(steps.begin(), steps.end(),
                   [](const Step& a, const Step& b) { return a.depth < b.depth; });
  auto root = NETCTL_TRY(rootFd(plan));
  for (const auto& step : steps)
    NETCTL_TRY(step.bind ? bindInChild(root.get(), *step.bind) : tmpfsInChild(root.get(), *step.tmpfs));
  return {};
}

Result<void> mountProcInChild(const Plan& plan) {
  auto root = NETCTL_TRY(rootFd(plan));
  auto target = NETCTL_TRY(makeInRoot(root.get(), "/proc", true));
  return mountOnFd("proc", target.get(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "", "proc on /proc");
}

Result<void> mountSysInChild(const Plan& plan) {
  auto root = NETCTL_TRY(rootFd(plan));
  auto target = NETCTL_TRY(makeInRoot(root.get(), "/sys", true));
  // A fresh sysfs, mounted from inside the node's netns, lists only the node's own devices.
  return mountOnFd("sysfs", target.get(), "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "",
                   "sysfs on /sys");
}

Result<void> mountDevInChild(const Plan& plan) {
  const Spec& spec = *plan.spec;
  auto root = NETCTL_TRY(rootFd(plan));
  {
    auto target = NETCTL_TRY(makeInRoot(root.get(), "/dev", true));
    NETCTL_TRY(mountOnFd("tmpfs", target.get(), "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k",
                         "tmpfs on /dev"));
  }
  auto dev = NETCTL_TRY(openInRoot(root.get(), "/dev", O_RDONLY | O_DIRECTORY));
  // Device nodes: made with mknod, as runc and crun do, which costs no mount; inside a user
  // namespace mknod is refused, and they are bound from the host's /dev instead.
  for (const char* name : {"null", "zero", "full", "random", "urandom", "tty"}) {
    std::string host = fmt::format("/dev/{}", name);
    struct stat st{};
    if (::stat(host.c_str(), &st) != 0 || !S_ISCHR(st.st_mode)) continue;
    if (!spec.namespaces.user.enabled) {
      if (::mknodat(dev.get(), name, S_IFCHR | 0666, st.st_rdev) != 0)
        return errnoError(fmt::format("mknod /dev/{}", name));
      // The umask must not narrow the mode.
      if (::fchmodat(dev.get(), name, 0666, 0) != 0) return errnoError(fmt::format("chmod /dev/{}", name));
      continue;
    }
    int fd = ::openat(dev.get(), name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0666);
    if (fd < 0) return errnoError(fmt::format("creating /dev/{}", name));
    ::close(fd);
    auto node = NETCTL_TRY(fs::openAt(dev.get(), name, O_PATH | O_NOFOLLOW));
    if (::mount(host.c_str(), fdPath(node.get()).c_str(), nullptr, MS_BIND, nullptr) != 0)
      return errnoError(fmt::format("binding {}", host));
  }
  auto sub = [&](const char* name, const char* type, unsigned long flags, std::string data) -> Result<void> {
    if (::mkdirat(dev.get(), name, 0755) != 0) return errnoError(fmt::format("creating /dev/{}", name));
    auto fd = NETCTL_TRY(fs::openAt(dev.get(), name, O_PATH | O_DIRECTORY | O_NOFOLLOW));
    return mountOnFd(type, fd.get(), type, flags, data, fmt::format("{} on /dev/{}", type, name));
  };
  std::string ptsData = "newinstance,ptmxmode=0666,mode=0620";
  if (!spec.namespaces.user.enabled) ptsData += ",gid=5";
  NETCTL_TRY(sub("pts", "devpts", MS_NOSUID | MS_NOEXEC, ptsData));
  NETCTL_TRY(sub("shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k"));
  if (spec.namespaces.ipc) NETCTL_TRY(sub("mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, ""));
  const std::array<std::pair<const char*, const char*>, 5> links = {{{"pts/ptmx", "ptmx"},
                                                                      {"/proc/self/fd", "fd"},
                                                                      {"/proc/self/fd/0", "stdin"},
                                                                      {"/proc/self/fd/1", "stdout"},
                                                                      {"/proc/self/fd/2", "stderr"}}};
  for (const auto& [to, name] : links) {
    if (::symlinkat(to, dev.get(), name) != 0) return errnoError(fmt::format("linking /dev/{}", name));
  }
  return {};
}

Result<void> bindEtcFilesInChild(const Plan& plan) {
  auto root = NETCTL_TRY(rootFd(plan));
  for (const char* name : {"hosts", "hostname", "resolv.conf"}) {
    std::string target = fmt::format("/etc/{}", name);
    auto fd = NETCTL_TRYC(makeInRoot(root.get(), target, false), "{}", target);
    std::string source = fmt::format("{}/{}", plan.etcDir, name);
    if (::mount(source.c_str(), fdPath(fd.get()).c_str(), nullptr, MS_BIND, nullptr) != 0)
      return errnoError(fmt::format("binding {} on {}", source, target));
  }
  return {};
}

Result<void> pivotRootInChild(const Plan& plan) {
  auto root = NETCTL_TRY(fs::open(plan.rootfsDir, O_RDONLY | O_DIRECTORY));
  if (::fchdir(root.get()) != 0) return errnoError("entering the new root");
  // pivot_root(".", ".") stacks the old root on top of the new one; unmounting "." then
  // detaches the old root without needing a directory for it inside the rootfs.
  if (::syscall(SYS_pivot_root, ".", ".") != 0) return errnoError("pivot_root");
  if (::mount(nullptr, ".", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return errnoError("making the old root private");
  if (::umount2(".", MNT_DETACH) != 0) return errnoError("detaching the old root");
  if (::chdir("/") != 0) return errnoError("chdir /");
  return {};
}

Result<void> maskPathsInChild(const std::vector<std::string>& paths) {
  // Directories get one empty read-only tmpfs, bound onto the later ones: a superblock per
  // masked directory would cost each node's memory cgroup, when it goes, a walk over them all.
  const std::string* emptyDir = nullptr;
  for (const auto& path : paths) {
    struct stat st{};
    if (::lstat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) continue;
      return errnoError(fmt::format("masking {}", path));
    }
    int rc = 0;
    if (!S_ISDIR(st.st_mode)) {
      rc = ::mount("/dev/null", path.c_str(), nullptr, MS_BIND, nullptr);
    } else if (emptyDir) {
      rc = ::mount(emptyDir->c_str(), path.c_str(), nullptr, MS_BIND, nullptr);
    } else {
      rc = ::mount("tmpfs", path.c_str(), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0");
      emptyDir = &path;
    }
    if (rc != 0) return errnoError(fmt::format("masking {}", path));
  }
  return {};
}

Result<void> readonlyPathsInChild(const std::vector<std::string>& paths) {
  for (const auto& path : paths) {
    if (::mount(path.c_str(), path.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
      if (errno == ENOENT) continue;
      return errnoError(fmt::format("binding {} onto itself", path));
    }
    NETCTL_TRY(remountReadonly(path));
  }
  return {};
}

Result<void> remountRootReadonlyInChild() { return remountReadonly("/"); }

}  // namespace netctl::runtime::mount_ns
