// Helpers of the lab e2e tests: run the real netctl binary and read the sandbox's kernel state
// independently (ip, nft, /proc, /sys), never through netctl itself.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace labtest {

struct Run {
  int rc = -1;      // exit code, or 128 + signal
  std::string out;  // stdout and stderr
};

inline Run sh(const std::string& cmd) {
  Run r;
  FILE* p = ::popen(("( " + cmd + " ) 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = ::pclose(p);
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
  // sh -c reports a killed child as 128 + signal through its own exit status.
  return r;
}

inline Run netctl(const std::string& args) { return sh(std::string(NETCTL_BINARY) + " " + args); }

inline std::string example(const std::string& name) {
  return std::string(NETCTL_SOURCE_DIR) + "/configs/examples/" + name;
}

inline std::string root() { return std::getenv("NETCTL_ROOT") ? std::getenv("NETCTL_ROOT") : "/run/netctl"; }

// The cgroup parent the sandbox gave us, in every mounted hierarchy (v1 and unified).
inline std::vector<std::string> cgroupDirs() {
  std::vector<std::string> out;
  std::string parent = std::getenv("NETCTL_CGROUP_PARENT") ? std::getenv("NETCTL_CGROUP_PARENT") : "netctl";
  std::ifstream f("/proc/self/cgroup");
  std::string line;
  while (std::getline(f, line)) {
    auto a = line.find(':'), b = line.find(':', a + 1);
    std::string ctrls = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    std::string base;
    if (ctrls.empty()) {
      base = std::ifstream("/sys/fs/cgroup/unified/cgroup.procs") ? "/sys/fs/cgroup/unified" : "/sys/fs/cgroup";
    } else {
      if (ctrls.rfind("name=", 0) == 0) ctrls = ctrls.substr(5);
      base = "/sys/fs/cgroup/" + ctrls;
      if (!std::ifstream(base + "/cgroup.procs")) base = "/sys/fs/cgroup/" + ctrls.substr(0, ctrls.find(','));
    }
    out.push_back(base + (path == "/" ? "" : path) + "/" + parent);
  }
  return out;
}

// Everything a lab can leave behind in the sandbox; empty when clean.
inline std::string leftovers() {
  std::string bad;
  auto links = sh("ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//'").out;
  std::istringstream ls(links);
  for (std::string l; std::getline(ls, l);)
    if (!l.empty() && l != "lo") bad += "link " + l + "\n";
  auto ns = sh("{ ls -A /run/netns; } 2>/dev/null").out;
  if (!ns.empty()) bad += "netns: " + ns;
  auto mounts = sh("grep -c ' " + root() + "/labs' /proc/self/mountinfo").out;
  if (mounts != "0\n") bad += "mounts under the state root: " + mounts;
  std::string cg;
  for (const auto& d : cgroupDirs()) cg += sh("{ find " + d + " -mindepth 1 -type d; } 2>/dev/null").out;
  if (!cg.empty()) bad += "cgroups: " + cg;
  auto nft = sh("{ nft list tables | grep netctl; } 2>/dev/null").out;
  if (!nft.empty()) bad += "nft: " + nft;
  auto st = sh("{ ls -A " + root() + "/labs; } 2>/dev/null").out;
  if (!st.empty()) bad += "state: " + st;
  auto cont = sh("{ ls -A " + root() + "/containers; } 2>/dev/null").out;
  if (!cont.empty()) bad += "containers: " + cont;
  return bad;
}

// Polls briefly: the kernel frees released namespaces (and their veths) asynchronously.
inline void expectClean(const std::string& when) {
  std::string bad;
  for (int i = 0; i < 100; ++i) {
    bad = leftovers();
    if (bad.empty()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << when << ": left behind:\n" << bad;
}

inline bool ping(const std::string& netns, const std::string& addr) {
  for (int i = 0; i < 3; ++i)
    if (sh("ip netns exec " + netns + " ping -c1 -W1 " + addr).rc == 0) return true;
  return false;
}

// A TCP connection from inside netns to addr:port (bash's /dev/tcp, no extra tools).
inline bool tcp(const std::string& netns, const std::string& addr, int port) {
  return sh("ip netns exec " + netns + " timeout 3 bash -c 'exec 3<>/dev/tcp/" + addr + "/" +
            std::to_string(port) + "'").rc == 0;
}

inline nlohmann::json inspectJson(const std::string& lab, bool interfaces = false) {
  auto r = netctl("inspect " + lab + " --output json" + (interfaces ? " --interfaces" : ""));
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  if (j.is_discarded()) ADD_FAILURE() << "inspect: " << r.out;
  return j;
}

// Every address inspect reports for every node is on an interface of that node's netns as
// `ip -j addr` shows it.
inline void expectInspectMatchesKernel(const std::string& lab) {
  auto j = inspectJson(lab, true);
  ASSERT_TRUE(j.is_object());
  for (const auto& n : j["nodes"]) {
    std::string ns = n["netns"];
    auto k = nlohmann::json::parse(sh("ip -n " + ns + " -j addr").out, nullptr, false);
    ASSERT_TRUE(k.is_array()) << ns;
    std::set<std::string> kernel;
    for (const auto& i : k)
      for (const auto& a : i["addr_info"])
        kernel.insert(a["local"].get<std::string>() + "/" + std::to_string(a["prefixlen"].get<int>()));
    for (const auto& a : n["addresses"]) EXPECT_TRUE(kernel.count(a)) << ns << " lacks " << a;
    std::set<std::string> reported;
    for (const auto& i : n["interfaces"])
      for (const auto& a : i["addresses"]) reported.insert(a);
    for (const auto& a : kernel) {
      if (a.rfind("fe80", 0) != 0) {
        EXPECT_TRUE(reported.count(a)) << ns << ": --interfaces lacks " << a;
      }
    }
    EXPECT_EQ(n["state"], "running") << ns;
  }
}

}  // namespace labtest
