// CNI ADD/DEL latency: netctl (the binary, exec'd exactly as a runtime does) against the
// reference bridge plugin (/usr/lib/cni/bridge + host-local) with the same configuration, in
// the same run, ipMasq on and off. 200 ADDs (one netns each), then 200 DELs, sequential.
// Prints median and p90 per variant and the ratios. Runs inside its own sandbox.
#include <fcntl.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "netctl/net/netns.h"
#include "support/sandbox.h"

extern char** environ;

namespace {

constexpr int kOps = 200;
const char* kReference = "/usr/lib/cni/bridge";

// Runs a plugin with the CNI environment and `conf` on stdin; returns its exit code.
int runPlugin(const std::string& binary, const std::vector<std::string>& env, const std::string& conf) {
  int in = ::memfd_create("conf", MFD_CLOEXEC);
  if (in < 0 || ::write(in, conf.data(), conf.size()) != ssize_t(conf.size())) return -1;
  ::lseek(in, 0, SEEK_SET);
  int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in, 0);
  posix_spawn_file_actions_adddup2(&fa, devnull, 1);
  std::vector<std::string> vars = env;
  for (char** e = environ; *e; ++e) vars.emplace_back(*e);
  std::vector<char*> envp, argv = {const_cast<char*>(binary.c_str()), nullptr};
  for (auto& v : vars) envp.push_back(v.data());
  envp.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, binary.c_str(), &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  ::close(in);
  ::close(devnull);
  if (rc != 0) return -1;
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct Stats {
  double median = 0, p90 = 0;
  int failures = 0;
};
Stats stats(std::vector<double> v, int failures) {
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v[v.size() * 9 / 10], failures};
}

struct Variant {
  std::string label, binary, type;
  bool masq;
};

std::pair<Stats, Stats> measure(const Variant& v, int round) {
  std::string root = netctl::sandbox::info().stateRoot;
  std::string net = "b" + std::to_string(round);
  std::string conf = "{\"cniVersion\":\"1.0.0\",\"name\":\"" + net + "\",\"type\":\"" + v.type +
                     "\",\"bridge\":\"br" + std::to_string(round) + "\",\"isGateway\":true,\"isDefaultGateway\":true," +
                     "\"ipMasq\":" + (v.masq ? "true" : "false") +
                     ",\"ipam\":{\"type\":\"host-local\",\"dataDir\":\"" + root + "/ipam\",\"ranges\":[[{\"subnet\":\"10." +
                     std::to_string(100 + round) + ".0.0/16\"}]]}}";
  std::vector<double> add, del;
  int addFail = 0, delFail = 0;
  for (int i = 0; i < kOps; ++i) {
    std::string ns = "r" + std::to_string(round) + "c" + std::to_string(i);
    if (!netctl::netns::createNamed(root, ns)) ++addFail;
  }
  auto env = [&](const char* cmd, int i) {
    return std::vector<std::string>{std::string("CNI_COMMAND=") + cmd, "CNI_CONTAINERID=c" + std::to_string(i),
                                    "CNI_NETNS=/run/netns/r" + std::to_string(round) + "c" + std::to_string(i),
                                    "CNI_IFNAME=eth0", "CNI_PATH=/usr/lib/cni"};
  };
  for (int i = 0; i < kOps; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    if (runPlugin(v.binary, env("ADD", i), conf) != 0) ++addFail;
    add.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  for (int i = 0; i < kOps; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    if (runPlugin(v.binary, env("DEL", i), conf) != 0) ++delFail;
    del.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  // The namespaces stay until the end: freeing 200 of them now would keep the kernel's netns
  // cleanup (under the RTNL lock) busy during the next variant's measurement.
  return {stats(add, addFail), stats(del, delFail)};
}

}  // namespace

int main() {
  auto sb = netctl::sandbox::enter();
  if (!sb) {
    std::fprintf(stderr, "sandbox: %s\n", sb.error().what().c_str());
    return 1;
  }
  bool haveRef = ::access(kReference, X_OK) == 0;
  std::vector<Variant> variants = {{"netctl ipMasq on ", NETCTL_BINARY, "netctl", true},
                                   {"netctl ipMasq off", NETCTL_BINARY, "netctl", false}};
  if (haveRef) {
    variants.push_back({"bridge ipMasq on ", kReference, "bridge", true});
    variants.push_back({"bridge ipMasq off", kReference, "bridge", false});
  }
  std::printf("CNI ADD/DEL latency, %d sequential ops each, bridge + host-local (ms)\n", kOps);
  std::printf("%-18s %9s %9s %9s %9s %6s\n", "variant", "ADD p50", "ADD p90", "DEL p50", "DEL p90", "fails");
  std::vector<std::pair<Stats, Stats>> results;
  for (size_t r = 0; r < variants.size(); ++r) {
    auto res = measure(variants[r], int(r));
    results.push_back(res);
    std::printf("%-18s %9.2f %9.2f %9.2f %9.2f %6d\n", variants[r].label.c_str(), res.first.median, res.first.p90,
                res.second.median, res.second.p90, res.first.failures + res.second.failures);
    std::fflush(stdout);
  }
  if (haveRef) {
    for (int m = 0; m < 2; ++m)
      std::printf("ipMasq %-3s: ADD median %.1fx faster than the reference, DEL median %.1fx faster\n",
                  m == 0 ? "on" : "off", results[2 + m].first.median / results[m].first.median,
                  results[2 + m].second.median / results[m].second.median);
  } else {
    std::printf("reference plugin %s not installed: no ratios\n", kReference);
  }
  std::string root = netctl::sandbox::info().stateRoot;
  for (size_t r = 0; r < variants.size(); ++r)
    for (int i = 0; i < kOps; ++i) (void)netctl::netns::removeNamed(root, "r" + std::to_string(r) + "c" + std::to_string(i));
  netctl::sandbox::leave();
  return 0;
}
