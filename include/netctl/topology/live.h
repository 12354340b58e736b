// Live operations on a running lab (issue 7): impairments changed in place, a link cut and
// restored, a node stopped, started and restarted with its links kept, and a stream of what
// happens. Every verb works from a later process: what must survive between calls (links set
// down, impairments set live, the parked state of stopped nodes) is kept in
// <root>/labs/<lab>/live.json, next to the journal, and `up` honours it.
//
// Stopping a node parks its interfaces where they are: the node's netns is pinned under the
// lab's state, so it outlives the node's processes, and every interface in it (MAC, ifindex,
// qdiscs, IPv4 addresses) stays. The interfaces are set down so that the node no longer
// forwards and its neighbours see the carrier drop, as with a powered-off box; what the kernel
// flushes on down (routes, IPv6 addresses) is saved first and put back on start. Nothing is
// moved between namespaces, so no veth end ever disappears and no RCU grace period is paid.
#pragma once

#include <atomic>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "netctl/base/result.h"
#include "netctl/net/qdisc.h"
#include "netctl/topology/model.h"
#include "netctl/topology/plan.h"

namespace netctl::live {

// "NODE:IFACE" of a running lab. kInvalidInput for anything else.
struct IfaceRef {
  std::string node, iface;
  std::string str() const { return node + ":" + iface; }
};
Result<IfaceRef> parseIfaceRef(std::string_view text);

// ---- impairments -------------------------------------------------------------------------

// The topology file's impair block in the qdisc engine's terms. `correlation` applies to the
// delay, the loss and the reordering alike. Pure.
qdisc::Impairment fromModel(const topology::Impair& im);
// The impair verb's flags (name without "--", value): rate, burst, delay, jitter,
// delay-correlation (or correlation), distribution, loss, loss-correlation, corrupt (or
// corruption), duplicate, reorder, reorder-correlation, limit. kInvalidInput naming the flag.
Result<qdisc::Impairment> parseImpairFlags(const std::vector<std::pair<std::string, std::string>>& flags);
// kUnsupported naming the kernel option when this kernel lacks the qdisc kind ("netem", "tbf").
Result<void> probeImpairment(std::string_view kind);

struct ImpairRow {
  IfaceRef where;
  qdisc::State state;  // read back from the kernel
};
// Merges `changes` into what the interface carries now and applies the result (egress of that
// interface only). Recorded in live.json so a later `up` keeps it.
Result<void> impairSet(const std::string& root, const std::string& lab, const IfaceRef& at,
                       const qdisc::Impairment& changes);
Result<void> impairReset(const std::string& root, const std::string& lab, const IfaceRef& at);
// One interface, or (at empty) every node interface of the lab.
Result<std::vector<ImpairRow>> impairShow(const std::string& root, const std::string& lab,
                                          const std::optional<IfaceRef>& at);
// containerlab's field names: delay, jitter (strings), packet_loss, corruption (floats),
// rate (kbit/s, int), plus netctl's own (duplicate, reorder, limit, rate_bits, qdisc).
nlohmann::json toJson(const ImpairRow& row);

// ---- link state --------------------------------------------------------------------------

// Sets an interface and, for a veth between two nodes or to the host, its other end down or
// up. Ends inside a stopped node stay down until the node starts. Recorded in live.json.
Result<void> setLinkState(const std::string& root, const std::string& lab, const IfaceRef& at, bool up);

// ---- nodes -------------------------------------------------------------------------------

// Ends the node's processes and parks its interfaces (see above). kConflict when stopped.
Result<void> stopNode(const std::string& root, const std::string& lab, const std::string& node);
// Runs the node again in its own netns and unparks its interfaces: admin state, routes and
// IPv6 addresses as they were. kConflict when it is not stopped.
Result<void> startNode(const std::string& root, const std::string& lab, const std::string& node);
Result<void> restartNode(const std::string& root, const std::string& lab, const std::string& node);
// The lab's nodes that are stopped (from live.json).
Result<std::vector<std::string>> stoppedNodes(const std::string& root, const std::string& lab);

// ---- events ------------------------------------------------------------------------------

struct EventOptions {
  bool json = false;                   // JSON lines instead of text
  std::optional<double> seconds;       // stop after this long; default: until *stop
  const std::atomic<bool>* stop = nullptr;
  FILE* out = stdout;
};
// Link up/down and address changes from every node's netns (netlink), and node state changes
// (stopped, started, gone) from the runtime, one line each, flushed as they come.
Result<void> streamEvents(const std::string& root, const std::string& lab, const EventOptions& o);

// ---- the hook of `up` --------------------------------------------------------------------

// After `up` created the links of `plan`: applies the file's impairments to them (both ends of
// the link), then what live.json says of them (links set down, ends of stopped nodes parked).
// Impairments set live on links that `up` made afresh, and the parked state of nodes it made
// afresh, are dropped (the file is newer); links set down stay down.
Result<void> afterUp(const std::string& root, const topology::Lab& lab, const topology::Plan& plan);

}  // namespace netctl::live
