// Derived names and identities: fit the kernel's limits, deterministic, distinct across labs.
#include <gtest/gtest.h>

#include <set>

#include "netctl/topology/names.h"

namespace netctl::topology {
namespace {

TEST(Names, NetnsIsLabDashNode) { EXPECT_EQ(names::netns("lab1", "r1"), "lab1-r1"); }

TEST(Names, HostSideNamesFitAndAreStable) {
  std::string longLab(24, 'l'), longNode(32, 'n');
  for (const auto& n : {names::hostVeth(longLab, longNode, "eth123456789012"),
                        names::hostVeth("a", "b", "c"), names::bridge(longLab, "net"),
                        names::scratch("a", "b", "c")}) {
    EXPECT_EQ(n.size(), 15u) << n;
    EXPECT_TRUE(n.starts_with("nc")) << n;
  }
  EXPECT_EQ(names::hostVeth("lab1", "r1", "eth0"), names::hostVeth("lab1", "r1", "eth0"));
  EXPECT_NE(names::hostVeth("lab1", "r1", "eth0"), names::hostVeth("lab1", "r1", "eth1"));
  EXPECT_NE(names::hostVeth("ab", "c", "eth0"), names::hostVeth("a", "bc", "eth0"));
  // Kinds of names never share a prefix: a bridge can't be mistaken for a veth.
  EXPECT_TRUE(names::bridge("l", "n").starts_with("ncb"));
  EXPECT_TRUE(names::hostVeth("l", "n", "i").starts_with("ncv"));
  EXPECT_TRUE(names::scratch("l", "n", "i").starts_with("ncx"));
}

TEST(Names, DistinctAcrossLabsForTheSameNodeAndInterface) {
  std::set<std::string> seen;
  for (int lab = 0; lab < 50; ++lab)
    for (int node = 0; node < 200; ++node)
      for (const char* iface : {"eth0", "eth1"})
        ASSERT_TRUE(seen.insert(names::hostVeth("lab" + std::to_string(lab),
                                                "n" + std::to_string(node), iface))
                        .second);
}

TEST(Names, MacIsStableLocallyAdministeredUnicast) {
  std::set<std::string> seen;
  for (int i = 0; i < 5000; ++i) {
    Mac m = names::mac("lab", "node" + std::to_string(i), "eth0");
    EXPECT_EQ(m.bytes[0] & 0x02, 0x02);  // locally administered
    EXPECT_EQ(m.bytes[0] & 0x01, 0x00);  // unicast
    seen.insert(m.str());
  }
  EXPECT_EQ(seen.size(), 5000u);
  EXPECT_EQ(names::mac("lab", "r1", "eth0"), names::mac("lab", "r1", "eth0"));
  EXPECT_NE(names::mac("lab", "r1", "eth0"), names::mac("lab2", "r1", "eth0"));
}

TEST(Names, VniInRangeAndStable) {
  Link link;
  link.type = LinkType::kVxlan;
  Endpoint ep;
  ep.node = "a";
  ep.iface = "vx0";
  link.endpoints.push_back(ep);
  EXPECT_EQ(names::linkId(link), "a:vx0--vxlan");
  uint32_t v = names::vni("lab", link);
  EXPECT_GE(v, 1u);
  EXPECT_LE(v, 16777215u);
  EXPECT_EQ(v, names::vni("lab", link));
  EXPECT_NE(v, names::vni("other", link));
}

}  // namespace
}  // namespace netctl::topology
