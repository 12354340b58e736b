// cgroups on the real machine (hybrid on ours), under $NETCTL_CGROUP_PARENT inside our own
// cgroup. Every assertion reads the kernel's files or /proc directly, with paths computed here
// from /proc/self/cgroup, not from what the Group reports.
#include "netctl/runtime/cgroup.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "netctl/base/process.h"

namespace netctl::cgroup {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

bool isDir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Our own cgroup directory per hierarchy, keyed by the controllers field ("" = cgroup2),
// worked out the plain way the sandbox and leakcheck.sh do.
std::map<std::string, std::string> ownDirs() {
  std::map<std::string, std::string> out;
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    auto a = line.find(':'), b = line.find(':', a + 1);
    std::string ctrls = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    std::string mount;
    if (ctrls.empty()) {
      mount = isDir("/sys/fs/cgroup/unified") ? "/sys/fs/cgroup/unified" : "/sys/fs/cgroup";
      if (!isDir(mount + "/cgroup.controllers") && !std::ifstream(mount + "/cgroup.controllers")) continue;
    } else {
      std::string n = ctrls.starts_with("name=") ? ctrls.substr(5) : ctrls;
      mount = "/sys/fs/cgroup/" + n;
      if (!isDir(mount)) mount = "/sys/fs/cgroup/" + n.substr(0, n.find(','));
      if (!isDir(mount)) continue;
    }
    out[ctrls] = mount + (path == "/" ? "" : path);
  }
  return out;
}

// Where the group must be, per hierarchy.
// Where a group named `name` would be in every hierarchy.
std::map<std::string, std::string> allDirs(const std::string& name) {
  auto out = ownDirs();
  for (auto& [ctrls, dir] : out) dir += "/" + defaultParent() + "/" + name;
  return out;
}

// The hierarchies a group joins: cgroup2 (on hybrid only when our own cgroup there is not its
// root), and on v1 devices, freezer, name=systemd and the controllers of its limits.
using Limited = std::initializer_list<std::string_view>;  // controllers with a limit
bool joins(const std::string& ctrls, Limited limited = {}) {
  if (ctrls.empty()) {
    if (detect().value() != Mode::kHybrid) return true;
    std::ifstream in("/proc/self/cgroup");
    for (std::string line; std::getline(in, line);)
      if (line.starts_with("0::")) return line != "0::/";
    return false;
  }
  std::stringstream list(ctrls);
  for (std::string c; std::getline(list, c, ',');) {
    if (c == "devices" || c == "freezer" || c == "name=systemd") return true;
    for (auto l : limited)
      if (c == l || (c == "cpuacct" && l == "cpu")) return true;
  }
  return false;
}

std::map<std::string, std::string> expectedDirs(const std::string& name, Limited limited = {}) {
  auto out = allDirs(name);
  std::erase_if(out, [&](const auto& kv) { return !joins(kv.first, limited); });
  return out;
}

std::string dirOf(const std::string& name, const std::string& controller) {
  for (const auto& [ctrls, dir] : allDirs(name)) {
    std::string list = "," + ctrls + ",";
    if (list.find("," + controller + ",") != std::string::npos) return dir;
  }
  return allDirs(name).at("");  // v2: the one directory
}

bool isV2() { return detect().value() == Mode::kV2; }

std::set<pid_t> procsIn(const std::string& dir) {
  std::set<pid_t> out;
  std::ifstream in(dir + "/cgroup.procs");
  pid_t p;
  while (in >> p) out.insert(p);
  return out;
}

// A child that waits for a byte on a pipe before running body(), so it can be attached
// first. body runs in the forked child and must only use async-signal-safe calls.
struct Gated {
  ChildProcess child;
  int go = -1;
  template <typename F>
  explicit Gated(F body) {
    int fds[2];
    if (::pipe(fds) != 0) return;
    pid_t pid = ::fork();
    if (pid == 0) {
      ::close(fds[1]);
      char c;
      if (::read(fds[0], &c, 1) != 1) ::_exit(99);
      body();
      ::_exit(0);
    }
    ::close(fds[0]);
    child = ChildProcess(pid);
    go = fds[1];
  }
  void start() {
    char c = 'g';
    (void)!::write(go, &c, 1);
    ::close(go);
    go = -1;
  }
  ~Gated() {
    if (go >= 0) ::close(go);
  }
};

class CgroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::getenv("NETCTL_CGROUP_PARENT")) GTEST_SKIP() << "not in the sandbox";
  }
  // Whatever a failed test left behind goes, so one failure does not leak cgroups.
  void TearDown() override {
    for (const char* name : {"cg-dev", "cg-limits", "cg-attach", "cg-pids", "cg-oom", "cg-cpu", "cg-bad", "cg-tiny",
                             "cg-twice", "cg-v2", "cg-v2dev", "cg-self", "cg-weight"})
      if (auto g = Group::open(defaultParent(), name)) (void)g->destroy();
    if (auto g = Group::open(defaultParent() + "/cg-lab/sub", "cg-node")) (void)g->destroy();
    for (int i = 0; i < 8; ++i)
      if (auto g = Group::open(defaultParent() + "/cg-par", fmt::format("n{}", i))) (void)g->destroy();
    for (const auto& [ctrls, dir] : ownDirs()) {
      ::rmdir((dir + "/" + defaultParent() + "/cg-lab/sub").c_str());
      ::rmdir((dir + "/" + defaultParent() + "/cg-lab").c_str());
      ::rmdir((dir + "/" + defaultParent() + "/cg-par").c_str());
    }
  }
  // No directory of the group is left in any hierarchy.
  void expectGone(const std::string& name) {
    for (const auto& [ctrls, dir] : allDirs(name)) EXPECT_FALSE(isDir(dir)) << dir;
  }
};

TEST_F(CgroupTest, DetectAndDescribeAgreeWithTheKernel) {
  auto mode = detect();
  ASSERT_TRUE(mode) << mode.error().what();
  auto layout = describe();
  ASSERT_TRUE(layout) << layout.error().what();
  EXPECT_EQ(layout->mode, *mode);
  // Every hierarchy listed in /proc/self/cgroup with a visible mount is described.
  auto own = ownDirs();
  for (const auto& h : layout->hierarchies) {
    std::string dir = h.mountPoint + (h.ownPath == "/" ? "" : h.ownPath);
    bool listed = false;
    for (const auto& [ctrls, d] : own) listed |= d == dir;
    EXPECT_TRUE(listed) << dir;
  }
  // The runtimes' statfs test, read independently (notes/runtime.md 2.1).
  struct statfs root {}, unified {};
  ASSERT_EQ(::statfs("/sys/fs/cgroup", &root), 0);
  bool unifiedIsCgroup2 = ::statfs("/sys/fs/cgroup/unified", &unified) == 0 &&
                          unified.f_type == CGROUP2_SUPER_MAGIC;
  Mode statfsMode = root.f_type == CGROUP2_SUPER_MAGIC ? Mode::kV2
                    : unifiedIsCgroup2                 ? Mode::kHybrid
                                                       : Mode::kV1;
  EXPECT_EQ(*mode, statfsMode);
  if (*mode == Mode::kHybrid) {
    EXPECT_EQ(layout->hierarchies.size(), own.size());
    // The unified tree of a hybrid machine lists its controllers (hugetlb on ours).
    auto un = std::find_if(layout->hierarchies.begin(), layout->hierarchies.end(),
                           [](const Hierarchy& h) { return h.unified; });
    ASSERT_NE(un, layout->hierarchies.end());
    std::string controllers = slurp(un->mountPoint + "/cgroup.controllers");
    for (const auto& c : un->controllers) EXPECT_THAT(controllers, HasSubstr(c));
  }
}

TEST_F(CgroupTest, CreateWritesTheLimitsAndDestroyRemovesEveryDirectory) {
  Limits l;
  l.memoryBytes = 64ull << 20;
  l.cpus = 0.5;
  l.cpuWeight = 100;
  l.pids = 20;
  l.cpuset = "0";
  auto g = Group::create(defaultParent(), "cg-limits", l);
  ASSERT_TRUE(g) << g.error().what();
  auto want = expectedDirs("cg-limits", {"memory", "cpu", "pids", "cpuset"});
  for (const auto& [ctrls, dir] : want) EXPECT_TRUE(isDir(dir)) << dir;
  auto paths = g->paths();
  std::set<std::string> got(paths.begin(), paths.end());
  EXPECT_EQ(got.size(), want.size());
  for (const auto& [ctrls, dir] : want) EXPECT_TRUE(got.contains(dir)) << dir;
  if (!isV2()) {
    EXPECT_EQ(slurp(dirOf("cg-limits", "memory") + "/memory.limit_in_bytes"), "67108864");
    EXPECT_EQ(slurp(dirOf("cg-limits", "cpu") + "/cpu.cfs_quota_us"), "50000");
    EXPECT_EQ(slurp(dirOf("cg-limits", "cpu") + "/cpu.cfs_period_us"), "100000");
    EXPECT_EQ(slurp(dirOf("cg-limits", "cpu") + "/cpu.shares"), "2597");
    EXPECT_FALSE(slurp(dirOf("cg-limits", "cpuset") + "/cpuset.mems").empty());  // copied down
  } else {
    EXPECT_EQ(slurp(dirOf("cg-limits", "memory") + "/memory.max"), "67108864");
    EXPECT_EQ(slurp(dirOf("cg-limits", "cpu") + "/cpu.max"), "50000 100000");
    EXPECT_EQ(slurp(dirOf("cg-limits", "cpu") + "/cpu.weight"), "100");
  }
  EXPECT_EQ(slurp(dirOf("cg-limits", "pids") + "/pids.max"), "20");
  EXPECT_EQ(slurp(dirOf("cg-limits", "cpuset") + "/cpuset.cpus"), "0");

  ASSERT_TRUE(g->destroy());
  expectGone("cg-limits");
  EXPECT_TRUE(g->destroy()) << "a second destroy is fine";
  // The shared parent stays: it belongs to whoever made it (here the sandbox).
  for (const auto& [ctrls, dir] : ownDirs()) {
    if (!joins(ctrls, {"memory", "cpu", "pids", "cpuset"})) continue;
    EXPECT_TRUE(isDir(dir + "/" + defaultParent())) << dir;
  }
}

TEST_F(CgroupTest, AttachedChildIsInEveryJoinedHierarchy) {
  auto g = Group::create(defaultParent(), "cg-attach", Limits{.cpuset = "0"});
  ASSERT_TRUE(g) << g.error().what();
  ChildProcess child(::fork());
  if (child.pid() == 0) {
    ::pause();
    ::_exit(0);
  }
  ASSERT_TRUE(g->attach(child.pid())) << "cpuset.cpus/mems copied down, or attach fails";
  auto joined = expectedDirs("cg-attach", {"cpuset"});
  for (const auto& [ctrls, dir] : joined) EXPECT_TRUE(procsIn(dir).contains(child.pid())) << dir;
  // /proc/<pid>/cgroup names the group in every hierarchy it joins, and only there.
  std::string own = slurp(fmt::format("/proc/{}/cgroup", child.pid()));
  std::istringstream lines(own);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    auto a = line.find(':'), b = line.find(':', a + 1);
    if (!joins(line.substr(a + 1, b - a - 1), {"cpuset"})) {
      EXPECT_THAT(line, Not(HasSubstr("/cg-attach"))) << line;
      continue;
    }
    EXPECT_THAT(line, HasSubstr("/" + defaultParent() + "/cg-attach")) << line;
    ++n;
  }
  EXPECT_EQ(n, static_cast<int>(joined.size()));
  auto pids = g->pids();
  ASSERT_TRUE(pids);
  EXPECT_EQ(*pids, std::vector<pid_t>{child.pid()});

  auto reopened = Group::open(defaultParent(), "cg-attach");
  ASSERT_TRUE(reopened) << reopened.error().what();
  EXPECT_EQ(reopened->paths(), g->paths());
  ASSERT_TRUE(reopened->destroy());
  auto status = child.wait();
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL);
  expectGone("cg-attach");
  auto gone = Group::open(defaultParent(), "cg-attach");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().kind(), Error::Kind::kNotFound);
}

TEST_F(CgroupTest, AChildAttachesItselfWithPidZero) {
  auto g = Group::create(defaultParent(), "cg-self", {});
  ASSERT_TRUE(g) << g.error().what();
  const Group* group = &*g;
  ChildProcess child(::fork());
  if (child.pid() == 0) {
    if (!group->attach(0)) ::_exit(3);
    ::pause();
    ::_exit(0);
  }
  // Wait until it is in (bounded), then check every hierarchy.
  for (int i = 0; i < 200 && !procsIn(dirOf("cg-self", "freezer")).contains(child.pid()); ++i)
    std::this_thread::sleep_for(5ms);
  for (const auto& [ctrls, dir] : expectedDirs("cg-self"))
    EXPECT_TRUE(procsIn(dir).contains(child.pid())) << dir;
  ASSERT_TRUE(g->destroy());
  auto st = child.wait();
  ASSERT_TRUE(st);
  EXPECT_TRUE(WIFSIGNALED(*st) && WTERMSIG(*st) == SIGKILL) << "status " << *st;
  expectGone("cg-self");
}

TEST_F(CgroupTest, PidsLimitStopsAForkLoop) {
  auto g = Group::create(defaultParent(), "cg-pids", Limits{.pids = 5});
  ASSERT_TRUE(g) << g.error().what();
  // The child forks sleepers until fork fails; its exit code is the number it made, or 200
  // when fork failed with something other than EAGAIN.
  Gated loop([] {
    int made = 0;
    for (; made < 50; ++made) {
      pid_t p = ::fork();
      if (p == 0) { ::pause(); ::_exit(0); }
      if (p < 0) ::_exit(errno == EAGAIN ? made : 200);
    }
    ::_exit(made);
  });
  ASSERT_TRUE(loop.child.valid());
  ASSERT_TRUE(g->attach(loop.child.pid()));
  loop.start();
  auto status = loop.child.wait();
  ASSERT_TRUE(status);
  ASSERT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 4) << "5 tasks: the loop itself and 4 sleepers";
  EXPECT_EQ(procsIn(dirOf("cg-pids", "pids")).size(), 4u);
  EXPECT_THAT(slurp(dirOf("cg-pids", "pids") + "/pids.events"), ::testing::Not(HasSubstr("max 0")));
  // destroy kills the orphaned sleepers (not our children) and removes everything.
  ASSERT_TRUE(g->destroy());
  expectGone("cg-pids");
}

TEST_F(CgroupTest, MemoryHogIsOomKilledAtTheLimit) {
  auto g = Group::create(defaultParent(), "cg-oom", Limits{.memoryBytes = 32ull << 20});
  ASSERT_TRUE(g) << g.error().what();
  Gated hog([] {
    const size_t size = 256ull << 20;
    void* m = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) ::_exit(2);
    auto* p = static_cast<volatile char*>(m);
    for (size_t i = 0; i < size; i += 4096) p[i] = 1;  // touch every page
    ::_exit(0);
  });
  ASSERT_TRUE(hog.child.valid());
  ASSERT_TRUE(g->attach(hog.child.pid()));
  hog.start();
  auto status = hog.child.wait();
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL) << "status " << *status;
  if (!isV2()) {
    EXPECT_THAT(slurp(dirOf("cg-oom", "memory") + "/memory.oom_control"), ::testing::ContainsRegex("oom_kill [1-9]"));
    EXPECT_NE(slurp(dirOf("cg-oom", "memory") + "/memory.failcnt"), "0");
  } else {
    EXPECT_THAT(slurp(dirOf("cg-oom", "memory") + "/memory.events"), ::testing::ContainsRegex("oom_kill [1-9]"));
  }
  ASSERT_TRUE(g->destroy());
  expectGone("cg-oom");
}

// CPU time used by the group, in seconds.
double cpuSeconds(const std::string& name) {
  if (isV2()) {
    std::string stat = slurp(dirOf(name, "cpu") + "/cpu.stat");
    return std::stod(stat.substr(stat.find("usage_usec ") + 11)) / 1e6;
  }
  return std::stod(slurp(dirOf(name, "cpuacct") + "/cpuacct.usage")) / 1e9;
}

[[noreturn]] void spin() {
  volatile unsigned long x = 0;
  for (;;) {
    unsigned long y = x;
    x = y + 1;
  }
}

TEST_F(CgroupTest, CpuQuotaHoldsSpinnersNearIt) {
  // Two spinners want two CPUs; the quota allows half of one. The top weight keeps the other
  // work on this shared 2-CPU machine from starving the group below its quota during the
  // measurement; the weight must also be on our sandbox parent, which otherwise competes at
  // the default weight with everything else and caps the group at its fair share.
  auto g = Group::create(defaultParent(), "cg-cpu", Limits{.cpus = 0.5, .cpuWeight = 10000});
  ASSERT_TRUE(g) << g.error().what();
  std::string parentDir = dirOf("cg-cpu", "cpu");
  parentDir.resize(parentDir.rfind('/'));
  if (!isV2()) ASSERT_TRUE(std::ofstream(parentDir + "/cpu.shares") << "262144");
  else if (isDir(parentDir) && std::ifstream(parentDir + "/cpu.weight")) std::ofstream(parentDir + "/cpu.weight") << "10000";
  std::vector<ChildProcess> spinners;
  for (int i = 0; i < 2; ++i) {
    ChildProcess c(::fork());
    if (c.pid() == 0) spin();
    ASSERT_TRUE(g->attach(c.pid()));
    spinners.push_back(std::move(c));
  }
  std::this_thread::sleep_for(200ms);
  double before = cpuSeconds("cg-cpu");
  auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(1s);
  double used = cpuSeconds("cg-cpu") - before;
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double share = used / wall;
  std::printf("cpu quota 0.5: the group used %.3f CPU over %.2f s\n", share, wall);
  EXPECT_GT(share, 0.5 * 0.7) << "used " << used << " s in " << wall << " s";
  EXPECT_LT(share, 0.5 * 1.3) << "used " << used << " s in " << wall << " s";
  ASSERT_TRUE(g->destroy());
  for (auto& c : spinners) {
    auto st = c.wait();
    ASSERT_TRUE(st);
    EXPECT_TRUE(WIFSIGNALED(*st) && WTERMSIG(*st) == SIGKILL);
  }
  expectGone("cg-cpu");
}

TEST_F(CgroupTest, ImpossibleLimitsGiveAClearErrorAndLeaveNothing) {
  auto bad = Group::create(defaultParent(), "cg-bad", Limits{.memoryBytes = 64ull << 20, .cpuset = "99"});
  ASSERT_FALSE(bad);
  std::string msg = bad.error().what();
  EXPECT_THAT(msg, HasSubstr("cpuset.cpus"));
  EXPECT_THAT(msg, HasSubstr("\"99\""));
  EXPECT_THAT(msg, HasSubstr("cgroup cg-bad"));
  std::printf("error for cpuset 99: %s\n", msg.c_str());
  expectGone("cg-bad");

  auto tiny = Group::create(defaultParent(), "cg-tiny", Limits{.memoryBytes = 1});
  ASSERT_FALSE(tiny);
  EXPECT_EQ(tiny.error().kind(), Error::Kind::kInvalidInput);
  EXPECT_THAT(tiny.error().what(), HasSubstr("memory limit 1"));
  expectGone("cg-tiny");

  auto weight = Group::create(defaultParent(), "cg-weight", Limits{.cpuWeight = 0});
  ASSERT_FALSE(weight);
  EXPECT_EQ(weight.error().kind(), Error::Kind::kInvalidInput);

  for (const char* name : {"..", "a/b", ""}) {
    auto r = Group::create(defaultParent(), name, {});
    ASSERT_FALSE(r) << name;
    EXPECT_EQ(r.error().kind(), Error::Kind::kInvalidInput);
  }
  auto climb = Group::create("../escape", "cg-x", {});
  ASSERT_FALSE(climb);
  EXPECT_EQ(climb.error().kind(), Error::Kind::kInvalidInput);
}

// Without limits a group stays out of cpuset (each write costs O(sibling cpusets)), memory (its
// removal costs O(superblocks)), cpu and pids, and out of the hierarchies that carry nothing a
// node sets.
TEST_F(CgroupTest, OnlyTheHierarchiesANodeNeedsAreJoined) {
  auto g = Group::create(defaultParent(), "cg-twice", {});
  ASSERT_TRUE(g) << g.error().what();
  for (const auto& [ctrls, dir] : allDirs("cg-twice"))
    EXPECT_EQ(isDir(dir), joins(ctrls)) << dir;
  ASSERT_TRUE(g->destroy());
  expectGone("cg-twice");
}

// Docker's device rules: any node may be made, only the harmless ones opened.
TEST_F(CgroupTest, DevicesFollowDockersList) {
  if (isV2()) GTEST_SKIP() << "cgroup2 carries the rules as a BPF program (DeviceProgramOnTheUnifiedTree)";
  auto g = Group::create(defaultParent(), "cg-dev", {});
  ASSERT_TRUE(g) << g.error().what();
  std::string list = slurp(dirOf("cg-dev", "devices") + "/devices.list");
  for (const char* rule : {"c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",
                           "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm", "c 10:200 rwm"})
    EXPECT_THAT(list, HasSubstr(rule));
  EXPECT_THAT(list, Not(HasSubstr("a *:* rwm")));
  EXPECT_THAT(list, Not(HasSubstr("b 254")));
  ASSERT_TRUE(g->destroy());
  expectGone("cg-dev");
}

TEST_F(CgroupTest, CreatingAnExistingGroupConflictsAndKeepsIt) {
  auto g = Group::create(defaultParent(), "cg-twice", {});
  ASSERT_TRUE(g) << g.error().what();
  auto again = Group::create(defaultParent(), "cg-twice", {});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind(), Error::Kind::kConflict);
  for (const auto& [ctrls, dir] : expectedDirs("cg-twice")) EXPECT_TRUE(isDir(dir)) << dir;
  ASSERT_TRUE(g->destroy());
  expectGone("cg-twice");
}

TEST_F(CgroupTest, NestedParentsAndSubCgroupsAreHandled) {
  // Intermediate parents are made in every hierarchy (with cpuset values copied down, or the
  // attach below fails with ENOSPC on v1).
  std::string parent = defaultParent() + "/cg-lab/sub";
  auto g = Group::create(parent, "cg-node", Limits{.pids = 10});
  ASSERT_TRUE(g) << g.error().what();
  ChildProcess child(::fork());
  if (child.pid() == 0) { ::pause(); ::_exit(0); }
  ASSERT_TRUE(g->attach(child.pid()));
  // Someone (a nested runtime) made a sub-cgroup inside and moved a process there.
  std::string inner = g->pathFor("pids") + "/inner";
  ASSERT_EQ(::mkdir(inner.c_str(), 0755), 0);
  ChildProcess grandchild(::fork());
  if (grandchild.pid() == 0) { ::pause(); ::_exit(0); }
  ASSERT_TRUE(std::ofstream(inner + "/cgroup.procs") << grandchild.pid());
  ASSERT_TRUE(g->destroy());
  for (auto* c : {&child, &grandchild}) {
    auto st = c->wait();
    ASSERT_TRUE(st);
    EXPECT_TRUE(WIFSIGNALED(*st) && WTERMSIG(*st) == SIGKILL);
  }
  EXPECT_FALSE(isDir(inner));
  for (const auto& [ctrls, dir] : ownDirs()) {
    if (!joins(ctrls, {"pids"})) continue;
    std::string lab = dir + "/" + defaultParent() + "/cg-lab";
    EXPECT_FALSE(isDir(lab + "/sub/cg-node")) << lab;
    EXPECT_TRUE(isDir(lab + "/sub")) << "the parent is the caller's to remove: " << lab;
    EXPECT_EQ(::rmdir((lab + "/sub").c_str()), 0) << lab;
    EXPECT_EQ(::rmdir(lab.c_str()), 0) << lab;
  }
}

// Nodes are created in parallel under a shared, not yet existing parent; failing creates
// clean up what they made without breaking their neighbours.
TEST_F(CgroupTest, ParallelCreatesUnderANewSharedParent) {
  std::string parent = defaultParent() + "/cg-par";
  constexpr int kThreads = 8;
  std::vector<std::optional<Result<Group>>> results(kThreads);
  for (int round = 0; round < 5; ++round) {
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i)
      threads.emplace_back([&, i] {
        Limits l{.pids = 10, .cpuset = i % 2 ? "99" : "0"};
        results[i].emplace(Group::create(parent, fmt::format("n{}", i), l));
      });
    for (auto& t : threads) t.join();
    for (int i = 0; i < kThreads; ++i) {
      auto& r = *results[i];
      if (i % 2) {
        EXPECT_FALSE(r) << i;
      } else {
        ASSERT_TRUE(r) << "round " << round << ": " << r.error().what();
        ASSERT_TRUE(r->destroy());
      }
    }
    for (const auto& [ctrls, dir] : ownDirs()) {
      std::string par = dir + "/" + parent;
      for (int i = 0; i < kThreads; ++i) EXPECT_FALSE(isDir(fmt::format("{}/n{}", par, i)));
      ::rmdir(par.c_str());
      EXPECT_FALSE(isDir(par));
    }
  }
}

// The v2 code (one directory, cgroup.kill, controller checks) driven on the unified tree of
// this hybrid machine by handing create() a v2 layout of just that tree.
TEST_F(CgroupTest, V2CodeOnTheUnifiedTree) {
  auto real = describe();
  ASSERT_TRUE(real) << real.error().what();
  if (real->mode == Mode::kV1) GTEST_SKIP() << "no cgroup2 mount (CONFIG_CGROUPS cgroup2 not mounted)";
  Layout v2{.mode = Mode::kV2, .hierarchies = {}};
  for (const auto& h : real->hierarchies)
    if (h.unified) v2.hierarchies.push_back(h);
  ASSERT_EQ(v2.hierarchies.size(), 1u);
  std::string dir = allDirs("cg-v2").at("");

  auto g = Group::create(v2, defaultParent(), "cg-v2", {});
  if (!g && g.error().kind() == Error::Kind::kUnsupported) GTEST_SKIP() << g.error().what();
  ASSERT_TRUE(g) << g.error().what();
  EXPECT_EQ(g->paths(), std::vector<std::string>{dir});
  EXPECT_EQ(g->pathFor("memory"), dir);
  ChildProcess child(::fork());
  if (child.pid() == 0) { ::pause(); ::_exit(0); }
  ASSERT_TRUE(g->attach(child.pid()));
  EXPECT_TRUE(procsIn(dir).contains(child.pid()));
  EXPECT_THAT(slurp(fmt::format("/proc/{}/cgroup", child.pid())),
              HasSubstr("0::/" + defaultParent() + "/cg-v2"));
  auto reopened = Group::open(v2, defaultParent(), "cg-v2");
  ASSERT_TRUE(reopened) << reopened.error().what();
  ASSERT_TRUE(reopened->destroy());
  auto st = child.wait();
  ASSERT_TRUE(st);
  EXPECT_TRUE(WIFSIGNALED(*st) && WTERMSIG(*st) == SIGKILL);
  EXPECT_FALSE(isDir(dir));

  // A limit whose controller this tree lacks is refused before anything is made.
  const auto& have = v2.hierarchies[0].controllers;
  if (std::find(have.begin(), have.end(), "pids") == have.end()) {
    auto pids = Group::create(v2, defaultParent(), "cg-v2", Limits{.pids = 5});
    ASSERT_FALSE(pids);
    EXPECT_EQ(pids.error().kind(), Error::Kind::kUnsupported);
    EXPECT_THAT(pids.error().what(), HasSubstr("no pids controller"));
    EXPECT_FALSE(isDir(dir));
  }
}

// In a forked child: opens path for reading and writing; 0 or the errno.
int openErrno(const char* path) {
  int fd = ::open(path, O_RDWR | O_CLOEXEC);
  if (fd >= 0) {
    ::close(fd);
    return 0;
  }
  return errno;
}

// In a forked child: waits for one byte on fd, then reports (as its exit code) which opens the
// kernel refused: 1 /dev/null, 2 /dev/fuse, 4 a fuse node it made itself, 8 the mknod.
[[noreturn]] void probeDevicesInChild(int fd, const std::string& madeNode) {
  char go;
  if (::read(fd, &go, 1) != 1) ::_exit(100);
  int code = 0;
  if (openErrno("/dev/null") != 0) code |= 1;
  if (openErrno("/dev/fuse") != 0) code |= 2;
  if (::mknod(madeNode.c_str(), S_IFCHR | 0600, makedev(10, 229)) != 0) {
    code |= 8;
  } else if (openErrno(madeNode.c_str()) != 0) {
    code |= 4;
  }
  ::_exit(code);
}

// cgroup2's device rules: a BPF program built from Docker's list, attached to the group.
// Driven on the unified tree of this hybrid machine with a v2 layout, as above. Inside, /dev/null
// opens, /dev/fuse is refused, and a fuse node the process makes (mknod is allowed) is refused
// too; the same probe outside the group opens both.
TEST_F(CgroupTest, DeviceProgramOnTheUnifiedTree) {
  auto real = describe();
  ASSERT_TRUE(real) << real.error().what();
  if (real->mode == Mode::kV1) GTEST_SKIP() << "no cgroup2 mount (CONFIG_CGROUPS cgroup2 not mounted)";
  struct stat fuse {};
  if (::stat("/dev/fuse", &fuse) != 0 || !S_ISCHR(fuse.st_mode)) GTEST_SKIP() << "no /dev/fuse to probe with";
  Layout v2{.mode = Mode::kV2, .hierarchies = {}};
  for (const auto& h : real->hierarchies)
    if (h.unified) v2.hierarchies.push_back(h);
  ASSERT_EQ(v2.hierarchies.size(), 1u);
  // The sandbox's /run is nodev: the made node lives on a tmpfs of its own, in the sandbox's
  // mount namespace.
  const std::string dir = "/run/cg-devprobe";
  ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
  ASSERT_EQ(::mount("tmpfs", dir.c_str(), "tmpfs", 0, "mode=700"), 0);
  const std::string node = dir + "/fuse";
  auto probe = [&](Group* g) -> int {
    ::unlink(node.c_str());
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    ChildProcess child(::fork());
    if (child.pid() == 0) probeDevicesInChild(fds[0], node);
    ::close(fds[0]);
    if (g) {
      EXPECT_TRUE(g->attach(child.pid()));
    }
    EXPECT_EQ(::write(fds[1], "g", 1), 1);
    ::close(fds[1]);
    auto st = child.wait();
    ::unlink(node.c_str());
    return st && WIFEXITED(*st) ? WEXITSTATUS(*st) : -1;
  };
  int outside = probe(nullptr);
  const char* key = "1 /dev/null refused, 2 /dev/fuse refused, 4 a made fuse node refused, 8 mknod refused";
  EXPECT_EQ(outside, 0) << "outside the group: " << key;

  auto g = Group::create(v2, defaultParent(), "cg-v2dev", {});
  if (!g && g.error().kind() == Error::Kind::kUnsupported) GTEST_SKIP() << g.error().what();
  ASSERT_TRUE(g) << g.error().what();
  EXPECT_EQ(probe(&*g), 2 | 4) << key;
  ASSERT_TRUE(g->destroy());
  EXPECT_EQ(::umount(dir.c_str()), 0);
  EXPECT_EQ(::rmdir(dir.c_str()), 0);
}

}  // namespace
}  // namespace netctl::cgroup
