// The plan of `netctl up`: desired state minus current state. Current is the resolved lab the
// last complete `up` stored (topology.json); nothing current means everything is added. A node
// or network whose definition changed is removed and added again, and so is every link or
// node that hangs on it, so the apply step only ever creates or removes whole objects.
#pragma once

#include <string>
#include <vector>

#include "netctl/topology/model.h"

namespace netctl::topology {

struct Plan {
  // Names in `current` to remove (networks, nodes) and link ids (names::linkId).
  std::vector<std::string> removeNetworks, removeNodes, removeLinks;
  // Names in `desired` to create.
  std::vector<std::string> addNetworks, addNodes, addLinks;
  // The host's NAT state (networks, published ports) differs.
  bool natChanged = false;
  // The lab's name -> address list differs: every node's /etc/hosts is rewritten.
  bool hostsChanged = false;

  size_t changes() const {
    return removeNetworks.size() + removeNodes.size() + removeLinks.size() + addNetworks.size() +
           addNodes.size() + addLinks.size() + (natChanged ? 1 : 0);
  }
  // One line per change ("+ node r1", "- link a:eth1--b:eth1"), or "no changes".
  std::string str() const;
};

Plan makePlan(const Lab* current, const Lab& desired);

// The address other nodes know a node by (its first network address, else its first link
// address), as printed in /etc/hosts; empty when it has none.
std::string primaryAddress(const Lab& lab, const Node& node);

}  // namespace netctl::topology
