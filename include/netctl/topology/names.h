// Deterministic names and identities derived from (lab, node, interface): pure functions, so
// `up`, `down` and `inspect` agree without state, a redeploy gets the same MACs, and two labs
// never collide. Host-side names are "nc" + a tag letter + 12 hex digits of a 64-bit FNV-1a
// hash: always 15 characters, and a collision between two labs needs a 48-bit clash.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "netctl/topology/addr.h"
#include "netctl/topology/model.h"

namespace netctl::topology::names {

// "<lab>-<node>": the name under /run/netns, so `ip netns exec lab1-r1 ...` works.
std::string netns(std::string_view lab, std::string_view node);
// Host-side end of a node's veth whose node-side end is `iface` (bridge ports, host links
// without a host-interface name): "ncv" + 12 hex.
std::string hostVeth(std::string_view lab, std::string_view node, std::string_view iface);
// The bridge of a lab network: "ncb" + 12 hex.
std::string bridge(std::string_view lab, std::string_view network);
// A temporary or host-side name for other link kinds (vxlan, macvlan before the move):
// "ncx" + 12 hex.
std::string scratch(std::string_view lab, std::string_view node, std::string_view iface);
// Stable, locally administered, unicast MAC for (lab, node, iface).
Mac mac(std::string_view lab, std::string_view node, std::string_view iface);
// "a:eth1--b:eth1" (endpoints in file order; single-endpoint links "a:eth1--<type>").
std::string linkId(const Link& link);
// VXLAN network identifier 1..16777215 from (lab, linkId).
uint32_t vni(std::string_view lab, const Link& link);
// The 64-bit FNV-1a hash the names use, over the parts separated by a NUL byte.
uint64_t hash(std::initializer_list<std::string_view> parts);

}  // namespace netctl::topology::names
