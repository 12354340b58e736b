// The child side of the launcher. Three processes, each with one short list of steps:
//
//   intermediate (only with a user namespace; forked by the parent, in the host's namespaces)
//     rlimits -> rootfs overlay (see mount_ns.h) -> unshare(user, mount, pid, uts, ipc, net)
//     -> fork the init -> exit
//   (without a user namespace the parent forks the init into a new pid namespace directly,
//   and the init starts with rlimits -> unshare(mount, uts, ipc); the parent makes its netns
//   meanwhile, unless a wiring callback needs it through the init's pid before "go")
//   init (PID 1 of the node)
//     hello -> [user ns: wait for go (id maps, cgroup, network done by the parent) -> root of the
//     user ns] -> mounts private -> rootfs -> spec mounts -> /proc -> /dev -> [no user ns: wait
//     for go (cgroup2 placement, netns and network, made by the parent meanwhile) -> enter the
//     netns] -> /sys -> join the v1 cgroups -> cgroup ns -> lo + sysctls -> pivot_root
//     -> masked paths -> read-only paths -> hostname -> the command's stdio, other fds closed
//     -> vfork the command -> the init loop (node_init.cc)
//   command (its stdio set up by the init before the vfork)
//     signals reset -> session -> uid/gid -> capabilities -> no_new_privs -> cwd
//     -> resolve argv[0] -> close fds -> ready -> wait for start -> seccomp (last) -> exec
#include "runtime/contain.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstring>

#include "runtime/mount_ns.h"
#include "runtime/node_init.h"
#include "runtime/steps.h"
#include "runtime/sync.h"

namespace netctl::runtime::contain {
namespace {

[[noreturn]] void failInChild(int syncFd, const Error& error) {
  sync::sendError(syncFd, error);
  ::_exit(1);
}

int newNamespaceFlags(const Plan& plan) {
  const Namespaces& ns = plan.spec->namespaces;
  int flags = CLONE_NEWNS;
  if (ns.user.enabled) flags |= CLONE_NEWUSER;
  if (ns.pid) flags |= CLONE_NEWPID;
  if (ns.uts) flags |= CLONE_NEWUTS;
  if (ns.ipc) flags |= CLONE_NEWIPC;
  if (ns.net && !plan.netFromParent) flags |= CLONE_NEWNET;
  return flags;  // the cgroup ns comes later, once the init is in its cgroup
}

Result<void> applyRlimits(const std::vector<Rlimit>& limits) {
  for (const auto& r : limits) {
    rlimit value{r.soft, r.hard};
    if (::setrlimit(static_cast<__rlimit_resource>(r.resource), &value) != 0)
      return errnoError(fmt::format("setrlimit({})", r.resource));
  }
  return {};
}

Result<void> unshareCgroupInChild() {
  if (::unshare(CLONE_NEWCGROUP) != 0) return errnoError("unshare(CLONE_NEWCGROUP)");
  return {};
}

// Blocks until the parent says "go", and returns the netns fd that came with it, if any; when
// the parent gave up instead, it cleans up after us.
UniqueFd waitForGoInChild(int syncFd) {
  auto go = sync::receive(syncFd);
  if (!go || go->msg != sync::Msg::kGo) ::_exit(1);
  return std::move(go->fd);
}

Result<void> setUpContainerInChild(const Plan& plan) {
  const Spec& spec = *plan.spec;
  const bool userNs = spec.namespaces.user.enabled;
  if (userNs) waitForGoInChild(plan.syncFd);  // the id maps first: files made below need them
  if (userNs) NETCTL_TRYC(user_ns::becomeRootInChild(), "user namespace");
  NETCTL_TRYC(mount_ns::makePrivateInChild(), "mount namespace");
  NETCTL_TRYC(mount_ns::mountRootfsInChild(plan), "rootfs");
  NETCTL_TRYC(mount_ns::mountSpecMountsInChild(plan), "mounts");
  NETCTL_TRYC(mount_ns::mountProcInChild(plan), "/proc");
  NETCTL_TRYC(mount_ns::mountDevInChild(plan), "/dev");
  if (spec.rootfs.kind == RootfsKind::kDirectory) NETCTL_TRYC(mount_ns::bindEtcFilesInChild(plan), "/etc files");
  if (!userNs) {
    // The cgroup2 placement, the netns and the network, made meanwhile.
    UniqueFd net = waitForGoInChild(plan.syncFd);
    if (plan.netFromParent) NETCTL_TRYC(net_ns::enterInChild(net.get()), "network namespace");
  }
  NETCTL_TRYC(mount_ns::mountSysInChild(plan), "/sys");  // in the node's netns: it lists its devices
  if (plan.cgroup) NETCTL_TRYC(plan.cgroup->joinLegacyInChild(), "joining the cgroup");
  if (spec.namespaces.cgroup) NETCTL_TRYC(unshareCgroupInChild(), "cgroup namespace");
  // The sysctls go through the host's /proc, still ours until the pivot (the node's turns
  // read-only below), and after the wiring, so they may name a wired interface.
  NETCTL_TRYC(net_ns::setUpInChild(spec), "network namespace");
  NETCTL_TRYC(mount_ns::pivotRootInChild(plan), "pivot_root");
  NETCTL_TRYC(mount_ns::maskPathsInChild(spec.security.maskedPaths), "masked paths");
  NETCTL_TRYC(mount_ns::readonlyPathsInChild(spec.security.readonlyPaths), "read-only paths");
  if (spec.rootfs.readonly) NETCTL_TRYC(mount_ns::remountRootReadonlyInChild(), "read-only rootfs");
  if (spec.namespaces.uts) NETCTL_TRYC(uts_ns::setHostnameInChild(spec.hostname), "hostname");
  return {};
}

Result<void> resetSignalsInChild() {
  sigset_t none;
  sigemptyset(&none);
  if (::sigprocmask(SIG_SETMASK, &none, nullptr) != 0) return errnoError("sigprocmask");
  for (int s = 1; s < NSIG; ++s) {
    if (s == SIGKILL || s == SIGSTOP) continue;
    ::signal(s, SIG_DFL);
  }
  return {};
}

Result<void> setStdioInChild(const int (&stdio)[3]) {
  // Dup everything out of the way first, so a source that is itself 0, 1 or 2 survives.
  int high[3];
  for (int i = 0; i < 3; ++i) {
    high[i] = stdio[i] >= 0 ? ::fcntl(stdio[i], F_DUPFD_CLOEXEC, 10) : ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (high[i] < 0) return errnoError(fmt::format("preparing fd {}", i));
  }
  for (int i = 0; i < 3; ++i) {
    if (::dup2(high[i], i) < 0) return errnoError(fmt::format("dup2 onto fd {}", i));
    ::close(high[i]);
  }
  return {};
}

Result<void> enterCwdInChild(const std::string& cwd) {
  if (::chdir(cwd.c_str()) != 0) return errnoError(fmt::format("chdir {}", cwd));
  // A cwd outside the root (an fd leaked from the host, CVE-2024-21626) shows up here.
  char buf[PATH_MAX];
  if (!::getcwd(buf, sizeof buf) || buf[0] != '/') return sysError(EPERM, fmt::format("cwd {} is outside the root", cwd));
  return {};
}

Result<std::string> prepareCommandInChild(const Plan& plan) {
  const Spec& spec = *plan.spec;
  NETCTL_TRYC(resetSignalsInChild(), "signals");
  if (::setsid() < 0) return errnoError("setsid");
  NETCTL_TRYC(caps::dropBoundingInChild(plan.capMask), "capabilities");
  // Without no_new_privs a filter needs CAP_SYS_ADMIN, so it goes on while still root.
  if (!spec.security.noNewPrivileges) NETCTL_TRYC(seccomp::applyInChild(plan.seccomp), "seccomp");
  NETCTL_TRYC(user_ns::switchUserInChild(spec.uid, spec.gid, spec.additionalGids), "user {}:{}", spec.uid, spec.gid);
  NETCTL_TRYC(caps::applyInChild(plan.capMask), "capabilities");
  if (spec.security.noNewPrivileges) NETCTL_TRYC(caps::setNoNewPrivsInChild(), "no_new_privs");
  NETCTL_TRYC(enterCwdInChild(spec.cwd), "cwd");
  auto path = NETCTL_TRYC(resolveCommand(spec.command, plan.env), "command");
  closeFdsExcept({plan.syncFd, plan.fifoFd});
  return path;
}

std::vector<char*> cStrings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// The command process. Errors before the start go to the parent over the channel; an exec
// failure goes to whoever runs start, over the exec FIFO.
[[noreturn]] void runCommand(const Plan& plan) {
  auto path = prepareCommandInChild(plan);
  if (!path) failInChild(plan.syncFd, path.error());
  (void)sync::send(plan.syncFd, sync::Msg::kReady);
  ::close(plan.syncFd);
  // Blocks until `start` opens the FIFO for reading.
  int fifo = ::open(fmt::format("/proc/self/fd/{}", plan.fifoFd).c_str(), O_WRONLY | O_CLOEXEC);
  if (fifo < 0) ::_exit(126);
  ::close(plan.fifoFd);
  if (plan.spec->security.noNewPrivileges) {
    if (auto r = seccomp::applyInChild(plan.seccomp); !r) {
      int err = r.error().errnum();
      (void)!::write(fifo, &err, sizeof err);
      ::_exit(126);
    }
  }
  auto argv = cStrings(plan.argv);
  auto envp = cStrings(plan.env);
  ::execve(path->c_str(), argv.data(), envp.data());
  int err = errno;
  (void)!::write(fifo, &err, sizeof err);
  ::_exit(127);
}

[[noreturn]] void runInit(const Plan& plan) {
  (void)sync::send(plan.syncFd, sync::Msg::kHello);
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  if (auto r = setUpContainerInChild(plan); !r) failInChild(plan.syncFd, r.error());
  // The command's stdio is ours for the vfork, and every fd it does not need goes first: an
  // init suspended until the command's exec must not hold the caller's pipes open.
  if (auto r = setStdioInChild(plan.stdio); !r) failInChild(plan.syncFd, r.error().context("stdio"));
  closeFdsExcept({plan.syncFd, plan.fifoFd, plan.statusFd});
  node_init::blockSignalsInChild();
  // vfork: the command borrows the init's memory until its exec, so no page table is copied
  // (the init's pages are still the caller's, megabytes of them in a lab) and the exec has no
  // copy to tear down. The init is single-threaded and stays suspended meanwhile; what the
  // command allocates is the init's to release (node_init.cc releases all of it).
  pid_t command = ::vfork();
  if (command < 0) failInChild(plan.syncFd, errnoError("forking the command").error());
  if (command == 0) runCommand(plan);
  closeFdsExcept({plan.statusFd});
  for (int fd = 0; fd < 3; ++fd) {
    int null = ::open("/dev/null", O_RDWR);
    if (null >= 0 && null != fd) {
      ::dup2(null, fd);
      ::close(null);
    }
  }
  // The init needs only CAP_KILL (to forward signals to a command of another uid).
  (void)caps::dropBoundingInChild(uint64_t{1} << 5);
  (void)caps::applyInChild(uint64_t{1} << 5);
  node_init::runInChild(command, plan.statusFd);
}

}  // namespace

void closeFdsExcept(std::vector<int> keep) {
  std::sort(keep.begin(), keep.end());
  unsigned from = 3;
  for (int fd : keep) {
    if (fd < 3) continue;
    if (static_cast<unsigned>(fd) > from) ::close_range(from, static_cast<unsigned>(fd) - 1, 0);
    from = static_cast<unsigned>(fd) + 1;
  }
  ::close_range(from, ~0U, 0);
}

Result<std::string> resolveCommand(const std::string& name, const std::vector<std::string>& env) {
  if (name.find('/') != std::string::npos) {
    if (::access(name.c_str(), X_OK) != 0) return errnoError(fmt::format("{}", name));
    return name;
  }
  std::string path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (const auto& e : env)
    if (e.rfind("PATH=", 0) == 0) path = e.substr(5);
  for (size_t pos = 0; pos <= path.size();) {
    size_t next = path.find(':', pos);
    std::string dir = path.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    struct stat st{};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
    if (next == std::string::npos) break;
    pos = next + 1;
  }
  return sysError(ENOENT, fmt::format("{}: not found in PATH", name));
}

Result<pid_t> forkInitFromParent(const Plan& plan) {
  UniqueFd own;
  if (plan.spec->namespaces.pid) {
    own.reset(::open("/proc/thread-self/ns/pid_for_children", O_RDONLY | O_CLOEXEC));
    if (!own) return errnoError("opening our pid namespace");
    if (::unshare(CLONE_NEWPID) != 0) return errnoError("unshare(CLONE_NEWPID)");
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(plan.parentSyncFd);
    auto r = [&]() -> Result<void> {
      NETCTL_TRYC(applyRlimits(plan.spec->rlimits), "rlimits");
      if (::unshare(newNamespaceFlags(plan) & ~CLONE_NEWPID) != 0)
        return errnoError("unshare of the new namespaces");
      return {};
    }();
    if (!r) failInChild(plan.syncFd, r.error());
    runInit(plan);
  }
  int forkErrno = errno;
  // Back to our own pid namespace for whatever this thread forks next.
  if (own && ::setns(own.get(), CLONE_NEWPID) != 0) {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    return errnoError("returning to our pid namespace");
  }
  if (pid < 0) return sysError(forkErrno, "forking the node's init");
  return pid;
}

void runIntermediate(const Plan& plan) {
  auto forked = [&]() -> Result<pid_t> {
    NETCTL_TRYC(applyRlimits(plan.spec->rlimits), "rlimits");
    if (plan.spec->namespaces.user.enabled) NETCTL_TRYC(mount_ns::mountRootfsBeforeUserNs(plan), "rootfs");
    if (::unshare(newNamespaceFlags(plan)) != 0) return errnoError("unshare of the new namespaces");
    pid_t pid = ::fork();
    if (pid < 0) return errnoError("forking the node's init");
    if (pid == 0) runInit(plan);
    return pid;
  }();
  if (!forked) failInChild(plan.syncFd, forked.error());
  ::_exit(0);
}

}  // namespace netctl::runtime::contain
