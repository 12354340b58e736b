// The multi-host transform (hosts.h). Pure: no kernel, no clock, no randomness, so every host
// derives the same VNIs, slices and addresses from the same file.
#include "netctl/topology/hosts.h"

#include <algorithm>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "netctl/topology/load.h"
#include "netctl/topology/names.h"

namespace netctl::topology::hosts {
namespace {

constexpr uint32_t kMaxVni = 16777215;

std::string join(const std::string& a, std::string_view b) {
  return a.empty() ? std::string(b) : a + "." + std::string(b);
}

const Host* findHost(const Lab& lab, std::string_view name) {
  for (const auto& h : lab.hosts)
    if (h.name == name) return &h;
  return nullptr;
}

// A veth link between two nodes on different hosts: the indexes of its two node ends.
bool crossHost(const Lab& lab, const Link& l) {
  if (l.type != LinkType::kVeth || l.endpoints.size() != 2) return false;
  const auto& a = l.endpoints[0];
  const auto& b = l.endpoints[1];
  if (a.kind != EndpointKind::kNode || b.kind != EndpointKind::kNode) return false;
  const Node* na = lab.node(a.node);
  const Node* nb = lab.node(b.node);
  return na && nb && placement(lab, *na) != placement(lab, *nb);
}

bool isLoopback(const IpAddress& a) {
  if (a.family == 4) return a.bytes[0] == 127;
  IpAddress one;
  one.family = 6;
  one.bytes[15] = 1;
  return a == one;
}
bool isUnspecified(const IpAddress& a) {
  return std::all_of(a.bytes.begin(), a.bytes.begin() + (a.family == 4 ? 4 : 16),
                     [](uint8_t b) { return b == 0; });
}
bool isMulticast(const IpAddress& a) {
  return a.family == 4 ? (a.bytes[0] & 0xf0) == 0xe0 : a.bytes[0] == 0xff;
}
bool isBroadcast(const IpAddress& a) {
  return a.family == 4 && a.bytes[0] == 255 && a.bytes[1] == 255 && a.bytes[2] == 255 &&
         a.bytes[3] == 255;
}
bool isLinkLocal6(const IpAddress& a) {
  return a.family == 6 && a.bytes[0] == 0xfe && (a.bytes[1] & 0xc0) == 0x80;
}

int overheadOf(const Host& h) {
  return h.address && h.address->family == 6 ? kOverheadV6 : kOverheadV4;
}

// The hosts that are an end of some tunnel.
std::set<std::string> tunnelHosts(const Lab& lab) {
  std::set<std::string> out;
  for (const auto& l : lab.links)
    if (crossHost(lab, l))
      for (const auto& e : l.endpoints) out.insert(placement(lab, *lab.node(e.node)));
  for (const auto& [net, hs] : spanningNetworks(lab)) out.insert(hs.begin(), hs.end());
  return out;
}

}  // namespace

std::string placement(const Lab& lab, const Node& node) {
  if (!node.host.empty()) return node.host;
  return lab.hosts.empty() ? std::string() : lab.hosts.front().name;
}

std::map<std::string, std::vector<std::string>> spanningNetworks(const Lab& lab) {
  std::map<std::string, std::set<std::string>> seen;
  auto use = [&](const std::string& net, const std::string& host) {
    const Network* n = lab.network(net);
    if (n && n->driver == NetworkDriver::kBridge) seen[net].insert(host);
  };
  for (const auto& node : lab.nodes)
    for (const auto& a : node.networks) use(a.network, placement(lab, node));
  for (const auto& l : lab.links) {
    const Endpoint* nodeEnd = nullptr;
    for (const auto& e : l.endpoints)
      if (e.kind == EndpointKind::kNode) nodeEnd = &e;
    const Node* n = nodeEnd ? lab.node(nodeEnd->node) : nullptr;
    if (!n) continue;
    for (const auto& e : l.endpoints)
      if (e.kind == EndpointKind::kBridge) use(e.node, placement(lab, *n));
  }
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& [net, hs] : seen) {
    if (hs.size() < 2) continue;
    auto& v = out[net];
    for (const auto& h : lab.hosts)  // file order of the hosts section
      if (hs.contains(h.name)) v.push_back(h.name);
  }
  return out;
}

Vnis vnis(const Lab& lab) {
  Vnis out;
  std::set<uint32_t> taken;
  for (const auto& l : lab.links)
    if (l.type == LinkType::kVxlan) taken.insert(l.vni ? *l.vni : names::vni(lab.name, l));
  auto spans = spanningNetworks(lab);
  // Explicit values first, so a derived one never takes a value the file names.
  for (size_t i = 0; i < lab.links.size(); ++i)
    if (crossHost(lab, lab.links[i]) && lab.links[i].vni) {
      out.links[i] = *lab.links[i].vni;
      taken.insert(*lab.links[i].vni);
    }
  for (const auto& n : lab.networks)
    if (spans.contains(n.name) && n.vni) {
      out.networks[n.name] = *n.vni;
      taken.insert(*n.vni);
    }
  auto claim = [&](uint32_t v) {
    while (taken.contains(v)) v = v % kMaxVni + 1;
    taken.insert(v);
    return v;
  };
  for (size_t i = 0; i < lab.links.size(); ++i)
    if (crossHost(lab, lab.links[i]) && !lab.links[i].vni)
      out.links[i] = claim(names::vni(lab.name, lab.links[i]));
  for (const auto& n : lab.networks)
    if (spans.contains(n.name) && !n.vni)
      out.networks[n.name] =
          claim(static_cast<uint32_t>(names::hash({"vni-network", lab.name, n.name}) % kMaxVni) + 1);
  return out;
}

std::optional<IpPrefix> slice(const IpPrefix& subnet, size_t index, size_t count) {
  int bits = 0;
  while ((size_t{1} << bits) < count) ++bits;
  if (index >= (size_t{1} << bits)) return std::nullopt;
  int len = subnet.len + bits;
  if (len > subnet.addr.bits()) return std::nullopt;
  IpPrefix out = subnet.network();
  out.len = len;
  for (int b = 0; b < bits; ++b) {
    int pos = subnet.len + b;  // from the most significant bit
    if ((index >> (bits - 1 - b)) & 1) out.addr.bytes[pos / 8] |= static_cast<uint8_t>(0x80 >> (pos % 8));
  }
  return out;
}

std::vector<Diagnostic> check(const Lab& lab) {
  std::vector<Diagnostic> errors;
  if (lab.hosts.empty()) return errors;
  auto used = tunnelHosts(lab);
  std::map<IpAddress, std::string> addresses;
  const Host* first = nullptr;  // the first host with an address: sets the family
  for (const auto& h : lab.hosts) {
    const std::string path = join(h.locs.path, "address");
    Loc loc = h.locs.of("address");
    if (!h.address) {
      if (used.contains(h.name))
        errors.push_back(lab.at(h.locs.self, h.locs.path,
                                fmt::format("host \"{}\" needs an underlay address: VXLAN tunnels "
                                            "join its nodes to other hosts",
                                            h.name)));
      continue;
    }
    const IpAddress& a = *h.address;
    const char* bad = isUnspecified(a) ? "the unspecified address"
                      : isLoopback(a)  ? "a loopback address"
                      : isMulticast(a) ? "a multicast address"
                      : isBroadcast(a) ? "the broadcast address"
                                       : nullptr;
    if (bad) {
      errors.push_back(lab.at(loc, path,
                              fmt::format("underlay address {} is {}; other hosts cannot reach it",
                                          a.str(), bad)));
      continue;
    }
    if (isLinkLocal6(a) && h.parent.empty())
      errors.push_back(lab.at(loc, path,
                              fmt::format("link-local underlay address {} needs \"parent\" (the "
                                          "interface it is on)",
                                          a.str())));
    if (!first) {
      first = &h;
    } else if (first->address->family != a.family) {
      errors.push_back(lab.at(loc, path,
                              fmt::format("underlay address {} is IPv{} but host \"{}\" has IPv{} "
                                          "(VXLAN needs one family)",
                                          a.str(), a.family, first->name,
                                          first->address->family)));
    }
    auto [it, fresh] = addresses.try_emplace(a, h.name);
    if (!fresh)
      errors.push_back(lab.at(loc, path,
                              fmt::format("underlay address {} is also host \"{}\"'s", a.str(),
                                          it->second)));
  }

  // Explicit VNIs: the same value twice would join two tunnels into one.
  std::unordered_map<uint32_t, std::string> vniAt;
  for (const auto& l : lab.links)
    if (l.type == LinkType::kVxlan)  // their duplicates are validate()'s to report
      vniAt.try_emplace(l.vni ? *l.vni : names::vni(lab.name, l), l.locs.path);
  struct Claim {
    uint32_t vni;
    Loc loc;
    std::string path;
  };
  std::vector<Claim> claims;
  auto spans = spanningNetworks(lab);
  for (const auto& l : lab.links)
    if (crossHost(lab, l) && l.vni) claims.push_back({*l.vni, l.locs.of("vni"), l.locs.path});
  for (const auto& n : lab.networks)
    if (spans.contains(n.name) && n.vni) claims.push_back({*n.vni, n.locs.of("vni"), n.locs.path});
  // In file order, so the error points at the later of the two.
  std::stable_sort(claims.begin(), claims.end(), [](const Claim& a, const Claim& b) {
    return std::pair{a.loc.line, a.loc.col} < std::pair{b.loc.line, b.loc.col};
  });
  for (const auto& c : claims) {
    auto [it, fresh] = vniAt.try_emplace(c.vni, c.path);
    if (!fresh)
      errors.push_back(lab.at(c.loc, join(c.path, "vni"),
                              fmt::format("duplicate VNI {} (also at {})", c.vni, it->second)));
  }

  // A spanning subnet is cut into one slice per host of the hosts section.
  for (const auto& n : lab.networks) {
    if (!spans.contains(n.name)) continue;
    for (auto [field, p] : {std::pair{"subnet", &n.subnet}, std::pair{"ipv6", &n.ipv6}}) {
      if (!*p) continue;
      auto s = slice(**p, 0, lab.hosts.size());
      int maxLen = (*p)->addr.family == 4 ? 30 : 126;
      if (!s || s->len > maxLen)
        errors.push_back(lab.at(n.locs.of(field), join(n.locs.path, field),
                                fmt::format("subnet {} is too small to split among {} hosts",
                                            (*p)->str(), lab.hosts.size())));
    }
  }
  // Cross-host links need a veth between two nodes; other link kinds stay on their node's host.
  return errors;
}

Result<Lab> localPart(const Lab& full, std::string_view hostName) {
  Loc hostsLoc = full.locs.of("hosts");
  if (full.hosts.empty())
    return std::unexpected(toError(full.at(full.locs.self, "hosts",
        fmt::format("--host {}: the lab has no hosts section", hostName))));
  const Host* me = findHost(full, hostName);
  if (!me) {
    std::string known;
    for (const auto& h : full.hosts) known += (known.empty() ? "" : ", ") + h.name;
    return std::unexpected(toError(full.at(hostsLoc, "hosts",
        fmt::format("unknown host \"{}\" (the lab's hosts: {})", hostName, known))));
  }
  if (auto errors = hosts::check(full); !errors.empty()) return std::unexpected(toError(errors.front()));

  const Vnis v = vnis(full);
  const auto spans = spanningNetworks(full);
  const int overhead = overheadOf(*me);
  size_t myIndex = static_cast<size_t>(me - full.hosts.data());

  Lab out;
  out.name = full.name;
  out.file = full.file;
  out.dialect = full.dialect;
  out.groups = full.groups;
  out.hosts = full.hosts;
  out.locs = full.locs;
  out.localHost = me->name;
  for (const auto& n : full.nodes) out.placement[n.name] = placement(full, n);
  auto local = [&](const std::string& node) {
    auto it = out.placement.find(node);
    return it != out.placement.end() && it->second == me->name;
  };

  // Networks that a local node uses (an attachment, or a bridge end of a local node's link).
  std::set<std::string> usedNets;
  for (const auto& n : full.nodes)
    if (local(n.name))
      for (const auto& a : n.networks) usedNets.insert(a.network);
  for (const auto& l : full.links) {
    bool mine = false;
    for (const auto& e : l.endpoints) mine |= e.kind == EndpointKind::kNode && local(e.node);
    if (mine)
      for (const auto& e : l.endpoints)
        if (e.kind == EndpointKind::kBridge) usedNets.insert(e.node);
  }
  for (const auto& src : full.networks) {
    if (!usedNets.contains(src.name)) continue;
    Network n = src;
    if (auto it = spans.find(n.name); it != spans.end()) {
      Span sp;
      sp.vni = v.networks.at(n.name);
      sp.port = me->vxlanPort;
      sp.parent = me->parent;
      if (!n.locs.at.contains("mtu")) n.mtu = std::max(68, std::min(n.mtu, kUnderlayMtu - overhead));
      sp.mtu = n.mtu;
      for (const auto& hn : it->second) {
        if (hn == me->name) continue;
        const Host* h = findHost(full, hn);
        sp.peers.push_back({h->name, *h->address, h->vxlanPort});
        sp.learning &= h->vxlanPort == me->vxlanPort;
      }
      if (n.subnet) sp.slice = slice(*n.subnet, myIndex, full.hosts.size());
      if (n.ipv6) sp.slice6 = slice(*n.ipv6, myIndex, full.hosts.size());
      n.span = std::move(sp);
    }
    out.networks.push_back(std::move(n));
  }

  // Automatic addresses on spanning networks come from this host's slice, in file order,
  // around every explicit address of the whole lab (the other hosts' included).
  std::map<std::pair<std::string, int>, std::set<IpAddress>> taken;
  for (const auto& n : full.nodes)
    for (const auto& a : n.networks) {
      if (a.ip && a.ipExplicit) taken[{a.network, 4}].insert(*a.ip);
      if (a.ip6 && a.ip6Explicit) taken[{a.network, 6}].insert(*a.ip6);
    }
  auto take = [&](const Network& net, int family) -> std::optional<IpAddress> {
    const IpPrefix& subnet = family == 4 ? *net.subnet : *net.ipv6;
    const IpPrefix& part = family == 4 ? *net.span->slice : *net.span->slice6;
    const auto& gw = family == 4 ? net.gateway : net.gateway6;
    auto& used = taken[{net.name, family}];
    for (uint64_t k = 0;; ++k) {
      auto a = part.nth(k);
      if (!a) return std::nullopt;
      if (*a == subnet.network().addr || (gw && *a == *gw) ||
          (family == 4 && subnet.len < 31 && *a == subnet.last()) || used.contains(*a))
        continue;
      used.insert(*a);
      return a;
    }
  };
  for (const auto& src : full.nodes) {
    if (!local(src.name)) continue;
    Node n = src;
    for (auto& a : n.networks) {
      const Network* net = nullptr;
      for (const auto& x : out.networks)
        if (x.name == a.network) net = &x;
      if (!net || !net->span) continue;
      for (int family : {4, 6}) {
        bool has = family == 4 ? net->subnet && net->span->slice : net->ipv6 && net->span->slice6;
        bool expl = family == 4 ? a.ipExplicit : a.ip6Explicit;
        if (!has || expl) continue;
        auto got = take(*net, family);
        if (!got)
          return std::unexpected(toError(full.at(a.locs.self, a.locs.path,
              fmt::format("host \"{}\"'s slice {} of network \"{}\" has no free address left",
                          me->name, (family == 4 ? net->span->slice : net->span->slice6)->str(),
                          net->name))));
        (family == 4 ? a.ip : a.ip6) = got;
      }
    }
    out.nodes.push_back(std::move(n));
  }

  for (size_t i = 0; i < full.links.size(); ++i) {
    const Link& l = full.links[i];
    size_t mine = 0, nodeEnds = 0;
    for (const auto& e : l.endpoints)
      if (e.kind == EndpointKind::kNode) ++nodeEnds, mine += local(e.node) ? 1 : 0;
    if (mine == 0) continue;
    if (mine == nodeEnds || !crossHost(full, l)) {
      out.links.push_back(l);
      continue;
    }
    // One end here, one on the peer host: a vxlan link of the local end.
    const Endpoint& here = local(l.endpoints[0].node) ? l.endpoints[0] : l.endpoints[1];
    const Endpoint& there = &here == &l.endpoints[0] ? l.endpoints[1] : l.endpoints[0];
    const Host* peer = findHost(full, out.placement.at(there.node));
    Link x;
    x.type = LinkType::kVxlan;
    x.endpoints = {here};
    x.vni = v.links.at(i);
    x.dstPort = me->vxlanPort;
    if (peer->vxlanPort == me->vxlanPort) x.remote = peer->address;
    else x.peers = {{peer->name, *peer->address, peer->vxlanPort}};
    x.parentInterface = me->parent;
    x.mtu = l.locs.at.contains("mtu") && l.mtu ? *l.mtu : kUnderlayMtu - overhead;
    x.impair = l.impair;
    x.labels = l.labels;
    x.locs = l.locs;
    out.links.push_back(std::move(x));
  }
  out.reindex();
  return out;
}

Result<std::string> detect(const Lab& lab, const std::vector<IpAddress>& local) {
  std::vector<std::string> found;
  std::string all;
  for (const auto& h : lab.hosts) {
    all += (all.empty() ? "" : ", ") + h.name;
    if (h.address && std::find(local.begin(), local.end(), *h.address) != local.end())
      found.push_back(h.name);
  }
  if (found.size() == 1) return found.front();
  return std::unexpected(toError(lab.at(lab.locs.of("hosts"), "hosts",
      found.empty()
          ? fmt::format("none of the hosts' underlay addresses is on this machine; pass --host "
                        "NAME ({})", all)
          : fmt::format("several hosts' underlay addresses are on this machine; pass --host NAME "
                        "({})", all))));
}

}  // namespace netctl::topology::hosts
