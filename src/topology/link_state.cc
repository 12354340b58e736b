// `netctl link down|up`: both ends of a link set administratively down or up, as a cut cable
// and its repair. Down flushes the routes through the ends (and their IPv6 addresses), so they
// are saved in live.json first and put back by up: a repaired link carries what it carried.
#include <fmt/format.h>

#include "live_common.h"
#include "netctl/net/link.h"
#include "netctl/topology/state.h"

namespace netctl::live {

Result<void> setLinkState(const std::string& root, const std::string& lab, const IfaceRef& at, bool up) {
  auto lock = NETCTL_TRY(state::LabLock::acquire(root, lab, /*wait=*/true));
  auto run = NETCTL_TRY(RunningLab::open(root, lab));
  auto found = NETCTL_TRY(run.find(at));
  auto live = NETCTL_TRY(LiveState::load(root, lab));
  std::vector<End> ends{found.self};
  if (found.peer) ends.push_back(*found.peer);
  const std::string what = fmt::format("setting {} {}", at.str(), up ? "up" : "down");

  for (const auto& e : ends) {
    const std::string key = e.str();
    // A stopped node's end stays parked; its record decides what comes up on start.
    bool parked = !e.host() && live.stopped.count(e.node);
    auto* sock = NETCTL_TRY(run.socket(e));
    if (up) {
      if (!parked) {
        NETCTL_TRYC(link::setUp(*sock, link::Ref(e.iface), true), "{}: {}", what, key);
        if (auto it = live.down.find(key); it != live.down.end())
          NETCTL_TRYC(restore(*sock, it->second), "{}: {}", what, key);
      } else if (auto it = live.down.find(key); it != live.down.end()) {
        // Its routes go back with the node's own on start.
        auto& p = live.stopped[e.node];
        for (const auto& r : it->second.routes) p.routes.push_back(r);
        for (const auto& a : it->second.addresses) p.addresses.push_back(a);
        if (std::find(p.up.begin(), p.up.end(), e.iface) == p.up.end()) p.up.push_back(e.iface);
      }
      live.down.erase(key);
      continue;
    }
    if (live.down.count(key)) continue;  // down already: keep what was saved then
    Parked saved;
    if (!parked) {
      int index = NETCTL_TRYC(link::index(*sock, link::Ref(e.iface)), "{}: {}", what, key);
      saved = NETCTL_TRYC(snapshot(*sock, {index}), "{}: {}", what, key);
      NETCTL_TRYC(link::setUp(*sock, link::Ref(e.iface), false), "{}: {}", what, key);
    }
    live.down[key] = std::move(saved);
  }
  return live.save(root, lab);
}

}  // namespace netctl::live
