#include "netctl/net/nft/spec.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

namespace netctl::nft {
namespace {

PortMapping parse(const std::string& s) {
  auto m = parsePortMapping(s);
  EXPECT_TRUE(m) << s << ": " << (m ? "" : m.error().what());
  return m.value_or(PortMapping{});
}

std::string error(const std::string& s) {
  auto m = parsePortMapping(s);
  EXPECT_FALSE(m) << s << " parsed as " << (m ? m->str() : "");
  if (m) return "";
  EXPECT_EQ(m.error().kind(), Error::Kind::kInvalidInput) << s;
  return m.error().what();
}

TEST(PortSpec, HostPortContainerPortDefaultsToTcpAndAnyAddress) {
  PortMapping m = parse("8080:80");
  EXPECT_FALSE(m.hostAddr);
  EXPECT_EQ(m.hostPort, 8080);
  EXPECT_EQ(m.hostPortEnd, 8080);
  EXPECT_EQ(m.containerPort, 80);
  EXPECT_EQ(m.proto, Proto::kTcp);
  EXPECT_EQ(m.count(), 1);
  EXPECT_EQ(m.str(), "8080:80/tcp");
}

TEST(PortSpec, Protocols) {
  EXPECT_EQ(parse("53:53/udp").proto, Proto::kUdp);
  EXPECT_EQ(parse("53:53/tcp").proto, Proto::kTcp);
  EXPECT_EQ(parse("9:9/sctp").proto, Proto::kSctp);
  EXPECT_NE(error("53:53/icmp").find("not a protocol"), std::string::npos);
  EXPECT_NE(error("53:53/").find("not a protocol"), std::string::npos);
  EXPECT_NE(error("53:53/UDP").find("not a protocol"), std::string::npos);
}

TEST(PortSpec, HostAddresses) {
  PortMapping v4 = parse("127.0.0.1:8080:80");
  ASSERT_TRUE(v4.hostAddr);
  EXPECT_EQ(v4.hostAddr->family, AF_INET);
  EXPECT_EQ(v4.hostAddr->str(), "127.0.0.1");
  EXPECT_EQ(v4.str(), "127.0.0.1:8080:80/tcp");

  PortMapping any4 = parse("0.0.0.0:8080:80/udp");
  ASSERT_TRUE(any4.hostAddr);
  EXPECT_TRUE(any4.hostAddr->isAny());

  PortMapping v6 = parse("[fd00::1]:8080:80/udp");
  ASSERT_TRUE(v6.hostAddr);
  EXPECT_EQ(v6.hostAddr->family, AF_INET6);
  EXPECT_EQ(v6.str(), "[fd00::1]:8080:80/udp");
  EXPECT_NE(error("[::1]:8080:80").find("route_localnet"), std::string::npos);
  PortMapping any6 = parse("[::]:1:2");
  EXPECT_TRUE(any6.hostAddr->isAny());
  EXPECT_EQ(parse("[2001:db8::5]:443:8443").hostAddr->str(), "2001:db8::5");

  EXPECT_NE(error("::1:8080:80").find("expected"), std::string::npos);
  EXPECT_NE(error("[::1:8080:80").find("expected"), std::string::npos);
  EXPECT_NE(error("[::1]8080:80").find("expected"), std::string::npos);
  EXPECT_NE(error("[10.0.0.1]:8080:80").find("not an IPv6"), std::string::npos);
  EXPECT_NE(error("300.1.1.1:8080:80").find("not an IPv4"), std::string::npos);
  EXPECT_NE(error("host:8080:80").find("not an IPv4"), std::string::npos);
}

TEST(PortSpec, Ranges) {
  PortMapping r = parse("8000-8009:9000-9009/udp");
  EXPECT_EQ(r.hostPort, 8000);
  EXPECT_EQ(r.hostPortEnd, 8009);
  EXPECT_EQ(r.containerPort, 9000);
  EXPECT_EQ(r.count(), 10);
  EXPECT_EQ(r.str(), "8000-8009:9000-9009/udp");
  EXPECT_EQ(parse("1-65535:1-65535").count(), 65535);
  EXPECT_EQ(parse("10.1.2.3:7-7:7").count(), 1);  // a one-port range is a port

  EXPECT_NE(error("8000-8009:9000-9001").find("host range has 10 ports"), std::string::npos);
  EXPECT_NE(error("8000-8009:80").find("container range of the same size"), std::string::npos);
  EXPECT_NE(error("8009-8000:80-89").find("ends before it starts"), std::string::npos);
  EXPECT_NE(error("1-10:65530-65539").find("out of range"), std::string::npos);
}

TEST(PortSpec, BadPortsAndShapes) {
  for (const char* s : {"", "8080", ":80", "8080:", "0:80", "8080:0", "65536:80", "80:65536",
                        "-1:80", "80:8a", "1.5:2", "1:2:3:4", "a:b", "8080:80/tcp/udp", " 80:80"}) {
    auto m = parsePortMapping(s);
    EXPECT_FALSE(m) << "'" << s << "' parsed as " << (m ? m->str() : "");
    if (!m) {
      EXPECT_EQ(m.error().kind(), Error::Kind::kInvalidInput) << s;
      EXPECT_NE(m.error().what().find(std::string("'") + s + "'"), std::string::npos)
          << "error quotes the spec: " << m.error().what();
    }
  }
}

TEST(PortSpec, Overlaps) {
  auto o = [](const char* a, const char* b) { return overlaps(parse(a), parse(b)); };
  EXPECT_TRUE(o("8080:80", "8080:81"));
  EXPECT_FALSE(o("8080:80", "8080:80/udp"));
  EXPECT_FALSE(o("8080:80", "8081:80"));
  EXPECT_TRUE(o("8000-8010:80-90", "8010:1"));
  EXPECT_FALSE(o("8000-8010:80-90", "8011:1"));
  // Any address (unset) claims both families; 0.0.0.0 only IPv4; :: only IPv6.
  EXPECT_TRUE(o("8080:80", "127.0.0.1:8080:80"));
  EXPECT_TRUE(o("8080:80", "[fd00::1]:8080:80"));
  EXPECT_TRUE(o("0.0.0.0:8080:80", "10.0.0.1:8080:80"));
  EXPECT_FALSE(o("0.0.0.0:8080:80", "[fd00::1]:8080:80"));
  EXPECT_FALSE(o("[::]:8080:80", "10.0.0.1:8080:80"));
  EXPECT_TRUE(o("[::]:8080:80", "[fd00::1]:8080:80"));
  EXPECT_FALSE(o("10.0.0.1:8080:80", "10.0.0.2:8080:80"));
  EXPECT_TRUE(o("10.0.0.1:8080:80", "10.0.0.1:8080:81"));
}

TEST(PortSpec, ListRejectsItsOwnCollisions) {
  auto ok = parsePortMappings({"80:80", "443:443", "53:53/udp"});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->size(), 3u);
  auto clash = parsePortMappings({"8000-8005:80-85", "127.0.0.1:8003:1"});
  ASSERT_FALSE(clash);
  EXPECT_EQ(clash.error().kind(), Error::Kind::kConflict);
  EXPECT_NE(clash.error().what().find("127.0.0.1:8003:1/tcp"), std::string::npos);
  EXPECT_NE(clash.error().what().find("8000-8005:80-85/tcp"), std::string::npos);
  auto bad = parsePortMappings({"80:80", "x"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind(), Error::Kind::kInvalidInput);
}

TEST(Prefixes, ParseContainAndBounds) {
  auto p = parsePrefix("10.1.0.0/16");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->str(), "10.1.0.0/16");
  EXPECT_TRUE(p->contains(parseAddr("10.1.255.3").value()));
  EXPECT_FALSE(p->contains(parseAddr("10.2.0.1").value()));
  EXPECT_FALSE(p->contains(parseAddr("::1").value()));
  EXPECT_EQ(p->first().str(), "10.1.0.0");
  EXPECT_EQ(p->last().str(), "10.1.255.255");
  auto v6 = parsePrefix("fd00:a::/64");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->last().str(), "fd00:a::ffff:ffff:ffff:ffff");
  EXPECT_EQ(parsePrefix("10.0.0.1").value().len, 32);
  EXPECT_EQ(parsePrefix("0.0.0.0/0").value().last().str(), "255.255.255.255");
  auto host = parsePrefix("10.1.2.3/16");
  ASSERT_FALSE(host);
  EXPECT_NE(host.error().what().find("10.1.0.0/16"), std::string::npos);
  EXPECT_FALSE(parsePrefix("10.0.0.0/33"));
  EXPECT_FALSE(parsePrefix("10.0.0.0/"));
  EXPECT_FALSE(parsePrefix("fd00::/129"));
  EXPECT_FALSE(parseAddr("10.0.0"));
}

}  // namespace
}  // namespace netctl::nft
