// `netctl inspect`: the stored topology joined with the runtime's node states and, on request,
// each node's interfaces as the kernel reports them (one link dump and one address dump per
// node netns).
#include "netctl/topology/inspect.h"

#include "netctl/base/fs.h"
#include "netctl/net/addr.h"
#include "netctl/net/link.h"
#include "netctl/runtime/container.h"
#include "netctl/topology/json.h"
#include "netctl/topology/names.h"
#include "netctl/topology/plan.h"
#include "netctl/topology/state.h"
#include "network.h"

namespace netctl::lab {

using nlohmann::json;
using namespace topology;

namespace {

Result<json> interfaces(const netns::Handle& ns) {
  auto sock = NETCTL_TRY(nl::Socket::openIn(ns));
  auto links = NETCTL_TRY(link::list(sock));
  auto addrs = NETCTL_TRY(addr::list(sock));
  json out = json::array();
  for (const auto& l : links) {
    json a = json::array();
    for (const auto& e : addrs)
      if (e.index == l.index) a.push_back(e.prefix.str());
    out.push_back({{"name", l.name}, {"mac", l.mac.str()}, {"mtu", l.mtu},
                   {"state", l.up() ? "up" : "down"}, {"kind", l.kind}, {"addresses", a}});
  }
  return out;
}

}  // namespace

Result<json> inspect(const std::string& root, const std::string& labName, bool withInterfaces) {
  auto paths = state::labPaths(root, labName);
  std::string file = fs::exists(paths.topology) ? paths.topology : paths.dir + "/desired.json";
  auto text = fs::readFile(file);
  if (!text) return notFound(fmt::format("lab {} is not running (no state under {})", labName, root));
  json doc = json::parse(*text, nullptr, false);
  if (doc.is_discarded()) return invalidInput(fmt::format("{}: not JSON", file));
  auto lab = NETCTL_TRY(fromJson(doc));
  runtime::Runtime rt(root);
  json nodes = json::array();
  for (const auto& n : lab.nodes) {
    if (n.kind != NodeKind::kLinux) continue;
    std::string nsName = names::netns(lab.name, n.name);
    json x = {{"name", n.name}, {"netns", nsName}};
    if (!lab.localHost.empty()) x["host"] = lab.localHost;
    auto st = rt.state(nsName);
    x["state"] = st ? std::string(runtime::statusName(st->status)) : "missing";
    x["pid"] = st ? st->initPid : 0;
    json addrs = json::array();
    for (const auto& a : n.networks) {
      const Network* net = lab.network(a.network);
      if (a.ip && net && net->subnet) addrs.push_back(IpPrefix{*a.ip, net->subnet->len}.str());
      if (a.ip6 && net && net->ipv6) addrs.push_back(IpPrefix{*a.ip6, net->ipv6->len}.str());
    }
    for (const auto& l : lab.links)
      for (const auto& e : l.endpoints)
        if (e.kind == EndpointKind::kNode && e.node == n.name) {
          if (e.ipv4) addrs.push_back(e.ipv4->str());
          if (e.ipv6) addrs.push_back(e.ipv6->str());
        }
    x["addresses"] = addrs;
    json ports = json::array();
    for (const auto& p : n.ports) ports.push_back(p.spec);
    x["ports"] = ports;
    if (withInterfaces) {
      auto ns = netns::openPath(paths.dir + "/netns/" + nsName);
      if (ns) {
        auto ifs = interfaces(*ns);
        x["interfaces"] = ifs ? *ifs : json::array();
      } else {
        x["interfaces"] = json::array();
      }
    }
    nodes.push_back(std::move(x));
  }
  json links = json::array();
  for (const auto& l : lab.links) {
    json eps = json::array();
    for (const auto& e : l.endpoints) eps.push_back(e.str());
    if (!l.hostInterface.empty()) eps.push_back(std::string(linkTypeName(l.type)) + ":" + l.hostInterface);
    json x = {{"id", names::linkId(l)}, {"type", linkTypeName(l.type)}, {"endpoints", eps}};
    if (l.type == LinkType::kVxlan) {
      x["vni"] = l.vni ? *l.vni : names::vni(lab.name, l);
      json remotes = json::array();
      if (l.remote) remotes.push_back(fmt::format("{}:{}", l.remote->str(), l.dstPort));
      for (const auto& p : l.peers) remotes.push_back(fmt::format("{}:{} ({})", p.address.str(), p.port, p.host));
      x["remotes"] = remotes;
    }
    links.push_back(std::move(x));
  }
  json networks = json::array();
  for (const auto& n : lab.networks) {
    json x = {{"name", n.name},
              {"driver", n.driver == NetworkDriver::kBridge ? "bridge" : "macvlan"},
              {"bridge", n.driver == NetworkDriver::kBridge ? bridgeName(lab, n) : n.parent}};
    x["subnet"] = n.subnet ? n.subnet->str() : "";
    x["gateway"] = n.gateway ? n.gateway->str() : "";
    if (n.span) {
      json peers = json::array();
      for (const auto& p : n.span->peers) peers.push_back(p.host);
      x["span"] = {{"vni", n.span->vni}, {"peers", peers},
                   {"slice", n.span->slice ? n.span->slice->str() : ""}};
    }
    networks.push_back(std::move(x));
  }
  json out = {{"name", lab.name}, {"nodes", nodes}, {"links", links}, {"networks", networks}};
  if (!lab.localHost.empty()) {
    // Placement of the whole lab; the nodes above are this host's.
    out["host"] = lab.localHost;
    out["placement"] = lab.placement;
  }
  return out;
}

}  // namespace netctl::lab
