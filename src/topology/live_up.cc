// The part of `up` that belongs to the live operations: the file's impairments on the links
// `up` created, and what live.json says of the lab (links set down, stopped nodes) applied to
// them, so an `up` after `link down` or `stop` keeps the link down and the node parked.
#include <fmt/format.h>

#include <set>

#include "live_common.h"
#include "netctl/net/link.h"
#include "netctl/topology/names.h"

namespace netctl::live {

using namespace topology;

Result<void> afterUp(const std::string& root, const Lab& desired, const Plan& plan) {
  auto live = NETCTL_TRY(LiveState::load(root, desired.name));
  std::set<std::string> added(plan.addLinks.begin(), plan.addLinks.end());
  std::set<std::string> freshNodes(plan.addNodes.begin(), plan.addNodes.end());
  bool hasLive = !live.down.empty() || !live.impair.empty() || !live.stopped.empty();
  bool hasImpair = false;
  for (const auto& l : desired.links) {
    if (!added.count(names::linkId(l))) continue;
    hasImpair |= l.impair && !l.impair->empty();
    for (const auto& e : l.endpoints) hasImpair |= e.impair && !e.impair->empty();
  }
  if (!hasLive && !hasImpair) return {};

  auto run = RunningLab::of(root, desired);
  // Nodes made afresh run and their interfaces are new: their parked state is stale.
  for (const auto& n : freshNodes) live.stopped.erase(n);
  std::set<std::string> known;  // every "node:iface" and host end the lab has now
  for (const auto& l : desired.links)
    for (const auto& e : run.ends(l)) known.insert(e.str());
  for (const auto& w : run.interfaces()) known.insert(w.str());
  std::erase_if(live.down, [&](const auto& kv) { return !known.count(kv.first); });
  std::erase_if(live.impair, [&](const auto& kv) { return !known.count(kv.first); });
  std::erase_if(live.stopped, [&](const auto& kv) { return !desired.node(kv.first); });

  for (const auto& l : desired.links) {
    if (!added.count(names::linkId(l))) continue;
    const std::string what = fmt::format("link {}", names::linkId(l));
    for (const auto& e : run.ends(l)) {
      auto* sock = NETCTL_TRYC(run.socket(e), "{}", what);
      const std::string key = e.str();
      // The file is newer than an impairment set live on the link it replaced.
      live.impair.erase(key);
      // An endpoint's own impair (its egress) wins over the link's (both directions).
      const std::optional<Impair>* impair = &l.impair;
      for (const auto& ep : l.endpoints)
        if (ep.impair && ep.node == e.node && ep.iface == e.iface) impair = &ep.impair;
      if (*impair && !(*impair)->empty()) {
        qdisc::Impairment imp = fromModel(**impair);
        NETCTL_TRYC(qdisc::validate(imp), "{}: impair", what);
        NETCTL_TRYC(qdisc::apply(*sock, link::Ref(e.iface), imp), "{}: impairing {}", what, key);
      }
      bool parked = !e.host() && live.stopped.count(e.node);
      if (!live.down.count(key) && !parked) continue;
      if (parked) {
        // The end joins the node's parked state: up (unless set down) when the node starts.
        int index = NETCTL_TRYC(link::index(*sock, link::Ref(e.iface)), "{}", what);
        Parked saved = NETCTL_TRYC(snapshot(*sock, {index}), "{}", what);
        Parked& p = live.stopped[e.node];
        for (auto& a : saved.addresses) p.addresses.push_back(std::move(a));
        for (auto& r : saved.routes) p.routes.push_back(std::move(r));
        if (std::find(p.up.begin(), p.up.end(), e.iface) == p.up.end()) p.up.push_back(e.iface);
      } else {
        int index = NETCTL_TRYC(link::index(*sock, link::Ref(e.iface)), "{}", what);
        live.down[key] = NETCTL_TRYC(snapshot(*sock, {index}), "{}", what);
      }
      NETCTL_TRYC(link::setUp(*sock, link::Ref(e.iface), false), "{}: keeping {} down", what, key);
    }
  }
  return live.save(root, desired.name);
}

}  // namespace netctl::live
