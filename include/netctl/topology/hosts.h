// Multi-host labs: one topology file places its nodes on several hosts (`hosts:` and each
// node's `host:`), and every host brings up its own part with `netctl up FILE --host NAME`.
// This is the pure transform from the whole lab to one host's part; every host computes it
// from the same file, so both ends of a tunnel agree without talking to each other:
//  - a veth link whose ends are on two hosts becomes, on each side, a vxlan link of the local
//    end toward the peer host's underlay address (VNI: the link's `vni`, else derived from lab
//    and link; MTU lowered by the encapsulation overhead unless the link sets one);
//  - a bridge network with nodes on several hosts gets one VNI, a VXLAN port on each host's
//    bridge that floods to every peer host (head-end replication), and a per-host slice of its
//    subnet from which the local nodes take their automatic addresses (no central IPAM); the
//    gateway stays on every host's bridge, with the same MAC (an anycast gateway).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "netctl/base/result.h"
#include "netctl/topology/model.h"

namespace netctl::topology::hosts {

// Outer Ethernet + IP + UDP + VXLAN header: what a VXLAN tunnel costs of the underlay's MTU.
inline constexpr int kOverheadV4 = 50;
inline constexpr int kOverheadV6 = 70;
// The underlay MTU assumed when lowering a tunnel's MTU (set `mtu:` for jumbo underlays).
inline constexpr int kUnderlayMtu = 1500;

// The host a node runs on: its `host:`, else the first host of `hosts:` (empty without hosts).
std::string placement(const Lab& lab, const Node& node);

// The VNIs the transform uses, for every host alike: explicit ones first (a link's or a
// network's `vni:`, vxlan links), then the derived ones in file order (cross-host links, then
// spanning networks), each moved to the next free value if a hash is taken.
struct Vnis {
  std::map<size_t, uint32_t> links;             // index in lab.links -> VNI (cross-host links)
  std::map<std::string, uint32_t> networks;     // spanning network -> VNI
};
Vnis vnis(const Lab& lab);

// The bridge networks whose nodes sit on more than one host -> those hosts (file order).
std::map<std::string, std::vector<std::string>> spanningNetworks(const Lab& lab);

// Slice `index` of `count` equal parts of `subnet` (count rounded up to a power of two);
// nullopt when the subnet is too small.
std::optional<IpPrefix> slice(const IpPrefix& subnet, size_t index, size_t count);

// Checks of the hosts section and of placement, as "file:line:col: path: reason" diagnostics
// (validate() runs them): every tunnel end has a usable underlay address (not unspecified,
// loopback, multicast or broadcast; IPv6 link-local only with a parent), one address family,
// no address twice, no explicit VNI twice, and spanning subnets large enough to split.
std::vector<Diagnostic> check(const Lab& lab);

// The part of `lab` that runs on `host` (see above). Errors are kInvalidInput: an unknown
// host, a lab without hosts, what check() finds, a host slice with no free address left.
Result<Lab> localPart(const Lab& lab, std::string_view host);

// The host whose underlay address is one of `local` (this machine's addresses). kInvalidInput
// naming the hosts when none or more than one matches.
Result<std::string> detect(const Lab& lab, const std::vector<IpAddress>& local);

}  // namespace netctl::topology::hosts
