// `netctl up` / `netctl down` wall time and peak RSS for labs of 100, 500 and 1000 nodes, every
// node a full container (namespaces, cgroup, rootfs): a star on one bridge (<= 1000 ports) and
// a ring of point-to-point veth links. Runs the real binary inside the benchmark's sandbox.
//   lab_bench [SIZES...]     (default 100 500 1000)
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <chrono>
#include <map>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "support/sandbox.h"

namespace {

struct Sample {
  double seconds = 0;
  long maxRssKb = 0;
  int rc = -1;
};

Sample runNetctl(const std::vector<std::string>& args) {
  auto t0 = std::chrono::steady_clock::now();
  pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> argv{const_cast<char*>(NETCTL_BINARY)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::execv(NETCTL_BINARY, argv.data());
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
  for (int i = 1; i < argc; ++i) sizes.push_back(std::atoi(argv[i]));
  if (sizes.empty()) sizes = {100, 500, 1000};
  std::printf("%-6s %6s %10s %12s %10s %12s\n", "shape", "nodes", "up s", "up RSS MiB", "down s", "down RSS MiB");
  std::map<std::string, double> up100;
  int rc = 0;
  for (const char* shape : {"star", "ring"}) {
    for (int n : sizes) {
      std::string file = fmt::format("/tmp/lab-bench-{}-{}-{}.yaml", ::getpid(), shape, n);
      std::ofstream(file) << (std::string(shape) == "star" ? star(n) : ring(n));
      auto up = runNetctl({"up", file});
      auto down = runNetctl({"down", fmt::format("{}{}", shape, n)});
      std::printf("%-6s %6d %10.3f %12.1f %10.3f %12.1f%s\n", shape, n, up.seconds, up.maxRssKb / 1024.0,
                  down.seconds, down.maxRssKb / 1024.0, up.rc || down.rc ? "  FAILED" : "");
      std::fflush(stdout);
      if (up.rc || down.rc) rc = 1;
      ::unlink(file.c_str());
    }
  }
  netctl::sandbox::leave();
  return rc;
}
