// The typed model of a lab. Both YAML dialects (native and containerlab) decode into it; the
// planner, `inspect` and `graph` read only this. Every default lives in `defaults` below, and
// every entity keeps the line and column its values came from (Loc), so a later check (the
// planner's host checks included) can still point at the file: "lab.yaml:14:9: path: reason".
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "netctl/topology/addr.h"

namespace netctl::topology {

// ---- every default of the schema, in one place (docs/topology.md lists the same values) ----
namespace defaults {
inline constexpr std::string_view kImage = "host";          // the host rootfs, read-only + private layer
inline constexpr int kBridgeMtu = 1500;                     // networks.*.mtu
inline constexpr bool kNat = true;                          // networks.*.nat (bridge)
inline constexpr bool kIcc = true;                          // networks.*.icc
inline constexpr bool kMcastSnooping = false;               // networks.*.mcast_snooping
inline constexpr bool kInternal = false;                    // networks.*.internal
inline constexpr std::string_view kMacvlanMode = "bridge";  // networks.*.mode, links[].mode
inline constexpr int kNativeLinkMtu = 1500;                 // links[].mtu (veth, host), native
inline constexpr int kClabLinkMtu = 9500;                   // links[].mtu (veth, host), containerlab
inline constexpr int kVxlanPort = 4789;                     // links[].dst-port
inline constexpr std::string_view kClabMgmtNetwork = "mgmt";
inline constexpr std::string_view kClabMgmtSubnet = "172.20.20.0/24";
inline constexpr std::string_view kClabMgmtSubnet6 = "3fff:172:20:20::/64";
inline constexpr int kMaxBridgePorts = 1023;                // kernel limit per bridge
inline constexpr size_t kMaxLabName = 24;
inline constexpr size_t kMaxNodeName = 32;
inline constexpr size_t kMaxNetworkName = 32;
inline constexpr size_t kMaxIfName = 15;                    // IFNAMSIZ - 1
}  // namespace defaults

// Where a value came from in the file: 1-based line and column; 0 = unknown (e.g. a default).
struct Loc {
  int line = 0;
  int col = 0;
  bool known() const { return line > 0; }
};

// Field locations of one entity, by key ("subnet", "ipv4[1]", "ports[0]").
struct FieldLocs {
  Loc self;                                  // the entity itself (its key or list item)
  std::string path;                          // its field path: "nodes.r1", "links[0].endpoints[1]"
  std::map<std::string, Loc, std::less<>> at;
  // Fields written under another name (containerlab's mgmt-ipv4 for an attachment's ip, a
  // brief link's "host:x" endpoint for its host-interface): field -> full path as written.
  std::map<std::string, std::string, std::less<>> renamed;
  Loc of(std::string_view field) const {
    auto it = at.find(field);
    return it == at.end() ? self : it->second;
  }
  std::string pathOf(std::string_view field) const {
    if (auto it = renamed.find(field); it != renamed.end()) return it->second;
    return path.empty() ? std::string(field) : path + "." + std::string(field);
  }
};

// An error or warning about the input: "file:line:col: path: message".
struct Diagnostic {
  std::string file;
  Loc loc;
  std::string path;     // "nodes.r1.networks.lan.ip"
  std::string message;  // "address 10.0.0.1 is outside subnet 172.30.1.0/24"
  std::string str() const;
};

enum class Dialect { kNative, kContainerlab };

enum class NetworkDriver { kBridge, kMacvlan };
enum class MacvlanMode { kBridge, kPrivate, kVepa, kPassthru, kSource };

// The far end of a VXLAN tunnel in a multi-host lab (hosts.h): another host's underlay address
// and the UDP port its VXLAN devices listen on.
struct VxlanPeer {
  std::string host;
  IpAddress address;
  uint16_t port = defaults::kVxlanPort;
  bool operator==(const VxlanPeer&) const = default;
};

// A bridge network whose nodes sit on several hosts, as hosts::localPart resolves it for one of
// them: the local bridge gets one VXLAN port (this VNI, this host's UDP port and underlay
// device) with one all-zero-MAC FDB entry per peer host (head-end replication), and the local
// nodes take their automatic addresses from this host's slice of the subnet.
struct Span {
  uint32_t vni = 0;
  uint16_t port = defaults::kVxlanPort;
  std::string parent;                 // underlay device; empty: the route to each peer decides
  int mtu = defaults::kBridgeMtu;     // of the VXLAN device (the network's, lowered)
  bool learning = true;               // off when the peers listen on different ports
  std::vector<VxlanPeer> peers;
  std::optional<IpPrefix> slice;      // this host's part of the v4 subnet
  std::optional<IpPrefix> slice6;     // ... and of the v6 subnet
};

struct Network {
  std::string name;
  NetworkDriver driver = NetworkDriver::kBridge;
  std::optional<IpPrefix> subnet;     // v4, a network address ("172.30.1.0/24")
  std::optional<IpPrefix> ipv6;       // v6 subnet
  std::optional<IpAddress> gateway;   // v4; resolved to subnet .1 for bridges when unset
  std::optional<IpAddress> gateway6;  // v6; resolved to subnet ::1 for bridges when unset
  bool nat = defaults::kNat;          // masquerade out of the host (bridge only)
  bool icc = defaults::kIcc;          // traffic between the network's nodes
  bool mcastSnooping = defaults::kMcastSnooping;  // the bridge's IGMP/MLD snooping
  bool internal = defaults::kInternal;  // no route out at all
  int mtu = defaults::kBridgeMtu;
  std::string parent;                 // macvlan: the host interface (checked at plan time)
  MacvlanMode mode = MacvlanMode::kBridge;
  std::string kernelName;             // bridge device name; empty = names::bridge(lab, name)
  bool fromNode = false;              // containerlab `kind: bridge` node turned into a network
  std::optional<uint32_t> vni;        // multi-host: explicit VNI of a network that spans hosts
  std::optional<Span> span;           // set by hosts::localPart only
  FieldLocs locs;
};

struct Resources {
  std::optional<uint64_t> memoryBytes;  // "128M" -> 134217728
  std::optional<uint64_t> pids;
  std::optional<double> cpus;           // 0.5 = half a CPU
};

enum class Proto { kTcp, kUdp, kSctp };
std::string_view protoName(Proto p);

// "[host_ip:]host_port[-end]:container_port[-end][/tcp|udp|sctp]".
struct PortMap {
  std::optional<IpAddress> hostIp;
  uint16_t hostPort = 0, hostPortEnd = 0;            // end == port when no range
  uint16_t containerPort = 0, containerPortEnd = 0;
  Proto proto = Proto::kTcp;
  std::string spec;  // as written
  Loc loc;
};

// A node's attachment to a lab network (bridge or macvlan).
struct Attachment {
  std::string network;
  std::string iface;                 // inside the node; default eth0, eth1, ... in order
  std::optional<IpAddress> ip;       // resolved: explicit, or the next free address (file order)
  std::optional<IpAddress> ip6;      // explicit only
  std::optional<Mac> mac;            // explicit only; see names::mac for the derived one
  bool ipExplicit = false;
  bool ip6Explicit = false;
  FieldLocs locs;
};

enum class NatAction { kMasquerade, kSnat, kDnat };
std::string_view natActionName(NatAction a);

// NAT inside a node's own netns ("a NAT router node").
struct NatRule {
  NatAction action = NatAction::kMasquerade;
  std::string out;                   // egress interface (masquerade, snat)
  std::string in;                    // ingress interface (dnat)
  std::optional<IpPrefix> source;    // match on source subnet
  std::optional<IpAddress> to;       // snat/dnat target
  std::optional<Proto> proto;        // dnat
  uint16_t port = 0, toPort = 0;     // dnat
  FieldLocs locs;
};

enum class NodeKind { kLinux, kHost };  // a containerlab bridge node becomes a Network

struct Node {
  std::string name;
  NodeKind kind = NodeKind::kLinux;
  std::string group;
  std::string image = std::string(defaults::kImage);
  std::vector<std::string> cmd;      // argv; empty = the image's default (sleep infinity)
  std::vector<std::string> exec;     // command lines run after wiring, one per entry
  std::map<std::string, std::string> env;
  std::vector<std::string> binds;    // "src:dst[:ro|rw]", src relative to the lab file's dir
  std::vector<PortMap> ports;
  std::map<std::string, std::string> sysctls;
  Resources resources;
  std::vector<Attachment> networks;
  std::vector<NatRule> nat;
  std::map<std::string, std::string> labels;
  std::string user;
  std::string hostname;              // default: the node name
  std::string host;                  // multi-host placement (hosts:), empty = local
  FieldLocs locs;
};

enum class LinkType { kVeth, kHost, kMacvlan, kVxlan, kDummy };
std::string_view linkTypeName(LinkType t);

// The ends of a link that are inside the lab. The host side of a host link and the parent of
// a macvlan link are not endpoints: they are Link::hostInterface (the brief forms
// "host:name" and "macvlan:parent", and a containerlab `kind: host` node, decode to that).
enum class EndpointKind {
  kNode,     // node:iface, inside the node's netns
  kBridge,   // network:port, a port of a lab-owned bridge; `iface` names the host-side end
};

// An impairment: a link's `impair:` (both directions) or an endpoint's (its egress). Units normalised.
struct Impair {
  std::optional<uint64_t> delayUs, jitterUs;
  std::optional<double> lossPct, corruptPct, duplicatePct, reorderPct, correlationPct;
  std::optional<uint64_t> rateBitsPerSec;
  std::optional<uint32_t> limitPackets;
  bool empty() const {
    return !delayUs && !jitterUs && !lossPct && !corruptPct && !duplicatePct && !reorderPct &&
           !correlationPct && !rateBitsPerSec && !limitPackets;
  }
};

struct Endpoint {
  EndpointKind kind = EndpointKind::kNode;
  std::string node;   // node or network name; "host" / "macvlan" for those kinds
  std::string iface;
  std::optional<Mac> mac;
  std::optional<IpPrefix> ipv4;  // with prefix length: "10.0.0.1/30"
  std::optional<IpPrefix> ipv6;
  std::optional<Impair> impair;  // egress of this end only; over the link's own `impair`
  FieldLocs locs;
  std::string str() const { return node + ":" + iface; }
};


struct Link {
  LinkType type = LinkType::kVeth;
  std::vector<Endpoint> endpoints;   // veth: 2; host, macvlan, vxlan, dummy: 1 node endpoint
  std::optional<int> mtu;            // resolved for veth/host to the dialect's default
  // host: the interface name left in the host netns; macvlan: the parent interface.
  std::string hostInterface;
  // host: addresses for the host-side end (brief form "host:name" with ipv4/ipv6).
  std::optional<IpPrefix> hostIpv4, hostIpv6;
  MacvlanMode mode = MacvlanMode::kBridge;  // macvlan
  // vxlan
  std::optional<IpAddress> remote;
  std::optional<uint32_t> vni;       // unset: names::vni(lab, link)
  uint16_t dstPort = defaults::kVxlanPort;
  std::optional<uint16_t> srcPort;
  std::string parentInterface;
  // vxlan: more far ends, each an all-zero-MAC FDB entry (hosts::localPart sets it when the
  // peer host listens on another port than this host; then `remote` is unset).
  std::vector<VxlanPeer> peers;
  std::optional<Impair> impair;
  std::map<std::string, std::string> labels;
  FieldLocs locs;
};

// Another machine of a multi-host lab (hosts.h): its underlay address, the UDP port its VXLAN
// devices listen on, and the underlay device they are bound to (empty: routing decides).
struct Host {
  std::string name;
  std::optional<IpAddress> address;
  uint16_t vxlanPort = defaults::kVxlanPort;
  std::string parent;
  FieldLocs locs;
};

struct Lab {
  std::string name;
  std::string file;                  // the file it was read from, as given (for messages)
  Dialect dialect = Dialect::kNative;
  std::vector<Network> networks;     // file order
  std::vector<Node> nodes;           // file order
  std::vector<Link> links;           // file order
  std::vector<Host> hosts;
  std::vector<std::string> groups;   // names declared (for reference checks and graphs)
  // Multi-host: after hosts::localPart, the host this part runs on and where every node of
  // the whole lab is placed (node -> host); empty for a single-host lab.
  std::string localHost;
  std::map<std::string, std::string> placement;
  FieldLocs locs;

  // Lookups by name (O(1); valid after load, or after reindex() on a hand-built lab).
  const Node* node(std::string_view name) const;
  const Network* network(std::string_view name) const;
  void reindex();

  // "file:line:col: path: message" as an invalid-input Diagnostic.
  Diagnostic at(Loc loc, std::string path, std::string message) const {
    return Diagnostic{file, loc, std::move(path), std::move(message)};
  }

 private:
  std::unordered_map<std::string, size_t> nodeIndex_, networkIndex_;
};

}  // namespace netctl::topology
