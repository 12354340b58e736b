#include "netctl/net/ip.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

namespace netctl {
namespace {

using ip::Address;
using ip::Prefix;

Address A(const char* s) { return Address::parse(s).value(); }
Prefix P(const char* s) { return Prefix::parse(s).value(); }

TEST(IpAddress, ParsesAndFormatsBothFamilies) {
  EXPECT_EQ(A("10.0.0.1").str(), "10.0.0.1");
  EXPECT_TRUE(A("10.0.0.1").isV4());
  EXPECT_EQ(A("10.0.0.1").family(), AF_INET);
  EXPECT_EQ(A("fd00::1").str(), "fd00::1");
  EXPECT_EQ(A("FD00:0:0::0001").str(), "fd00::1");  // canonical form
  EXPECT_EQ(A("fd00::1").family(), AF_INET6);
  EXPECT_EQ(A("::").str(), "::");
  EXPECT_EQ(A("::ffff:1.2.3.4").str(), "::ffff:1.2.3.4");
  EXPECT_EQ(fmt::format("{}", A("192.168.1.1")), "192.168.1.1");
}

TEST(IpAddress, RejectsWhatIsNotAnAddress) {
  for (const char* bad : {"", "10.0.0", "10.0.0.256", "010.0.0.1", "10.0.0.1 ", " 10.0.0.1", "10.0.0.1/24", "1.2.3.4.5",
                          "fd00:::1", "fd00::1%eth0", "hello", "12345::", "::g"}) {
    auto r = Address::parse(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().kind(), Error::Kind::kInvalidInput);
    }
  }
}

TEST(IpAddress, Classifies) {
  EXPECT_TRUE(A("0.0.0.0").isUnspecified());
  EXPECT_TRUE(A("::").isUnspecified());
  EXPECT_FALSE(A("::1").isUnspecified());
  EXPECT_TRUE(A("239.1.1.1").isMulticast());
  EXPECT_TRUE(A("ff02::1").isMulticast());
  EXPECT_FALSE(A("10.0.0.1").isMulticast());
  EXPECT_TRUE(A("169.254.3.4").isLinkLocal());
  EXPECT_TRUE(A("fe80::1").isLinkLocal());
  EXPECT_FALSE(A("fec0::1").isLinkLocal());
}

TEST(IpAddress, OffsetWalksAndStopsAtTheEnds) {
  EXPECT_EQ(A("10.0.0.255").offset(1).value(), A("10.0.1.0"));
  EXPECT_EQ(A("10.0.1.0").offset(-1).value(), A("10.0.0.255"));
  EXPECT_EQ(A("10.0.0.1").offset(0x10000).value(), A("10.1.0.1"));
  EXPECT_EQ(A("fd00::ffff").offset(1).value(), A("fd00::1:0"));
  EXPECT_EQ(A("fd00::").offset(-1).value(), A("fcff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
  EXPECT_FALSE(A("255.255.255.255").offset(1));
  EXPECT_FALSE(A("0.0.0.0").offset(-1));
  EXPECT_FALSE(A("255.255.255.0").offset(int64_t{1} << 40));
  EXPECT_EQ(A("ffff::").offset(int64_t{1} << 40).value(), A("ffff::100:0:0"));
}

TEST(IpAddress, OrdersV4BeforeV6AndNumerically) {
  EXPECT_LT(A("10.0.0.1"), A("10.0.0.2"));
  EXPECT_LT(A("9.255.255.255"), A("10.0.0.0"));
  EXPECT_LT(A("255.255.255.255"), A("::"));
  EXPECT_EQ(A("10.0.0.1"), A("10.0.0.1"));
}

TEST(IpAddress, FromBytes) {
  uint8_t v4[4] = {192, 0, 2, 1};
  EXPECT_EQ(Address::fromBytes(AF_INET, v4, 4).value().str(), "192.0.2.1");
  EXPECT_FALSE(Address::fromBytes(AF_INET, v4, 3));
  EXPECT_FALSE(Address::fromBytes(AF_INET6, v4, 4));
}

TEST(IpPrefix, ParsesFormatsAndKeepsTheHostPart) {
  Prefix p = P("10.0.0.1/30");
  EXPECT_EQ(p.str(), "10.0.0.1/30");
  EXPECT_EQ(p.length(), 30);
  EXPECT_EQ(p.address().str(), "10.0.0.1");
  EXPECT_EQ(p.network().str(), "10.0.0.0/30");
  EXPECT_FALSE(p.isNetwork());
  EXPECT_TRUE(P("10.0.0.0/30").isNetwork());
  EXPECT_EQ(p.first().str(), "10.0.0.0");
  EXPECT_EQ(p.last().str(), "10.0.0.3");
  EXPECT_EQ(P("fd00::1/64").network().str(), "fd00::/64");
  EXPECT_EQ(P("fd00::1/64").last().str(), "fd00::ffff:ffff:ffff:ffff");
  EXPECT_EQ(P("10.1.2.3").str(), "10.1.2.3/32");
  EXPECT_EQ(P("fd00::5").str(), "fd00::5/128");
  EXPECT_EQ(P("0.0.0.0/0"), Prefix::anyV4());
  EXPECT_EQ(P("::/0"), Prefix::anyV6());
  EXPECT_EQ(P("172.16.5.4/12").network().str(), "172.16.0.0/12");
  EXPECT_EQ(P("172.31.5.4/12").network().str(), "172.16.0.0/12");
  EXPECT_EQ(P("10.255.255.255/9").network().str(), "10.128.0.0/9");
  EXPECT_EQ(fmt::format("{}", P("10.0.0.0/8")), "10.0.0.0/8");
}

TEST(IpPrefix, RejectsBadLengths) {
  for (const char* bad : {"10.0.0.1/33", "10.0.0.1/", "10.0.0.1/-1", "10.0.0.1/+8", "10.0.0.1/08", "10.0.0.1/8/8",
                          "10.0.0.1/ 8", "10.0.0.1/1000", "fd00::/129", "/24", "10.0.0/24", "10.0.0.1/x"}) {
    auto r = Prefix::parse(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().kind(), Error::Kind::kInvalidInput) << bad;
    }
  }
  EXPECT_TRUE(Prefix::parse("10.0.0.1/0"));
  EXPECT_TRUE(Prefix::parse("fd00::/128"));
  EXPECT_FALSE(Prefix::make(A("10.0.0.1"), 33));
}

TEST(IpPrefix, Contains) {
  EXPECT_TRUE(P("10.0.0.0/24").contains(A("10.0.0.0")));
  EXPECT_TRUE(P("10.0.0.0/24").contains(A("10.0.0.255")));
  EXPECT_FALSE(P("10.0.0.0/24").contains(A("10.0.1.0")));
  EXPECT_TRUE(P("10.0.0.1/24").contains(A("10.0.0.200")));  // host part ignored
  EXPECT_TRUE(P("0.0.0.0/0").contains(A("1.2.3.4")));
  EXPECT_FALSE(P("0.0.0.0/0").contains(A("::1")));  // other family
  EXPECT_TRUE(P("::/0").contains(A("::1")));
  EXPECT_TRUE(P("fd00::/8").contains(A("fdff::1")));
  EXPECT_FALSE(P("fd00::/8").contains(A("fe00::1")));
  EXPECT_TRUE(P("10.0.0.1/32").contains(A("10.0.0.1")));
  EXPECT_FALSE(P("10.0.0.1/32").contains(A("10.0.0.2")));
  EXPECT_TRUE(P("10.0.0.0/15").contains(A("10.1.255.255")));
  EXPECT_FALSE(P("10.0.0.0/15").contains(A("10.2.0.0")));

  EXPECT_TRUE(P("10.0.0.0/8").contains(P("10.1.0.0/16")));
  EXPECT_FALSE(P("10.1.0.0/16").contains(P("10.0.0.0/8")));
  EXPECT_TRUE(P("10.0.0.0/8").contains(P("10.0.0.0/8")));
  EXPECT_TRUE(P("10.0.0.0/8").overlaps(P("10.1.0.0/16")));
  EXPECT_TRUE(P("10.1.0.0/16").overlaps(P("10.0.0.0/8")));
  EXPECT_FALSE(P("10.1.0.0/16").overlaps(P("10.2.0.0/16")));
  EXPECT_FALSE(P("10.0.0.0/8").overlaps(P("fd00::/8")));
}

}  // namespace
}  // namespace netctl
