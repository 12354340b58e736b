// netctl doctor: what this machine supports for netctl, and what to do about what it lacks.
//
// Every probe that needs a kernel object makes it in a scratch network namespace or a forked
// child, never in the machine's own network namespace.
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/seccomp.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <functional>

#include "cli/doctor_probes.h"
#include "cli/options.h"
#include "cli/verbs.h"
#include "netctl/base/fs.h"
#include "netctl/runtime/cgroup.h"
#include "netctl/topology/json.h"
#include "netctl/topology/lab.h"
#include "netctl/topology/load.h"
#include "netctl/topology/state.h"

namespace netctl::cli {
namespace {

using doctor::Check;
using doctor::Status;

const char* statusName(Status s) {
  switch (s) {
    case Status::kOk: return "ok";
    case Status::kMissing: return "missing";
    case Status::kWarn: return "warning";
  }
  return "?";
}

// Runs fn in a forked child (so namespaces and mounts it makes vanish with it) and returns
// whether it exited 0.
bool inChild(const std::function<bool()>& fn) {
  pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) ::_exit(fn() ? 0 : 1);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

Check probeOverlay() {
  bool ok = inChild([] {
    if (::unshare(CLONE_NEWNS) != 0) return false;
    if (::mount("", "/", nullptr, MS_PRIVATE | MS_REC, nullptr) != 0) return false;
    if (::mount("tmpfs", "/tmp", "tmpfs", 0, nullptr) != 0) return false;
    for (const char* d : {"/tmp/l", "/tmp/u", "/tmp/w", "/tmp/m"}) ::mkdir(d, 0755);
    return ::mount("overlay", "/tmp/m", "overlay", 0, "lowerdir=/tmp/l,upperdir=/tmp/u,workdir=/tmp/w") == 0;
  });
  return {"runtime", "overlayfs", ok ? Status::kOk : Status::kMissing,
          ok ? "node root filesystems (image: host) work" : "the kernel lacks CONFIG_OVERLAY_FS"};
}

Check probeUserNamespaces() {
  bool ok = inChild([] { return ::unshare(CLONE_NEWUSER) == 0; });
  return {"runtime", "user namespaces", ok ? Status::kOk : Status::kWarn,
          ok ? "nodes can map root to an unprivileged range"
             : "unavailable (CONFIG_USER_NS, or user.max_user_namespaces is 0): the userns option fails"};
}

Check probeSeccomp() {
  // With a NULL filter, a kernel that has seccomp filters answers EFAULT; without, EINVAL.
  bool ok = inChild([] {
    ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    return ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, nullptr) != 0 && errno == EFAULT;
  });
  return {"runtime", "seccomp", ok ? Status::kOk : Status::kMissing,
          ok ? "filters work" : "the kernel lacks CONFIG_SECCOMP_FILTER"};
}

Check probeCgroups() {
  auto layout = cgroup::describe();
  if (!layout) return {"runtime", "cgroups", Status::kMissing, layout.error().what()};
  std::string detail = fmt::format("{}:", cgroup::modeName(layout->mode));
  for (const auto& h : layout->hierarchies) {
    std::string ctrls;
    for (const auto& c : h.controllers) ctrls += (ctrls.empty() ? "" : ",") + c;
    detail += fmt::format(" {}[{}]", h.mountPoint, ctrls.empty() ? "-" : ctrls);
  }
  return {"runtime", "cgroups", Status::kOk, detail};
}

Check probeIpForward() {
  // Only read: doctor never changes the machine.
  auto value = fs::readFile("/proc/sys/net/ipv4/ip_forward");
  bool on = value && value->starts_with("1");
  return {"net", "ip_forward", on ? Status::kOk : Status::kWarn,
          on ? "on" : "off in this namespace: netctl turns it on where a lab needs NAT and restores it on down"};
}

std::vector<Check> runChecks() {
  std::vector<Check> checks = doctor::probeNetwork();
  for (auto probe : {probeIpForward, probeOverlay, probeUserNamespaces, probeSeccomp, probeCgroups})
    checks.push_back(probe());
  return checks;
}

// Multi-host labs to check the underlay of: the one named on the command line, else every lab
// whose part runs here (its stored topology). Each with whether it is up here.
Result<std::vector<std::pair<topology::Lab, bool>>> multiHostParts(const GlobalOptions& global,
                                                                   const po::variables_map& vm) {
  std::vector<std::pair<topology::Lab, bool>> out;
  if (vm.count("topology")) {
    auto loaded = NETCTL_TRY(topology::loadFile(vm["topology"].as<std::string>()));
    std::string host = vm.count("host") ? vm["host"].as<std::string>() : "";
    std::string running = runningAs(global.root, loaded.lab.name);
    auto part = NETCTL_TRY(localPartHere(std::move(loaded.lab), host, global.root));
    bool up = running == part.localHost;
    out.emplace_back(std::move(part), up);
    return out;
  }
  auto names = NETCTL_TRY(lab::labs(global.root));
  for (const auto& name : names) {
    auto text = fs::readFile(state::labPaths(global.root, name).topology);
    if (!text) continue;
    auto doc = nlohmann::json::parse(*text, nullptr, false);
    if (doc.is_discarded()) continue;
    auto l = topology::fromJson(doc);
    if (l && !l->localHost.empty()) out.emplace_back(std::move(*l), true);
  }
  return out;
}

}  // namespace

int runDoctor(const GlobalOptions& global, const std::vector<std::string>& args) {
  po::options_description desc("netctl doctor [--output table|json] [--topology FILE [--host NAME]]");
  desc.add_options()("help,h", "show this help")("output,o", po::value<std::string>()->default_value("table"),
                                                 "table or json")(
      "topology", po::value<std::string>(),
      "a multi-host lab: check that the underlay reaches every peer host's VXLAN port (default: "
      "every multi-host lab whose part runs here)")(
      "host", po::value<std::string>(), "with --topology: this machine's host in the lab");
  auto vm = parseVerbArgs("doctor", args, desc);
  if (!vm) return reportError(vm.error());
  if (vm->count("help")) {
    std::printf("%s", helpText(desc).c_str());
    return 0;
  }
  auto output = parseOutput((*vm)["output"].as<std::string>());
  if (!output) return reportError(output.error());

  auto checks = runChecks();
  auto parts = multiHostParts(global, *vm);
  if (!parts) return reportError(parts.error());
  for (const auto& [part, up] : *parts)
    for (auto& c : doctor::probeUnderlay(part, up)) checks.push_back(std::move(c));
  bool required = true;
  for (const auto& c : checks) required &= !(c.status == Status::kMissing && c.required);

  if (*output == Output::kJson) {
    nlohmann::json out = {{"ok", required}, {"checks", nlohmann::json::array()}};
    for (const auto& c : checks)
      out["checks"].push_back({{"area", c.area}, {"name", c.name}, {"status", statusName(c.status)},
                               {"required", c.required}, {"detail", c.detail}});
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf("%-8s %-18s %-8s %s\n", "AREA", "CHECK", "STATUS", "DETAIL");
    for (const auto& c : checks)
      std::printf("%-8s %-18s %-8s %s\n", c.area.c_str(), c.name.c_str(), statusName(c.status), c.detail.c_str());
    std::printf("\n%s\n", required ? "netctl can run labs on this machine."
                                   : "netctl cannot run labs here: see the missing checks above.");
  }
  return required ? 0 : 1;
}

}  // namespace netctl::cli
