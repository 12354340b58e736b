// The table layout (docs/nat.md has it in nft syntax):
//   prerouting (nat, -100): 127/8 from outside lo dropped; per family one DNAT rule through
//                           the host-address map and one through the any-address map; node
//                           DNAT rules
//   output     (nat, -100): the same DNAT rules, for the host's own traffic (127.0.0.1 too)
//   postrouting(nat, 100):  per network masquerade, hairpin and localhost masquerade; node
//                           masquerade/SNAT rules
//   forward    (filter, 0): established accept; oifname vmap fwd_in; iifname vmap fwd_out
//   in-<net>:  ICC accept, linked networks accept, published set accept, drop
//   out-<net>: accept (internal: drop)
// Per container there are only elements; rules exist per network and per node rule.
#include "render.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_nat.h>

#include <algorithm>
#include <cstring>

namespace netctl::nft {
namespace {

// nft's userspace datatype ids, so that `nft list` prints the sets readably.
constexpr uint32_t kTypeIpv4 = 7, kTypeIpv6 = 8, kTypeProto = 12, kTypeService = 13,
                   kTypeIfname = 41;
constexpr uint32_t concatType(std::initializer_list<uint32_t> types) {
  uint32_t t = 0;
  for (uint32_t x : types) t = (t << 6) | x;
  return t;
}

constexpr uint32_t kBridgeForward = 2;  // NF_BR_FORWARD

enum SetId : uint32_t { kIdAny4 = 1, kIdAny6, kIdHost4, kIdHost6, kIdPub4, kIdPub6, kIdIn, kIdOut };

constexpr uint32_t kEstablishedRelated =
    NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED);

// addr . proto . port as nft lays a concatenation out: each field padded to 4 bytes.
std::vector<uint8_t> concatKey(const Addr& a, Proto proto, uint16_t port) {
  size_t alen = a.size();
  std::vector<uint8_t> k(alen + 8, 0);
  std::memcpy(k.data(), a.bytes.data(), alen);
  k[alen] = uint8_t(proto);
  uint16_t p = htons(port);
  std::memcpy(k.data() + alen + 4, &p, 2);
  return k;
}

std::vector<uint8_t> addrPort(const Addr& a, uint16_t port) {
  size_t alen = a.size();
  std::vector<uint8_t> d(alen + 4, 0);
  std::memcpy(d.data(), a.bytes.data(), alen);
  uint16_t p = htons(port);
  std::memcpy(d.data() + alen, &p, 2);
  return d;
}

// proto . port as nft lays a concatenation out.
std::vector<uint8_t> protoPortKey(Proto proto, uint16_t port) {
  std::vector<uint8_t> k(8, 0);
  k[0] = uint8_t(proto);
  uint16_t p = htons(port);
  std::memcpy(k.data() + 4, &p, 2);
  return k;
}

void addMapping(std::vector<Element>& any, std::vector<Element>& host, std::vector<Element>& pub,
                const std::optional<Addr>& hostAddr, const Addr& ctr, const PortMapping& m) {
  bool specific = hostAddr && !hostAddr->isAny();
  for (uint32_t i = 0; i < m.count(); ++i) {
    uint16_t hp = uint16_t(m.hostPort + i), cp = uint16_t(m.containerPort + i);
    if (specific)
      host.push_back({concatKey(*hostAddr, m.proto, hp), {}, addrPort(ctr, cp), {}});
    else
      any.push_back({protoPortKey(m.proto, hp), {}, addrPort(ctr, cp), {}});
    pub.push_back({concatKey(ctr, m.proto, cp), {}, {}, {}});
  }
}

const Network* findNetwork(const State& s, const std::string& name) {
  for (const auto& n : s.networks)
    if (n.name == name) return &n;
  return nullptr;
}

bool linked(const Network& a, const Network& b) {
  auto has = [](const Network& x, const std::string& y) {
    return std::find(x.links.begin(), x.links.end(), y) != x.links.end();
  };
  return has(a, b.name) || has(b, a.name);
}

// Two DNAT rules per family, each one map lookup: exact host address first, then any
// address. Hash maps, not an interval map: a pipapo (interval + concatenation) set rebuilds
// its lookup tables on every commit, so one element costs O(elements) (measured: 1.1 ms add,
// 210 ms delete at 10,000), while a hash element costs the same at 100 and at 10,000.
void renderDnat(Batch& b, const std::string& chain) {
  for (int family : {AF_INET, AF_INET6}) {
    bool v6 = family == AF_INET6;
    const char* fam = v6 ? "IPv6" : "IPv4";
    Rule(NFPROTO_INET, chain)
        .nfproto(family)
        .fibDaddrLocal()
        .loadAddrProtoPort(family, /*source=*/false)
        .lookup(v6 ? kHostPort6 : kHostPort4, v6 ? kIdHost6 : kIdHost4, NFT_REG_1)
        .natMapped(NFT_NAT_DNAT, family)
        .emit(b, fmt::format("adding the {} host-address DNAT rule to {}", fam, chain));
    Rule(NFPROTO_INET, chain)
        .nfproto(family)
        .fibDaddrLocal()
        .loadProtoPort()
        .lookup(v6 ? kAnyPort6 : kAnyPort4, v6 ? kIdAny6 : kIdAny4, NFT_REG_1)
        .natMapped(NFT_NAT_DNAT, family)
        .emit(b, fmt::format("adding the {} any-address DNAT rule to {}", fam, chain));
  }
}

void renderNetwork(Batch& b, const State& s, const Network& n) {
  std::vector<Prefix> subnets{n.subnet4};
  if (n.subnet6) subnets.push_back(*n.subnet6);
  for (const auto& sub : subnets) {
    if (n.masquerade && !n.internal)
      Rule(NFPROTO_INET, "postrouting")
          .addr(true, sub)
          .ifname(false, n.bridge, false)
          .masquerade()
          .emit(b, fmt::format("network {}: masquerade of {}", n.name, sub.str()));
    // Hairpin: a container reached its own network's published port through a host address;
    // without SNAT the reply would go straight back over the bridge with the wrong source.
    Rule(NFPROTO_INET, "postrouting")
        .ifname(false, n.bridge)
        .addr(true, sub)
        .ctStatus(IPS_DST_NAT)
        .masquerade()
        .emit(b, fmt::format("network {}: hairpin masquerade", n.name));
  }
  // 127.0.0.1:port on the host, DNAT'd in output, leaves with source 127.0.0.1
  // (route_localnet allows it on the bridge); the container must answer to the gateway.
  Rule(NFPROTO_INET, "postrouting")
      .ifname(false, n.bridge)
      .addr(true, *parsePrefix("127.0.0.0/8"))
      .masquerade()
      .emit(b, fmt::format("network {}: localhost masquerade", n.name));

  std::string in = "in-" + n.name, out = "out-" + n.name;
  addChain(b, NFPROTO_INET, in, std::nullopt);
  addChain(b, NFPROTO_INET, out, std::nullopt);
  // Routed traffic between two containers of the same bridge (hairpin) counts as ICC.
  if (n.icc) Rule(NFPROTO_INET, in).ifname(true, n.bridge).accept().emit(b, in + ": icc");
  for (const auto& other : s.networks)
    if (&other != &n && linked(n, other))
      Rule(NFPROTO_INET, in).ifname(true, other.bridge).accept().emit(b, in + ": link " + other.name);
  // Only flows our DNAT made reach a published port: routing straight to a container's
  // address from outside stays dropped (what Docker's raw-table drops are for).
  Rule(NFPROTO_INET, in)
      .ctStatus(IPS_DST_NAT)
      .nfproto(AF_INET)
      .loadAddrProtoPort(AF_INET, false)
      .lookup(kPublished4, kIdPub4)
      .accept()
      .emit(b, in + ": published IPv4 ports");
  Rule(NFPROTO_INET, in)
      .ctStatus(IPS_DST_NAT)
      .nfproto(AF_INET6)
      .loadAddrProtoPort(AF_INET6, false)
      .lookup(kPublished6, kIdPub6)
      .accept()
      .emit(b, in + ": published IPv6 ports");
  Rule(NFPROTO_INET, in).drop().emit(b, in + ": isolation drop");
  if (n.internal)
    Rule(NFPROTO_INET, out).drop().emit(b, out + ": internal network");
  else
    Rule(NFPROTO_INET, out).accept().emit(b, out + ": accept");
}

Result<void> renderNatRule(Batch& b, const NatRule& r) {
  int family = 0;
  if (r.src) family = r.src->addr.family;
  if (r.dst) family = r.dst->addr.family;
  if (r.to) family = r.to->family;
  bool dnat = r.action == NatRule::Action::kDnat;
  Rule rule(NFPROTO_INET, dnat ? "prerouting" : "postrouting");
  if (family) rule.nfproto(family);
  if (!r.iif.empty()) rule.ifname(true, r.iif);
  if (!r.oif.empty()) rule.ifname(false, r.oif);
  if (r.src) rule.addr(true, *r.src);
  if (r.dst) rule.addr(false, *r.dst);
  if (r.proto) rule.l4proto(uint8_t(*r.proto));
  if (r.dport) rule.dport(r.dport, r.dportEnd ? r.dportEnd : r.dport);
  switch (r.action) {
    case NatRule::Action::kMasquerade: rule.masquerade(); break;
    case NatRule::Action::kSnat: rule.nat(NFT_NAT_SNAT, family, r.to, 0); break;
    case NatRule::Action::kDnat: rule.nat(NFT_NAT_DNAT, family, r.to, r.toPort); break;
  }
  rule.emit(b, "node NAT rule " + r.str());
  return {};
}

}  // namespace

Result<PortElements> portElements(const ContainerPorts& c) {
  PortElements e;
  for (const auto& m : c.ports) {
    bool wantV4 = !m.hostAddr || m.hostAddr->family == AF_INET;
    bool wantV6 = (!m.hostAddr && c.addr6) || (m.hostAddr && m.hostAddr->family == AF_INET6);
    if (wantV6 && !c.addr6)
      return invalidInput(fmt::format("container {}: port {} has an IPv6 host address but the "
                                      "container has no IPv6 address", c.id, m.str()));
    if (wantV4) addMapping(e.any4, e.host4, e.pub4, m.hostAddr, c.addr4, m);
    if (wantV6) addMapping(e.any6, e.host6, e.pub6, m.hostAddr, *c.addr6, m);
  }
  return e;
}

void emitPortElements(Batch& b, const PortElements& e, bool add) {
  if (!e.any4.empty()) addElements(b, NFPROTO_INET, kAnyPort4, e.any4, add);
  if (!e.host4.empty()) addElements(b, NFPROTO_INET, kHostPort4, e.host4, add);
  if (!e.any6.empty()) addElements(b, NFPROTO_INET, kAnyPort6, e.any6, add);
  if (!e.host6.empty()) addElements(b, NFPROTO_INET, kHostPort6, e.host6, add);
  // Two mappings may publish the same container port (two host ports): the published set
  // holds it once, so only add; removePorts recomputes what is still published.
  if (add) {
    if (!e.pub4.empty()) addElements(b, NFPROTO_INET, kPublished4, e.pub4, true);
    if (!e.pub6.empty()) addElements(b, NFPROTO_INET, kPublished6, e.pub6, true);
  }
}

void deleteTables(Batch& b, bool withBridge) {
  addTable(b, NFPROTO_INET, kTable);
  deleteTable(b, NFPROTO_INET, kTable);
  if (withBridge) {
    addTable(b, NFPROTO_BRIDGE, kTable);
    deleteTable(b, NFPROTO_BRIDGE, kTable);
  }
}

Result<void> renderAll(Batch& b, const State& s, bool bridgeFamily) {
  addTable(b, NFPROTO_INET, kTable);
  const uint32_t addrProtoPort4 = concatType({kTypeIpv4, kTypeProto, kTypeService}),
                 addrProtoPort6 = concatType({kTypeIpv6, kTypeProto, kTypeService}),
                 protoPort = concatType({kTypeProto, kTypeService}),
                 addrPort4 = concatType({kTypeIpv4, kTypeService}),
                 addrPort6 = concatType({kTypeIpv6, kTypeService});
  addSet(b, NFPROTO_INET, {kAnyPort4, kIdAny4, NFT_SET_MAP, protoPort, 8, addrPort4, 8, {}});
  addSet(b, NFPROTO_INET, {kAnyPort6, kIdAny6, NFT_SET_MAP, protoPort, 8, addrPort6, 20, {}});
  addSet(b, NFPROTO_INET, {kHostPort4, kIdHost4, NFT_SET_MAP, addrProtoPort4, 12, addrPort4, 8, {}});
  addSet(b, NFPROTO_INET, {kHostPort6, kIdHost6, NFT_SET_MAP, addrProtoPort6, 24, addrPort6, 20, {}});
  addSet(b, NFPROTO_INET, {kPublished4, kIdPub4, 0, concatType({kTypeIpv4, kTypeProto, kTypeService}),
                           12, 0, 0, {}});
  addSet(b, NFPROTO_INET, {kPublished6, kIdPub6, 0, concatType({kTypeIpv6, kTypeProto, kTypeService}),
                           24, 0, 0, {}});
  addSet(b, NFPROTO_INET, {kFwdIn, kIdIn, NFT_SET_MAP, kTypeIfname, 16, NFT_DATA_VERDICT, 0, {}, true});
  addSet(b, NFPROTO_INET, {kFwdOut, kIdOut, NFT_SET_MAP, kTypeIfname, 16, NFT_DATA_VERDICT, 0, {}, true});

  addChain(b, NFPROTO_INET, "prerouting", Hook{NF_INET_PRE_ROUTING, -100, "nat"});
  addChain(b, NFPROTO_INET, "output", Hook{NF_INET_LOCAL_OUT, -100, "nat"});
  addChain(b, NFPROTO_INET, "postrouting", Hook{NF_INET_POST_ROUTING, 100, "nat"});
  addChain(b, NFPROTO_INET, "forward", Hook{NF_INET_FORWARD, 0, "filter"});

  if (!s.networks.empty()) {
    // Ports published on 127.0.0.1 must not be reachable from outside through a bridge
    // with route_localnet on (moby#41872).
    Rule(NFPROTO_INET, "prerouting")
        .ifname(true, "lo", false)
        .addr(false, *parsePrefix("127.0.0.0/8"))
        .drop()
        .emit(b, "prerouting: 127/8 from outside lo");
    renderDnat(b, "prerouting");
    renderDnat(b, "output");
  }
  for (const auto& r : s.natRules)
    if (r.action == NatRule::Action::kDnat) NETCTL_TRY(renderNatRule(b, r));

  Rule(NFPROTO_INET, "forward")
      .ctState(kEstablishedRelated)
      .accept()
      .emit(b, "forward: established");
  Rule(NFPROTO_INET, "forward").vmap(false, kFwdIn, kIdIn).emit(b, "forward: ingress dispatch");
  Rule(NFPROTO_INET, "forward").vmap(true, kFwdOut, kIdOut).emit(b, "forward: egress dispatch");

  std::vector<Element> in, out;
  for (const auto& n : s.networks) {
    renderNetwork(b, s, n);
    in.push_back({ifnameKey(n.bridge), {}, {}, "in-" + n.name});
    out.push_back({ifnameKey(n.bridge), {}, {}, "out-" + n.name});
  }
  for (const auto& r : s.natRules)
    if (r.action != NatRule::Action::kDnat) NETCTL_TRY(renderNatRule(b, r));
  if (!in.empty()) addElements(b, NFPROTO_INET, kFwdIn, in, true);
  if (!out.empty()) addElements(b, NFPROTO_INET, kFwdOut, out, true);

  for (const auto& c : s.containers) {
    if (!findNetwork(s, c.network))
      return notFound(fmt::format("container {}: network {} is not known", c.id, c.network));
    PortElements e = NETCTL_TRYC(portElements(c), "container {}", c.id);
    emitPortElements(b, e, true);
  }

  bool iccOff = std::any_of(s.networks.begin(), s.networks.end(), [](auto& n) { return !n.icc; });
  if (iccOff) {
    if (!bridgeFamily)
      return unsupported("icc off needs nftables for bridges (CONFIG_NF_TABLES_BRIDGE)");
    // Same-bridge traffic is switched, not routed: only a bridge-family chain sees it
    // whether or not br_netfilter is active. It matches the subnet on both ends, because
    // `meta ibrname` needs CONFIG_NFT_BRIDGE_META, which kernels may lack; the gateway is
    // not affected (traffic to it is local input, not bridge forwarding).
    addTable(b, NFPROTO_BRIDGE, kTable);
    addChain(b, NFPROTO_BRIDGE, "forward", Hook{kBridgeForward, 0, "filter"});
    for (const auto& n : s.networks) {
      if (n.icc) continue;
      std::vector<Prefix> subnets{n.subnet4};
      if (n.subnet6) subnets.push_back(*n.subnet6);
      for (const auto& sub : subnets)
        Rule(NFPROTO_BRIDGE, "forward")
            .etherType(sub.addr.family == AF_INET6 ? ETH_P_IPV6 : ETH_P_IP)
            .addr(true, sub)
            .addr(false, sub)
            .drop()
            .emit(b, "icc off: " + n.name);
    }
  }
  return {};
}

}  // namespace netctl::nft
