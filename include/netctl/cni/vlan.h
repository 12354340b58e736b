// Bridge VLAN filtering for the CNI bridge mode's `vlan` key, as the reference bridge plugin
// does it: the bridge filters by VLAN, the container's port has the VLAN as its PVID and sends
// it untagged, and a gateway for the VLAN sits on a "<bridge>.<vid>" 802.1Q interface over the
// bridge (the bridge itself carries the VLAN tagged).
//
// Raw rtnetlink (AF_BRIDGE IFLA_AF_SPEC / IFLA_BRIDGE_VLAN_INFO): the link engine has no VLAN
// table calls. A kernel without CONFIG_BRIDGE_VLAN_FILTERING (or, for the gateway, without
// CONFIG_VLAN_8021Q) answers EOPNOTSUPP; the error is kUnsupported and names the option.
#pragma once

#include <cstdint>
#include <string>

#include "netctl/base/result.h"
#include "netctl/net/netlink.h"

namespace netctl::cni::vlan {

inline constexpr const char* kFilteringOption = "CONFIG_BRIDGE_VLAN_FILTERING";
inline constexpr const char* k8021qOption = "CONFIG_VLAN_8021Q";

// Turns VLAN filtering on for bridge `bridgeIndex` (a no-op when it is on).
Result<void> enableFiltering(nl::Socket& s, int bridgeIndex);
// Port `portIndex` of a filtering bridge: `vid` becomes its PVID, egress untagged. Unless
// `keepDefault`, the port leaves VLAN 1 (the bridge's default PVID).
Result<void> setPortVlan(nl::Socket& s, int portIndex, uint16_t vid, bool keepDefault);
// The bridge device itself carries `vid` tagged, and "<bridge>.<vid>" (created when missing,
// up) is the 802.1Q interface a gateway address goes on. Returns its index.
Result<int> ensureGatewayLink(nl::Socket& s, int bridgeIndex, const std::string& bridgeName, uint16_t vid);
// Name of that interface; a bridge name too long for ".vid" is cut so it fits IFNAMSIZ.
std::string gatewayLinkName(const std::string& bridgeName, uint16_t vid);

}  // namespace netctl::cni::vlan
