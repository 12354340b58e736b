// Every example lab in configs/examples parses, validates, and decodes to the model it shows.
#include <gtest/gtest.h>

#include <filesystem>

#include "netctl/topology/load.h"
#include "netctl/topology/names.h"

namespace netctl::topology {
namespace {

const std::string kExamples = std::string(NETCTL_SOURCE_DIR) + "/configs/examples/";

Loaded load(const std::string& name) {
  LoadOptions opts;
  opts.getenv = [](const std::string&) { return std::nullopt; };
  auto r = loadFile(kExamples + name, opts);
  EXPECT_TRUE(r) << (r ? "" : r.error().what());
  return r ? std::move(*r) : Loaded{};
}

const Attachment* att(const Node& n, std::string_view net) {
  for (const auto& a : n.networks)
    if (a.network == net) return &a;
  return nullptr;
}

TEST(Examples, EveryFileParsesWithoutWarnings) {
  int count = 0;
  for (const auto& e : std::filesystem::directory_iterator(kExamples)) {
    auto ext = e.path().extension();
    if (ext != ".yaml" && ext != ".yml") continue;
    ++count;
    LoadOptions opts;
    opts.getenv = [](const std::string& v) -> std::optional<std::string> {
      if (v == "LAB_MTU") return "1400";
      return std::nullopt;
    };
    auto r = loadFile(e.path(), opts);
    ASSERT_TRUE(r) << e.path() << ": " << r.error().what();
    EXPECT_TRUE(r->warnings.empty()) << e.path() << ": " << r->warnings.front().str();
    EXPECT_TRUE(check(r->lab).empty());
    for (const auto& node : r->lab.nodes)
      for (const auto& a : node.networks) EXPECT_TRUE(a.ip) << node.name << " " << a.network;
  }
  EXPECT_GE(count, 6);
}

TEST(Examples, Quickstart) {
  auto l = load("quickstart.yaml");
  const Lab& lab = l.lab;
  EXPECT_EQ(lab.name, "quickstart");
  EXPECT_EQ(lab.dialect, Dialect::kNative);
  ASSERT_EQ(lab.networks.size(), 1u);
  const Network& lan = lab.networks[0];
  EXPECT_EQ(lan.driver, NetworkDriver::kBridge);
  EXPECT_EQ(lan.subnet->str(), "172.31.10.0/24");
  EXPECT_EQ(lan.gateway->str(), "172.31.10.1");
  EXPECT_TRUE(lan.nat);
  EXPECT_TRUE(lan.icc);
  EXPECT_FALSE(lan.internal);
  EXPECT_EQ(lan.mtu, 1500);
  ASSERT_EQ(lab.nodes.size(), 2u);
  const Node* web = lab.node("web");
  ASSERT_NE(web, nullptr);
  EXPECT_EQ(web->image, "host");
  EXPECT_EQ(web->cmd, (std::vector<std::string>{"/usr/bin/python3", "-m", "http.server", "80"}));
  ASSERT_EQ(web->ports.size(), 1u);
  EXPECT_EQ(web->ports[0].hostPort, 8080);
  EXPECT_EQ(web->ports[0].containerPort, 80);
  EXPECT_EQ(web->ports[0].proto, Proto::kTcp);
  EXPECT_FALSE(web->ports[0].hostIp);
  EXPECT_EQ(att(*web, "lan")->ip->str(), "172.31.10.10");
  EXPECT_EQ(att(*web, "lan")->iface, "eth0");
  const Node* client = lab.node("client");
  EXPECT_EQ(att(*client, "lan")->ip->str(), "172.31.10.2");  // next free after the gateway
  EXPECT_FALSE(att(*client, "lan")->ipExplicit);
  // Locations: the port spec is on line 15 of the file, column 13.
  EXPECT_EQ(web->ports[0].loc.line, 15);
  EXPECT_EQ(web->ports[0].loc.col, 13);
}

TEST(Examples, RoutedTriangle) {
  auto l = load("routed-triangle.yaml");
  const Lab& lab = l.lab;
  EXPECT_EQ(lab.nodes.size(), 6u);
  EXPECT_EQ(lab.links.size(), 6u);
  const Node* r1 = lab.node("r1");
  EXPECT_EQ(r1->group, "routers");
  EXPECT_EQ(r1->cmd, (std::vector<std::string>{"sleep", "infinity"}));
  EXPECT_EQ(r1->sysctls.at("net.ipv4.ip_forward"), "1");
  EXPECT_EQ(r1->exec.size(), 3u);
  const Link& first = lab.links[0];
  EXPECT_EQ(first.type, LinkType::kVeth);
  EXPECT_EQ(*first.mtu, 1500);
  EXPECT_EQ(first.endpoints[0].str(), "r1:eth1");
  EXPECT_EQ(first.endpoints[1].str(), "r2:eth1");
  EXPECT_EQ(first.endpoints[0].ipv4->str(), "10.0.12.1/30");
  EXPECT_EQ(first.endpoints[1].ipv4->str(), "10.0.12.2/30");
  EXPECT_EQ(names::linkId(first), "r1:eth1--r2:eth1");
  // The group's sysctls point at the group's line.
  EXPECT_EQ(r1->locs.of("sysctls.net.ipv4.ip_forward").line, 17);
}

TEST(Examples, NatRouter) {
  auto l = load("nat-router.yaml");
  const Lab& lab = l.lab;
  const Node* router = lab.node("router");
  ASSERT_EQ(router->networks.size(), 2u);
  EXPECT_EQ(router->networks[0].iface, "eth0");
  EXPECT_EQ(router->networks[1].iface, "eth1");
  ASSERT_EQ(router->nat.size(), 1u);
  EXPECT_EQ(router->nat[0].action, NatAction::kMasquerade);
  EXPECT_EQ(router->nat[0].out, "eth0");
  EXPECT_EQ(router->nat[0].source->str(), "192.168.100.0/24");
  const Network* lan = lab.network("lan");
  EXPECT_FALSE(lan->nat);
  EXPECT_TRUE(lan->internal);
  EXPECT_EQ(lan->gateway->str(), "192.168.100.254");
  EXPECT_EQ(lab.node("pc1")->cmd, (std::vector<std::string>{"sleep", "infinity"}));  // defaults
}

TEST(Examples, LeafSpine) {
  auto l = load("leaf-spine.yaml");
  const Lab& lab = l.lab;
  EXPECT_EQ(lab.nodes.size(), 2u + 4u + 8u);
  EXPECT_EQ(lab.links.size(), 8u + 8u);
  EXPECT_EQ(lab.node("leaf1")->sysctls.size(), 2u);
}

TEST(Examples, Star100) {
  auto l = load("star-100.yaml");
  const Lab& lab = l.lab;
  ASSERT_EQ(lab.nodes.size(), 100u);
  std::set<std::string> ips, hostNames;
  for (const auto& n : lab.nodes) {
    ASSERT_EQ(n.networks.size(), 1u);
    ips.insert(n.networks[0].ip->str());
    hostNames.insert(names::hostVeth(lab.name, n.name, n.networks[0].iface));
  }
  EXPECT_EQ(ips.size(), 100u);
  EXPECT_EQ(hostNames.size(), 100u);
  EXPECT_EQ(lab.nodes[0].networks[0].ip->str(), "10.100.0.2");
  EXPECT_EQ(lab.nodes[99].networks[0].ip->str(), "10.100.0.101");
}

TEST(Examples, Containerlab) {
  auto l = load("containerlab.clab.yml");
  const Lab& lab = l.lab;
  EXPECT_EQ(lab.dialect, Dialect::kContainerlab);
  EXPECT_EQ(lab.nodes.size(), 3u);  // br1 is a network
  const Network* br1 = lab.network("br1");
  ASSERT_NE(br1, nullptr);
  EXPECT_TRUE(br1->fromNode);
  EXPECT_FALSE(br1->nat);
  const Network* mgmt = lab.network("mgmt");
  ASSERT_NE(mgmt, nullptr);
  EXPECT_EQ(mgmt->subnet->str(), "172.31.30.0/24");
  EXPECT_EQ(att(*lab.node("srv"), "mgmt")->ip->str(), "172.31.30.10");
  EXPECT_EQ(att(*lab.node("c1"), "mgmt")->ip->str(), "172.31.30.2");
  EXPECT_EQ(lab.node("c1")->env.at("ROLE"), "client");
  EXPECT_EQ(lab.node("srv")->env.at("ROLE"), "generic");
  EXPECT_EQ(*lab.links[0].mtu, 1500);  // ${LAB_MTU:=1500} with LAB_MTU unset
  EXPECT_EQ(*lab.links[1].mtu, 1500);  // ... and := assigned it for the rest of the file
  EXPECT_EQ(lab.links[1].endpoints[1].mac->str(), "02:00:00:30:02:02");
  EXPECT_EQ(lab.links[2].endpoints[1].kind, EndpointKind::kBridge);
  EXPECT_EQ(lab.links[2].endpoints[1].iface, "c1-eth2");
}

}  // namespace
}  // namespace netctl::topology
