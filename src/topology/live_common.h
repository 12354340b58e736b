// Shared pieces of the live operations (impair.cc, link_state.cc, node_ops.cc, events.cc,
// live_up.cc): the live.json record, and finding an interface of a running lab and its other end.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "netctl/base/result.h"
#include "netctl/net/netlink.h"
#include "netctl/net/netns.h"
#include "netctl/net/qdisc.h"
#include "netctl/runtime/spec.h"
#include "netctl/topology/live.h"
#include "netctl/topology/model.h"

namespace netctl::lab {
// From apply.cc: what `up` gives the runtime for a node, so `start` makes the same node again.
using HostEntries = std::shared_ptr<const std::vector<runtime::HostEntry>>;
HostEntries hostEntries(const topology::Lab& lab);
runtime::Spec nodeSpec(const topology::Lab& lab, const topology::Node& n, const HostEntries& hosts);
}  // namespace netctl::lab

namespace netctl::live {

// What a stopped node had that the kernel flushes when its interfaces go down.
struct Parked {
  std::vector<std::string> up;        // interfaces to bring up again on start
  nlohmann::json routes = nlohmann::json::array();     // [{dst, via?, dev, metric, table, src?}]
  nlohmann::json addresses = nlohmann::json::array();  // [{dev, prefix}] (IPv6, global)
};

// What the kernel flushes when interfaces go down: their routes (any but the kernel's own) and
// their global IPv6 addresses. ifindexes empty: every interface but lo.
Result<Parked> snapshot(nl::Socket& s, const std::set<int>& ifindexes);
// Puts a snapshot back (the interfaces must be up): addresses, then routes, each route tried
// twice so one that needs another's gateway finds it; routes already there are fine.
Result<void> restore(nl::Socket& s, const Parked& p);

// <root>/labs/<lab>/live.json.
struct LiveState {
  std::map<std::string, Parked> down;                // "node:iface" set down by `link down`
  std::map<std::string, qdisc::Impairment> impair;   // "node:iface" -> set by `impair set`
  std::map<std::string, Parked> stopped;             // node -> its parked state

  static Result<LiveState> load(const std::string& root, const std::string& lab);
  Result<void> save(const std::string& root, const std::string& lab) const;
};

nlohmann::json impairmentJson(const qdisc::Impairment& imp);
qdisc::Impairment impairmentFromJson(const nlohmann::json& j);

// One end of a link: a node's interface, or (node empty) an interface in the host netns.
struct End {
  std::string node;
  std::string iface;
  bool host() const { return node.empty(); }
  std::string str() const { return host() ? "host:" + iface : node + ":" + iface; }
};

// A running lab's resolved topology (topology.json) and handles to its namespaces.
class RunningLab {
 public:
  static Result<RunningLab> open(const std::string& root, const std::string& lab);
  // The lab `up` is applying (its topology.json is written only when it is done).
  static RunningLab of(const std::string& root, const topology::Lab& lab);
  const topology::Lab& model() const { return *lab_; }
  const std::string& root() const { return root_; }
  std::string netnsDir() const;
  // The linux node, or kNotFound naming the lab.
  Result<const topology::Node*> node(const std::string& name) const;
  // The interface and its other end (another node's, or the host's for bridge ports and
  // host links; none for macvlan and vxlan). kNotFound when the lab has no such interface.
  struct Found {
    End self;
    std::optional<End> peer;
    const topology::Link* link = nullptr;  // null for a network attachment
  };
  Result<Found> find(const IfaceRef& at) const;
  // Every interface of every linux node (links and network attachments), in file order.
  std::vector<IfaceRef> interfaces() const;
  // Every end of a link: its node ends and its host end.
  std::vector<End> ends(const topology::Link& l) const;
  // A socket in the end's netns (the node's pinned netns, or the host's).
  Result<nl::Socket*> socket(const End& e);
  Result<const netns::Handle*> handle(const std::string& node);

 private:
  std::string root_;
  std::unique_ptr<topology::Lab> lab_;
  nl::SocketCache cache_;
  std::map<std::string, netns::Handle> ns_;
};

}  // namespace netctl::live
