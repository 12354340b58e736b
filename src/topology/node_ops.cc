// `netctl stop|start|restart LAB NODE`: a node's processes end and come back while its links
// stay. The node's netns is pinned under the lab's state (apply.cc), so it outlives the
// container: stop destroys the container and sets the interfaces down (saving what the kernel
// flushes then), start runs a new container inside the same netns and brings the interfaces
// back. The neighbours' veth ends never go away; they only see the carrier drop and return.
#include <fmt/format.h>

#include <algorithm>

#include "live_common.h"
#include "netctl/net/link.h"
#include "netctl/runtime/container.h"
#include "netctl/topology/names.h"
#include "netctl/topology/state.h"

namespace netctl::live {

namespace names = topology::names;

Result<void> stopNode(const std::string& root, const std::string& lab, const std::string& node) {
  auto lock = NETCTL_TRY(state::LabLock::acquire(root, lab, /*wait=*/true));
  auto run = NETCTL_TRY(RunningLab::open(root, lab));
  NETCTL_TRY(run.node(node));
  auto live = NETCTL_TRY(LiveState::load(root, lab));
  const std::string what = fmt::format("stopping {} node {}", lab, node);
  if (live.stopped.count(node)) return conflict(fmt::format("{}: it is stopped already", what));
  auto* sock = NETCTL_TRYC(run.socket(End{node, ""}), "{}", what);

  auto links = NETCTL_TRYC(link::list(*sock), "{}", what);
  Parked parked = NETCTL_TRYC(snapshot(*sock, {}), "{}", what);
  std::vector<std::string> toDown;
  for (const auto& l : links) {
    if (l.name == "lo") continue;
    if (l.up()) toDown.push_back(l.name);
    // Up unless something set it down: a link set down by `link down` comes up with `link up`.
    if (l.up() || live.down.count(node + ":" + l.name)) parked.up.push_back(l.name);
  }
  // On record before anything changes: a stop cut short is finished by start.
  live.stopped[node] = parked;
  NETCTL_TRYC(live.save(root, lab), "{}", what);

  runtime::Runtime rt(root);
  NETCTL_TRYC(rt.destroy(names::netns(lab, node)), "{}", what);
  for (const auto& name : toDown) {
    auto r = link::setUp(*sock, link::Ref(name), false);
    if (!r && r.error().kind() != Error::Kind::kNotFound)
      return std::unexpected(std::move(r).error().context(fmt::format("{}: parking {}", what, name)));
  }
  return {};
}

Result<void> startNode(const std::string& root, const std::string& lab, const std::string& node) {
  auto lock = NETCTL_TRY(state::LabLock::acquire(root, lab, /*wait=*/true));
  auto run = NETCTL_TRY(RunningLab::open(root, lab));
  const topology::Node* n = NETCTL_TRY(run.node(node));
  auto live = NETCTL_TRY(LiveState::load(root, lab));
  const std::string what = fmt::format("starting {} node {}", lab, node);
  auto it = live.stopped.find(node);
  if (it == live.stopped.end()) return conflict(fmt::format("{}: it is not stopped", what));
  const Parked& parked = it->second;

  runtime::Spec spec = lab::nodeSpec(run.model(), *n, lab::hostEntries(run.model()));
  // The container joins the node's pinned netns instead of making a new one: the runtime's
  // child inherits the netns of the thread that creates it.
  spec.namespaces.net = false;
  const netns::Handle* h = NETCTL_TRYC(run.handle(node), "{}", what);
  auto* sock = NETCTL_TRYC(run.socket(End{node, ""}), "{}", what);
  runtime::Runtime rt(root);
  const std::string name = names::netns(lab, node);
  NETCTL_TRYC(netns::runIn(*h, [&] { return rt.create(spec); }), "{}", what);

  auto unpark = [&]() -> Result<void> {
    for (const auto& iface : parked.up) {
      if (live.down.count(node + ":" + iface)) continue;
      auto r = link::setUp(*sock, link::Ref(iface), true);
      if (!r && r.error().kind() != Error::Kind::kNotFound) return r;
    }
    NETCTL_TRY(restore(*sock, parked));
    return rt.start(name);
  };
  if (auto ok = unpark(); !ok) {
    (void)rt.destroy(name);
    for (const auto& iface : parked.up) (void)link::setUp(*sock, link::Ref(iface), false);
    return std::unexpected(std::move(ok).error().context(what));
  }
  live.stopped.erase(it);
  return live.save(root, lab);
}

Result<void> restartNode(const std::string& root, const std::string& lab, const std::string& node) {
  auto live = NETCTL_TRY(LiveState::load(root, lab));
  if (!live.stopped.count(node)) NETCTL_TRY(stopNode(root, lab, node));
  return startNode(root, lab, node);
}

}  // namespace netctl::live
