// `netctl up` / `netctl down` wall time and peak RSS for labs of 100, 500 and 1000 nodes, every
// node a full container (namespaces, cgroup, rootfs): a star on one bridge (<= 1000 ports) and
// a ring of point-to-point veth links. Runs the real binary inside the benchmark's sandbox.
// Then the same star built by Mininet (LinuxBridge switch, no controller; bench/mininet_star.py)
// at 100 and 400 hosts, against netctl's star at the same sizes.
//   lab_bench [SIZES...]     (default 100 500 1000)
//   lab_bench --mininet-only
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <chrono>
#include <iterator>
#include <map>
#include <optional>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "support/sandbox.h"

namespace {

struct Sample {
  double seconds = 0;
  long maxRssKb = 0;
  int rc = -1;
};

// Runs a program to its end; its stdout goes to `out` (a file) or /dev/null.
Sample runProgram(const std::vector<std::string>& argvIn, const std::string& out = "/dev/null") {
  auto t0 = std::chrono::steady_clock::now();
  pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (const auto& a : argvIn) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(fd, 1);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  rusage ru{};
  ::wait4(pid, &status, 0, &ru);
  Sample s;
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  s.maxRssKb = ru.ru_maxrss;
  s.rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return s;
}

Sample runNetctl(const std::vector<std::string>& args) {
  std::vector<std::string> argv{NETCTL_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return runProgram(argv);
}

struct UpDown {
  Sample up, down;
  bool ok() const { return up.rc == 0 && down.rc == 0; }
};

// The kernel frees namespaces, cgroups and their devices for seconds after `down` (or
// Mininet's stop) has returned; each measurement starts after a pause, so that one run's
// cleanup is not charged to the next.
void settle() { std::this_thread::sleep_for(std::chrono::seconds(5)); }

UpDown netctlLab(const std::string& shape, int n, const std::string& yaml) {
  std::string file = fmt::format("/tmp/lab-bench-{}-{}-{}.yaml", ::getpid(), shape, n);
  std::ofstream(file) << yaml;
  settle();
  UpDown r{runNetctl({"up", file}), runNetctl({"down", fmt::format("{}{}", shape, n)})};
  ::unlink(file.c_str());
  return r;
}

// Mininet's star: its script times its own up and down (the Python start-up is not counted).
std::optional<std::pair<double, double>> mininetStar(int n) {
  std::string out = fmt::format("/tmp/lab-bench-{}-mininet.json", ::getpid());
  settle();
  auto s = runProgram({"/usr/bin/python3", NETCTL_SOURCE_DIR "/bench/mininet_star.py", std::to_string(n)}, out);
  std::ifstream in(out);
  double up = -1, down = -1;
  std::string text((std::istreambuf_iterator<char>(in)), {});
  ::unlink(out.c_str());
  if (s.rc != 0 || std::sscanf(text.c_str(), "{\"up\": %lf, \"down\": %lf}", &up, &down) != 2) return std::nullopt;
  return std::make_pair(up, down);
}

std::string star(int n) {
  std::string y = fmt::format("name: star{}\nnetworks:\n  hub: {{subnet: 10.64.0.0/20, nat: false}}\n"
                              "defaults: {{cmd: [sleep, infinity], networks: [hub]}}\nnodes:\n", n);
  for (int i = 0; i < n; ++i) y += fmt::format("  n{}:\n", i);
  return y;
}

std::string ring(int n) {
  std::string y = fmt::format("name: ring{}\ndefaults: {{cmd: [sleep, infinity]}}\nnodes:\n", n);
  for (int i = 0; i < n; ++i) y += fmt::format("  n{}:\n", i);
  y += "links:\n";
  for (int i = 0; i < n; ++i) {
    unsigned base = unsigned(i) * 4;
    auto a = [&](int k) { return fmt::format("10.{}.{}.{}/30", 80 + (base >> 16), (base >> 8) & 255, (base & 255) + k); };
    y += fmt::format("  - endpoints: [\"n{}:eth1\", \"n{}:eth2\"]\n    ipv4: [{}, {}]\n", i, (i + 1) % n, a(1), a(2));
  }
  return y;
}

}  // namespace

int main(int argc, char** argv) {
  auto entered = netctl::sandbox::enter();
  if (!entered) {
    std::fprintf(stderr, "sandbox: %s\n", entered.error().what().c_str());
    return 1;
  }
  std::vector<int> sizes;
  bool mininetOnly = false;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--mininet-only") mininetOnly = true;
    else sizes.push_back(std::atoi(argv[i]));
  }
  if (sizes.empty()) sizes = {100, 500, 1000};
  int rc = 0;
  std::map<std::string, std::map<int, double>> upTimes;
  if (!mininetOnly) {
    std::printf("%-6s %6s %10s %12s %10s %12s\n", "shape", "nodes", "up s", "up RSS MiB", "down s", "down RSS MiB");
    for (const char* shape : {"star", "ring"}) {
      for (int n : sizes) {
        auto r = netctlLab(shape, n, std::string(shape) == "star" ? star(n) : ring(n));
        std::printf("%-6s %6d %10.3f %12.1f %10.3f %12.1f%s\n", shape, n, r.up.seconds, r.up.maxRssKb / 1024.0,
                    r.down.seconds, r.down.maxRssKb / 1024.0, r.ok() ? "" : "  FAILED");
        std::fflush(stdout);
        if (!r.ok()) rc = 1;
        upTimes[shape][n] = r.up.seconds;
      }
      auto& t = upTimes[shape];
      if (t.count(100) && t.count(1000))
        std::printf("%-6s up 1000 / up 100: %.1fx (target <= 12x)\n", shape, t[1000] / t[100]);
    }
  }
  if (::access("/usr/bin/mnexec", X_OK) != 0) {
    std::printf("mininet: not installed (Debian package mininet), comparison skipped\n");
  } else {
    std::printf("\nstar vs Mininet (LinuxBridge, no controller)\n%-6s %10s %10s %12s %12s %8s %8s\n", "hosts",
                "netctl up", "down", "mininet up", "down", "up x", "down x");
    for (int n : {100, 400}) {
      auto ours = netctlLab("star", n, star(n));
      auto mn = mininetStar(n);
      if (!ours.ok() || !mn) {
        std::printf("%-6d FAILED (%s)\n", n, ours.ok() ? "mininet" : "netctl");
        rc = 1;
        continue;
      }
      std::printf("%-6d %10.3f %10.3f %12.3f %12.3f %7.1fx %7.1fx\n", n, ours.up.seconds, ours.down.seconds, mn->first,
                  mn->second, mn->first / ours.up.seconds, mn->second / ours.down.seconds);
      std::fflush(stdout);
    }
    std::printf("targets: >= 10x faster than Mininet at the same size\n");
  }
  netctl::sandbox::leave();
  return rc;
}
