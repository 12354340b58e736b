// Error texts of the link engine, from kernel answers (errno + extended ack).
#include <gtest/gtest.h>

#include "netctl/net/link.h"

namespace netctl {
namespace {

TEST(LinkError, UnknownDeviceTypeNamesTheKernelOption) {
  nl::Status st{EOPNOTSUPP, "Unknown device type"};
  for (auto [kind, option] : {std::pair{"dummy", "CONFIG_DUMMY"}, std::pair{"macvlan", "CONFIG_MACVLAN"},
                              std::pair{"vxlan", "CONFIG_VXLAN"}, std::pair{"bridge", "CONFIG_BRIDGE"},
                              std::pair{"veth", "CONFIG_VETH"}, std::pair{"ipvlan", "CONFIG_IPVLAN"}}) {
    Error e = link::errorFor(st, kind, fmt::format("creating {} x0", kind));
    EXPECT_EQ(e.kind(), Error::Kind::kUnsupported);
    EXPECT_EQ(e.what(), fmt::format("creating {} x0: the kernel lacks {} support ({}): Operation not supported (EOPNOTSUPP)", kind,
                                    kind, option));
    EXPECT_EQ(link::configOption(kind), option);
  }
}

TEST(LinkError, OtherEopnotsuppKeepsTheKernelsWords) {
  Error e = link::errorFor({EOPNOTSUPP, "Peer netns reference is invalid"}, "veth", "creating veth a");
  EXPECT_EQ(e.kind(), Error::Kind::kUnsupported);
  EXPECT_EQ(e.what(), "creating veth a: Peer netns reference is invalid: Operation not supported (EOPNOTSUPP)");
}

TEST(LinkError, FullBridgeSaysTheLimit) {
  Error e = link::errorFor({EXFULL, ""}, "veth", "creating veth h1024 (peer eth0 in netns n) on bridge br0");
  EXPECT_EQ(e.errnum(), EXFULL);
  EXPECT_NE(e.what().find("on bridge br0: the bridge is full: a Linux bridge holds at most 1023 ports"), std::string::npos) << e.what();
  Error set = link::errorFor({EXFULL, ""}, "", "attaching link h1 to bridge br0");
  EXPECT_NE(set.what().find("at most 1023 ports"), std::string::npos);
}

TEST(LinkError, PlainErrnoWithAndWithoutExtack) {
  Error e = link::errorFor({EEXIST, ""}, "veth", "creating veth h-r1-eth1 (peer eth1 in netns lab1-r1)");
  EXPECT_EQ(e.kind(), Error::Kind::kConflict);
  EXPECT_EQ(e.what(), "creating veth h-r1-eth1 (peer eth1 in netns lab1-r1): File exists (EEXIST)");
  Error x = nl::toError({EINVAL, "Invalid MTU 10 requested, hw min 68"}, "setting the mtu of link a to 10");
  EXPECT_EQ(x.what(), "setting the mtu of link a to 10: Invalid MTU 10 requested, hw min 68: Invalid argument (EINVAL)");
  EXPECT_EQ(nl::toError({ENODEV, ""}, "x").kind(), Error::Kind::kNotFound);
}

TEST(Mac, ParsesAndFormats) {
  auto m = link::Mac::parse("02:42:AC:11:00:02");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->str(), "02:42:ac:11:00:02");
  for (const char* bad : {"", "02:42:ac:11:00", "02:42:ac:11:00:02:03", "02-42-ac-11-00-02", "0g:42:ac:11:00:02", "02:42:ac:11:00:2"})
    EXPECT_FALSE(link::Mac::parse(bad)) << bad;
}

TEST(LinkRef, DescribesItself) {
  EXPECT_EQ(link::Ref("br0").str(), "br0");
  EXPECT_EQ(link::Ref(7).str(), "ifindex 7");
  EXPECT_TRUE(link::Ref().empty());
  EXPECT_FALSE(link::Ref(3).empty());
}

}  // namespace
}  // namespace netctl
