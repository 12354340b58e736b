// The network configuration a CNI plugin reads on stdin, and conflists.
//
// Strict where the spec is (cniVersion, name, type; types of the keys netctl understands),
// lenient where runtimes are: unknown keys are kept in `raw` and otherwise ignored, and
// `capabilities` is tolerated. Errors carry the spec's codes: not JSON -> 6, bad or missing
// required keys and bad values -> 7, an unsupported IPAM type -> 2, a version netctl does not
// speak -> 1.
//
// Plugin mode: `"type": "netctl"` picks the mode from the `mode` key (bridge | macvlan | ptp,
// default bridge; macvlan's own mode is then `macvlanMode`). The type aliases netctl-bridge,
// netctl-macvlan, netctl-ptp, bridge, macvlan and ptp pick the mode by name; with them `mode`
// means what it means for the reference plugin (macvlan: bridge|private|vepa|passthru).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "netctl/cni/ip.h"
#include "netctl/cni/protocol.h"
#include "netctl/cni/result.h"

namespace netctl::cni {

enum class PluginMode { kBridge, kMacvlan, kPtp };
std::string_view modeName(PluginMode m);

// One host-local range. After parsing every field is filled in (host-local's defaults:
// gateway = subnet+1, rangeStart = subnet+1, rangeEnd = last address, minus broadcast for IPv4).
struct Range {
  IpPrefix subnet;  // network address (host bits clear)
  IpAddr rangeStart, rangeEnd, gateway;
  bool contains(const IpAddr& a) const;  // within rangeStart..rangeEnd
  std::string str() const;               // "start-end", as host-local prints it
};
using RangeSet = std::vector<Range>;  // one address is handed out per range set
std::string rangeSetStr(const RangeSet& s);

struct StaticAddress {
  IpPrefix address;
  std::optional<IpAddr> gateway;
};

struct IpamConf {
  std::string type;                 // "host-local" or "static"
  std::vector<RangeSet> ranges;     // host-local (runtimeConfig.ipRanges prepended)
  std::vector<Route> routes;
  std::string dataDir;              // "" = the caller's default
  std::string resolvConf;           // host-local: a resolv.conf to report as dns
  Dns dns;                          // static
  std::vector<StaticAddress> addresses;  // static
};

struct PortMapping {
  int hostPort = 0;
  int containerPort = 0;
  std::string protocol = "tcp";  // tcp | udp | sctp
  std::optional<IpAddr> hostIP;
};

struct Attachment {
  std::string containerId;
  std::string ifname;
  auto operator<=>(const Attachment&) const = default;
};

struct NetConf {
  std::string cniVersion;
  std::string name;
  std::string type;
  PluginMode mode = PluginMode::kBridge;

  // bridge (reference bridge plugin keys)
  std::string bridge = "cni0";
  bool isGateway = false;
  bool isDefaultGateway = false;  // implies isGateway
  bool forceAddress = false;
  bool hairpinMode = false;
  bool promiscMode = false;
  std::optional<int> vlan;  // 1..4094 (0 = none): the port's PVID, untagged; filtering on the bridge
  bool preserveDefaultVlan = true;  // false: the port leaves the bridge's default VLAN 1
  // bridge and ptp
  bool ipMasq = false;
  int mtu = 0;  // 0 = kernel default
  // macvlan
  std::string master;                  // "" = the interface of the default route
  std::string macvlanMode = "bridge";  // bridge | private | vepa | passthru

  std::optional<IpamConf> ipam;  // absent or {} = no addresses (L2 only)
  Dns dns;

  // runtimeConfig (capabilities) and args
  std::vector<PortMapping> portMappings;
  std::vector<IpAddr> runtimeIps;   // runtimeConfig.ips
  std::string runtimeMac;           // runtimeConfig.mac
  std::vector<IpAddr> argsIps;      // args.cni.ips
  std::string argsMac;              // args.cni.mac

  std::optional<NetResult> prevResult;
  std::optional<nlohmann::json> prevResultJson;  // as received
  // GC: cni.dev/valid-attachments, or the older cni.dev/attachments.
  std::optional<std::vector<Attachment>> validAttachments;

  nlohmann::json raw;  // the whole object, unknown keys included
};

struct ParseOptions {
  std::vector<std::string> extraTypeNames;  // type names that mean "netctl" (e.g. argv[0])
  bool requireSupportedVersion = true;      // false: accept any well-formed cniVersion (VERSION)
};

Outcome<NetConf> parseNetConf(std::string_view text, const ParseOptions& opts = {});
// The IPAM object alone (used by parseNetConf; exposed for tests and tools).
Outcome<std::optional<IpamConf>> parseIpam(const nlohmann::json& ipam);

// A conflist (the file a runtime reads). The selected version is the highest supported entry
// of cniVersions when that key is present, else cniVersion.
struct ConfList {
  std::string cniVersion;
  std::string name;
  bool disableCheck = false;
  bool disableGC = false;
  std::vector<nlohmann::json> plugins;
};
Outcome<ConfList> parseConfList(std::string_view text);
// The stdin a runtime sends to plugin i: the plugin object plus cniVersion and name.
std::string requestConfig(const ConfList& list, size_t i);

}  // namespace netctl::cni
