// `netctl down`: undoes whatever the journal records, in the cheapest order the kernel allows:
// every node's init killed in parallel (its cgroup removed by the runtime); every host link
// that carries the lab's mark deleted with ONE request for the lab's interface group (the
// kernel unregisters them, and the veth peers inside the nodes, as one batch); all of the
// lab's network namespaces released with ONE unmount; whatever the journal names that is
// still there removed by name; the host NAT tables rebuilt without the lab; and the state
// directory removed. Works with the topology file gone and after `up` was killed at any
// point; idempotent.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <thread>

#include "lab_common.h"
#include "netctl/base/fs.h"
#include "netctl/runtime/cgroup.h"
#include "netctl/runtime/container.h"
#include "netctl/topology/lab.h"
#include "netctl/topology/state.h"
#include "network.h"

namespace netctl::lab {

Result<void> teardownLocked(const std::string& root, const std::string& lab, bool keepDir) {
  auto paths = state::labPaths(root, lab);
  auto entries = NETCTL_TRYC(journal::read(paths.journal), "reading the journal of lab {}", lab);
  std::set<std::string> containers, hostLinks;
  bool nat = false;
  for (const auto& e : entries) {
    if (e.kind == "container") containers.insert(e.id);
    if (e.kind == "bridge" || e.kind == "hostlink") hostLinks.insert(e.id);
    if (e.kind == "nft") nat = true;
  }
  Timer timer("down");
  runtime::Runtime rt(root);
  std::vector<std::string> names(containers.begin(), containers.end());
  // Killing an init is mostly waiting for the kernel: more workers than CPUs pay off.
  NETCTL_TRY(parallel(names.size(), cpuCount() * 4, [&](size_t i, nl::SocketCache&) -> Result<void> {
    NETCTL_TRYC(rt.destroy(names[i]), "lab {}", lab);
    // A create killed before its record was written leaves only a cgroup.
    if (auto g = cgroup::Group::open(cgroup::defaultParent(), names[i]))
      NETCTL_TRYC(g->destroy(), "lab {}: cgroup of {}", lab, names[i]);
    return {};
  }));
  timer.lap("containers destroyed");
  nl::SocketCache cache;
  auto* host = NETCTL_TRY(cache.current());
  NETCTL_TRYC(link::removeOwned(*host, lab), "lab {}", lab);
  timer.lap("host links deleted");
  NETCTL_TRYC(netns::removeAllIn(paths.dir + "/netns"), "lab {}", lab);
  timer.lap("namespaces released");

  for (const auto& name : hostLinks) {
    auto r = link::remove(*host, link::Ref(name));
    if (!r && r.error().kind() != Error::Kind::kNotFound)
      return std::unexpected(std::move(r).error().context(fmt::format("lab {}", lab)));
  }
  // The deletions above are synchronous, so this normally finds nothing at once. It stays as a
  // bounded safety net for a link the kernel is still releasing (a veth whose other end was in
  // a namespace already dying): the names must be free when `down` returns.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    auto owned = NETCTL_TRY(link::listOwned(*host, lab));
    if (owned.empty()) break;
    if (std::chrono::steady_clock::now() > deadline) {
      NETCTL_TRY(link::removeOwned(*host, lab));
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  timer.lap("host links gone");
  if (nat || fs::exists(paths.dir + "/desired.json"))
    NETCTL_TRYC(syncHostNat(root, lab, nullptr), "lab {}", lab);
  for (const char* f : {"/journal", "/topology.json", "/desired.json"})
    ::unlink((paths.dir + f).c_str());
  if (keepDir) return {};
  return state::removeLab(root, lab);
}

Result<void> down(const std::string& root, const std::string& lab) {
  auto paths = state::labPaths(root, lab);
  if (!fs::exists(paths.dir)) return {};
  auto lock = NETCTL_TRY(state::LabLock::acquire(root, lab, /*wait=*/true));
  return teardownLocked(root, lab, false);
}

}  // namespace netctl::lab
