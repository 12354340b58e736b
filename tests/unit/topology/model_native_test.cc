// The native dialect beyond the examples: the issue's sketch verbatim, inheritance, attachments,
// impairments, check() listing every error, host requirements, and graph export.
#include <gtest/gtest.h>

#include "netctl/topology/graph.h"
#include "netctl/topology/load.h"
#include "netctl/topology/names.h"

namespace netctl::topology {
namespace {

// The file of issue 5, as written there.
constexpr std::string_view kSketch = R"(name: lab1
defaults:                     # applied to every node; a group or the node itself overrides
  image: host                 # the default rootfs: the host's own, read-only, with a private layer
  resources: {memory: 128M, pids: 512, cpus: 0.5}
networks:
  lan:                        # a docker0-style bridge owned by the lab
    driver: bridge
    subnet: 172.30.1.0/24     # gateway .1 on the bridge unless `gateway:` says otherwise
    ipv6: fd00:30:1::/64      # optional
    nat: true                 # masquerade out of the host
    icc: true
    internal: false
    mtu: 1500
  uplink:
    driver: macvlan
    parent: eth0
    mode: bridge
    subnet: 192.168.50.0/24
groups:
  routers: {cmd: [sleep, infinity], sysctls: {net.ipv4.ip_forward: 1}}
nodes:
  r1:
    group: routers
    networks: {lan: {ip: 172.30.1.10}}
    ports: ["8080:80/tcp"]
    nat: [{out: eth1, action: masquerade}]
    exec: ["ip route add 10.0.2.0/24 via 10.0.0.2"]
  r2: {group: routers}
  web: {cmd: [python3, -m, http.server, "80"], networks: [lan]}
links:
  - endpoints: ["r1:eth1", "r2:eth1"]      # a veth pair between two nodes
    ipv4: [10.0.0.1/30, 10.0.0.2/30]
    mtu: 9000
  - endpoints: ["r2:eth2", "host:r2-uplink"]
)";

TEST(Native, TheIssueSketchParses) {
  auto r = loadString(kSketch, "lab.yaml");
  ASSERT_TRUE(r) << r.error().what();
  const Lab& lab = r->lab;
  EXPECT_TRUE(r->warnings.empty());
  const Node* r1 = lab.node("r1");
  EXPECT_EQ(*r1->resources.memoryBytes, 128u << 20);
  EXPECT_EQ(*r1->resources.pids, 512u);
  EXPECT_DOUBLE_EQ(*r1->resources.cpus, 0.5);
  EXPECT_EQ(r1->nat[0].out, "eth1");
  const Network* uplink = lab.network("uplink");
  EXPECT_EQ(uplink->driver, NetworkDriver::kMacvlan);
  EXPECT_EQ(uplink->parent, "eth0");
  EXPECT_FALSE(uplink->gateway);  // a macvlan network's gateway is outside the lab
  EXPECT_EQ(lab.network("lan")->gateway6->str(), "fd00:30:1::1");
  const Node* web = lab.node("web");
  EXPECT_EQ(web->networks[0].ip->str(), "172.30.1.2");
  // Automatic addresses go in file order: r1 (explicit v4 only) gets the first free v6.
  EXPECT_EQ(r1->networks[0].ip6->str(), "fd00:30:1::2");
  EXPECT_EQ(web->networks[0].ip6->str(), "fd00:30:1::3");
  EXPECT_EQ(lab.links[0].mtu, 9000);
  EXPECT_EQ(lab.links[1].type, LinkType::kHost);
  EXPECT_EQ(lab.links[1].hostInterface, "r2-uplink");
  auto reqs = hostRequirements(lab);
  bool parent = false, absent = false;
  for (const auto& q : reqs) {
    if (q.what == HostRequirement::What::kInterfaceExists && q.name == "eth0") {
      parent = true;
      EXPECT_EQ(q.path, "networks.uplink.parent");
      EXPECT_EQ(q.loc.line, 16);
      EXPECT_EQ(lab.at(q.loc, q.path, "no such interface").str(),
                "lab.yaml:16:13: networks.uplink.parent: no such interface");
    }
    if (q.what == HostRequirement::What::kInterfaceAbsent && q.name == "r2-uplink") absent = true;
  }
  EXPECT_TRUE(parent);
  EXPECT_TRUE(absent);
}

TEST(Native, InterfaceNamesSkipThoseTheLinksUse) {
  auto r = loadString(R"(name: ifn
networks: {a: {subnet: 10.1.0.0/24}, b: {subnet: 10.2.0.0/24}, c: {subnet: 10.3.0.0/24}}
nodes:
  n1: {networks: [a, b, {c: {iface: mgmt0}}]}
  n2: {}
links:
  - endpoints: ["n1:eth0", "n2:eth0"]
)",
                      "ifn.yaml");
  ASSERT_TRUE(r) << r.error().what();
  const Node* n1 = r->lab.node("n1");
  EXPECT_EQ(n1->networks[0].iface, "eth1");
  EXPECT_EQ(n1->networks[1].iface, "eth2");
  EXPECT_EQ(n1->networks[2].iface, "mgmt0");
}

TEST(Native, ImpairIsParsedAndKept) {
  auto r = loadString(R"(name: imp
nodes: {a: {}, b: {}}
links:
  - endpoints: ["a:eth1", "b:eth1"]
    impair: {delay: 10ms, jitter: 2ms, loss: 1.5%, rate: 100mbit, corrupt: 0.1, limit: 1000}
)",
                      "imp.yaml");
  ASSERT_TRUE(r) << r.error().what();
  const auto& im = *r->lab.links[0].impair;
  EXPECT_EQ(*im.delayUs, 10000u);
  EXPECT_EQ(*im.jitterUs, 2000u);
  EXPECT_DOUBLE_EQ(*im.lossPct, 1.5);
  EXPECT_EQ(*im.rateBitsPerSec, 100000000u);
  EXPECT_DOUBLE_EQ(*im.corruptPct, 0.1);
  EXPECT_EQ(*im.limitPackets, 1000u);
  bool netem = false;
  for (const auto& q : hostRequirements(r->lab))
    if (q.what == HostRequirement::What::kKernelFeature && q.name == "netem") netem = true;
  EXPECT_TRUE(netem);
}

TEST(Native, CheckListsEveryError) {
  LoadOptions opts;
  opts.validate = false;
  auto r = loadString(R"(name: many
networks:
  a: {subnet: 10.0.0.0/16}
  b: {subnet: 10.0.1.0/24}
nodes:
  n1: {networks: {a: {ip: 10.1.0.5}}}
  n2: {networks: {a: {ip: 10.0.0.7}}}
  n3: {networks: {b: {ip: 10.0.1.9}}}
links:
  - endpoints: ["n1:eth1", "zz:eth1"]
)",
                      "many.yaml", opts);
  ASSERT_TRUE(r) << r.error().what();
  auto errors = check(r->lab);
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].str(),
            "many.yaml:4:15: networks.b.subnet: subnet 10.0.1.0/24 overlaps 10.0.0.0/16 of network \"a\"");
  EXPECT_EQ(errors[1].str(),
            "many.yaml:6:27: nodes.n1.networks.a.ip: address 10.1.0.5 is outside subnet 10.0.0.0/16");
  EXPECT_EQ(errors[2].str(), "many.yaml:10:28: links[0].endpoints[1]: unknown node \"zz\"");
  auto v = validate(r->lab);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().what(), errors[0].str());
  EXPECT_EQ(v.error().exitCode(), 2);
}

TEST(Native, CheckAgainstRunningLabs) {
  auto running = loadString(R"(name: one
networks: {lan: {subnet: 10.50.0.0/24}}
nodes:
  a: {ports: ["8080:80", "127.0.0.1:9000-9010:9000-9010/udp"]}
  b: {}
links:
  - endpoints: ["b:eth1", "host:shared0"]
)",
                            "one.yaml");
  ASSERT_TRUE(running) << running.error().what();
  auto mine = loadString(R"(name: two
networks: {lan: {subnet: 10.50.0.128/25}, other: {subnet: 10.60.0.0/24}}
nodes:
  x: {ports: ["8080:8080", "10.0.0.1:9005:53/udp", "8081:80"]}
links:
  - endpoints: ["x:eth1", "host:shared0"]
)",
                         "two.yaml");
  ASSERT_TRUE(mine) << mine.error().what();
  auto d = checkAgainst(mine->lab, {&running->lab, &mine->lab});
  // 9005/udp does not clash: the two mappings bind different host addresses.
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].str(), "two.yaml:2:26: networks.lan.subnet: subnet 10.50.0.128/25 overlaps "
                        "10.50.0.0/24 of network \"lan\" of running lab \"one\"");
  EXPECT_EQ(d[1].str(), "two.yaml:6:27: links[0].endpoints[1]: host interface \"shared0\" is "
                        "used by running lab \"one\"");
  EXPECT_EQ(d[2].str(), "two.yaml:4:15: nodes.x.ports: host port 8080/tcp is published by node "
                        "\"a\" of running lab \"one\"");
}

TEST(Native, HandBuiltLabValidates) {
  Lab lab;
  lab.name = "hand";
  lab.file = "<memory>";
  Node n;
  n.name = "a";
  lab.nodes.push_back(n);
  lab.reindex();
  EXPECT_TRUE(validate(lab));
  EXPECT_NE(lab.node("a"), nullptr);
}

TEST(Graph, DotAndMermaid) {
  auto r = loadString(kSketch, "lab.yaml");
  ASSERT_TRUE(r);
  std::string d = graph::dot(r->lab);
  EXPECT_TRUE(d.starts_with("graph \"lab1\" {"));
  EXPECT_NE(d.find("\"r1\" -- \"r2\" [taillabel=\"eth1 10.0.0.1/30\", headlabel=\"eth1 10.0.0.2/30\"]"),
            std::string::npos)
      << d;
  EXPECT_NE(d.find("\"web\" -- \"net:lan\""), std::string::npos) << d;
  EXPECT_NE(d.find("\"r2\" -- \"host\""), std::string::npos) << d;
  std::string m = graph::mermaid(r->lab);
  EXPECT_TRUE(m.starts_with("graph LR\n"));
  EXPECT_NE(m.find("[\"r1\"]"), std::string::npos) << m;
  EXPECT_NE(m.find("---|\"eth1 10.0.0.1/30 -- eth1 10.0.0.2/30\"|"), std::string::npos) << m;
  // Deterministic: the same lab gives the same text.
  EXPECT_EQ(graph::dot(r->lab), d);
  EXPECT_EQ(graph::mermaid(r->lab), m);
}

}  // namespace
}  // namespace netctl::topology
