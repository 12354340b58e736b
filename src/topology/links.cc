// Links, in both dialects: the brief form (`endpoints: ["a:eth1", "b:eth1"]`, with `host:`
// and `macvlan:` endpoints) and the extended form selected by `type:`. Both become one Link
// whose `endpoints` hold only node and bridge ends; the host side of a host or macvlan link is
// `hostInterface`.
#include <fmt/format.h>

#include "netctl/topology/spec.h"
#include "reader.h"

namespace netctl::topology::detail {
namespace {

const std::initializer_list<std::string_view> kEndpointKeys = {"node", "interface", "mac",
                                                                   "ipv4", "ipv6", "impair"};

struct Ctx {
  Reader& r;
  const std::function<bool(std::string_view)>& isBridge;
  const std::function<bool(std::string_view)>& isHostNode;
};

Endpoint endpointFromString(Ctx& c, const YAML::Node& n, const std::string& path) {
  std::string s = c.r.str(n, path);
  auto colon = s.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == s.size())
    c.r.fail(Reader::loc(n), path, fmt::format("endpoint \"{}\" is not node:interface", s));
  Endpoint ep;
  ep.node = s.substr(0, colon);
  ep.iface = s.substr(colon + 1);
  ep.locs.self = Reader::loc(n);
  ep.locs.path = path;
  std::string why;
  if (!spec::validIfName(ep.iface, &why))
    c.r.fail(Reader::loc(n), path, fmt::format("\"{}\": {}", ep.iface, why));
  if (c.isBridge(ep.node)) ep.kind = EndpointKind::kBridge;
  return ep;
}

Endpoint endpointFromMap(Ctx& c, const YAML::Node& n, const std::string& path) {
  if (n.IsScalar()) return endpointFromString(c, n, path);
  auto keys = c.r.keys(n, path, kEndpointKeys, {"vars"});
  if (!keys.contains("node")) c.r.fail(Reader::loc(n), path, "missing required key \"node\"");
  if (!keys.contains("interface"))
    c.r.fail(Reader::loc(n), path, "missing required key \"interface\"");
  Endpoint ep;
  ep.locs.self = Reader::loc(n);
  ep.locs.path = path;
  ep.node = c.r.str(n["node"], path + ".node");
  ep.iface = c.r.ifName(n["interface"], path + ".interface");
  if (keys.contains("mac")) {
    ep.mac = c.r.mac(n["mac"], path + ".mac");
    ep.locs.at["mac"] = Reader::loc(n["mac"]);
  }
  if (keys.contains("ipv4")) {
    ep.ipv4 = c.r.prefix(n["ipv4"], path + ".ipv4", false, 4);
    ep.locs.at["ipv4"] = Reader::loc(n["ipv4"]);
  }
  if (keys.contains("ipv6")) {
    ep.ipv6 = c.r.prefix(n["ipv6"], path + ".ipv6", false, 6);
    ep.locs.at["ipv6"] = Reader::loc(n["ipv6"]);
  }
  if (keys.contains("impair")) {
    ep.impair = decodeImpair(c.r, n["impair"], path + ".impair");
    ep.locs.at["impair"] = Reader::loc(n["impair"]);
  }
  if (c.isBridge(ep.node)) ep.kind = EndpointKind::kBridge;
  return ep;
}

LinkType parseType(Reader& r, const YAML::Node& n, const std::string& path) {
  std::string t = r.str(n, path);
  if (t == "veth") return LinkType::kVeth;
  if (t == "host") return LinkType::kHost;
  if (t == "macvlan") return LinkType::kMacvlan;
  if (t == "vxlan") return LinkType::kVxlan;
  if (t == "dummy") return LinkType::kDummy;
  if (t == "veth-stitch" || t == "vxlan-stitch" || t == "mgmt-net")
    r.fail(Reader::loc(n), path,
           fmt::format("link type \"{}\" is not supported (veth, host, macvlan, vxlan, dummy)", t));
  r.fail(Reader::loc(n), path,
         fmt::format("unknown link type \"{}\" (veth, host, macvlan, vxlan, dummy)", t));
}

MacvlanMode parseMode(Reader& r, const YAML::Node& n, const std::string& path) {
  std::string m = r.str(n, path);
  if (m == "bridge") return MacvlanMode::kBridge;
  if (m == "private") return MacvlanMode::kPrivate;
  if (m == "vepa") return MacvlanMode::kVepa;
  if (m == "passthru") return MacvlanMode::kPassthru;
  if (m == "source") return MacvlanMode::kSource;
  r.fail(Reader::loc(n), path,
         fmt::format("unknown macvlan mode \"{}\" (bridge, private, vepa, passthru, source)", m));
}

// The common tail of a link: mtu, labels, impair.
void decodeCommon(Reader& r, const YAML::Node& n, const std::string& path,
                  const std::map<std::string, Loc, std::less<>>& keys, Link& link) {
  if (keys.contains("mtu")) {
    link.mtu = r.mtu(n["mtu"], path + ".mtu");
    link.locs.at["mtu"] = Reader::loc(n["mtu"]);
  }
  if (keys.contains("labels"))
    for (auto& [k, v] : r.strMap(n["labels"], path + ".labels")) link.labels[k] = v.first;
  // A veth link's VNI when its ends sit on two hosts (hosts.h); a vxlan link reads its own.
  if (keys.contains("vni") && link.type == LinkType::kVeth) {
    link.vni = static_cast<uint32_t>(r.integer(n["vni"], path + ".vni", 1, 16777215));
    link.locs.at["vni"] = Reader::loc(n["vni"]);
  }
  if (keys.contains("impair")) {
    link.impair = decodeImpair(r, n["impair"], path + ".impair");
    link.locs.at["impair"] = Reader::loc(n["impair"]);
  }
}

// ipv4: [a, b] / ipv6: [a, b] of the brief form, by endpoint index; "" skips one side.
void briefAddresses(Reader& r, const YAML::Node& n, const std::string& path, int family,
                    std::vector<std::optional<IpPrefix>>& out, std::vector<Loc>& locs) {
  r.requireList(n, path);
  if (n.size() > 2) r.fail(Reader::loc(n), path, "expected at most one address per endpoint");
  for (size_t i = 0; i < n.size(); ++i) {
    std::string p = fmt::format("{}[{}]", path, i);
    if (n[i].IsScalar() && n[i].Scalar().empty()) continue;
    out[i] = r.prefix(n[i], p, false, family);
    locs[i] = Reader::loc(n[i]);
  }
}

Link decodeBrief(Ctx& c, const YAML::Node& n, const std::string& path,
                 const std::map<std::string, Loc, std::less<>>& keys) {
  Reader& r = c.r;
  Link link;
  link.locs.self = Reader::loc(n);
  link.locs.path = path;
  const YAML::Node eps = n["endpoints"];
  r.requireList(eps, path + ".endpoints");
  if (eps.size() != 2)
    r.fail(Reader::loc(eps), path + ".endpoints",
           fmt::format("a link has exactly two endpoints, got {}", eps.size()));
  std::vector<std::optional<IpPrefix>> v4(2), v6(2);
  std::vector<Loc> v4loc(2), v6loc(2);
  if (keys.contains("ipv4")) briefAddresses(r, n["ipv4"], path + ".ipv4", 4, v4, v4loc);
  if (keys.contains("ipv6")) briefAddresses(r, n["ipv6"], path + ".ipv6", 6, v6, v6loc);
  int special = -1;  // index of a host/macvlan end
  std::vector<Endpoint> ends;
  for (size_t i = 0; i < 2; ++i) {
    std::string p = fmt::format("{}.endpoints[{}]", path, i);
    Endpoint ep = endpointFromMap(c, eps[i], p);
    if (v4[i]) ep.ipv4 = v4[i], ep.locs.at["ipv4"] = v4loc[i];
    if (v6[i]) ep.ipv6 = v6[i], ep.locs.at["ipv6"] = v6loc[i];
    bool isHost = eps[i].IsScalar() && (ep.node == "host" || c.isHostNode(ep.node));
    bool isMacvlan = eps[i].IsScalar() && ep.node == "macvlan";
    if (eps[i].IsScalar() && ep.node == "mgmt-net")
      r.fail(Reader::loc(eps[i]), p, "mgmt-net endpoints are not supported; use a network");
    if (isHost || isMacvlan) {
      if (special >= 0)
        r.fail(Reader::loc(eps[i]), p, "a link needs at least one node endpoint");
      special = static_cast<int>(i);
      link.type = isHost ? LinkType::kHost : LinkType::kMacvlan;
      link.hostInterface = ep.iface;
      link.locs.at["host-interface"] = Reader::loc(eps[i]);
      link.locs.renamed["host-interface"] = p;
      if (isHost && ep.ipv4) link.hostIpv4 = ep.ipv4;
      if (isHost && ep.ipv6) link.hostIpv6 = ep.ipv6;
      if (isMacvlan && (ep.ipv4 || ep.ipv6))
        r.fail(Reader::loc(eps[i]), p, "the macvlan parent side cannot take an address");
      continue;
    }
    ends.push_back(std::move(ep));
  }
  link.endpoints = std::move(ends);
  link.locs.at["endpoints"] = Reader::loc(eps);
  decodeCommon(r, n, path, keys, link);
  return link;
}

Link decodeExtended(Ctx& c, const YAML::Node& n, const std::string& path, LinkType type) {
  Reader& r = c.r;
  Link link;
  link.type = type;
  link.locs.self = Reader::loc(n);
  link.locs.path = path;
  link.locs.at["type"] = Reader::loc(n["type"]);
  std::map<std::string, Loc, std::less<>> keys;
  switch (type) {
    case LinkType::kVeth:
      keys = r.keys(n, path, {"type", "endpoints", "mtu", "labels", "impair", "vni"}, {"vars"});
      break;
    case LinkType::kHost:
      keys = r.keys(n, path, {"type", "endpoint", "host-interface", "mtu", "labels", "impair"},
                    {"vars"});
      break;
    case LinkType::kMacvlan:
      keys = r.keys(n, path, {"type", "endpoint", "host-interface", "mode", "mtu", "labels"},
                    {"vars"});
      break;
    case LinkType::kVxlan:
      keys = r.keys(n, path,
                    {"type", "endpoint", "remote", "vni", "dst-port", "udp-port", "src-port",
                     "parent-interface", "mtu", "labels", "impair"},
                    {"vars"});
      break;
    case LinkType::kDummy:
      keys = r.keys(n, path, {"type", "endpoint", "mtu", "labels"}, {"vars"});
      break;
  }
  if (type == LinkType::kVeth) {
    if (!keys.contains("endpoints"))
      r.fail(Reader::loc(n), path, "missing required key \"endpoints\"");
    const YAML::Node eps = n["endpoints"];
    r.requireList(eps, path + ".endpoints");
    if (eps.size() != 2)
      r.fail(Reader::loc(eps), path + ".endpoints",
             fmt::format("a veth link has exactly two endpoints, got {}", eps.size()));
    for (size_t i = 0; i < 2; ++i)
      link.endpoints.push_back(endpointFromMap(c, eps[i], fmt::format("{}.endpoints[{}]", path, i)));
    link.locs.at["endpoints"] = Reader::loc(eps);
  } else {
    if (!keys.contains("endpoint"))
      r.fail(Reader::loc(n), path, "missing required key \"endpoint\"");
    link.endpoints.push_back(endpointFromMap(c, n["endpoint"], path + ".endpoint"));
    link.locs.at["endpoints"] = Reader::loc(n["endpoint"]);
  }
  if (type == LinkType::kHost || type == LinkType::kMacvlan) {
    if (!keys.contains("host-interface"))
      r.fail(Reader::loc(n), path, "missing required key \"host-interface\"");
    link.hostInterface = r.ifName(n["host-interface"], path + ".host-interface");
    link.locs.at["host-interface"] = Reader::loc(n["host-interface"]);
  }
  if (keys.contains("mode")) {
    link.mode = parseMode(r, n["mode"], path + ".mode");
    link.locs.at["mode"] = Reader::loc(n["mode"]);
  }
  if (type == LinkType::kVxlan) {
    if (!keys.contains("remote")) r.fail(Reader::loc(n), path, "missing required key \"remote\"");
    link.remote = r.address(n["remote"], path + ".remote");
    link.locs.at["remote"] = Reader::loc(n["remote"]);
    if (keys.contains("vni")) {
      link.vni = static_cast<uint32_t>(r.integer(n["vni"], path + ".vni", 1, 16777215));
      link.locs.at["vni"] = Reader::loc(n["vni"]);
    }
    for (const char* k : {"dst-port", "udp-port"})
      if (keys.contains(k))
        link.dstPort = static_cast<uint16_t>(r.integer(n[k], path + "." + k, 1, 65535));
    if (keys.contains("src-port"))
      link.srcPort = static_cast<uint16_t>(r.integer(n["src-port"], path + ".src-port", 1, 65535));
    if (keys.contains("parent-interface"))
      link.parentInterface = r.ifName(n["parent-interface"], path + ".parent-interface");
  }
  decodeCommon(r, n, path, keys, link);
  return link;
}

}  // namespace

Link decodeLink(Reader& r, const YAML::Node& n, const std::string& path, Dialect dialect,
                const std::function<bool(std::string_view)>& isBridge,
                const std::function<bool(std::string_view)>& isHostNode) {
  Ctx c{r, isBridge, isHostNode};
  r.requireMap(n, path);
  if (n.IsNull()) r.fail(Reader::loc(n), path, "a link needs endpoints");
  Link link;
  if (n["type"].IsDefined()) {
    link = decodeExtended(c, n, path, parseType(r, n["type"], path + ".type"));
  } else {
    auto keys = r.keys(n, path, {"endpoints", "mtu", "ipv4", "ipv6", "labels", "impair", "vni"}, {"vars"});
    if (!keys.contains("endpoints"))
      r.fail(Reader::loc(n), path, "missing required key \"endpoints\"");
    link = decodeBrief(c, n, path, keys);
  }
  if (!link.mtu && (link.type == LinkType::kVeth || link.type == LinkType::kHost))
    link.mtu = dialect == Dialect::kNative ? defaults::kNativeLinkMtu : defaults::kClabLinkMtu;
  return link;
}

}  // namespace netctl::topology::detail
