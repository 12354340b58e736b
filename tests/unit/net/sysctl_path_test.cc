#include <gtest/gtest.h>

#include "netctl/net/sysctl.h"

namespace netctl {
namespace {

TEST(SysctlPath, PlainKeys) {
  EXPECT_EQ(sysctl::procPath("net.ipv4.ip_forward"), "/proc/sys/net/ipv4/ip_forward");
  EXPECT_EQ(sysctl::procPath("net.ipv6.conf.all.forwarding"), "/proc/sys/net/ipv6/conf/all/forwarding");
}

TEST(SysctlPath, InterfaceNamesKeepTheirDots) {
  EXPECT_EQ(sysctl::procPath("net.ipv4.conf.eth0.100.rp_filter"), "/proc/sys/net/ipv4/conf/eth0.100/rp_filter");
  EXPECT_EQ(sysctl::procPath("net.ipv4.conf.br0.route_localnet"), "/proc/sys/net/ipv4/conf/br0/route_localnet");
}

}  // namespace
}  // namespace netctl
