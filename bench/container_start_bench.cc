// Container start: netctl's runtime core against crun and runc, in one run, same settings.
//
// Every runtime starts /bin/true with new pid, net, ipc, uts, mount and cgroup namespaces,
// cgroup limits (memory 64 MiB, pids 64, 1 CPU), the same capabilities (Docker's default set
// plus NET_ADMIN), no_new_privs, the same masked and read-only paths, and the same seccomp
// profile (netctl's configs/seccomp/default.json, given to crun and runc as linux.seccomp).
// Runs are interleaved (netctl, crun, runc, netctl, ...) so that load changes hit all three.
//
//   netctl "to exec":  Runtime::create + start (start returns once /bin/true has exec'd)
//   netctl "full run": create + start + wait + destroy, the same work as `crun run`
//   crun/runc:         `<runtime> run -b BUNDLE ID` (create, start, wait, delete)
//
// crun 1.8 refuses a hybrid cgroup host, so its runs join a private mount namespace in which
// /sys/fs/cgroup/unified is unmounted (the benchmark prints this). runc handles hybrid itself.
// Usage: container_start_bench [RUNS]   (default 200)
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "netctl/base/fs.h"
#include "netctl/runtime/container.h"
#include "netctl/runtime/seccomp.h"
#include "netctl/runtime/spec.h"
#include "support/sandbox.h"

namespace {

using Clock = std::chrono::steady_clock;
using netctl::runtime::Spec;

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// CPU time (user + system) of this process and of every reaped descendant: it does not count
// the wait for a CPU, so unlike the wall time it barely moves with the load of the machine.
double cpuMs() {
  rusage self{}, kids{};
  ::getrusage(RUSAGE_SELF, &self);
  ::getrusage(RUSAGE_CHILDREN, &kids);
  auto tv = [](const timeval& t) { return static_cast<double>(t.tv_sec) * 1000 + static_cast<double>(t.tv_usec) / 1000; };
  return tv(self.ru_utime) + tv(self.ru_stime) + tv(kids.ru_utime) + tv(kids.ru_stime);
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

Spec benchSpec(const std::string& name, bool userns) {
  Spec spec;
  spec.name = name;
  spec.command = "/bin/true";
  spec.limits.memoryBytes = 64 << 20;
  spec.limits.pids = 64;
  spec.limits.cpus = 1.0;
  spec.namespaces.user.enabled = userns;
  return spec;
}

nlohmann::json ociConfig(const std::string& cgroupsPath) {
  using nlohmann::json;
  json caps = json::array();
  for (const auto& c : netctl::runtime::defaultCapabilities()) caps.push_back("CAP_" + c);
  json mounts = json::array({
      {{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
      {{"destination", "/dev"}, {"type", "tmpfs"}, {"source", "tmpfs"},
       {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
      {{"destination", "/dev/pts"}, {"type", "devpts"}, {"source", "devpts"},
       {"options", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}}},
      {{"destination", "/dev/shm"}, {"type", "tmpfs"}, {"source", "shm"},
       {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}},
      {{"destination", "/dev/mqueue"}, {"type", "mqueue"}, {"source", "mqueue"},
       {"options", {"nosuid", "noexec", "nodev"}}},
      {{"destination", "/sys"}, {"type", "sysfs"}, {"source", "sysfs"},
       {"options", {"nosuid", "noexec", "nodev", "ro"}}},
      // The host's /usr stands in for netctl's host overlay: one mount of the host's files.
      {{"destination", "/usr"}, {"type", "bind"}, {"source", "/usr"}, {"options", {"rbind", "ro"}}},
      {{"destination", "/tmp"}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", {"nosuid", "nodev", "mode=1777"}}},
      {{"destination", "/run"}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", {"nosuid", "nodev", "mode=755"}}},
  });
  json config = {
      {"ociVersion", "1.0.2"},
      {"process",
       {{"terminal", false},
        {"user", {{"uid", 0}, {"gid", 0}}},
        {"args", {"/bin/true"}},
        {"env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"}},
        {"cwd", "/"},
        {"capabilities",
         {{"bounding", caps}, {"effective", caps}, {"permitted", caps}, {"inheritable", caps}, {"ambient", caps}}},
        {"noNewPrivileges", true}}},
      {"root", {{"path", "rootfs"}, {"readonly", false}}},
      {"hostname", "bench"},
      {"mounts", mounts},
      {"linux",
       {{"resources",
         {{"memory", {{"limit", 64 << 20}}}, {"pids", {{"limit", 64}}}, {"cpu", {{"quota", 100000}, {"period", 100000}}}}},
        {"cgroupsPath", cgroupsPath},
        {"namespaces", json::array({{{"type", "pid"}}, {{"type", "network"}}, {{"type", "ipc"}}, {{"type", "uts"}},
                                    {{"type", "mount"}}, {{"type", "cgroup"}}})},
        {"maskedPaths", netctl::runtime::defaultMaskedPaths()},
        {"readonlyPaths", netctl::runtime::defaultReadonlyPaths()},
        {"seccomp", json::parse(netctl::seccomp::defaultProfile())}}},
  };
  return config;
}

// A bundle whose rootfs is the host's /usr (bound by the config) plus merged-/usr symlinks.
bool makeBundle(const std::string& dir, const std::string& cgroupsPath) {
  namespace f = std::filesystem;
  std::error_code ec;
  f::create_directories(dir + "/rootfs/usr", ec);
  for (const char* d : {"proc", "dev", "sys", "tmp", "run", "etc"}) f::create_directories(dir + "/rootfs/" + d, ec);
  for (const char* l : {"bin", "lib", "lib64", "sbin"}) f::create_directory_symlink(std::string("usr/") + l, dir + "/rootfs/" + l, ec);
  return netctl::fs::writeFile(dir + "/config.json", ociConfig(cgroupsPath).dump(1), O_CREAT | O_TRUNC).has_value();
}

// Runs argv to completion; mntns >= 0: join that mount namespace first.
double runTool(const std::vector<std::string>& argv, int mntns) {
  auto t0 = Clock::now();
  pid_t pid = ::fork();
  if (pid == 0) {
    if (mntns >= 0 && ::setns(mntns, CLONE_NEWNS) != 0) ::_exit(120);
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  double t = ms(Clock::now() - t0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? t : -1;
}

// A mount namespace like ours but without the cgroup2 mount, held open by fd.
int hiddenCgroup2Namespace() {
  int pipefd[2];
  if (::pipe(pipefd) != 0) return -1;
  pid_t pid = ::fork();
  if (pid == 0) {
    bool ok = ::unshare(CLONE_NEWNS) == 0 && ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0 &&
              ::umount2("/sys/fs/cgroup/unified", MNT_DETACH) == 0;
    char c = ok ? 'y' : 'n';
    (void)!::write(pipefd[1], &c, 1);
    ::pause();
    ::_exit(0);
  }
  char c = 0;
  (void)!::read(pipefd[0], &c, 1);
  int fd = c == 'y' ? ::open(fmt::format("/proc/{}/ns/mnt", pid).c_str(), O_RDONLY | O_CLOEXEC) : -1;
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  ::close(pipefd[0]);
  ::close(pipefd[1]);
  return fd;
}

bool have(const char* tool) {
  return std::system(fmt::format("command -v {} >/dev/null 2>&1", tool).c_str()) == 0;
}

void printRow(const char* name, const std::vector<double>& v, double base) {
  if (v.empty()) {
    std::printf("  %-28s %s\n", name, "not measured");
    return;
  }
  double m = median(v);
  std::printf("  %-28s median %7.2f ms  p10 %7.2f  p90 %7.2f  n=%zu", name, m, percentile(v, 0.1), percentile(v, 0.9),
              v.size());
  if (base > 0) std::printf("  (%.1fx netctl full run)", m / base);
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  auto box = netctl::sandbox::enter();
  if (!box) {
    std::fprintf(stderr, "sandbox: %s\n", box.error().what().c_str());
    return 1;
  }
  // The host's PID 1 may not reap; the node inits come to us instead.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  int runs = argc > 1 ? std::atoi(argv[1]) : 200;
  netctl::runtime::Runtime rt;

  const std::string work = rt.stateRoot() + "/bench";
  const std::string parent = box->cgroupParent;
  bool withCrun = have("crun"), withRunc = have("runc");
  if (withCrun) withCrun = makeBundle(work + "/crun", parent + "/crun");
  if (withRunc) withRunc = makeBundle(work + "/runc", parent + "/runc");
  int crunNs = withCrun ? hiddenCgroup2Namespace() : -1;
  if (withCrun && crunNs < 0) {
    std::printf("crun: could not hide the cgroup2 mount; crun not measured\n");
    withCrun = false;
  }
  std::printf("container start, %d runs each, interleaved; /bin/true with pid, net, ipc, uts, mount, cgroup\n"
              "namespaces, memory/pids/cpu limits, default caps + NET_ADMIN, no_new_privs, netctl's default\n"
              "seccomp profile (the same JSON for all three)\n",
              runs);
  if (withCrun)
    std::printf("crun: runs inside a private mount namespace where /sys/fs/cgroup/unified is unmounted\n"
                "      (crun 1.8 refuses hybrid cgroup hosts); cgroupsPath %s/crun/N\n", parent.c_str());

  std::vector<double> toExec, full, fullUserns, crun, runc;
  std::vector<double> phases[4];  // create, start, wait, destroy
  std::vector<double> cpuNetctl, cpuCrun, cpuRunc;
  auto netctlRun = [&](int i, bool userns, std::vector<double>* execOut, std::vector<double>* fullOut) {
    std::string name = fmt::format("bench{}{}", userns ? "u" : "", i);
    double c0 = cpuMs();
    auto t0 = Clock::now();
    auto st = rt.create(benchSpec(name, userns));
    if (!st) {
      std::fprintf(stderr, "netctl: %s\n", st.error().what().c_str());
      return false;
    }
    auto tc = Clock::now();
    auto started = rt.start(name);
    auto t1 = Clock::now();
    auto code = rt.wait(name);
    auto tw = Clock::now();
    auto gone = rt.destroy(name);
    auto t2 = Clock::now();
    if (execOut && !userns) {
      phases[0].push_back(ms(tc - t0));
      phases[1].push_back(ms(t1 - tc));
      phases[2].push_back(ms(tw - t1));
      phases[3].push_back(ms(t2 - tw));
    }
    ::waitpid(st->initPid, nullptr, WNOHANG);
    if (!started || !code || *code != 0 || !gone) {
      std::fprintf(stderr, "netctl run %d failed\n", i);
      return false;
    }
    if (execOut) execOut->push_back(ms(t1 - t0));
    if (fullOut) fullOut->push_back(ms(t2 - t0));
    if (execOut && !userns) cpuNetctl.push_back(cpuMs() - c0);
    return true;
  };
  // Warm-up: page cache, the seccomp cache, the runtimes' own caches.
  for (int i = 0; i < 3; ++i) {
    if (!netctlRun(-1 - i, false, nullptr, nullptr)) return 1;
    if (withCrun) runTool({"crun", "run", "-b", work + "/crun", fmt::format("w{}", i)}, crunNs);
    if (withRunc) runTool({"runc", "run", "-b", work + "/runc", fmt::format("w{}", i)}, -1);
  }
  for (int i = 0; i < runs; ++i) {
    if (!netctlRun(i, false, &toExec, &full)) return 1;
    if (i % 4 == 0 && !netctlRun(i, true, nullptr, &fullUserns)) return 1;
    if (withCrun) {
      // A fresh cgroupsPath per run would leave directories; crun removes its own on delete.
      double c0 = cpuMs();
      double t = runTool({"crun", "run", "-b", work + "/crun", fmt::format("c{}", i)}, crunNs);
      if (t >= 0) crun.push_back(t);
      if (t >= 0) cpuCrun.push_back(cpuMs() - c0);
    }
    if (withRunc) {
      double c0 = cpuMs();
      double t = runTool({"runc", "run", "-b", work + "/runc", fmt::format("r{}", i)}, -1);
      if (t >= 0) runc.push_back(t);
      if (t >= 0) cpuRunc.push_back(cpuMs() - c0);
    }
  }
  double base = median(full);
  std::printf("\nresults (ms):\n");
  printRow("netctl spec -> exec", toExec, 0);
  printRow("netctl full run", full, 0);
  printRow("netctl full run + user ns", fullUserns, 0);
  std::printf("  netctl phases (median ms): create %.2f, start %.2f, wait %.2f, destroy %.2f\n", median(phases[0]),
              median(phases[1]), median(phases[2]), median(phases[3]));
  printRow("crun run", crun, base);
  printRow("runc run", runc, base);
  if (!crun.empty()) std::printf("  crun / netctl (full run): %.2fx   (target >= 2x)\n", median(crun) / base);
  if (!runc.empty()) std::printf("  runc / netctl (full run): %.2fx   (target >= 5x)\n", median(runc) / base);
  std::printf("  netctl spec -> exec median %.2f ms (target <= 5 ms)\n", median(toExec));
  std::printf("\nCPU time per full run (user+sys of the runtime and the container, median ms; robust to load):\n");
  std::printf("  netctl %.2f", median(cpuNetctl));
  if (!cpuCrun.empty()) std::printf("   crun %.2f (%.1fx)", median(cpuCrun), median(cpuCrun) / median(cpuNetctl));
  if (!cpuRunc.empty()) std::printf("   runc %.2f (%.1fx)", median(cpuRunc), median(cpuRunc) / median(cpuNetctl));
  std::printf("\n");
  double loads[3] = {};
  if (::getloadavg(loads, 3) > 0) std::printf("  machine load average during the run: %.2f\n", loads[0]);

  // The RSS of an idle node's init.
  Spec idle = benchSpec("bench-idle", false);
  idle.command = "sleep";
  idle.args = {"1000"};
  if (auto st = rt.create(idle); st && rt.start("bench-idle")) {
    ::usleep(100000);
    auto status = netctl::fs::readFile(fmt::format("/proc/{}/status", st->initPid));
    auto pos = status ? status->find("VmRSS:") : std::string::npos;
    if (pos != std::string::npos)
      std::printf("  idle node init VmRSS: %ld KiB (target <= 1024 KiB)\n", std::atol(status->c_str() + pos + 6));
    (void)rt.destroy("bench-idle");
    ::waitpid(st->initPid, nullptr, WNOHANG);
  }
  // crun/runc leave their cgroup parents (they remove only the leaf).
  for (const char* ctrl : {"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "systemd",
                           "unified", ""}) {
    for (const char* rt2 : {"crun", "runc"})
      ::rmdir(fmt::format("/sys/fs/cgroup/{}/{}/{}", ctrl, parent, rt2).c_str());
    ::rmdir(fmt::format("/sys/fs/cgroup/{}/{}", ctrl, parent).c_str());
  }
  std::error_code ec;
  std::filesystem::remove_all(work, ec);
  netctl::sandbox::leave();
  return 0;
}
