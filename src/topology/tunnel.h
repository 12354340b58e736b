// The kernel side of multi-host labs (topology/hosts.h): the VXLAN port that joins a spanning
// network's bridge to the other hosts, and the FDB peers of a cross-host link's VXLAN device.
// Called from apply.cc; the devices carry the lab's mark, so `down` removes them with the rest.
#pragma once

#include <string>

#include "lab_common.h"
#include "netctl/topology/model.h"

namespace netctl::lab::tunnel {

// The VXLAN device of a spanning network in the host netns ("ncx" + 12 hex).
std::string spanDevice(const topology::Lab& lab, const topology::Network& n);

// For a network with a span: journals and creates its VXLAN device as a port of `bridge`
// (its VNI, this host's UDP port and underlay device, learning unless the peers' ports
// differ), appends one all-zero-MAC FDB entry per peer host, and gives the bridge the
// network's gateway MAC, the same on every host (an anycast gateway: whichever host answers
// a node's ARP for the gateway, the answer is right). No-op without a span.
Result<void> addSpan(Journal& journal, nl::Socket& host, const topology::Lab& lab,
                     const topology::Network& n, const std::string& bridge);
// Removes it (reconcile); a missing device is fine.
Result<void> removeSpan(nl::Socket& host, const topology::Lab& lab, const topology::Network& n);

// Appends the extra FDB peers of a vxlan link's device `dev` (hosts with another UDP port).
Result<void> addPeers(nl::Socket& s, const link::Ref& dev, const topology::Link& l);

}  // namespace netctl::lab::tunnel
