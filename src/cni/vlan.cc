#include "netctl/cni/vlan.h"

#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <cerrno>

#include <fmt/format.h>

#include "netctl/net/link.h"

namespace netctl::cni::vlan {
namespace {

// EOPNOTSUPP from a bridge VLAN request means the kernel was built without the option.
Result<void> answer(const nl::Status& st, const std::string& what, const char* option) {
  if (st.ok()) return {};
  if (st.errnum == EOPNOTSUPP)
    return unsupported(fmt::format("{}: the kernel lacks {} ({})", what, option, st.extack.empty() ? "EOPNOTSUPP" : st.extack));
  return std::unexpected(nl::toError(st, what));
}

// RTM_SETLINK / RTM_DELLINK on the bridge VLAN table of a port (self = the bridge device).
Result<void> vlanEntry(nl::Socket& s, uint16_t type, int index, uint16_t vid, uint16_t flags, bool self,
                       const std::string& what) {
  nl::Message m(type, 0);
  auto* ifi = m.putHeader<ifinfomsg>();
  ifi->ifi_family = AF_BRIDGE;
  ifi->ifi_index = index;
  nlattr* spec = m.nestStart(IFLA_AF_SPEC);
  if (self) m.putU16(IFLA_BRIDGE_FLAGS, BRIDGE_FLAGS_SELF);
  bridge_vlan_info info{};
  info.flags = flags;
  info.vid = vid;
  m.putBytes(IFLA_BRIDGE_VLAN_INFO, &info, sizeof info);
  m.nestEnd(spec);
  return answer(s.transact(m), what, kFilteringOption);
}

}  // namespace

Result<void> enableFiltering(nl::Socket& s, int bridgeIndex) {
  nl::Message m(RTM_NEWLINK, 0);
  auto* ifi = m.putHeader<ifinfomsg>();
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = bridgeIndex;
  nlattr* info = m.nestStart(IFLA_LINKINFO);
  m.putString(IFLA_INFO_KIND, "bridge");
  nlattr* data = m.nestStart(IFLA_INFO_DATA);
  m.putU8(IFLA_BR_VLAN_FILTERING, 1);
  m.nestEnd(data);
  m.nestEnd(info);
  return answer(s.transact(m), "turning on VLAN filtering", kFilteringOption);
}

Result<void> setPortVlan(nl::Socket& s, int portIndex, uint16_t vid, bool keepDefault) {
  NETCTL_TRY(vlanEntry(s, RTM_SETLINK, portIndex, vid, BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED, false,
                       fmt::format("VLAN {} as the port's PVID", vid)));
  if (!keepDefault && vid != 1) {
    auto r = vlanEntry(s, RTM_DELLINK, portIndex, 1, 0, false, "leaving the default VLAN 1");
    if (!r && r.error().kind() != Error::Kind::kNotFound) return r;
  }
  return {};
}

std::string gatewayLinkName(const std::string& bridgeName, uint16_t vid) {
  std::string suffix = fmt::format(".{}", vid);
  return bridgeName.substr(0, IFNAMSIZ - 1 - suffix.size()) + suffix;
}

Result<int> ensureGatewayLink(nl::Socket& s, int bridgeIndex, const std::string& bridgeName, uint16_t vid) {
  NETCTL_TRY(vlanEntry(s, RTM_SETLINK, bridgeIndex, vid, 0, true, fmt::format("VLAN {} on the bridge itself", vid)));
  std::string name = gatewayLinkName(bridgeName, vid);
  if (auto have = link::index(s, name); have) return *have;
  nl::Message m(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  auto* ifi = m.putHeader<ifinfomsg>();
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_flags = IFF_UP;
  ifi->ifi_change = IFF_UP;
  m.putString(IFLA_IFNAME, name);
  m.putU32(IFLA_LINK, uint32_t(bridgeIndex));
  nlattr* info = m.nestStart(IFLA_LINKINFO);
  m.putString(IFLA_INFO_KIND, "vlan");
  nlattr* data = m.nestStart(IFLA_INFO_DATA);
  m.putU16(IFLA_VLAN_ID, vid);
  m.nestEnd(data);
  m.nestEnd(info);
  nl::Status st = s.transact(m);
  if (st.errnum == EEXIST) return link::index(s, name);  // a concurrent ADD made it
  // Without 8021q the kernel knows no "vlan" kind: EOPNOTSUPP.
  NETCTL_TRY(answer(st, "creating " + name, k8021qOption));
  return link::index(s, name);
}

}  // namespace netctl::cni::vlan
