// exec into a running node: `netctl exec LAB NODE -- cmd`.
//
//   caller (maybe multi-threaded)
//     fork -> joiner: join the node's cgroup, setns(pidfd, all its namespaces), fork (the pid
//             namespace applies to children only), wait and pass on the exit code
//               -> process: [pty] -> stdio -> uid/gid -> seccomp if no NNP -> caps -> NNP
//                  -> cwd -> close fds -> seccomp last -> exec
//   The process's errors reach the caller over the launcher channel; a successful exec closes it.
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "netctl/base/process.h"
#include "netctl/runtime/cgroup.h"
#include "netctl/runtime/container.h"
#include "netctl/runtime/seccomp.h"
#include "runtime/contain.h"
#include "runtime/record.h"
#include "runtime/steps.h"
#include "runtime/sync.h"

namespace netctl::runtime {
namespace {

[[noreturn]] void failInChild(int syncFd, const Error& error) {
  sync::sendError(syncFd, error);
  ::_exit(126);
}

std::vector<std::string> mergedEnv(const std::vector<std::string>& base, const std::vector<std::string>& extra) {
  std::vector<std::string> out = base;
  for (const auto& e : extra) {
    auto key = e.substr(0, e.find('=') + 1);
    std::erase_if(out, [&](const std::string& x) { return x.rfind(key, 0) == 0; });
    out.push_back(e);
  }
  return out;
}

struct ExecPlan {
  const record::Record* rec;
  const ExecOptions* options;
  seccomp::Program seccomp;
  std::vector<std::string> env;
  int syncFd;
};

// A pty of the node's own devpts; the master goes to the caller.
Result<void> openPtyInChild(int syncFd) {
  UniqueFd master(::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!master) return errnoError("opening /dev/ptmx");
  if (::grantpt(master.get()) != 0 || ::unlockpt(master.get()) != 0) return errnoError("unlocking the pty");
  char name[64];
  if (::ptsname_r(master.get(), name, sizeof name) != 0) return errnoError("ptsname");
  NETCTL_TRY(sync::send(syncFd, sync::Msg::kFd, master.get()));
  if (::setsid() < 0) return errnoError("setsid");
  UniqueFd slave(::open(name, O_RDWR | O_CLOEXEC));
  if (!slave) return errnoError(fmt::format("opening {}", name));
  if (::ioctl(slave.get(), TIOCSCTTY, 0) != 0) return errnoError("TIOCSCTTY");
  for (int i = 0; i < 3; ++i)
    if (::dup2(slave.get(), i) < 0) return errnoError("dup2 of the pty");
  return {};
}

Result<std::string> prepareProcessInChild(const ExecPlan& p) {
  const record::Record& rec = *p.rec;
  const ExecOptions& o = *p.options;
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (o.tty) {
    NETCTL_TRYC(openPtyInChild(p.syncFd), "pty");
  } else {
    const int want[3] = {o.stdio.in, o.stdio.out, o.stdio.err};
    for (int i = 0; i < 3; ++i)
      if (want[i] >= 0 && want[i] != i && ::dup2(want[i], i) < 0) return errnoError("dup2 of stdio");
  }
  NETCTL_TRYC(caps::dropBoundingInChild(rec.capMask), "capabilities");
  if (!rec.noNewPrivileges) NETCTL_TRYC(seccomp::applyInChild(p.seccomp), "seccomp");
  NETCTL_TRYC(user_ns::switchUserInChild(o.uid.value_or(rec.uid), o.gid.value_or(rec.gid), rec.groups), "user");
  NETCTL_TRYC(caps::applyInChild(rec.capMask), "capabilities");
  if (rec.noNewPrivileges) NETCTL_TRYC(caps::setNoNewPrivsInChild(), "no_new_privs");
  std::string cwd = o.cwd.empty() ? rec.cwd : o.cwd;
  if (::chdir(cwd.c_str()) != 0) return errnoError(fmt::format("chdir {}", cwd));
  auto path = NETCTL_TRYC(contain::resolveCommand(o.argv.at(0), p.env), "command");
  contain::closeFdsExcept({p.syncFd});
  return path;
}

[[noreturn]] void runProcess(const ExecPlan& p) {
  auto path = prepareProcessInChild(p);
  if (!path) failInChild(p.syncFd, path.error());
  if (p.rec->noNewPrivileges) {
    if (auto r = seccomp::applyInChild(p.seccomp); !r) failInChild(p.syncFd, r.error());
  }
  std::vector<char*> argv, envp;
  for (const auto& a : p.options->argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : p.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  ::execve(path->c_str(), argv.data(), envp.data());
  failInChild(p.syncFd, errnoError(fmt::format("exec {}", *path)).error());
}

[[noreturn]] void runJoiner(const ExecPlan& p, int initPidfd, const cgroup::Group* group) {
  if (group) {
    if (auto r = group->attach(::getpid()); !r) failInChild(p.syncFd, r.error().context("joining the cgroup"));
  }
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  if (::setns(initPidfd, p.rec->joinFlags) != 0)
    failInChild(p.syncFd, errnoError("joining the node's namespaces").error());
  if (p.rec->joinFlags & CLONE_NEWUSER) {
    if (auto r = user_ns::becomeRootInChild(); !r) failInChild(p.syncFd, r.error());
  }
  pid_t pid = ::fork();
  if (pid < 0) failInChild(p.syncFd, errnoError("fork").error());
  if (pid == 0) runProcess(p);
  ::close(p.syncFd);
  // The caller's SIGINT/SIGTERM (a terminal's ^C goes to the pty instead) reach the process.
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  ::_exit(exitCodeOf(status));
}

// Raw mode on the caller's terminal while a pty session runs.
class RawTerminal {
 public:
  explicit RawTerminal(int fd) : fd_(fd) {
    if (::isatty(fd) && ::tcgetattr(fd, &saved_) == 0) {
      termios raw = saved_;
      ::cfmakeraw(&raw);
      active_ = ::tcsetattr(fd, TCSANOW, &raw) == 0;
    }
  }
  ~RawTerminal() {
    if (active_) ::tcsetattr(fd_, TCSANOW, &saved_);
  }
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

 private:
  int fd_;
  termios saved_{};
  bool active_ = false;
};

bool copyOnce(int from, int to) {
  char buf[16384];
  ssize_t n = ::read(from, buf, sizeof buf);
  if (n <= 0) return n < 0 && (errno == EINTR || errno == EAGAIN);
  for (ssize_t off = 0; off < n;) {
    ssize_t w = ::write(to, buf + off, static_cast<size_t>(n - off));
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    off += w;
  }
  return true;
}

// Relays the caller's stdio to the pty master until the session ends.
void relayPty(int master, const Stdio& stdio, int joinerPidfd) {
  int in = stdio.in >= 0 ? stdio.in : 0;
  int out = stdio.out >= 0 ? stdio.out : 1;
  RawTerminal raw(in);
  winsize ws{};
  if (::ioctl(in, TIOCGWINSZ, &ws) == 0) ::ioctl(master, TIOCSWINSZ, &ws);
  bool inOpen = true;
  for (;;) {
    pollfd fds[3] = {{master, POLLIN, 0}, {inOpen ? in : -1, POLLIN, 0}, {joinerPidfd, POLLIN, 0}};
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      if (!copyOnce(master, out)) return;  // EIO: the last slave fd closed
    }
    if (fds[1].revents & (POLLIN | POLLHUP)) {
      if (!copyOnce(in, master)) inOpen = false;
    }
    if (fds[2].revents && !(fds[0].revents & POLLIN)) return;
  }
}

}  // namespace

Result<int> Runtime::exec(const std::string& name, const ExecOptions& options) {
  const std::string what = fmt::format("exec in container {}", name);
  if (options.argv.empty()) return invalidInput(fmt::format("{}: no command", what));
  auto rec = NETCTL_TRYC(record::read(root_, name), "{}", what);
  auto init = NETCTL_TRYC(record::openPidfd(rec.initPid, rec.initStart), "{}: the node is not running", what);
  ExecPlan plan{&rec, &options, {}, mergedEnv(rec.env, options.env), -1};
  plan.seccomp = NETCTL_TRYC(seccomp::loadCached(rec.seccompHash, root_), "{}", what);
  std::optional<cgroup::Group> group;
  if (auto g = cgroup::Group::open(rec.cgroupParent, rec.name)) group.emplace(std::move(*g));
  auto pair = NETCTL_TRYC(sync::makePair(), "{}", what);
  plan.syncFd = pair.child.get();

  pid_t pid = ::fork();
  if (pid < 0) return withContext(errnoError("fork"), what);
  if (pid == 0) {
    pair.parent.reset();
    runJoiner(plan, init.get(), group ? &*group : nullptr);
  }
  ChildProcess joiner(pid);
  pair.child.reset();

  UniqueFd master;
  for (;;) {
    auto msg = sync::receive(pair.parent.get());
    if (!msg) break;  // closed by the exec: the command runs
    if (msg->msg == sync::Msg::kError) {
      // Let the joiner reap the failed process: killed first, it would leave that zombie to
      // our subreaper rather than to the node's init, and the node could then never end.
      (void)joiner.wait();
      return std::unexpected(std::move(*msg->error).context(what));
    }
    if (msg->msg == sync::Msg::kFd) master = std::move(msg->fd);
  }
  if (master) {
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    relayPty(master.get(), options.stdio, pidfd.get());
  }
  int status = NETCTL_TRYC(joiner.wait(), "{}", what);
  return exitCodeOf(status);
}

}  // namespace netctl::runtime
