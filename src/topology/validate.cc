// Cross-entity checks of a decoded lab: references, duplicates, addresses and subnets, host
// ports, and the names that will exist in the host netns. Syntax (CIDRs, MTUs, port specs,
// name lengths) is checked while decoding; this file checks what only the whole lab can tell.
// Every check is O(n log n) or better in nodes, links and ports.
#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "netctl/topology/hosts.h"
#include "netctl/topology/load.h"
#include "netctl/topology/names.h"
#include "netctl/topology/spec.h"

namespace netctl::topology {
namespace {

std::string join(const std::string& a, std::string_view b) {
  return a.empty() ? std::string(b) : a + "." + std::string(b);
}

class Checker {
 public:
  explicit Checker(const Lab& lab) : lab_(lab) {}

  std::vector<Diagnostic> run() {
    networks();
    nodes();
    links();
    return std::move(errors_);
  }

 private:
  void error(Loc loc, std::string path, std::string message) {
    errors_.push_back(lab_.at(loc, std::move(path), std::move(message)));
  }

  // An address used once in the whole lab; a second use is an error naming the first.
  void claimAddress(const IpAddress& a, Loc loc, const std::string& path) {
    auto [it, fresh] = addresses_.try_emplace(a, path);
    if (!fresh)
      error(loc, path, fmt::format("duplicate address {} (also at {})", a.str(), it->second));
  }

  // A name in the host netns (bridge ports, host-link ends, bridges): unique in the lab.
  void claimHostName(const std::string& name, Loc loc, const std::string& path) {
    auto [it, fresh] = hostNames_.try_emplace(name, path);
    if (!fresh)
      error(loc, path,
            fmt::format("duplicate host interface \"{}\" (also at {})", name, it->second));
  }

  // An interface inside a node: unique per node.
  void claimIface(const std::string& node, const std::string& iface, Loc loc,
                  const std::string& path) {
    auto [it, fresh] = ifaces_.try_emplace(node + ":" + iface, path);
    if (!fresh)
      error(loc, path,
            fmt::format("duplicate endpoint {}:{} (also at {})", node, iface, it->second));
  }

  void networks() {
    std::vector<std::pair<const Network*, const IpPrefix*>> subnets;
    for (const auto& net : lab_.networks) {
      const auto& L = net.locs;
      if (net.subnet) subnets.emplace_back(&net, &*net.subnet);
      if (net.ipv6) subnets.emplace_back(&net, &*net.ipv6);
      if (net.gateway) {
        if (!net.subnet)
          error(L.of("gateway"), join(L.path, "gateway"), "gateway without a subnet");
        else if (!net.subnet->contains(*net.gateway))
          error(L.of("gateway"), join(L.path, "gateway"),
                fmt::format("address {} is outside subnet {}", net.gateway->str(),
                            net.subnet->str()));
        else claimAddress(*net.gateway, L.of("gateway"), join(L.path, "gateway"));
      }
      if (net.gateway6) {
        if (!net.ipv6)
          error(L.of("gateway6"), join(L.path, "gateway6"), "gateway6 without an ipv6 subnet");
        else if (!net.ipv6->contains(*net.gateway6))
          error(L.of("gateway6"), join(L.path, "gateway6"),
                fmt::format("address {} is outside subnet {}", net.gateway6->str(),
                            net.ipv6->str()));
        else claimAddress(*net.gateway6, L.of("gateway6"), join(L.path, "gateway6"));
      }
      if (net.driver == NetworkDriver::kBridge)
        claimHostName(net.kernelName.empty() ? names::bridge(lab_.name, net.name) : net.kernelName,
                      L.self, L.path);
    }
    // Overlaps: sort by (family, network address); an overlap shows between neighbours of
    // the sorted order, or one prefix containing its successor.
    std::sort(subnets.begin(), subnets.end(), [](auto& a, auto& b) {
      auto na = a.second->network(), nb = b.second->network();
      if (na.addr != nb.addr) return na.addr < nb.addr;
      return na.len < nb.len;
    });
    for (size_t i = 1; i < subnets.size(); ++i) {
      for (size_t j = i; j-- > 0;) {
        if (!subnets[j].second->overlaps(*subnets[i].second)) {
          if (subnets[j].second->addr.family == subnets[i].second->addr.family) break;
          continue;
        }
        // Report at whichever network comes later in the file.
        const Network* a = subnets[j].first;
        const Network* b = subnets[i].first;
        const IpPrefix* pa = subnets[j].second;
        const IpPrefix* pb = subnets[i].second;
        if (a->locs.self.line > b->locs.self.line ||
            (a->locs.self.line == b->locs.self.line && a->locs.self.col > b->locs.self.col)) {
          std::swap(a, b);
          std::swap(pa, pb);
        }
        const char* field = pb->addr.family == 4 ? "subnet" : "ipv6";
        error(b->locs.of(field), join(b->locs.path, field),
              fmt::format("subnet {} overlaps {} of network \"{}\"", pb->str(), pa->str(), a->name));
        break;
      }
    }
  }

  void nodes() {
    std::unordered_map<std::string, int> bridgePorts;
    std::vector<const PortMap*> ports;
    std::unordered_map<const PortMap*, std::string> portNode;
    std::set<std::string> hostNames;
    for (const auto& h : lab_.hosts) hostNames.insert(h.name);
    for (const auto& node : lab_.nodes) {
      const auto& L = node.locs;
      if (!node.host.empty() && !hostNames.contains(node.host))
        error(L.of("host"), join(L.path, "host"), fmt::format("unknown host \"{}\"", node.host));
      for (const auto& [k, v] : node.sysctls)
        if (!spec::validSysctl(k))
          error(L.of("sysctls." + k), join(L.path, "sysctls." + k),
                fmt::format("bad sysctl name \"{}\"", k));
      for (size_t i = 0; i < node.binds.size(); ++i) {
        std::string f = fmt::format("binds[{}]", i);
        const std::string& b = node.binds[i];
        auto c = b.find(':');
        std::string dst = c == std::string::npos ? "" : b.substr(c + 1, b.find(':', c + 1) - c - 1);
        std::string opt = c == std::string::npos || b.find(':', c + 1) == std::string::npos
                              ? ""
                              : b.substr(b.find(':', c + 1) + 1);
        if (c == 0 || dst.empty() || dst[0] != '/' ||
            !(opt.empty() || opt == "ro" || opt == "rw"))
          error(L.of(f), join(L.path, f),
                fmt::format("bad bind \"{}\" (source:/absolute/target[:ro|rw])", b));
      }
      for (const auto& a : node.networks) {
        const std::string ap = a.locs.path;
        const Network* net = lab_.network(a.network);
        if (!net) {
          error(a.locs.self, ap, fmt::format("unknown network \"{}\"", a.network));
          continue;
        }
        claimIface(node.name, a.iface, a.locs.of("iface"), ap);
        if (net->driver == NetworkDriver::kBridge) {
          if (++bridgePorts[net->name] == defaults::kMaxBridgePorts + 1)
            error(a.locs.self, ap,
                  fmt::format("network \"{}\" has more than {} nodes (a bridge's port limit)",
                              net->name, defaults::kMaxBridgePorts));
          claimHostName(names::hostVeth(lab_.name, node.name, a.iface), a.locs.self, ap);
        }
        std::string ipPath = a.locs.pathOf("ip");
        std::string ip6Path = a.locs.pathOf("ipv6");
        if (a.ip) {
          Loc l = a.locs.of("ip");
          if (!net->subnet)
            error(l, ipPath, fmt::format("network \"{}\" has no subnet", net->name));
          else if (!net->subnet->contains(*a.ip))
            error(l, ipPath,
                  fmt::format("address {} is outside subnet {}", a.ip->str(), net->subnet->str()));
          else if (*a.ip == net->subnet->network().addr ||
                   (net->subnet->len < 31 && *a.ip == net->subnet->last()))
            error(l, ipPath,
                  fmt::format("address {} is the network or broadcast address of {}", a.ip->str(),
                              net->subnet->str()));
          else
            claimAddress(*a.ip, l, ipPath);
        }
        if (a.ip6) {
          Loc l = a.locs.of("ipv6");
          if (!net->ipv6)
            error(l, ip6Path, fmt::format("network \"{}\" has no ipv6 subnet", net->name));
          else if (!net->ipv6->contains(*a.ip6))
            error(l, ip6Path,
                  fmt::format("address {} is outside subnet {}", a.ip6->str(), net->ipv6->str()));
          else
            claimAddress(*a.ip6, l, ip6Path);
        }
      }
      for (const auto& pm : node.ports) {
        ports.push_back(&pm);
        portNode[&pm] = node.name;
      }
    }
    // Host ports: two mappings clash when protocol and range overlap and either host address
    // is unspecified or both are equal. Sorted by (proto, first port), each mapping meets only
    // the following ones whose range starts inside its own.
    std::sort(ports.begin(), ports.end(), [](const PortMap* a, const PortMap* b) {
      if (a->proto != b->proto) return a->proto < b->proto;
      return a->hostPort < b->hostPort;
    });
    for (size_t i = 0; i < ports.size(); ++i)
      for (size_t j = i + 1; j < ports.size(); ++j) {
        const PortMap* a = ports[i];
        const PortMap* b = ports[j];
        if (b->proto != a->proto || b->hostPort > a->hostPortEnd) break;
        if (a->hostIp && b->hostIp && *a->hostIp != *b->hostIp) continue;
        const PortMap* later = a->loc.line > b->loc.line ? a : b;
        const PortMap* earlier = later == a ? b : a;
        error(later->loc, join(lab_.node(portNode[later])->locs.path, "ports"),
              fmt::format("host port {}/{} is already published by node \"{}\"", later->hostPort,
                          protoName(later->proto), portNode[earlier]));
      }
  }

  void endpointAddress(const Endpoint& ep, const std::optional<IpPrefix>& p, const char* field) {
    if (!p) return;
    Loc l = ep.locs.of(field);
    std::string path = join(ep.locs.path, field);
    if (p->len < (p->addr.family == 4 ? 31 : 127) &&
        (p->addr == p->network().addr || (p->addr.family == 4 && p->addr == p->last())))
      error(l, path, fmt::format("{} is the network or broadcast address", p->str()));
    else
      claimAddress(p->addr, l, path);
  }

  void links() {
    std::unordered_map<uint32_t, std::string> vnis;
    // Interfaces each node's NAT rules may name: attachments and link endpoints.
    for (const auto& node : lab_.nodes)
      for (const auto& a : node.networks) nodeIfaces_[node.name].insert(a.iface);
    for (const auto& link : lab_.links) {
      const auto& L = link.locs;
      size_t nodeEnds = 0;
      for (const auto& ep : link.endpoints) {
        if (ep.kind == EndpointKind::kBridge) {
          claimHostName(ep.iface, ep.locs.self, ep.locs.path);
          continue;
        }
        ++nodeEnds;
        if (!lab_.node(ep.node)) {
          error(ep.locs.self, ep.locs.path, fmt::format("unknown node \"{}\"", ep.node));
          continue;
        }
        claimIface(ep.node, ep.iface, ep.locs.self, ep.locs.path);
        nodeIfaces_[ep.node].insert(ep.iface);
        endpointAddress(ep, ep.ipv4, "ipv4");
        endpointAddress(ep, ep.ipv6, "ipv6");
      }
      if (nodeEnds == 0)
        error(L.of("endpoints"), join(L.path, "endpoints"), "a link needs at least one node endpoint");
      if (link.type == LinkType::kHost)
        claimHostName(link.hostInterface, L.of("host-interface"), L.pathOf("host-interface"));
      if (link.hostIpv4)
        claimAddress(link.hostIpv4->addr, L.of("host-interface"), L.pathOf("host-interface"));
      if (link.hostIpv6)
        claimAddress(link.hostIpv6->addr, L.of("host-interface"), L.pathOf("host-interface"));
      // The two ends of a point-to-point link must share a subnet.
      if (link.endpoints.size() == 2) {
        const auto& a = link.endpoints[0];
        const auto& b = link.endpoints[1];
        for (auto [pa, pb, f] : {std::tuple{&a.ipv4, &b.ipv4, "ipv4"}, {&a.ipv6, &b.ipv6, "ipv6"}})
          if (*pa && *pb && (!(*pa)->contains((*pb)->addr) || (*pa)->len != (*pb)->len))
            error(b.locs.of(f), join(b.locs.path, f),
                  fmt::format("address {} is outside subnet {} of the other end",
                              (*pb)->str(), (*pa)->network().str()));
      }
      if (link.type == LinkType::kVxlan) {
        uint32_t v = link.vni ? *link.vni : names::vni(lab_.name, link);
        auto [it, fresh] = vnis.try_emplace(v, L.path);
        if (!fresh)
          error(L.of("vni"), join(L.path, "vni"),
                fmt::format("duplicate VNI {} (also at {})", v, it->second));
      }
    }
    for (const auto& node : lab_.nodes)
      for (const auto& rule : node.nat) {
        const auto& known = nodeIfaces_[node.name];
        for (auto [name, field] : {std::pair{&rule.out, "out"}, std::pair{&rule.in, "in"}})
          if (!name->empty() && !known.contains(*name))
            error(rule.locs.of(field), join(rule.locs.path, field),
                  fmt::format("node \"{}\" has no interface \"{}\"", node.name, *name));
      }
  }

  const Lab& lab_;
  std::vector<Diagnostic> errors_;
  std::map<IpAddress, std::string> addresses_;
  std::unordered_map<std::string, std::string> hostNames_, ifaces_;
  std::unordered_map<std::string, std::unordered_set<std::string>> nodeIfaces_;
};

}  // namespace

std::vector<Diagnostic> check(const Lab& lab) {
  auto errors = Checker(lab).run();
  for (auto& d : hosts::check(lab)) errors.push_back(std::move(d));
  return errors;
}

Result<void> validate(const Lab& lab) {
  auto errors = check(lab);
  if (errors.empty()) return {};
  return std::unexpected(toError(errors.front()));
}

namespace {

// The names a lab puts in the host netns, with the entity that owns each.
struct HostName {
  std::string name;
  Loc loc;
  std::string path;
};
std::vector<HostName> hostNamesOf(const Lab& lab) {
  std::vector<HostName> out;
  for (const auto& net : lab.networks)
    if (net.driver == NetworkDriver::kBridge)
      out.push_back({net.kernelName.empty() ? names::bridge(lab.name, net.name) : net.kernelName,
                     net.locs.of("bridge"), net.locs.path});
  for (const auto& link : lab.links) {
    if (link.type == LinkType::kHost)
      out.push_back({link.hostInterface, link.locs.of("host-interface"),
                     link.locs.pathOf("host-interface")});
    for (const auto& ep : link.endpoints)
      if (ep.kind == EndpointKind::kBridge) out.push_back({ep.iface, ep.locs.self, ep.locs.path});
  }
  return out;
}

}  // namespace

std::vector<Diagnostic> checkAgainst(const Lab& lab, const std::vector<const Lab*>& running) {
  std::vector<Diagnostic> out;
  auto mine = hostNamesOf(lab);
  for (const Lab* other : running) {
    if (!other || other->name == lab.name) continue;
    for (const auto& net : lab.networks)
      for (const auto& theirs : other->networks)
        for (auto [field, a, b] : {std::tuple{"subnet", &net.subnet, &theirs.subnet},
                                   std::tuple{"ipv6", &net.ipv6, &theirs.ipv6}})
          if (*a && *b && (*a)->overlaps(**b))
            out.push_back(lab.at(net.locs.of(field), join(net.locs.path, field),
                                 fmt::format("subnet {} overlaps {} of network \"{}\" of running "
                                             "lab \"{}\"",
                                             (*a)->str(), (*b)->str(), theirs.name, other->name)));
    std::unordered_map<std::string, bool> theirNames;
    for (const auto& h : hostNamesOf(*other)) theirNames[h.name] = true;
    for (const auto& h : mine)
      if (theirNames.contains(h.name))
        out.push_back(lab.at(h.loc, h.path,
                             fmt::format("host interface \"{}\" is used by running lab \"{}\"",
                                         h.name, other->name)));
    // Their host ports by (proto, port); a range occupies each of its ports, and there are
    // at most 3 x 65535 keys, so this stays linear in the number of mappings.
    std::unordered_map<uint32_t, std::vector<std::pair<const PortMap*, const Node*>>> taken;
    for (const auto& node : other->nodes)
      for (const auto& pm : node.ports)
        for (uint32_t p = pm.hostPort; p <= pm.hostPortEnd; ++p)
          taken[static_cast<uint32_t>(pm.proto) << 16 | p].emplace_back(&pm, &node);
    for (const auto& node : lab.nodes)
      for (const auto& pm : node.ports) {
        const Node* clash = nullptr;
        for (uint32_t p = pm.hostPort; p <= pm.hostPortEnd && !clash; ++p) {
          auto it = taken.find(static_cast<uint32_t>(pm.proto) << 16 | p);
          if (it == taken.end()) continue;
          for (const auto& [tp, tn] : it->second)
            if (!pm.hostIp || !tp->hostIp || *pm.hostIp == *tp->hostIp) clash = tn;
        }
        if (clash)
          out.push_back(lab.at(pm.loc, join(node.locs.path, "ports"),
                               fmt::format("host port {}/{} is published by node \"{}\" of running "
                                           "lab \"{}\"",
                                           pm.hostPort, protoName(pm.proto), clash->name, other->name)));
      }
  }
  return out;
}

std::vector<HostRequirement> hostRequirements(const Lab& lab) {
  using W = HostRequirement::What;
  std::vector<HostRequirement> out;
  std::set<std::string> features;
  auto feature = [&](const char* f, const std::string& path, Loc loc) {
    if (features.insert(f).second) out.push_back({W::kKernelFeature, f, path, loc});
  };
  for (const auto& net : lab.networks) {
    if (net.driver == NetworkDriver::kBridge) {
      feature("bridge", net.locs.path, net.locs.self);
      if (!lab.nodes.empty()) feature("veth", net.locs.path, net.locs.self);
      if (net.span) {
        feature("vxlan", net.locs.path, net.locs.self);
        if (!net.span->parent.empty())
          out.push_back({W::kInterfaceExists, net.span->parent, "hosts." + lab.localHost + ".parent",
                         {}});
      }
    } else {
      feature("macvlan", net.locs.path, net.locs.self);
      out.push_back({W::kInterfaceExists, net.parent, join(net.locs.path, "parent"),
                     net.locs.of("parent")});
    }
  }
  for (const auto& link : lab.links) {
    const auto& L = link.locs;
    switch (link.type) {
      case LinkType::kVeth: feature("veth", L.path, L.self); break;
      case LinkType::kHost:
        feature("veth", L.path, L.self);
        out.push_back({W::kInterfaceAbsent, link.hostInterface, L.pathOf("host-interface"),
                       L.of("host-interface")});
        break;
      case LinkType::kMacvlan:
        feature("macvlan", L.path, L.self);
        out.push_back({W::kInterfaceExists, link.hostInterface, L.pathOf("host-interface"),
                       L.of("host-interface")});
        break;
      case LinkType::kVxlan:
        feature("vxlan", L.path, L.self);
        if (!link.parentInterface.empty())
          out.push_back({W::kInterfaceExists, link.parentInterface,
                         join(L.path, "parent-interface"), L.of("parent-interface")});
        break;
      case LinkType::kDummy: feature("dummy", L.path, L.self); break;
    }
    auto impairFeatures = [&](const std::optional<Impair>& impair, const FieldLocs& at) {
      if (!impair || impair->empty()) return;
      const auto& im = *impair;
      if (im.delayUs || im.lossPct || im.corruptPct || im.duplicatePct || im.reorderPct)
        feature("netem", join(at.path, "impair"), at.of("impair"));
      if (im.rateBitsPerSec) feature("tbf", join(at.path, "impair"), at.of("impair"));
    };
    impairFeatures(link.impair, L);
    for (const auto& e : link.endpoints) impairFeatures(e.impair, e.locs);
  }
  for (const auto& node : lab.nodes)
    if (!node.nat.empty()) feature("nftables-nat", join(node.locs.path, "nat"), node.locs.of("nat"));
  return out;
}

}  // namespace netctl::topology
