// The element layout of published ports (what the DNAT rules look up), without a kernel.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include "net/nft/render.h"

namespace netctl::nft {
namespace {

ContainerPorts container(std::vector<std::string> specs, bool v6 = false) {
  ContainerPorts c;
  c.id = "c1";
  c.network = "n";
  c.addr4 = parseAddr("10.0.0.2").value();
  if (v6) c.addr6 = parseAddr("fd00::2").value();
  c.ports = parsePortMappings(specs).value();
  return c;
}

using Bytes = std::vector<uint8_t>;

TEST(PortElements, AnyAddressGoesToTheProtoPortMap) {
  auto e = portElements(container({"8080:80"})).value();
  ASSERT_EQ(e.any4.size(), 1u);
  EXPECT_TRUE(e.host4.empty());
  EXPECT_TRUE(e.any6.empty());  // the container has no IPv6 address
  // tcp . 8080, each field padded to 4 bytes, port in network order.
  EXPECT_EQ(e.any4[0].key, (Bytes{6, 0, 0, 0, 0x1f, 0x90, 0, 0}));
  EXPECT_TRUE(e.any4[0].keyEnd.empty());
  // 10.0.0.2 . 80
  EXPECT_EQ(e.any4[0].data, (Bytes{10, 0, 0, 2, 0, 80, 0, 0}));
  ASSERT_EQ(e.pub4.size(), 1u);
  EXPECT_EQ(e.pub4[0].key, (Bytes{10, 0, 0, 2, 6, 0, 0, 0, 0, 80, 0, 0}));
}

TEST(PortElements, SpecificAddressAndFamilies) {
  auto e = portElements(container({"127.0.0.1:53:5353/udp", "[fd00::1]:443:8443", "0.0.0.0:1:2"}, true)).value();
  ASSERT_EQ(e.host4.size(), 1u);
  EXPECT_EQ(e.host4[0].key, (Bytes{127, 0, 0, 1, 17, 0, 0, 0, 0, 53, 0, 0}));
  EXPECT_EQ(e.host4[0].data, (Bytes{10, 0, 0, 2, 0x14, 0xe9, 0, 0}));
  ASSERT_EQ(e.host6.size(), 1u);
  EXPECT_EQ(e.host6[0].key.size(), 24u);
  EXPECT_EQ(e.host6[0].data.size(), 20u);
  EXPECT_EQ(e.any4.size(), 1u);  // 0.0.0.0 is every IPv4 address, not IPv6
  EXPECT_TRUE(e.any6.empty());
  EXPECT_EQ(e.pub4.size(), 2u);
  EXPECT_EQ(e.pub6.size(), 1u);
}

TEST(PortElements, RangesAreOneElementPerPortAndUnsetAddressCoversBothFamilies) {
  auto e = portElements(container({"9000-9002:80-82/tcp"}, true)).value();
  EXPECT_EQ(e.any4.size(), 3u);
  EXPECT_EQ(e.any6.size(), 3u);
  EXPECT_EQ(e.any4[2].key, (Bytes{6, 0, 0, 0, 0x23, 0x2a, 0, 0}));  // 9002
  EXPECT_EQ(e.any4[2].data, (Bytes{10, 0, 0, 2, 0, 82, 0, 0}));
}

TEST(PortElements, Ipv6HostAddressNeedsAnIpv6Container) {
  auto e = portElements(container({"[fd00::1]:443:443"}));
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().kind(), Error::Kind::kInvalidInput);
  EXPECT_NE(e.error().what().find("no IPv6 address"), std::string::npos);
}

TEST(NatRuleText, ReadsLikeTheRule) {
  NatRule r;
  r.action = NatRule::Action::kDnat;
  r.iif = "wan";
  r.proto = Proto::kTcp;
  r.dport = 2222;
  r.to = parseAddr("192.168.1.2").value();
  r.toPort = 22;
  EXPECT_EQ(r.str(), "iif wan tcp dport 2222 dnat to 192.168.1.2:22");
  NatRule m;
  m.oif = "eth0";
  m.src = parsePrefix("10.0.0.0/8").value();
  EXPECT_EQ(m.str(), "oif eth0 src 10.0.0.0/8 masquerade");
}

}  // namespace
}  // namespace netctl::nft
