// The containerlab dialect: inheritance, ${VAR} expansion, brief and extended links, warnings.
#include <gtest/gtest.h>

#include "netctl/topology/load.h"

namespace netctl::topology {
namespace {

Result<Loaded> parse(std::string_view yaml, std::map<std::string, std::string> env = {}) {
  LoadOptions opts;
  opts.getenv = [env](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  return loadString(yaml, "lab.clab.yml", opts);
}

bool hasWarning(const Loaded& l, std::string_view text) {
  for (const auto& w : l.warnings)
    if (w.str().find(text) != std::string::npos) return true;
  return false;
}

TEST(Clab, InheritanceNodeGroupKindDefaults) {
  auto r = parse(R"(name: inh
topology:
  defaults:
    kind: linux
    image: alpine
    env: {A: defaults, B: defaults, C: defaults, D: defaults}
    binds: [/d:/d]
    memory: 64M
  kinds:
    linux:
      env: {B: kind, C: kind, D: kind}
      binds: [/k:/k]
      cpu: 0.5
      cmd: sleep 1000
  groups:
    g:
      env: {C: group, D: group}
      memory: 256M
  nodes:
    n1:
      group: g
      env: {D: node}
      binds: [/n:/n]
    n2: {}
)");
  ASSERT_TRUE(r) << r.error().what();
  const Node* n1 = r->lab.node("n1");
  ASSERT_NE(n1, nullptr);
  EXPECT_EQ(n1->env.at("A"), "defaults");
  EXPECT_EQ(n1->env.at("B"), "kind");
  EXPECT_EQ(n1->env.at("C"), "group");
  EXPECT_EQ(n1->env.at("D"), "node");
  EXPECT_EQ(n1->image, "alpine");
  EXPECT_EQ(*n1->resources.memoryBytes, 256u << 20);
  EXPECT_DOUBLE_EQ(*n1->resources.cpus, 0.5);
  EXPECT_EQ(n1->cmd, (std::vector<std::string>{"sleep", "1000"}));
  EXPECT_EQ(n1->binds, (std::vector<std::string>{"/d:/d", "/k:/k", "/n:/n"}));
  const Node* n2 = r->lab.node("n2");
  EXPECT_EQ(*n2->resources.memoryBytes, 64u << 20);
  EXPECT_EQ(n2->env.at("D"), "kind");
  // Inherited values keep the line that set them: the group's memory is on line 18.
  EXPECT_EQ(n1->locs.of("resources.memory").line, 18);
  EXPECT_EQ(n2->locs.of("resources.memory").line, 8);
}

TEST(Clab, EnvExpansion) {
  auto r = parse(R"(name: ${LAB:-envlab}
topology:
  nodes:
    n1:
      image: ${IMG}
      env:
        PLAIN: $HOME
        ESC: "$${NOT}"
        DEF: ${MISSING:-fallback}
        SET: ${SETVAR:-unused}
        ASSIGN: ${NEW:=assigned}
        AGAIN: ${NEW}
        EMPTY: ${EMPTYVAR:-was-empty}
)",
                 {{"IMG", "debian"}, {"SETVAR", "fromenv"}, {"EMPTYVAR", ""}});
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->lab.name, "envlab");
  const Node* n = r->lab.node("n1");
  EXPECT_EQ(n->image, "debian");
  EXPECT_EQ(n->env.at("PLAIN"), "$HOME");
  EXPECT_EQ(n->env.at("ESC"), "${NOT}");
  EXPECT_EQ(n->env.at("DEF"), "fallback");
  EXPECT_EQ(n->env.at("SET"), "fromenv");
  EXPECT_EQ(n->env.at("ASSIGN"), "assigned");
  EXPECT_EQ(n->env.at("AGAIN"), "assigned");
  EXPECT_EQ(n->env.at("EMPTY"), "was-empty");
}

TEST(Clab, UnsetVariableIsAWarning) {
  auto r = parse("name: x\ntopology:\n  nodes:\n    n1: {image: \"${NOPE}\"}\n");
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_TRUE(hasWarning(*r, "lab.clab.yml:4:17: topology.nodes.n1.image: variable NOPE is not set"))
      << r->warnings.size();
}

TEST(Clab, BadExpansionIsAnError) {
  auto r = parse("name: x\ntopology:\n  nodes:\n    n1: {image: \"${A+b}\"}\n");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), Error::Kind::kInvalidInput);
  EXPECT_NE(r.error().what().find("lab.clab.yml:4:17: topology.nodes.n1.image: unsupported expansion"),
            std::string::npos)
      << r.error().what();
}

TEST(Clab, BriefLinksWithHostMacvlanAndBridge) {
  auto r = parse(R"(name: brief
topology:
  nodes:
    a: {kind: linux}
    b: {kind: linux}
    sw: {kind: bridge}
    h: {kind: host}
  links:
    - endpoints: ["a:eth1", "b:eth1"]
      mtu: 1400
      ipv4: [10.0.0.1/30, 10.0.0.2/30]
      ipv6: ["", "fd00::2/64"]
    - endpoints: ["host:a-up", "a:eth2"]
    - endpoints: ["a:eth3", "macvlan:eth0"]
    - endpoints: ["b:eth2", "sw:b-eth2"]
    - endpoints: ["b:eth3", "h:b-host"]
)");
  ASSERT_TRUE(r) << r.error().what();
  const auto& links = r->lab.links;
  ASSERT_EQ(links.size(), 5u);
  EXPECT_EQ(links[0].type, LinkType::kVeth);
  EXPECT_EQ(*links[0].mtu, 1400);
  EXPECT_EQ(links[0].endpoints[0].ipv4->str(), "10.0.0.1/30");
  EXPECT_FALSE(links[0].endpoints[0].ipv6);
  EXPECT_EQ(links[0].endpoints[1].ipv6->str(), "fd00::2/64");
  EXPECT_EQ(links[1].type, LinkType::kHost);
  EXPECT_EQ(links[1].hostInterface, "a-up");
  ASSERT_EQ(links[1].endpoints.size(), 1u);
  EXPECT_EQ(links[1].endpoints[0].str(), "a:eth2");
  EXPECT_EQ(*links[1].mtu, 9500);  // containerlab's default link MTU
  EXPECT_EQ(links[2].type, LinkType::kMacvlan);
  EXPECT_EQ(links[2].hostInterface, "eth0");
  EXPECT_FALSE(links[2].mtu);      // a macvlan takes its parent's MTU
  EXPECT_EQ(links[3].type, LinkType::kVeth);
  EXPECT_EQ(links[3].endpoints[1].kind, EndpointKind::kBridge);
  EXPECT_EQ(links[4].type, LinkType::kHost);  // a `kind: host` node is the host
  EXPECT_EQ(links[4].hostInterface, "b-host");
  EXPECT_EQ(r->lab.nodes.size(), 2u);
  auto reqs = hostRequirements(r->lab);
  bool parent = false;
  for (const auto& q : reqs)
    if (q.what == HostRequirement::What::kInterfaceExists && q.name == "eth0") parent = true;
  EXPECT_TRUE(parent);
}

TEST(Clab, ExtendedLinks) {
  auto r = parse(R"(name: ext
topology:
  nodes:
    a: {}
    b: {}
  links:
    - type: veth
      mtu: 1500
      endpoints:
        - {node: a, interface: e1, mac: "02:aa:00:00:00:01", ipv4: 10.1.0.1/24, ipv6: "fd01::1/64"}
        - {node: b, interface: e1, ipv4: 10.1.0.2/24}
    - type: host
      endpoint: {node: a, interface: e2}
      host-interface: ext-a
    - type: macvlan
      endpoint: {node: b, interface: e2}
      host-interface: eth0
      mode: private
    - type: vxlan
      endpoint: {node: a, interface: vx0}
      remote: 192.0.2.10
      vni: 100
      dst-port: 4790
      src-port: 5000
      parent-interface: eth0
    - type: vxlan
      endpoint: {node: b, interface: vx0}
      remote: 192.0.2.11
    - type: dummy
      endpoint: {node: b, interface: d0}
)");
  ASSERT_TRUE(r) << r.error().what();
  const auto& L = r->lab.links;
  ASSERT_EQ(L.size(), 6u);
  EXPECT_EQ(L[0].endpoints[0].mac->str(), "02:aa:00:00:00:01");
  EXPECT_EQ(L[0].endpoints[0].ipv6->str(), "fd01::1/64");
  EXPECT_EQ(L[1].type, LinkType::kHost);
  EXPECT_EQ(L[1].hostInterface, "ext-a");
  EXPECT_EQ(L[2].mode, MacvlanMode::kPrivate);
  EXPECT_EQ(L[3].type, LinkType::kVxlan);
  EXPECT_EQ(*L[3].vni, 100u);
  EXPECT_EQ(L[3].dstPort, 4790);
  EXPECT_EQ(*L[3].srcPort, 5000);
  EXPECT_EQ(L[3].remote->str(), "192.0.2.10");
  EXPECT_EQ(L[3].parentInterface, "eth0");
  EXPECT_FALSE(L[4].vni);
  EXPECT_EQ(L[4].dstPort, 4789);
  EXPECT_EQ(L[5].type, LinkType::kDummy);
}

TEST(Clab, IgnoredKeysAreWarningsWithLocations) {
  auto r = parse(R"(name: warn
prefix: ""
mgmt:
  network: custom
topology:
  nodes:
    n1:
      kind: linux
      image: alpine
      startup-config: cfg.txt
      privileged: true
      network-mode: host
    n2:
      network-mode: none
  links:
    - endpoints: ["n1:eth1", "n2:eth1"]
      vars: {x: 1}
)");
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_TRUE(hasWarning(*r, "lab.clab.yml:2:1: prefix: ignored"));
  EXPECT_TRUE(hasWarning(*r, "lab.clab.yml:4:3: mgmt.network: ignored"));
  EXPECT_TRUE(hasWarning(*r, "lab.clab.yml:10:7: topology.nodes.n1.startup-config: ignored"));
  EXPECT_TRUE(hasWarning(*r, "lab.clab.yml:11:7: topology.nodes.n1.privileged: ignored"));
  EXPECT_TRUE(hasWarning(*r, "lab.clab.yml:12:21: topology.nodes.n1.network-mode: network-mode \"host\" is ignored"));
  EXPECT_TRUE(hasWarning(*r, "lab.clab.yml:17:7: topology.links[0].vars: ignored"));
  EXPECT_TRUE(r->lab.node("n2")->networks.empty());  // network-mode none: no mgmt eth0
  EXPECT_EQ(r->lab.node("n1")->networks.size(), 1u);
}

TEST(Clab, UnknownKeyAndKindAreErrors) {
  auto r = parse("name: x\ntopology:\n  nodes:\n    n1: {bogus: 1}\n");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().what(), "lab.clab.yml:4:10: topology.nodes.n1: unknown key \"bogus\"");
  r = parse("name: x\ntopology:\n  nodes:\n    n1: {kind: nokia_srlinux}\n");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().what(),
            "lab.clab.yml:4:16: topology.nodes.n1.kind: kind \"nokia_srlinux\" is not supported "
            "(linux, bridge, host)");
}

}  // namespace
}  // namespace netctl::topology
