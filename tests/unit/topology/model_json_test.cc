// The resolved lab survives a JSON round trip (what `up` stores for `down` and `inspect`).
#include <gtest/gtest.h>

#include <filesystem>

#include "netctl/topology/graph.h"
#include "netctl/topology/json.h"
#include "netctl/topology/load.h"

namespace netctl::topology {
namespace {

TEST(Json, EveryExampleRoundTrips) {
  const std::string dir = std::string(NETCTL_SOURCE_DIR) + "/configs/examples/";
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    auto ext = e.path().extension();
    if (ext != ".yaml" && ext != ".yml") continue;
    LoadOptions opts;
    opts.getenv = [](const std::string&) { return std::nullopt; };
    auto r = loadFile(e.path(), opts);
    ASSERT_TRUE(r) << r.error().what();
    nlohmann::json j = toJson(r->lab);
    auto back = fromJson(nlohmann::json::parse(j.dump()));
    ASSERT_TRUE(back) << back.error().what();
    EXPECT_EQ(toJson(*back), j) << e.path();
    // What the graph shows does not depend on locations, so it is identical too.
    EXPECT_EQ(graph::dot(*back), graph::dot(r->lab));
    EXPECT_TRUE(validate(*back)) << e.path();
  }
}

TEST(Json, KeepsEveryKindOfValue) {
  auto r = loadString(R"(name: all
networks:
  lan: {subnet: 10.0.0.0/24, ipv6: "fd00::/64", nat: false, icc: false, mtu: 9000, mcast_snooping: true}
  up: {driver: macvlan, parent: eth0, mode: vepa}
nodes:
  a:
    resources: {memory: 64M, pids: 100, cpus: 1.5}
    ports: ["127.0.0.1:8080-8081:80-81/udp"]
    networks: {lan: {ip: 10.0.0.9, mac: "02:00:00:00:00:09"}, up: {}}
    nat: [{action: dnat, in: eth0, port: 80, to: 10.0.0.20, to-port: 8080}]
    env: {A: b}
  b: {}
links:
  - endpoints: ["a:e1", "b:e1"]
    impair: {delay: 5ms, jitter: 1ms, loss: 2, rate: 10mbit, limit: 50}
  - {type: vxlan, endpoint: {node: b, interface: vx}, remote: "2001:db8::1", vni: 7, src-port: 1000}
  - endpoints: ["host:hx", "b:e2"]
    ipv4: [192.168.7.1/24, 192.168.7.2/24]
hosts: {peer: {address: 192.0.2.1}}
)",
                      "all.yaml");
  ASSERT_TRUE(r) << r.error().what();
  auto j = toJson(r->lab);
  auto back = fromJson(j);
  ASSERT_TRUE(back) << back.error().what();
  EXPECT_EQ(toJson(*back), j);
  const Node* a = back->node("a");
  EXPECT_EQ(a->ports[0].hostIp->str(), "127.0.0.1");
  EXPECT_EQ(a->ports[0].proto, Proto::kUdp);
  EXPECT_EQ(a->nat[0].proto, Proto::kTcp);
  EXPECT_EQ(a->networks[0].mac->str(), "02:00:00:00:00:09");
  EXPECT_EQ(back->links[0].impair->limitPackets, 50u);
  EXPECT_EQ(back->links[1].remote->str(), "2001:db8::1");
  EXPECT_EQ(back->links[2].hostIpv4->str(), "192.168.7.1/24");
  EXPECT_EQ(back->network("up")->mode, MacvlanMode::kVepa);
  EXPECT_TRUE(back->network("lan")->mcastSnooping);
  EXPECT_FALSE(back->network("up")->mcastSnooping);
  // A lab recorded before the key existed reads as the default.
  j["networks"][0].erase("mcast_snooping");
  EXPECT_FALSE(fromJson(j)->network("lan")->mcastSnooping);
}

TEST(Json, RejectsForeignDocuments) {
  EXPECT_FALSE(fromJson(nlohmann::json::parse(R"({"name": "x"})")));
  EXPECT_FALSE(fromJson(nlohmann::json::parse("[1,2]")));
  auto j = nlohmann::json::parse(R"({"format": 1, "name": "x"})");
  auto r = fromJson(j);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), Error::Kind::kInvalidInput);
}

}  // namespace
}  // namespace netctl::topology
