// The parent side of the launcher and the verbs that work on a node's recorded state.
#include "netctl/runtime/container.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <linux/openat2.h>
#include <thread>

#include "netctl/base/fs.h"
#include "netctl/base/process.h"
#include "netctl/runtime/cgroup.h"
#include "runtime/contain.h"
#include "runtime/plan.h"
#include "runtime/record.h"
#include "runtime/steps.h"
#include "runtime/sync.h"

namespace netctl::runtime {
namespace {

// The names inside a node's bundle dir (record::bundleDirOf), in one place.
namespace bundle {
constexpr char kRootfs[] = "rootfs";       // the mount point of the node's root
constexpr char kUpper[] = "upper";         // the overlay's upper layer and work dir
constexpr char kWork[] = "work";
constexpr char kEtc[] = "etc";             // the /etc files of a directory rootfs
constexpr char kUpperEtc[] = "upper/etc";  // and of an overlay rootfs
constexpr char kExit[] = "exit";           // the command's exit status, written by the init
constexpr char kFifo[] = "exec.fifo";      // start opens it, then the command execs

std::string path(const std::string& bundleDir, const char* name) {
  return fmt::format("{}/{}", bundleDir, name);
}
}  // namespace bundle

// The init is our child (made without an intermediate) or came to us as to a subreaper:
// reap it, since a zombie keeps its cgroup busy. Anyone else's child is left alone.
void reapIfOurs(int pidfd) {
  siginfo_t info{};
  (void)::waitid(static_cast<idtype_t>(3 /* P_PIDFD */), static_cast<id_t>(pidfd), &info, WEXITED | WNOHANG);
}

// Undoes a half-made container: kills its init (and with it the pid namespace, the mount
// namespace and every mount in it), removes the cgroup and the state dir.
class Undo {
 public:
  explicit Undo(std::string bundleDir) : bundleDir_(std::move(bundleDir)) {}
  Undo(const Undo&) = delete;
  Undo& operator=(const Undo&) = delete;
  ~Undo() {
    if (!armed_) return;
    if (init_) {
      ::syscall(SYS_pidfd_send_signal, init_.get(), SIGKILL, nullptr, 0);
      record::waitPidfd(init_.get(), 5000);
      reapIfOurs(init_.get());
    }
    if (group_) (void)group_->destroy();
    std::error_code ec;
    std::filesystem::remove_all(bundleDir_, ec);
  }
  void setGroup(cgroup::Group group) { group_.emplace(std::move(group)); }
  const cgroup::Group& group() const { return *group_; }
  void setInit(UniqueFd pidfd) { init_ = std::move(pidfd); }
  void release() { armed_ = false; }

 private:
  std::string bundleDir_;
  std::optional<cgroup::Group> group_;
  UniqueFd init_;
  bool armed_ = true;
};

Result<std::string> resolvConfText(const Spec& spec) {
  if (spec.nameservers.empty() && spec.searchDomains.empty()) {
    auto host = fs::readFile("/etc/resolv.conf");
    return host ? *host : std::string();
  }
  std::string text;
  for (const auto& ns : spec.nameservers) text += "nameserver " + ns + "\n";
  if (!spec.searchDomains.empty()) {
    text += "search";
    for (const auto& d : spec.searchDomains) text += " " + d;
    text += "\n";
  }
  return text;
}

// A file just made is ours already: only another owner costs a chown.
Result<void> chownIn(int dir, const std::string& name, int64_t uid, int64_t gid) {
  if (uid < 0 || gid < 0) return {};
  auto u = static_cast<uid_t>(uid);
  auto g = static_cast<gid_t>(gid);
  if (u == ::geteuid() && g == ::getegid()) return {};
  if (::fchownat(dir, name.c_str(), u, g, AT_SYMLINK_NOFOLLOW) != 0)
    return errnoError(fmt::format("chown {}", name));
  return {};
}

// The bundle, made relative to its directory's fd: rootfs/ (mount point), upper/ and work/
// (overlay), the /etc files, the exit status file and the exec FIFO (bundle:: has the names).
Result<void> makeBundle(const Spec& spec, const Plan& plan) {
  const bool overlay = spec.rootfs.kind != RootfsKind::kDirectory;
  int64_t rootUid = 0, rootGid = 0, cmdUid = spec.uid, cmdGid = spec.gid;
  if (spec.namespaces.user.enabled) {
    rootUid = user_ns::hostIdOf(user_ns::uidMapOf(spec.namespaces.user), 0);
    rootGid = user_ns::hostIdOf(user_ns::gidMapOf(spec.namespaces.user), 0);
    cmdUid = user_ns::hostIdOf(user_ns::uidMapOf(spec.namespaces.user), spec.uid);
    cmdGid = user_ns::hostIdOf(user_ns::gidMapOf(spec.namespaces.user), spec.gid);
  }
  auto bundle = NETCTL_TRY(fs::open(plan.bundleDir, O_PATH | O_DIRECTORY));
  const int dir = bundle.get();
  auto makeDir = [&](const std::string& name, int64_t uid, int64_t gid) -> Result<void> {
    if (::mkdirat(dir, name.c_str(), 0755) != 0)
      return errnoError(fmt::format("creating {}/{}", plan.bundleDir, name));
    return chownIn(dir, name, uid, gid);
  };
  NETCTL_TRY(makeDir(bundle::kRootfs, -1, -1));
  NETCTL_TRY(makeDir(bundle::kEtc, -1, -1));
  std::string etc = bundle::kEtc;
  if (overlay) {
    for (const char* name : {bundle::kUpper, bundle::kWork, bundle::kUpperEtc})
      NETCTL_TRY(makeDir(name, rootUid, rootGid));
    etc = bundle::kUpperEtc;
  }
  std::string resolv = NETCTL_TRY(resolvConfText(spec));
  const std::pair<const char*, std::string> files[] = {
      {"hosts", hostsFileText(spec.hostname, spec.hosts ? *spec.hosts : std::vector<HostEntry>{})},
      {"hostname", spec.hostname + "\n"},
      {"resolv.conf", resolv}};
  for (const auto& [name, text] : files) {
    std::string path = fmt::format("{}/{}", etc, name);
    NETCTL_TRY(fs::writeFileAt(dir, path, text, O_CREAT | O_EXCL | O_NOFOLLOW));
    NETCTL_TRY(chownIn(dir, path, rootUid, rootGid));
  }
  NETCTL_TRY(fs::writeFileAt(dir, bundle::kExit, "", O_CREAT | O_EXCL | O_NOFOLLOW));
  if (::mknodat(dir, bundle::kFifo, S_IFIFO | 0600, 0) != 0)
    return errnoError(fmt::format("mkfifo {}", bundle::path(plan.bundleDir, bundle::kFifo)));
  // The command opens it after switching to its own uid.
  NETCTL_TRY(chownIn(dir, bundle::kFifo, cmdUid, cmdGid));
  return {};
}

Result<seccomp::Program> seccompFor(const Spec& spec, uint64_t capMask, const std::string& root) {
  switch (spec.security.seccomp.mode) {
    case SeccompMode::kUnconfined:
      return seccomp::Program{};
    case SeccompMode::kDefault:
      return seccomp::load(seccomp::defaultProfile(), capMask, root);
    case SeccompMode::kFile: {
      auto text = NETCTL_TRYC(fs::readFile(spec.security.seccomp.file), "seccomp profile");
      return NETCTL_TRYC(seccomp::load(text, capMask, root), "seccomp profile {}", spec.security.seccomp.file);
    }
  }
  return seccomp::Program{};
}

int joinFlagsOf(const Spec& spec) {
  const Namespaces& ns = spec.namespaces;
  int flags = CLONE_NEWNS;
  if (ns.user.enabled) flags |= CLONE_NEWUSER;
  if (ns.pid) flags |= CLONE_NEWPID;
  if (ns.uts) flags |= CLONE_NEWUTS;
  if (ns.ipc) flags |= CLONE_NEWIPC;
  if (ns.net) flags |= CLONE_NEWNET;
  if (ns.cgroup) flags |= CLONE_NEWCGROUP;
  return flags;
}

std::string describeChildEnd(const Result<sync::Received>& r) {
  return r ? "an unexpected message" : r.error().what();
}

Result<int> readExitCode(const std::string& bundleDir) {
  auto text = fs::readFile(bundle::path(bundleDir, bundle::kExit));
  if (!text || text->empty()) return notFound("no exit status yet");
  return exitCodeOf(std::atoi(text->c_str()));
}

State stateOf(const record::Record& r) {
  State st;
  st.name = r.name;
  st.bundleDir = r.bundleDir;
  st.initPid = r.initPid;
  st.commandPid = r.commandPid;
  if (auto g = cgroup::Group::open(r.cgroupParent, r.name)) st.cgroupPaths = g->paths();
  auto code = readExitCode(r.bundleDir);
  if (code) st.exitCode = *code;
  bool initAlive = record::openPidfd(r.initPid, r.initStart).has_value();
  if (!initAlive) {
    st.status = Status::kGone;
  } else if (code) {
    st.status = Status::kStopped;
  } else if (fs::exists(bundle::path(r.bundleDir, bundle::kFifo))) {
    st.status = Status::kCreated;
  } else {
    st.status = Status::kRunning;
  }
  return st;
}

}  // namespace

std::string defaultStateRoot() {
  const char* env = std::getenv("NETCTL_ROOT");
  return env && *env ? env : "/run/netctl";
}

std::string_view statusName(Status status) {
  switch (status) {
    case Status::kCreated: return "created";
    case Status::kRunning: return "running";
    case Status::kStopped: return "stopped";
    case Status::kGone: return "gone";
  }
  return "?";
}

std::string State::namespacePath(const std::string& kind) const {
  return fmt::format("/proc/{}/ns/{}", initPid, kind);
}

Runtime::Runtime(std::string stateRoot) : root_(std::move(stateRoot)) {}

Result<State> Runtime::create(const Spec& specIn, const CreateOptions& options) {
  Spec spec = specIn;
  if (spec.hostname.empty()) spec.hostname = spec.name;
  if (spec.cgroupParent.empty()) spec.cgroupParent = cgroup::defaultParent();
  const std::string what = fmt::format("creating container {}", spec.name);
  NETCTL_TRYC(validate(spec), "{}", what);

  Plan plan;
  plan.spec = &spec;
  plan.capMask = NETCTL_TRYC(capabilityMask(spec.security), "{}", what);
  plan.seccomp = NETCTL_TRYC(seccompFor(spec, plan.capMask, root_), "{}", what);
  plan.bundleDir = record::bundleDirOf(root_, spec.name);
  plan.rootfsDir = bundle::path(plan.bundleDir, bundle::kRootfs);
  plan.upperDir = bundle::path(plan.bundleDir, bundle::kUpper);
  plan.workDir = bundle::path(plan.bundleDir, bundle::kWork);
  plan.etcDir = bundle::path(plan.bundleDir, bundle::kEtc);
  plan.lowerDir = spec.rootfs.kind == RootfsKind::kHost ? "/" : spec.rootfs.path;
  plan.argv.push_back(spec.command);
  plan.argv.insert(plan.argv.end(), spec.args.begin(), spec.args.end());
  plan.env = spec.env;
  plan.stdio[0] = options.stdio.in;
  plan.stdio[1] = options.stdio.out;
  plan.stdio[2] = options.stdio.err;

  NETCTL_TRYC(fs::makeDirs(record::containersDir(root_), 0711), "{}", what);
  if (::mkdir(plan.bundleDir.c_str(), 0711) != 0) {
    if (errno == EEXIST) return conflict(fmt::format("{}: a container of that name exists", what));
    return withContext(errnoError(fmt::format("creating {}", plan.bundleDir)), what);
  }
  Undo undo(plan.bundleDir);
  NETCTL_TRYC(makeBundle(spec, plan), "{}: state dir", what);
  undo.setGroup(NETCTL_TRYC(cgroup::Group::create(spec.cgroupParent, spec.name, spec.limits), "{}: cgroup", what));
  // Without a user namespace the init joins the v1 hierarchies itself (see cgroup.h); with one,
  // it may not write there, and the parent moves it.
  if (!spec.namespaces.user.enabled) plan.cgroup = &undo.group();
  // A wiring callback finds the netns through the init's pid, so the init must be in it first.
  plan.netFromParent = spec.namespaces.net && !spec.namespaces.user.enabled && !options.wireNetwork;

  auto status = NETCTL_TRYC(fs::open(bundle::path(plan.bundleDir, bundle::kExit), O_WRONLY), "{}", what);
  auto fifo = NETCTL_TRYC(fs::open(bundle::path(plan.bundleDir, bundle::kFifo), O_PATH), "{}", what);
  auto pair = NETCTL_TRYC(sync::makePair(), "{}", what);
  plan.statusFd = status.get();
  plan.fifoFd = fifo.get();
  plan.syncFd = pair.child.get();
  plan.parentSyncFd = pair.parent.get();

  ChildProcess intermediate;
  pid_t initPid = 0;  // known now without a user namespace; from the init's hello with one
  if (spec.namespaces.user.enabled) {
    pid_t pid = ::fork();
    if (pid < 0) return withContext(errnoError("fork"), what);
    if (pid == 0) {
      pair.parent.reset();
      contain::runIntermediate(plan);
    }
    intermediate = ChildProcess(pid);
  } else {
    pid_t pid = NETCTL_TRYC(contain::forkInitFromParent(plan), "{}", what);
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (!pidfd) {
      ::kill(pid, SIGKILL);
      return withContext(errnoError("pidfd_open of the node's init"), what);
    }
    undo.setInit(std::move(pidfd));
    initPid = pid;
  }
  pair.child.reset();
  status.reset();
  fifo.reset();

  // The cgroup2 placement, whose write may wait for an RCU grace period, and the netns, which
  // takes most of a millisecond to make, are made while the init makes its mounts, on the other
  // CPU. Without a user namespace the init waits for "go" before it joins the v1 hierarchies,
  // makes its cgroup namespace and forks the command, so nothing of the node runs outside the
  // cgroup.
  auto failed = [&](Error e) -> Result<State> {
    // A child that failed first has said why: that is the better error.
    auto said = sync::receive(pair.parent.get());
    if (said && said->msg == sync::Msg::kError) return std::unexpected(std::move(*said->error).context(what));
    return std::unexpected(std::move(e).context(what));
  };
  if (initPid > 0) {
    if (auto r = undo.group().attachUnifiedFromParent(initPid); !r)
      return failed(std::move(r).error().context("joining the cgroup"));
  }
  UniqueFd net;
  if (plan.netFromParent) {
    auto made = newNetnsOnThread();
    if (!made) return failed(std::move(made).error().context("making the network namespace"));
    net = std::move(*made);
  }

  auto hello = sync::receive(pair.parent.get());
  if (hello && hello->msg == sync::Msg::kError)
    return std::unexpected(std::move(*hello->error).context(what));
  if (!hello || hello->msg != sync::Msg::kHello)
    return withContext(sysError(EPROTO, fmt::format("the node's init did not start: {}", describeChildEnd(hello))), what);
  if (intermediate.valid()) {
    initPid = hello->pid;
    NETCTL_TRYC(intermediate.wait(), "{}", what);
    undo.setInit(NETCTL_TRYC(record::openPidfd(initPid, record::startTimeOf(initPid)), "{}: the node's init", what));
    NETCTL_TRYC(user_ns::writeIdMapsFromParent(initPid, spec.namespaces.user), "{}", what);
    NETCTL_TRYC(undo.group().attach(initPid), "{}: joining the cgroup", what);
  }
  if (options.wireNetwork) NETCTL_TRYC(options.wireNetwork(initPid), "{}: wiring the network", what);
  if (auto r = sync::send(pair.parent.get(), sync::Msg::kGo, net ? net.get() : -1); !r)
    return failed(std::move(r).error());
  net.reset();

  auto ready = sync::receive(pair.parent.get());
  if (ready && ready->msg == sync::Msg::kError) return std::unexpected(std::move(*ready->error).context(what));
  if (!ready || ready->msg != sync::Msg::kReady)
    return withContext(sysError(EPROTO, fmt::format("the node ended during its setup: {}", describeChildEnd(ready))), what);

  record::Record rec;
  rec.name = spec.name;
  rec.bundleDir = plan.bundleDir;
  const char* etc = spec.rootfs.kind == RootfsKind::kDirectory ? bundle::kEtc : bundle::kUpperEtc;
  rec.hostsFile = fmt::format("{}/hosts", etc);
  rec.initPid = initPid;
  rec.initStart = record::startTimeOf(initPid);
  rec.commandPid = ready->pid;
  rec.commandStart = record::startTimeOf(ready->pid);
  rec.cgroupParent = spec.cgroupParent;
  rec.capMask = plan.capMask;
  rec.noNewPrivileges = spec.security.noNewPrivileges;
  rec.seccompHash = plan.seccomp.empty() ? "" : plan.seccomp.hash;
  rec.uid = spec.uid;
  rec.gid = spec.gid;
  rec.groups = spec.additionalGids;
  rec.env = spec.env;
  rec.cwd = spec.cwd;
  rec.joinFlags = joinFlagsOf(spec);
  NETCTL_TRYC(record::write(rec), "{}: writing the state", what);
  undo.release();
  State st;
  st.name = rec.name;
  st.status = Status::kCreated;
  st.initPid = rec.initPid;
  st.commandPid = rec.commandPid;
  st.bundleDir = rec.bundleDir;
  st.cgroupPaths = undo.group().paths();
  return st;
}

Result<void> Runtime::start(const std::string& name) {
  const std::string what = fmt::format("starting container {}", name);
  auto rec = NETCTL_TRYC(record::read(root_, name), "{}", what);
  std::string fifoPath = bundle::path(rec.bundleDir, bundle::kFifo);
  // Pinned before the FIFO opens: a short command may exec and exit right after that.
  auto command = record::openPidfd(rec.commandPid, rec.commandStart);
  if (!command && fs::exists(fifoPath)) return withContext(sysError(ESRCH, "the command process is gone"), what);
  UniqueFd fifo(::open(fifoPath.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fifo) {
    if (errno == ENOENT) return conflict(fmt::format("{}: already started", what));
    return withContext(errnoError(fmt::format("opening {}", fifoPath)), what);
  }
  // The command's exec closes the FIFO (POLLHUP); a failed exec writes its errno first.
  pollfd fds[2] = {{fifo.get(), POLLIN, 0}, {command->get(), POLLIN, 0}};
  for (;;) {
    int rc = ::poll(fds, 2, 10000);
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) return withContext(sysError(ETIMEDOUT, "the command did not exec"), what);
    if (fds[0].revents) break;
    if (fds[1].revents) return withContext(sysError(ESRCH, "the command process ended before its exec"), what);
  }
  int err = 0;
  ssize_t n = ::read(fifo.get(), &err, sizeof err);
  ::unlink(fifoPath.c_str());
  if (n == sizeof err)
    return withContext(sysError(err, fmt::format("exec of the command")), what);
  return {};
}

Result<void> Runtime::kill(const std::string& name, int signal) {
  const std::string what = fmt::format("signalling container {}", name);
  auto rec = NETCTL_TRYC(record::read(root_, name), "{}", what);
  auto init = NETCTL_TRYC(record::openPidfd(rec.initPid, rec.initStart), "{}: its init", what);
  // Created, not started: the init is suspended in the command's vfork until the exec and
  // cannot forward a signal, so the command, waiting on the exec FIFO with default
  // dispositions, takes it itself, and the node stops as a running one would. SIGKILL still
  // ends the node.
  if (signal != SIGKILL && fs::exists(bundle::path(rec.bundleDir, bundle::kFifo))) {
    if (auto command = record::openPidfd(rec.commandPid, rec.commandStart)) {
      if (::syscall(SYS_pidfd_send_signal, command->get(), signal, nullptr, 0) != 0)
        return withContext(errnoError(fmt::format("sending signal {} to the command", signal)), what);
      return {};
    }
  }
  if (::syscall(SYS_pidfd_send_signal, init.get(), signal, nullptr, 0) != 0)
    return withContext(errnoError(fmt::format("sending signal {}", signal)), what);
  return {};
}

Result<int> Runtime::wait(const std::string& name, std::optional<std::chrono::milliseconds> timeout) {
  const std::string what = fmt::format("waiting for container {}", name);
  auto rec = NETCTL_TRYC(record::read(root_, name), "{}", what);
  auto deadline = std::chrono::steady_clock::now() + timeout.value_or(std::chrono::hours(24 * 365));
  auto remainingMs = [&] {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    return static_cast<int>(std::clamp<int64_t>(left.count(), 0, 1000));
  };
  // The init writes the status right after it reaps the command, usually within tens of
  // microseconds: poll for it with a backoff from 20 us. (Not inotify: closing an inotify
  // instance waits for an SRCU grace period, ~10 ms.)
  auto backoff = std::chrono::microseconds(20);
  for (;;) {
    if (auto code = readExitCode(rec.bundleDir)) return *code;
    if (auto command = record::openPidfd(rec.commandPid, rec.commandStart)) {
      record::waitPidfd(command->get(), remainingMs());
    } else if (record::openPidfd(rec.initPid, rec.initStart)) {
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::microseconds(1000));
    } else {
      if (auto code = readExitCode(rec.bundleDir)) return *code;
      return withContext(sysError(ESRCH, "the node's init is gone without an exit status"), what);
    }
    if (std::chrono::steady_clock::now() >= deadline) return conflict(fmt::format("{}: timed out", what));
  }
}

Result<State> Runtime::state(const std::string& name) {
  auto rec = NETCTL_TRYC(record::read(root_, name), "state of container {}", name);
  return stateOf(rec);
}

Result<std::vector<std::string>> Runtime::list() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(record::containersDir(root_), ec)) {
    if (entry.is_directory(ec)) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

Result<void> Runtime::destroy(const std::string& name) {
  const std::string what = fmt::format("deleting container {}", name);
  std::string bundleDir = record::bundleDirOf(root_, name);
  std::string parent = cgroup::defaultParent();
  if (!fs::exists(bundleDir)) {
    // No state (lost with a reboot or a wiped state root): a cgroup may still be there.
    if (auto group = cgroup::Group::open(parent, name)) NETCTL_TRYC(group->destroy(), "{}: cgroup", what);
    return {};
  }
  if (auto rec = record::read(root_, name)) {
    parent = rec->cgroupParent;
    if (auto init = record::openPidfd(rec->initPid, rec->initStart)) {
      ::syscall(SYS_pidfd_send_signal, init->get(), SIGKILL, nullptr, 0);
      if (!record::waitPidfd(init->get(), 10000))
        return withContext(sysError(ETIMEDOUT, "the node's init did not die"), what);
      reapIfOurs(init->get());
    }
  }
  // The cgroup kills and waits for whatever is left (everything, when there was no pid ns).
  auto group = cgroup::Group::open(parent, name);
  if (group) {
    NETCTL_TRYC(group->destroy(), "{}: cgroup", what);
  } else if (group.error().kind() != Error::Kind::kNotFound) {
    return std::unexpected(std::move(group).error().context(what));
  }
  std::error_code ec;
  std::filesystem::remove_all(bundleDir, ec);
  if (ec) return withContext(sysError(ec.value(), fmt::format("removing {}", bundleDir)), what);
  return {};
}

Result<void> Runtime::writeHosts(const std::string& name, const std::string& content) {
  const std::string what = fmt::format("writing /etc/hosts of container {}", name);
  auto rec = NETCTL_TRYC(record::read(root_, name), "{}", what);
  auto dir = NETCTL_TRYC(fs::open(rec.bundleDir, O_PATH | O_DIRECTORY), "{}", what);
  // The node owns upper/etc: a symlink it planted there must not lead the write onto the host.
  open_how how{};
  how.flags = O_WRONLY | O_TRUNC | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  UniqueFd fd(static_cast<int>(::syscall(SYS_openat2, dir.get(), rec.hostsFile.c_str(), &how, sizeof how)));
  if (!fd) return withContext(errnoError(fmt::format("opening {}", rec.hostsFile)), what);
  // In place (same inode), so the overlay and the bind mount see the new text at once.
  if (::write(fd.get(), content.data(), content.size()) != static_cast<ssize_t>(content.size()))
    return withContext(errnoError("writing"), what);
  return {};
}

}  // namespace netctl::runtime
