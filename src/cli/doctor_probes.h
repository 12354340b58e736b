// The checks of `netctl doctor`, and the network probes (link kinds, nftables NAT), which run
// in a scratch network namespace.
#pragma once

#include <string>
#include <vector>

#include "netctl/topology/model.h"

namespace netctl::cli::doctor {

enum class Status { kOk, kMissing, kWarn };

struct Check {
  std::string area;    // "net", "runtime"
  std::string name;
  Status status;
  std::string detail;  // what works, or the missing kernel option and what it disables
  bool required = true;
};

std::vector<Check> probeNetwork();

// Multi-host: from this machine's network namespace, for every peer host of `part` (a lab's
// local part, topology/hosts.h), whether the underlay reaches its VXLAN port. What it really
// checks, per peer: (1) a route exists (connect() of a UDP socket, bound to the host's parent
// device when it names one; the source address the kernel picks is reported); (2) one 8-byte
// datagram with an invalid VXLAN header (a VXLAN receiver drops it silently) sent to the peer's
// port draws no ICMP error within a second: "port unreachable" means nothing listens there
// (the peer's part is not up), "host/net unreachable" that the underlay does not get there;
// and an ICMP echo to the peer is answered (else a warning: down, or filtering). No error
// cannot tell an open port from a filtered one. Plus (3): whether this host's own
// VXLAN port is free or held (by the lab's VXLAN devices when it is up here). Area "underlay",
// names "host <peer>" and "port <n>".
std::vector<Check> probeUnderlay(const topology::Lab& part, bool upHere);

}  // namespace netctl::cli::doctor
