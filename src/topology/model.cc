#include "netctl/topology/model.h"

#include <fmt/format.h>

namespace netctl::topology {

std::string Diagnostic::str() const {
  std::string out = file;
  if (loc.known()) out += fmt::format(":{}:{}", loc.line, loc.col);
  out += ": ";
  if (!path.empty()) out += path + ": ";
  out += message;
  return out;
}

std::string_view protoName(Proto p) {
  switch (p) {
    case Proto::kTcp: return "tcp";
    case Proto::kUdp: return "udp";
    case Proto::kSctp: return "sctp";
  }
  return "?";
}

std::string_view natActionName(NatAction a) {
  switch (a) {
    case NatAction::kMasquerade: return "masquerade";
    case NatAction::kSnat: return "snat";
    case NatAction::kDnat: return "dnat";
  }
  return "?";
}

std::string_view linkTypeName(LinkType t) {
  switch (t) {
    case LinkType::kVeth: return "veth";
    case LinkType::kHost: return "host";
    case LinkType::kMacvlan: return "macvlan";
    case LinkType::kVxlan: return "vxlan";
    case LinkType::kDummy: return "dummy";
  }
  return "?";
}

const Node* Lab::node(std::string_view name) const {
  auto it = nodeIndex_.find(std::string(name));
  return it == nodeIndex_.end() ? nullptr : &nodes[it->second];
}

const Network* Lab::network(std::string_view name) const {
  auto it = networkIndex_.find(std::string(name));
  return it == networkIndex_.end() ? nullptr : &networks[it->second];
}

void Lab::reindex() {
  nodeIndex_.clear();
  networkIndex_.clear();
  for (size_t i = 0; i < nodes.size(); ++i) nodeIndex_.emplace(nodes[i].name, i);
  for (size_t i = 0; i < networks.size(); ++i) networkIndex_.emplace(networks[i].name, i);
}

}  // namespace netctl::topology
