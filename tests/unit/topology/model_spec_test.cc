// Value syntaxes (ports, memory, MTU, durations, rates, names) and the address arithmetic.
#include <gtest/gtest.h>

#include "netctl/topology/addr.h"
#include "netctl/topology/spec.h"

namespace netctl::topology {
namespace {

TEST(Spec, Ports) {
  auto p = spec::parsePort("8080:80/tcp");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->hostPort, 8080);
  EXPECT_EQ(p->hostPortEnd, 8080);
  EXPECT_EQ(p->containerPort, 80);
  p = spec::parsePort("127.0.0.1:5353:53/udp");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->hostIp->str(), "127.0.0.1");
  EXPECT_EQ(p->proto, Proto::kUdp);
  p = spec::parsePort("[::1]:8000-8010:9000-9010/sctp");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->hostIp->family, 6);
  EXPECT_EQ(p->hostPortEnd, 8010);
  EXPECT_EQ(p->containerPortEnd, 9010);
  EXPECT_EQ(p->proto, Proto::kSctp);
  std::string why;
  for (const char* bad : {"80", "0:80", "70000:80", "80:80/icmp", "a:b", "1.2.3:80:80",
                          "10-5:80", "8000-8010:9000-9001", "1:2:3:4", ":80", "80:"})
    EXPECT_FALSE(spec::parsePort(bad, &why)) << bad;
}

TEST(Spec, Memory) {
  EXPECT_EQ(*spec::parseMemory("128M"), 128u << 20);
  EXPECT_EQ(*spec::parseMemory("1g"), 1u << 30);
  EXPECT_EQ(*spec::parseMemory("512MiB"), 512u << 20);
  EXPECT_EQ(*spec::parseMemory("1.5G"), 3u << 29);
  EXPECT_EQ(*spec::parseMemory("4096"), 4096u);
  for (const char* bad : {"", "M", "12X", "-1M", "1MM", "0"}) EXPECT_FALSE(spec::parseMemory(bad)) << bad;
}

TEST(Spec, MtuDurationRatePercent) {
  EXPECT_EQ(*spec::parseMtu("9000"), 9000);
  EXPECT_FALSE(spec::parseMtu("67"));
  EXPECT_FALSE(spec::parseMtu("65536"));
  EXPECT_FALSE(spec::parseMtu("1500b"));
  EXPECT_EQ(*spec::parseDuration("10ms"), 10000u);
  EXPECT_EQ(*spec::parseDuration("1.5s"), 1500000u);
  EXPECT_EQ(*spec::parseDuration("250us"), 250u);
  EXPECT_EQ(*spec::parseDuration("20"), 20000u);
  EXPECT_FALSE(spec::parseDuration("10 parsecs"));
  EXPECT_EQ(*spec::parseRate("100mbit"), 100000000u);
  EXPECT_EQ(*spec::parseRate("1000"), 1000000u);  // kbit/s, as containerlab
  EXPECT_EQ(*spec::parseRate("2gbit"), 2000000000u);
  EXPECT_FALSE(spec::parseRate("fast"));
  EXPECT_DOUBLE_EQ(*spec::parsePercent("1.5%"), 1.5);
  EXPECT_FALSE(spec::parsePercent("101"));
}

TEST(Spec, Names) {
  EXPECT_TRUE(spec::validIfName("eth0"));
  EXPECT_TRUE(spec::validIfName("a23456789012345"));
  EXPECT_FALSE(spec::validIfName("a234567890123456"));
  EXPECT_FALSE(spec::validIfName("e/1"));
  EXPECT_FALSE(spec::validIfName(".."));
  EXPECT_FALSE(spec::validIfName("a b"));
  EXPECT_TRUE(spec::validName("r1"));
  EXPECT_TRUE(spec::validName("leaf-1.a_b"));
  EXPECT_FALSE(spec::validName("-r1"));
  EXPECT_FALSE(spec::validName("r 1"));
  EXPECT_TRUE(spec::validSysctl("net.ipv4.ip_forward"));
  EXPECT_FALSE(spec::validSysctl("ip_forward"));
  EXPECT_FALSE(spec::validSysctl("net..x"));
}

TEST(Spec, SplitWords) {
  EXPECT_EQ(*spec::splitWords("sh -c 'echo a  b' \"x y\" z\\ w"),
            (std::vector<std::string>{"sh", "-c", "echo a  b", "x y", "z w"}));
  EXPECT_EQ(*spec::splitWords("''"), (std::vector<std::string>{""}));
  EXPECT_FALSE(spec::splitWords("'open"));
}

TEST(Addr, ParsePrintContainOverlap) {
  auto p = IpPrefix::parse("10.1.2.3/24");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->str(), "10.1.2.3/24");
  EXPECT_EQ(p->network().str(), "10.1.2.0/24");
  EXPECT_EQ(p->last().str(), "10.1.2.255");
  EXPECT_EQ(p->nth(1)->str(), "10.1.2.1");
  EXPECT_FALSE(p->nth(256));
  EXPECT_TRUE(p->contains(*IpAddress::parse("10.1.2.200")));
  EXPECT_FALSE(p->contains(*IpAddress::parse("10.1.3.1")));
  EXPECT_FALSE(IpPrefix::parse("10.1.2.3/24", false));
  EXPECT_TRUE(IpPrefix::parse("10.0.0.0/8")->overlaps(*IpPrefix::parse("10.9.0.0/16")));
  EXPECT_FALSE(IpPrefix::parse("10.0.0.0/16")->overlaps(*IpPrefix::parse("10.1.0.0/16")));
  EXPECT_FALSE(IpPrefix::parse("10.0.0.0/33"));
  EXPECT_FALSE(IpPrefix::parse("10.0.0/8"));
  EXPECT_FALSE(IpPrefix::parse("10.0.0.0"));
  auto v6 = IpPrefix::parse("fd00:30:1::/64");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->nth(1)->str(), "fd00:30:1::1");
  EXPECT_EQ(v6->nth(0x1234)->str(), "fd00:30:1::1234");
  EXPECT_FALSE(v6->overlaps(*IpPrefix::parse("10.0.0.0/8")));
  EXPECT_EQ(Mac::parse("02:AA:bb:0c:00:ff")->str(), "02:aa:bb:0c:00:ff");
  EXPECT_FALSE(Mac::parse("02:aa:bb:0c:00"));
  EXPECT_FALSE(Mac::parse("02-aa-bb-0c-00-ff"));
}

}  // namespace
}  // namespace netctl::topology
