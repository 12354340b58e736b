// The multi-host transform (topology/hosts.h): what each host's part of a lab holds, that the
// two sides of a tunnel agree, that address slices never collide, and the invalid inputs.
#include <gtest/gtest.h>

#include <set>

#include "netctl/topology/hosts.h"
#include "netctl/topology/json.h"
#include "netctl/topology/load.h"
#include "netctl/topology/names.h"
#include "netctl/topology/plan.h"

namespace netctl::topology {
namespace {

const char* kLab = R"(name: mh
hosts:
  a: {address: 10.99.0.1, parent: ul}
  b: {address: 10.99.0.2}
  c: {address: 10.99.0.3, vxlan-port: 4790}
networks:
  lan: {subnet: 172.31.0.0/24}
  solo: {subnet: 172.31.9.0/24}
nodes:
  n1: {networks: [lan]}
  n2: {host: b, networks: [lan]}
  n3: {host: c, networks: [lan]}
  n4: {host: b, networks: [lan, solo]}
  n5: {host: a, networks: [{lan: {ip: 172.31.0.70}}]}
links:
  - endpoints: [n1:eth5, n2:eth5]
    ipv4: [10.1.0.1/30, 10.1.0.2/30]
  - endpoints: [n2:eth6, n4:eth6]
  - endpoints: [n1:eth7, n3:eth7]
    mtu: 1400
    vni: 777
)";

Lab load(const std::string& text) {
  auto r = loadString(text, "lab.yaml");
  EXPECT_TRUE(r) << (r ? "" : r.error().what());
  return r ? std::move(r->lab) : Lab{};
}

Lab part(const Lab& lab, const std::string& host) {
  auto r = hosts::localPart(lab, host);
  EXPECT_TRUE(r) << (r ? "" : r.error().what());
  return r ? std::move(*r) : Lab{};
}

std::set<std::string> nodeNames(const Lab& l) {
  std::set<std::string> s;
  for (const auto& n : l.nodes) s.insert(n.name);
  return s;
}

const Link* linkOf(const Lab& l, const std::string& node, const std::string& iface) {
  for (const auto& x : l.links)
    for (const auto& e : x.endpoints)
      if (e.node == node && e.iface == iface) return &x;
  return nullptr;
}

// The error of loading `text` (validation included) must be exactly `expected`, exit code 2.
void expectInvalid(const std::string& text, const std::string& expected) {
  auto r = loadString(text, "lab.yaml");
  ASSERT_FALSE(r) << "loaded; expected " << expected;
  EXPECT_EQ(r.error().what(), expected);
  EXPECT_EQ(r.error().kind(), Error::Kind::kInvalidInput);
  EXPECT_EQ(r.error().exitCode(), 2);
}

TEST(Hosts, ParsesTheHostsSection) {
  Lab lab = load(kLab);
  ASSERT_EQ(lab.hosts.size(), 3u);
  EXPECT_EQ(lab.hosts[0].parent, "ul");
  EXPECT_EQ(lab.hosts[0].vxlanPort, 4789);
  EXPECT_EQ(lab.hosts[2].vxlanPort, 4790);
  EXPECT_EQ(lab.hosts[1].address->str(), "10.99.0.2");
  EXPECT_EQ(hosts::placement(lab, *lab.node("n1")), "a");  // no host: the first host
  EXPECT_EQ(hosts::placement(lab, *lab.node("n3")), "c");
}

TEST(Hosts, EachHostGetsItsOwnNodesAndPlacementOfAll) {
  Lab lab = load(kLab);
  Lab a = part(lab, "a"), b = part(lab, "b"), c = part(lab, "c");
  EXPECT_EQ(nodeNames(a), (std::set<std::string>{"n1", "n5"}));
  EXPECT_EQ(nodeNames(b), (std::set<std::string>{"n2", "n4"}));
  EXPECT_EQ(nodeNames(c), (std::set<std::string>{"n3"}));
  EXPECT_EQ(a.localHost, "a");
  EXPECT_EQ(a.placement.size(), 5u);
  EXPECT_EQ(a.placement.at("n4"), "b");
  // Networks only where a local node uses them.
  EXPECT_TRUE(b.network("solo"));
  EXPECT_FALSE(a.network("solo"));
  EXPECT_FALSE(b.network("solo")->span);  // only b's nodes use it: not spanning
  // A link with both ends on b stays a veth.
  const Link* same = linkOf(b, "n2", "eth6");
  ASSERT_TRUE(same);
  EXPECT_EQ(same->type, LinkType::kVeth);
  EXPECT_EQ(same->endpoints.size(), 2u);
  EXPECT_FALSE(linkOf(a, "n2", "eth6"));
  EXPECT_FALSE(linkOf(c, "n2", "eth6"));
}

TEST(Hosts, CrossHostLinkBecomesVxlanOnBothSidesWithOneVni) {
  Lab lab = load(kLab);
  Lab a = part(lab, "a"), b = part(lab, "b");
  const Link* la = linkOf(a, "n1", "eth5");
  const Link* lb = linkOf(b, "n2", "eth5");
  ASSERT_TRUE(la && lb);
  for (const Link* l : {la, lb}) {
    EXPECT_EQ(l->type, LinkType::kVxlan);
    ASSERT_EQ(l->endpoints.size(), 1u);
    EXPECT_EQ(l->mtu, 1450);  // 1500 - 50 (IPv4 underlay)
    EXPECT_EQ(l->dstPort, 4789);
    EXPECT_TRUE(l->peers.empty());
  }
  EXPECT_EQ(la->remote->str(), "10.99.0.2");
  EXPECT_EQ(lb->remote->str(), "10.99.0.1");
  EXPECT_EQ(la->vni, lb->vni);
  EXPECT_EQ(*la->vni, names::vni("mh", lab.links[0]));  // derived from lab and link
  EXPECT_EQ(la->parentInterface, "ul");                 // hosts.a.parent
  EXPECT_EQ(lb->parentInterface, "");
  EXPECT_EQ(la->endpoints[0].ipv4->str(), "10.1.0.1/30");  // addresses go along
  EXPECT_EQ(lb->endpoints[0].ipv4->str(), "10.1.0.2/30");
}

TEST(Hosts, ExplicitVniAndMtuWinAndDifferentPortsUseFdbPeers) {
  Lab lab = load(kLab);
  Lab a = part(lab, "a"), c = part(lab, "c");
  const Link* la = linkOf(a, "n1", "eth7");
  const Link* lc = linkOf(c, "n3", "eth7");
  ASSERT_TRUE(la && lc);
  EXPECT_EQ(*la->vni, 777u);
  EXPECT_EQ(*lc->vni, 777u);
  EXPECT_EQ(la->mtu, 1400);
  // a listens on 4789, c on 4790: no device remote, one FDB peer at the other's port.
  EXPECT_FALSE(la->remote);
  EXPECT_EQ(la->dstPort, 4789);
  ASSERT_EQ(la->peers.size(), 1u);
  EXPECT_EQ(la->peers[0].address.str(), "10.99.0.3");
  EXPECT_EQ(la->peers[0].port, 4790);
  EXPECT_EQ(lc->dstPort, 4790);
  ASSERT_EQ(lc->peers.size(), 1u);
  EXPECT_EQ(lc->peers[0].port, 4789);
}

TEST(Hosts, Ipv6UnderlayLowersBySeventy) {
  Lab lab = load(R"(name: v6
hosts:
  a: {address: "fd00::1"}
  b: {address: "fd00::2"}
nodes:
  x: {}
  y: {host: b}
links:
  - endpoints: [x:eth1, y:eth1]
)");
  Lab a = part(lab, "a");
  ASSERT_EQ(a.links.size(), 1u);
  EXPECT_EQ(a.links[0].mtu, 1430);
  EXPECT_EQ(a.links[0].remote->str(), "fd00::2");
}

TEST(Hosts, SpanningNetworkGetsOneVniPeersAndSlices) {
  Lab lab = load(kLab);
  Lab a = part(lab, "a"), b = part(lab, "b"), c = part(lab, "c");
  const Span* sa = a.network("lan")->span ? &*a.network("lan")->span : nullptr;
  const Span* sb = b.network("lan")->span ? &*b.network("lan")->span : nullptr;
  const Span* sc = c.network("lan")->span ? &*c.network("lan")->span : nullptr;
  ASSERT_TRUE(sa && sb && sc);
  EXPECT_EQ(sa->vni, sb->vni);
  EXPECT_EQ(sa->vni, sc->vni);
  EXPECT_EQ(sa->slice->str(), "172.31.0.0/26");  // 3 hosts -> 4 slices
  EXPECT_EQ(sb->slice->str(), "172.31.0.64/26");
  EXPECT_EQ(sc->slice->str(), "172.31.0.128/26");
  ASSERT_EQ(sa->peers.size(), 2u);
  EXPECT_EQ(sa->peers[0].host, "b");
  EXPECT_EQ(sa->peers[1].host, "c");
  EXPECT_EQ(sa->peers[1].port, 4790);
  EXPECT_FALSE(sa->learning);  // peers listen on different ports
  EXPECT_EQ(sa->parent, "ul");
  EXPECT_EQ(sa->mtu, 1450);
  EXPECT_EQ(a.network("lan")->mtu, 1450);
  EXPECT_EQ(c.network("lan")->span->port, 4790);
  // The gateway stays the network's on every host.
  EXPECT_EQ(a.network("lan")->gateway->str(), "172.31.0.1");
  EXPECT_EQ(c.network("lan")->gateway->str(), "172.31.0.1");
  // Automatic addresses from the local slice; explicit ones kept.
  EXPECT_EQ(a.node("n1")->networks[0].ip->str(), "172.31.0.2");
  EXPECT_EQ(a.node("n5")->networks[0].ip->str(), "172.31.0.70");
  EXPECT_EQ(b.node("n2")->networks[0].ip->str(), "172.31.0.64");
  EXPECT_EQ(b.node("n4")->networks[0].ip->str(), "172.31.0.65");
  EXPECT_EQ(c.node("n3")->networks[0].ip->str(), "172.31.0.128");
  // The non-spanning network keeps the loader's addresses.
  EXPECT_EQ(b.node("n4")->networks[1].ip->str(), "172.31.9.2");
}

TEST(Hosts, AddressesNeverCollideAcrossHosts) {
  // Twenty nodes on four hosts, a few explicit addresses inside other hosts' slices.
  std::string text = "name: many\nhosts:\n";
  for (int h = 0; h < 4; ++h) text += fmt::format("  h{}: {{address: 10.9.0.{}}}\n", h, h + 1);
  text += "networks:\n  lan: {subnet: 10.50.0.0/24, ipv6: \"fd50::/64\"}\nnodes:\n";
  for (int i = 0; i < 20; ++i) {
    if (i % 7 == 3)
      text += fmt::format("  n{}: {{host: h{}, networks: [{{lan: {{ip: 10.50.0.{}}}}}]}}\n", i, i % 4,
                          66 + i);
    else
      text += fmt::format("  n{}: {{host: h{}, networks: [lan]}}\n", i, i % 4);
  }
  Lab lab = load(text);
  std::set<std::string> seen;
  size_t total = 0;
  for (int h = 0; h < 4; ++h) {
    Lab p = part(lab, fmt::format("h{}", h));
    for (const auto& n : p.nodes)
      for (const auto& a : n.networks) {
        ++total;
        EXPECT_TRUE(seen.insert(a.ip->str()).second) << "duplicate " << a.ip->str();
        EXPECT_TRUE(seen.insert(a.ip6->str()).second) << "duplicate " << a.ip6->str();
        EXPECT_NE(a.ip->str(), "10.50.0.1");
        EXPECT_NE(a.ip->str(), "10.50.0.0");
        EXPECT_NE(a.ip->str(), "10.50.0.255");
        if (!a.ipExplicit) {
          EXPECT_TRUE(p.network("lan")->span->slice->contains(*a.ip)) << a.ip->str();
        }
      }
  }
  EXPECT_EQ(total, 20u);
}

TEST(Hosts, TheSameFileGivesTheSameParts) {
  Lab one = load(kLab), two = load(kLab);
  for (const char* h : {"a", "b", "c"}) EXPECT_EQ(toJson(part(one, h)), toJson(part(two, h))) << h;
}

TEST(Hosts, ANodeAddedOnOneHostChangesOnlyThatHostsPart) {
  Lab before = load(kLab);
  std::string text = kLab;
  text.insert(text.find("links:"), "  n6: {host: c, networks: [lan]}\n");
  Lab after = load(text);
  for (const char* h : {"a", "b"}) {
    Lab was = part(before, h), now = part(after, h);
    EXPECT_EQ(makePlan(&was, now).changes(), 0u) << h << ": " << makePlan(&was, now).str();
  }
  Lab wasC = part(before, "c"), nowC = part(after, "c");
  auto plan = makePlan(&wasC, nowC);
  EXPECT_EQ(plan.addNodes, std::vector<std::string>{"n6"});
  EXPECT_TRUE(plan.removeNodes.empty());
  EXPECT_EQ(nowC.node("n6")->networks[0].ip->str(), "172.31.0.129");
}

TEST(Hosts, LocalPartRoundTripsThroughJson) {
  Lab a = part(load(kLab), "a");
  auto back = fromJson(toJson(a));
  ASSERT_TRUE(back) << back.error().what();
  EXPECT_EQ(toJson(*back), toJson(a));
  EXPECT_EQ(back->localHost, "a");
  EXPECT_TRUE(back->network("lan")->span);
}

TEST(Hosts, DerivedVnisStepAroundTakenValues) {
  Lab lab = load(kLab);
  // Give the spanning network, explicitly, the value the first link would derive.
  uint32_t derived = names::vni("mh", lab.links[0]);
  std::string text = kLab;
  text.replace(text.find("lan: {subnet: 172.31.0.0/24}"), 28,
               fmt::format("lan: {{subnet: 172.31.0.0/24, vni: {}}}", derived));
  Lab moved = load(text);
  auto v = hosts::vnis(moved);
  EXPECT_EQ(v.networks.at("lan"), derived);
  EXPECT_EQ(v.links.at(0), derived % 16777215 + 1);
  EXPECT_EQ(v.links.at(2), 777u);
  std::set<uint32_t> all;
  for (auto& [i, x] : v.links) EXPECT_TRUE(all.insert(x).second);
  for (auto& [n, x] : v.networks) EXPECT_TRUE(all.insert(x).second);
}

TEST(Hosts, SliceArithmetic) {
  auto p = *IpPrefix::parse("10.0.0.0/24");
  EXPECT_EQ(hosts::slice(p, 0, 1)->str(), "10.0.0.0/24");
  EXPECT_EQ(hosts::slice(p, 1, 2)->str(), "10.0.0.128/25");
  EXPECT_EQ(hosts::slice(p, 4, 5)->str(), "10.0.0.128/27");
  EXPECT_FALSE(hosts::slice(p, 8, 5));
  auto six = *IpPrefix::parse("fd00:1::/48");
  EXPECT_EQ(hosts::slice(six, 3, 4)->str(), "fd00:1:0:c000::/50");
  EXPECT_FALSE(hosts::slice(*IpPrefix::parse("10.0.0.0/31"), 0, 4));
}

TEST(Hosts, DetectsTheLocalHostByItsAddress) {
  Lab lab = load(kLab);
  auto b = hosts::detect(lab, {*IpAddress::parse("127.0.0.1"), *IpAddress::parse("10.99.0.2")});
  ASSERT_TRUE(b);
  EXPECT_EQ(*b, "b");
  auto none = hosts::detect(lab, {*IpAddress::parse("192.168.1.1")});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().exitCode(), 2);
  EXPECT_NE(none.error().what().find("pass --host NAME (a, b, c)"), std::string::npos)
      << none.error().what();
}

TEST(Hosts, UnknownHostOnTheCommandLine) {
  Lab lab = load(kLab);
  auto r = hosts::localPart(lab, "zz");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().what(), "lab.yaml:2:1: hosts: unknown host \"zz\" (the lab's hosts: a, b, c)");
  EXPECT_EQ(r.error().exitCode(), 2);
  Lab single = load("name: one\nnodes:\n  x: {}\n");
  auto s = hosts::localPart(single, "a");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().exitCode(), 2);
  EXPECT_NE(s.error().what().find("the lab has no hosts section"), std::string::npos);
}

TEST(HostsInvalid, UnknownHostOfANode) {
  expectInvalid("name: x\nhosts:\n  a: {address: 10.0.0.1}\nnodes:\n  n: {host: q}\n",
                "lab.yaml:5:13: nodes.n.host: unknown host \"q\"");
}

TEST(HostsInvalid, BadUnderlayAddresses) {
  const std::string head = "name: x\nhosts:\n  a: {address: 10.0.0.1}\n  b: {address: ";
  const std::string tail = "}\nnodes:\n  n: {}\n  m: {host: b}\nlinks:\n  - endpoints: [n:e1, m:e1]\n";
  expectInvalid(head + "127.0.0.2" + tail,
                "lab.yaml:4:16: hosts.b.address: underlay address 127.0.0.2 is a loopback address; "
                "other hosts cannot reach it");
  expectInvalid(head + "0.0.0.0" + tail,
                "lab.yaml:4:16: hosts.b.address: underlay address 0.0.0.0 is the unspecified "
                "address; other hosts cannot reach it");
  expectInvalid(head + "239.1.1.1" + tail,
                "lab.yaml:4:16: hosts.b.address: underlay address 239.1.1.1 is a multicast "
                "address; other hosts cannot reach it");
  expectInvalid(head + "10.0.0.1" + tail,
                "lab.yaml:4:16: hosts.b.address: underlay address 10.0.0.1 is also host \"a\"'s");
  expectInvalid(head + "\"fd00::1\"" + tail,
                "lab.yaml:4:16: hosts.b.address: underlay address fd00::1 is IPv6 but host \"a\" "
                "has IPv4 (VXLAN needs one family)");
  expectInvalid(head + "not-an-ip" + tail.substr(0),
                "lab.yaml:4:16: hosts.b.address: bad IP address \"not-an-ip\"");
}

TEST(HostsInvalid, LinkLocalNeedsParentAndTunnelEndsNeedAddresses) {
  expectInvalid("name: x\nhosts:\n  a: {address: \"fe80::1\"}\n  b: {address: \"fe80::2\", parent: "
                "eth0}\nnodes:\n  n: {}\n  m: {host: b}\nlinks:\n  - endpoints: [n:e1, m:e1]\n",
                "lab.yaml:3:16: hosts.a.address: link-local underlay address fe80::1 needs "
                "\"parent\" (the interface it is on)");
  expectInvalid("name: x\nhosts:\n  a: {address: 10.0.0.1}\n  b: {}\nnodes:\n  n: {}\n  m: {host: "
                "b}\nlinks:\n  - endpoints: [n:e1, m:e1]\n",
                "lab.yaml:4:3: hosts.b: host \"b\" needs an underlay address: VXLAN tunnels join its "
                "nodes to other hosts");
  // A host without nodes joined to others needs none.
  EXPECT_TRUE(loadString("name: x\nhosts:\n  a: {address: 10.0.0.1}\n  b: {}\nnodes:\n  n: {}\n",
                         "lab.yaml"));
}

TEST(HostsInvalid, VniCollisions) {
  const std::string base =
      "name: x\nhosts:\n  a: {address: 10.0.0.1}\n  b: {address: 10.0.0.2}\nnetworks:\n"
      "  lan: {subnet: 10.5.0.0/24, vni: 100}\nnodes:\n  n: {networks: [lan]}\n"
      "  m: {host: b, networks: [lan]}\nlinks:\n";
  expectInvalid(base + "  - endpoints: [n:e1, m:e1]\n    vni: 100\n",
                "lab.yaml:12:10: links[0].vni: duplicate VNI 100 (also at networks.lan)");
  expectInvalid(base + "  - endpoints: [n:e1, m:e1]\n    vni: 5\n  - endpoints: [n:e2, m:e2]\n    "
                       "vni: 5\n",
                "lab.yaml:14:10: links[1].vni: duplicate VNI 5 (also at links[0])");
  expectInvalid(base + "  - type: vxlan\n    endpoint: {node: n, interface: vx}\n    remote: "
                       "192.0.2.9\n    vni: 100\n",
                "lab.yaml:6:35: networks.lan.vni: duplicate VNI 100 (also at links[0])");
}

TEST(HostsInvalid, SubnetTooSmallToSplit) {
  expectInvalid("name: x\nhosts:\n  a: {address: 10.0.0.1}\n  b: {address: 10.0.0.2}\n  c: "
                "{address: 10.0.0.3}\nnetworks:\n  lan: {subnet: 10.5.0.0/29}\nnodes:\n  n: "
                "{networks: [lan]}\n  m: {host: b, networks: [lan]}\n",
                "lab.yaml:7:17: networks.lan.subnet: subnet 10.5.0.0/29 is too small to split "
                "among 3 hosts");
}

TEST(HostsInvalid, HostSliceFull) {
  std::string text =
      "name: x\nhosts:\n  a: {address: 10.0.0.1}\n  b: {address: 10.0.0.2}\nnetworks:\n"
      "  lan: {subnet: 10.5.0.0/28}\nnodes:\n  m: {host: b, networks: [lan]}\n";
  for (int i = 0; i < 7; ++i) text += fmt::format("  n{}: {{networks: [lan]}}\n", i);
  Lab lab = load(text);
  auto r = hosts::localPart(lab, "a");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().what(), "lab.yaml:15:19: nodes.n6.networks[0]: host \"a\"'s slice "
                              "10.5.0.0/29 of network \"lan\" has no free address left");
  EXPECT_EQ(r.error().exitCode(), 2);
  EXPECT_TRUE(hosts::localPart(lab, "b"));
}

}  // namespace
}  // namespace netctl::topology
