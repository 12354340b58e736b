// The runtime core, end to end inside the test sandbox: containers are created from the test
// binary (which is also the probe, see probe.cc), and every claim is checked from the inside
// (the probe's report) and, where the host can see it, from the outside (/proc, /sys/fs/cgroup,
// `ip`, mountinfo).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <thread>

#include "netctl/base/fs.h"
#include "netctl/runtime/cgroup.h"
#include "netctl/runtime/container.h"
#include "netctl/runtime/seccomp.h"
#include "netctl/runtime/spawner.h"
#include "netctl/runtime/spec.h"

#include "fixture.h"

namespace netctl::runtime {
namespace {

using namespace std::chrono_literals;
using namespace fixture;

bool processGone(pid_t pid) {
  for (int i = 0; i < 200; ++i) {
    auto stat = fs::readFile(fmt::format("/proc/{}/stat", pid));
    if (!stat) return true;
    auto close = stat->rfind(')');
    if (close != std::string::npos && (*stat)[close + 2] == 'Z') {
      ::waitpid(pid, nullptr, WNOHANG);  // we are a subreaper: reap it if it came to us
    }
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

// The mappings that hold resident memory, for a failure message.
std::string smapsSummary(pid_t pid) {
  auto smaps = fs::readFile(fmt::format("/proc/{}/smaps", pid));
  if (!smaps) return "";
  std::string out, header;
  size_t pos = 0;
  while (pos < smaps->size()) {
    size_t nl = smaps->find('\n', pos);
    std::string line = smaps->substr(pos, nl - pos);
    pos = nl == std::string::npos ? smaps->size() : nl + 1;
    if (!line.empty() && std::isxdigit(static_cast<unsigned char>(line[0])) && line.find('-') < 16) header = line;
    if (line.rfind("Rss:", 0) == 0 && std::atol(line.c_str() + 4) > 0) out += line + "  " + header + "\n";
  }
  return out;
}

std::string hexMask(uint64_t mask) { return fmt::format("{:016x}", mask); }

TEST_F(RuntimeTest, ProbeSeesAnIsolatedNode) {
  auto spec = probeSpec("iso1", "report");
  auto [code, out] = run(spec);
  ASSERT_EQ(code, 0) << out;
  auto r = parseReport(out);
  // PID 1 is netctl's init, the probe its child; no host pid is visible.
  EXPECT_EQ(r["pid"], "2");
  EXPECT_EQ(r["ppid"], "1");
  EXPECT_EQ(r["procpids"], "1,2");
  EXPECT_EQ(r["hostname"], "iso1");
  EXPECT_EQ(r["netdevs"], "lo");
  EXPECT_EQ(r["procsys_write"], std::to_string(EROFS));
  EXPECT_EQ(r["sys_write"], std::to_string(EROFS));
  EXPECT_EQ(r["mount"], std::to_string(EPERM));
  EXPECT_EQ(r["timer_list_bytes"], "0");  // masked (it is kilobytes on the host)
  ASSERT_GT(fs::readFile("/proc/timer_list")->size(), 0u);
  EXPECT_EQ(r["keys_bytes"], "0");
  EXPECT_EQ(r["firmware"], "");
  auto mask = capabilityMask(spec.security);
  ASSERT_TRUE(mask);
  EXPECT_EQ(r["capeff"], hexMask(*mask));
  EXPECT_EQ(r["capprm"], hexMask(*mask));
  EXPECT_EQ(r["capbnd"], hexMask(*mask));
  EXPECT_EQ(r["nnp"], "1");
  EXPECT_EQ(r["seccomp"], "2");
  EXPECT_EQ(r["keyctl"], std::to_string(EPERM));
  EXPECT_EQ(r["uid"], "0");
  EXPECT_EQ(r["tmp_write"], "0");
  EXPECT_EQ(r["devices"], "0");  // made with mknod
  // Another device can be made (CAP_MKNOD, as in Docker) but not opened: the devices cgroup.
  if (fs::exists("/sys/fs/cgroup/devices/devices.list")) {
    EXPECT_EQ(r["fuse_open"], std::to_string(EPERM));
  }
}

TEST_F(RuntimeTest, CapabilitiesFollowTheSpec) {
  auto spec = probeSpec("caps1", "report");
  spec.security.capDrop = {"ALL"};
  spec.security.capAdd = {"NET_ADMIN", "NET_RAW"};
  auto [code, out] = run(spec);
  ASSERT_EQ(code, 0) << out;
  auto r = parseReport(out);
  uint64_t want = (uint64_t{1} << CAP_NET_ADMIN) | (uint64_t{1} << CAP_NET_RAW);
  EXPECT_EQ(r["capeff"], hexMask(want));
  EXPECT_EQ(r["capbnd"], hexMask(want));
}

TEST_F(RuntimeTest, HostSeesTheNodeFromOutside) {
  Spec spec;
  spec.name = "host1";
  spec.command = "sleep";
  spec.args = {"1000"};
  auto st = createStarted(spec);
  ASSERT_TRUE(st) << st.error().what();
  EXPECT_EQ(st->status, Status::kRunning);
  // Read back from the host's own /proc: the command's sets, NNP and seccomp mode.
  auto status = fs::readFile(fmt::format("/proc/{}/status", st->commandPid));
  ASSERT_TRUE(status);
  auto mask = capabilityMask(spec.security);
  EXPECT_NE(status->find("CapEff:\t" + hexMask(*mask)), std::string::npos) << *status;
  EXPECT_NE(status->find("NoNewPrivs:\t1"), std::string::npos);
  EXPECT_NE(status->find("Seccomp:\t2"), std::string::npos);
  // Its own namespaces, not ours.
  for (const char* ns : {"net", "mnt", "pid", "uts", "ipc", "cgroup"}) {
    struct stat mine{}, theirs{};
    ASSERT_EQ(::stat(fmt::format("/proc/self/ns/{}", ns).c_str(), &mine), 0);
    ASSERT_EQ(::stat(st->namespacePath(ns).c_str(), &theirs), 0);
    EXPECT_NE(mine.st_ino, theirs.st_ino) << ns;
  }
  // In its cgroup, in every hierarchy.
  ASSERT_FALSE(st->cgroupPaths.empty());
  for (const auto& path : st->cgroupPaths) {
    auto procs = fs::readFile(path + "/cgroup.procs");
    ASSERT_TRUE(procs) << path;
    EXPECT_NE(procs->find(std::to_string(st->initPid)), std::string::npos) << path;
  }
}

TEST_F(RuntimeTest, WiredDevicesAreTheOnlyOnesInSys) {
  auto spec = probeSpec("wire1", "report");
  CreateOptions options;
  options.wireNetwork = [](pid_t pid) -> Result<void> {
    std::string cmd = fmt::format("ip link add wire1h type veth peer name eth1 netns {} 2>&1", pid);
    std::string out = sh(cmd);
    if (!out.empty()) return sysError(EIO, out);
    return {};
  };
  auto [code, out] = run(spec, options);
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(parseReport(out)["netdevs"], "eth1,lo");
  sh("ip link del wire1h 2>/dev/null");
}

TEST_F(RuntimeTest, WiringBetweenCreateAndStartWorksToo) {
  auto spec = probeSpec("wire2", "report");
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd r(fds[0]), w(fds[1]);
  CreateOptions options;
  options.stdio.out = w.get();
  auto st = rt_.create(spec, options);
  w.reset();
  ASSERT_TRUE(st) << st.error().what();
  made_.push_back("wire2");
  EXPECT_EQ(sh(fmt::format("ip link add wire2h type veth peer name eth7 netns {} 2>&1", st->initPid)), "");
  ASSERT_TRUE(rt_.start("wire2"));
  auto rep = parseReport(readFd(r.get()));
  EXPECT_EQ(rep["netdevs"], "eth7,lo");
  sh("ip link del wire2h 2>/dev/null");
}

TEST_F(RuntimeTest, NoNewPrivsStopsSetuidRoot) {
  // A setuid-root copy of the probe, outside the node's private /tmp.
  std::string dir = fmt::format("{}/runtime-suid-{}", NETCTL_BUILD_DIR, ::getpid());
  ASSERT_TRUE(fs::makeDirs(dir, 0755));
  std::string suid = dir + "/probe";
  std::filesystem::copy_file(selfExe(), suid);
  ASSERT_EQ(::chown(suid.c_str(), 0, 0), 0);
  ASSERT_EQ(::chmod(suid.c_str(), 04755), 0);
  for (bool nnp : {true, false}) {
    auto spec = probeSpec(nnp ? "suid1" : "suid2", "euid");
    spec.command = suid;
    bindProbe(spec, suid);
    spec.uid = 1000;
    spec.gid = 1000;
    spec.security.noNewPrivileges = nnp;
    auto [code, out] = run(spec);
    EXPECT_EQ(code, 0) << out;
    // With no_new_privs the setuid bit is ignored; without it (the control) it works.
    EXPECT_EQ(parseReport(out)["euid"], nnp ? "1000" : "0") << "nnp=" << nnp;
  }
  std::filesystem::remove_all(dir);
}

TEST_F(RuntimeTest, SeccompIsCompiledOnceAndCached) {
  auto first = createStarted(probeSpec("sc1", "exit", {"0"}));
  ASSERT_TRUE(first) << first.error().what();
  uint64_t before = seccomp::compileCount();
  auto second = createStarted(probeSpec("sc2", "exit", {"0"}));
  ASSERT_TRUE(second) << second.error().what();
  EXPECT_EQ(seccomp::compileCount(), before);
  // And on disk, for later processes (exec).
  bool found = false;
  for (const auto& e : std::filesystem::directory_iterator(rt_.stateRoot() + "/seccomp"))
    found |= e.path().extension() == ".bpf";
  EXPECT_TRUE(found);
}

TEST_F(RuntimeTest, UserNamespaceRootIsUnprivilegedOnTheHost) {
  auto spec = probeSpec("userns1", "report");
  spec.namespaces.user.enabled = true;
  auto [code, out] = run(spec);
  ASSERT_EQ(code, 0) << out;
  auto r = parseReport(out);
  EXPECT_EQ(r["uid"], "0");
  EXPECT_NE(r["uidmap"].find("100000"), std::string::npos) << r["uidmap"];
  EXPECT_EQ(r["tmp_write"], "0");
  EXPECT_EQ(r["devices"], "0");  // bound from the host's /dev

  Spec sleeper;
  sleeper.name = "userns2";
  sleeper.command = "sleep";
  sleeper.args = {"1000"};
  sleeper.namespaces.user.enabled = true;
  auto st = createStarted(sleeper);
  ASSERT_TRUE(st) << st.error().what();
  auto status = fs::readFile(fmt::format("/proc/{}/status", st->commandPid));
  ASSERT_TRUE(status);
  EXPECT_NE(status->find("Uid:\t100000\t100000\t100000\t100000"), std::string::npos) << *status;
}

TEST_F(RuntimeTest, OverlayUpperLayerIsPrivate) {
  std::string hostHosts = *fs::readFile("/etc/hosts");
  Spec a;
  a.name = "ovl-a";
  a.command = "sleep";
  a.args = {"1000"};
  bindProbe(a);
  Spec b = a;
  b.name = "ovl-b";
  ASSERT_TRUE(createStarted(a));
  ASSERT_TRUE(createStarted(b));
  EXPECT_EQ(execProbe("ovl-a", "write", {"/etc/netctl-probe-private", "from-a"}).first, 0);
  // Visible in a, not on the host, not in b.
  EXPECT_FALSE(fs::exists("/etc/netctl-probe-private"));
  auto readIn = [&](const std::string& node, const std::string& path) {
    return execProbe(node, "cat", {path}).second;
  };
  EXPECT_EQ(readIn("ovl-a", "/etc/netctl-probe-private"), "from-a");
  EXPECT_EQ(readIn("ovl-b", "/etc/netctl-probe-private").rfind("<No such file", 0), 0u);
  // Each node has its own /etc/hosts and /etc/hostname; the host's are untouched.
  EXPECT_NE(readIn("ovl-a", "/etc/hosts").find("ovl-a"), std::string::npos);
  EXPECT_EQ(readIn("ovl-b", "/etc/hostname"), "ovl-b\n");
  ASSERT_TRUE(rt_.writeHosts("ovl-b", "10.0.0.1\tovl-a\n10.0.0.2\tovl-b\n"));
  EXPECT_EQ(readIn("ovl-b", "/etc/hosts"), "10.0.0.1\tovl-a\n10.0.0.2\tovl-b\n");
  EXPECT_EQ(*fs::readFile("/etc/hosts"), hostHosts);
}

TEST_F(RuntimeTest, ExecJoinsTheNode) {
  Spec spec;
  spec.name = "exec1";
  spec.command = "sleep";
  spec.args = {"1000"};
  bindProbe(spec);
  auto st = createStarted(spec);
  ASSERT_TRUE(st) << st.error().what();
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd r(fds[0]), w(fds[1]);
  ExecOptions opts;
  opts.argv = {selfExe()};
  opts.env = {"NETCTL_RUNTIME_PROBE=report"};
  opts.stdio.out = w.get();
  auto code = rt_.exec("exec1", opts);
  w.reset();
  ASSERT_TRUE(code) << code.error().what();
  EXPECT_EQ(*code, 0);
  auto rep = parseReport(readFd(r.get()));
  EXPECT_EQ(rep["hostname"], "exec1");
  EXPECT_EQ(rep["procpids"].substr(0, 4), "1,2,");
  auto mask = capabilityMask(spec.security);
  EXPECT_EQ(rep["capeff"], hexMask(*mask));
  EXPECT_EQ(rep["nnp"], "1");
  EXPECT_EQ(rep["seccomp"], "2");
  EXPECT_EQ(rep["keyctl"], std::to_string(EPERM));
  // Exit codes pass through; a missing command is an error with its cause.
  ExecOptions exit7;
  exit7.argv = {selfExe(), "7"};
  exit7.env = {"NETCTL_RUNTIME_PROBE=exit"};
  auto seven = rt_.exec("exec1", exit7);
  ASSERT_TRUE(seven);
  EXPECT_EQ(*seven, 7);
  ExecOptions missing;
  missing.argv = {"no-such-command-here"};
  auto bad = rt_.exec("exec1", missing);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().what().find("not found"), std::string::npos) << bad.error().what();
}

TEST_F(RuntimeTest, ExecWithTtyGetsAPty) {
  Spec spec;
  spec.name = "tty1";
  spec.command = "sleep";
  spec.args = {"1000"};
  bindProbe(spec);
  ASSERT_TRUE(createStarted(spec));
  int out[2], in[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(in, O_CLOEXEC), 0);
  UniqueFd outR(out[0]), outW(out[1]), inR(in[0]), inW(in[1]);
  ExecOptions opts;
  opts.argv = {selfExe()};
  opts.env = {"NETCTL_RUNTIME_PROBE=tty"};
  opts.tty = true;
  opts.stdio.in = inR.get();
  opts.stdio.out = outW.get();
  auto code = rt_.exec("tty1", opts);
  outW.reset();
  ASSERT_TRUE(code) << code.error().what();
  EXPECT_EQ(*code, 0);
  std::string text = readFd(outR.get());
  EXPECT_NE(text.find("isatty=1"), std::string::npos) << text;
  EXPECT_NE(text.find("tty=/dev/pts/0"), std::string::npos) << text;
}

TEST_F(RuntimeTest, InitForwardsSignalsAndKeepsTheNamespaces) {
  Spec spec;
  spec.name = "sig1";
  spec.command = "sleep";
  spec.args = {"1000"};
  auto st = createStarted(spec);
  ASSERT_TRUE(st) << st.error().what();
  ASSERT_TRUE(rt_.kill("sig1", SIGTERM));
  auto code = rt_.wait("sig1", 10s);
  ASSERT_TRUE(code) << code.error().what();
  EXPECT_EQ(*code, 128 + SIGTERM);
  auto after = rt_.state("sig1");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, Status::kStopped);
  EXPECT_TRUE(fs::exists(after->namespacePath("net")));
  // Stopping the init now ends the node.
  ASSERT_TRUE(rt_.kill("sig1", SIGTERM));
  EXPECT_TRUE(processGone(st->initPid));
  EXPECT_EQ(rt_.state("sig1")->status, Status::kGone);
}


// Created, never started: the init waits in the command's vfork, and a signal still stops the
// node (the command, blocked on the exec FIFO, takes it), as runc's and crun's do.
TEST_F(RuntimeTest, SignalStopsACreatedNode) {
  Spec spec;
  spec.name = "sig2";
  spec.command = "sleep";
  spec.args = {"1000"};
  auto st = rt_.create(spec);
  ASSERT_TRUE(st) << st.error().what();
  made_.push_back("sig2");
  ASSERT_TRUE(rt_.kill("sig2", SIGTERM));
  auto code = rt_.wait("sig2", 10s);
  ASSERT_TRUE(code) << code.error().what();
  EXPECT_EQ(*code, 128 + SIGTERM);
  EXPECT_EQ(rt_.state("sig2")->status, Status::kStopped);
}
TEST_F(RuntimeTest, InitReapsOrphansAndStaysSmall) {
  auto spec = probeSpec("orph1", "orphan");
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd r(fds[0]), w(fds[1]);
  CreateOptions options;
  options.stdio.out = w.get();
  auto st = createStarted(spec, options);
  w.reset();
  ASSERT_TRUE(st) << st.error().what();
  char buf[256] = {};
  ASSERT_GT(::read(r.get(), buf, sizeof buf - 1), 0);
  // Only the init and the probe: the orphan's zombie was reaped.
  EXPECT_EQ(parseReport(buf)["procpids"], "1,2");
  auto status = fs::readFile(fmt::format("/proc/{}/status", st->initPid));
  ASSERT_TRUE(status);
  auto pos = status->find("VmRSS:");
  ASSERT_NE(pos, std::string::npos);
  long rssKb = std::atol(status->c_str() + pos + 6);
  RecordProperty("init_rss_kib", static_cast<int>(rssKb));
  std::printf("init VmRSS: %ld KiB\n", rssKb);
  EXPECT_LE(rssKb, 1024) << smapsSummary(st->initPid);
}

TEST_F(RuntimeTest, NodeOutlivesItsCreator) {
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    Runtime rt;
    Spec spec;
    spec.name = "outlive1";
    spec.command = "sleep";
    spec.args = {"1000"};
    bool ok = rt.create(spec) && rt.start("outlive1");
    ::_exit(ok ? 0 : 1);
  }
  made_.push_back("outlive1");  // deleted by TearDown even when the child half-failed
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_EQ(status, 0);
  auto st = rt_.state("outlive1");
  ASSERT_TRUE(st) << st.error().what();
  EXPECT_EQ(st->status, Status::kRunning);
  EXPECT_TRUE(fs::exists(fmt::format("/proc/{}", st->commandPid)));
}

// The spawner forks the inits for a caller by spec index; the nodes are the same as the
// caller's own creates would make, they outlive the spawner, and an error keeps its context.
TEST_F(RuntimeTest, SpawnerCreatesNodesByIndex) {
  std::vector<Spec> specs(3);
  for (int i = 0; i < 3; ++i) {
    specs[i].name = fmt::format("spawned{}", i);
    specs[i].command = "sleep";
    specs[i].args = {"1000"};
  }
  specs[2].command = "/no/such/command";
  pid_t spawnerPid = 0;
  {
    auto sp = Spawner::start(rt_, specs);
    ASSERT_TRUE(sp) << sp.error().what();
    specs[1].name = "changed";  // the spawner has its own copy
    for (int i : {1, 0}) {
      auto init = sp->create(static_cast<size_t>(i));
      ASSERT_TRUE(init) << init.error().what();
      made_.push_back(fmt::format("spawned{}", i));
      auto st = rt_.state(fmt::format("spawned{}", i));
      ASSERT_TRUE(st) << st.error().what();
      EXPECT_EQ(st->initPid, *init);
      EXPECT_EQ(st->status, Status::kCreated);
      // The spawner, not this process, is the init's parent.
      auto stat = fs::readFile(fmt::format("/proc/{}/stat", *init));
      ASSERT_TRUE(stat);
      spawnerPid = std::stoi(stat->substr(stat->rfind(')') + 4));
      EXPECT_NE(spawnerPid, ::getpid());
    }
    auto bad = sp->create(2);
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().what().find("/no/such/command"), std::string::npos) << bad.error().what();
    EXPECT_FALSE(rt_.state("spawned2"));  // nothing left of the failed create
  }
  EXPECT_TRUE(processGone(spawnerPid));
  ASSERT_TRUE(rt_.start("spawned0"));
  auto st = rt_.state("spawned0");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->status, Status::kRunning);
}

TEST_F(RuntimeTest, DeleteLeavesNothing) {
  Spec spec;
  spec.name = "del1";
  spec.command = "sleep";
  spec.args = {"1000"};
  spec.limits.pids = 64;
  auto st = createStarted(spec);
  ASSERT_TRUE(st) << st.error().what();
  std::string mountsBefore = *fs::readFile("/proc/self/mountinfo");
  auto paths = st->cgroupPaths;
  ASSERT_FALSE(paths.empty());
  ASSERT_TRUE(rt_.destroy("del1"));
  made_.clear();
  EXPECT_TRUE(processGone(st->initPid));
  EXPECT_TRUE(processGone(st->commandPid));
  for (const auto& p : paths) EXPECT_FALSE(fs::exists(p)) << p;
  EXPECT_FALSE(fs::exists(st->bundleDir));
  EXPECT_EQ(*fs::readFile("/proc/self/mountinfo"), mountsBefore);
  EXPECT_EQ(fs::readFile("/proc/self/mountinfo")->find("containers/del1"), std::string::npos);
  // Deleting again is fine.
  EXPECT_TRUE(rt_.destroy("del1"));
}

// cgroup limits, seen from inside (the probe's experience) and read back from the host.
std::string controllerFile(const State& st, const std::string& controller, const std::string& file) {
  for (const auto& p : st.cgroupPaths) {
    if (p.find("/" + controller) != std::string::npos || fs::exists(p + "/" + file)) {
      if (fs::exists(p + "/" + file)) return p + "/" + file;
    }
  }
  return "";
}

TEST_F(RuntimeTest, MemoryHogIsKilledAtTheLimit) {
  auto spec = probeSpec("mem1", "memhog", {"512"});
  spec.limits.memoryBytes = 64 << 20;
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd r(fds[0]), w(fds[1]);
  CreateOptions options;
  options.stdio.out = w.get();
  auto st = createStarted(spec, options);
  w.reset();
  ASSERT_TRUE(st) << st.error().what();
  std::string out = readFd(r.get());
  auto code = rt_.wait("mem1", 30s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 128 + SIGKILL) << out;
  long lastMib = std::atol(parseReport(out)["mib"].c_str());
  EXPECT_LT(lastMib, 64);
  std::string limit = controllerFile(*st, "memory", "memory.limit_in_bytes");
  if (limit.empty()) limit = controllerFile(*st, "memory", "memory.max");
  ASSERT_FALSE(limit.empty());
  EXPECT_EQ(std::atol(fs::readFile(limit)->c_str()), 64L << 20);
}

TEST_F(RuntimeTest, ForkBombStopsAtThePidsLimit) {
  auto spec = probeSpec("pids1", "forkbomb", {"64"});
  spec.limits.pids = 16;
  auto [code, out] = run(spec);
  ASSERT_EQ(code, 0) << out;
  auto r = parseReport(out);
  // The init and the probe count too.
  EXPECT_LE(std::atoi(r["forked"].c_str()), 14) << out;
  EXPECT_GE(std::atoi(r["forked"].c_str()), 1) << out;
  EXPECT_EQ(r["fork_errno"], std::to_string(EAGAIN));
}

TEST_F(RuntimeTest, CpuSpinnerIsHeldNearItsQuota) {
  auto spec = probeSpec("cpu1", "spin", {"1000"});
  spec.limits.cpus = 0.2;
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd r(fds[0]), w(fds[1]);
  CreateOptions options;
  options.stdio.out = w.get();
  auto st = createStarted(spec, options);
  w.reset();
  ASSERT_TRUE(st) << st.error().what();
  std::string quota = controllerFile(*st, "cpu", "cpu.cfs_quota_us");
  if (!quota.empty()) {
    EXPECT_EQ(std::atol(fs::readFile(quota)->c_str()), 20000);
  } else {
    quota = controllerFile(*st, "cpu", "cpu.max");
    ASSERT_FALSE(quota.empty());
    EXPECT_EQ(fs::readFile(quota)->substr(0, 6), "20000 ");
  }
  std::string out = readFd(r.get());
  ASSERT_TRUE(rt_.wait("cpu1", 30s));
  long cpuMs = std::atol(parseReport(out)["cpu_ms"].c_str());
  // 0.2 CPU for one second: about 200 ms of CPU (it never gets the 1000 it asks for).
  EXPECT_LE(cpuMs, 350) << out;
  EXPECT_GE(cpuMs, 20) << out;
}

// Failure injection: each returns an error naming the step, and nothing is left behind.
class FailureTest : public RuntimeTest {
 protected:
  void expectCleanFailure(const Spec& spec, const std::string& needle, CreateOptions options = {}) {
    auto st = rt_.create(spec, options);
    ASSERT_FALSE(st) << "created " << spec.name;
    std::string what = st.error().what();
    EXPECT_NE(what.find("creating container " + spec.name), std::string::npos) << what;
    EXPECT_NE(what.find(needle), std::string::npos) << what;
    EXPECT_FALSE(fs::exists(rt_.stateRoot() + "/containers/" + spec.name));
    auto group = cgroup::Group::open(cgroup::defaultParent(), spec.name);
    EXPECT_FALSE(group) << "cgroup left: " << (group ? group->paths().front() : "");
  }
};

TEST_F(FailureTest, BadRootfs) {
  Spec spec;
  spec.name = "bad-rootfs";
  spec.command = "true";
  spec.rootfs = {RootfsKind::kLower, "/nonexistent/rootfs", false};
  expectCleanFailure(spec, "rootfs: lower layer /nonexistent/rootfs: No such file");
  spec.rootfs = {RootfsKind::kDirectory, "/nonexistent/rootfs", false};
  expectCleanFailure(spec, "rootfs: binding directory /nonexistent/rootfs");
}

TEST_F(FailureTest, BadSeccompFile) {
  std::string file = rt_.stateRoot() + "/bad-seccomp.json";
  // Each test may run in a fresh sandbox (ctest runs them one per process): make the root.
  ASSERT_TRUE(fs::makeDirs(rt_.stateRoot()));
  ASSERT_TRUE(fs::writeFile(file, "{\"defaultAction\": \"SCMP_ACT_NOPE\"}", O_CREAT | O_TRUNC));
  Spec spec;
  spec.name = "bad-seccomp";
  spec.command = "true";
  spec.security.seccomp = {SeccompMode::kFile, file};
  expectCleanFailure(spec, "defaultAction: unsupported action SCMP_ACT_NOPE");
  spec.security.seccomp = {SeccompMode::kFile, "/nonexistent.json"};
  expectCleanFailure(spec, "seccomp profile: opening /nonexistent.json");
  ::unlink(file.c_str());
}

TEST_F(FailureTest, ImpossibleCgroupLimit) {
  Spec spec;
  spec.name = "bad-cgroup";
  spec.command = "true";
  spec.limits.cpuset = "4095";
  expectCleanFailure(spec, "cgroup");
}

TEST_F(FailureTest, MissingCommand) {
  Spec spec;
  spec.name = "bad-command";
  spec.command = "no-such-command-anywhere";
  expectCleanFailure(spec, "command: no-such-command-anywhere: not found in PATH");
}

TEST_F(FailureTest, WiringError) {
  Spec spec;
  spec.name = "bad-wire";
  spec.command = "true";
  CreateOptions options;
  options.wireNetwork = [](pid_t) -> Result<void> { return sysError(EEXIST, "creating veth"); };
  expectCleanFailure(spec, "wiring the network: creating veth: File exists", options);
}

TEST_F(FailureTest, BadSysctl) {
  Spec spec;
  spec.name = "bad-sysctl";
  spec.command = "true";
  spec.sysctls["net.ipv4.no_such_knob"] = "1";
  expectCleanFailure(spec, "network namespace: sysctl net.ipv4.no_such_knob");
}

TEST_F(FailureTest, NameTaken) {
  Spec spec;
  spec.name = "taken";
  spec.command = "sleep";
  spec.args = {"1000"};
  ASSERT_TRUE(createStarted(spec));
  auto again = rt_.create(spec);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind(), Error::Kind::kConflict);
  EXPECT_TRUE(rt_.state("taken"));  // the first one is untouched
}

}  // namespace
}  // namespace netctl::runtime
