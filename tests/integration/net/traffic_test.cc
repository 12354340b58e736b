// Traffic across what the link engine builds: a veth between two netns, a bridge with two
// ports, a vxlan over an underlay veth. Pings run from the namespaces (`ip netns exec`).
#include <gtest/gtest.h>

#include "integration/net/net_helpers.h"
#include "netctl/net/addr.h"
#include "netctl/net/link.h"

namespace netctl {
namespace {

using testing::common;
using testing::Namespaces;
using testing::peer;
using testing::ping;

ip::Prefix pfx(const char* s) { return ip::Prefix::parse(s).value(); }

nl::Socket socketIn(const netns::Handle& ns) {
  auto s = nl::Socket::openIn(ns);
  if (!s) {
    ADD_FAILURE() << s.error().what();
    std::abort();
  }
  return std::move(*s);
}

#define ASSERT_OK(expr)                                  \
  do {                                                   \
    auto r_ = (expr);                                    \
    ASSERT_TRUE(r_) << #expr << ": " << r_.error().what(); \
  } while (0)

TEST(Traffic, PingAcrossAVethPair) {
  Namespaces spaces;
  auto& a = spaces.add("t-ping-a");
  auto& b = spaces.add("t-ping-b");
  auto sa = socketIn(a);
  auto sb = socketIn(b);
  link::VethSpec v;
  v.link = common("va", 0, std::nullopt, {}, true);
  v.peer = peer("vb", &b, 0, std::nullopt, true);
  ASSERT_OK(link::create(sa, v));
  ASSERT_OK(addr::add(sa, "va", pfx("10.9.0.1/30")));
  ASSERT_OK(addr::add(sb, "vb", pfx("10.9.0.2/30")));
  ASSERT_OK(addr::add(sa, "va", pfx("fd00:9::1/64")));
  ASSERT_OK(addr::add(sb, "vb", pfx("fd00:9::2/64")));
  EXPECT_TRUE(ping("t-ping-a", "10.9.0.2"));
  EXPECT_TRUE(ping("t-ping-b", "10.9.0.1"));
  EXPECT_TRUE(ping("t-ping-a", "fd00:9::2"));
  EXPECT_FALSE(ping("t-ping-a", "10.9.0.3", 1));  // the check can fail
}

TEST(Traffic, PingAcrossABridge) {
  Namespaces spaces;
  auto& host = spaces.add("t-br-host");
  auto& a = spaces.add("t-br-a");
  auto& b = spaces.add("t-br-b");
  auto sh = socketIn(host);
  link::BridgeSpec br;
  br.link = common("br0", 0, std::nullopt, {}, true, "lab");
  int brIdx = link::create(sh, br).value();
  nl::SocketCache peers;
  std::vector<link::Spec> specs;
  for (auto [name, ns] : {std::pair{"ha", &a}, std::pair{"hb", &b}}) {
    link::VethSpec v;
    v.link = common(name, 0, std::nullopt, brIdx, true, "lab");
    v.peer = peer("eth0", ns, 0, std::nullopt, true);
    specs.push_back(v);
  }
  for (auto& r : link::createMany(sh, specs, &peers)) ASSERT_TRUE(r) << r.error().what();
  nl::Socket* pa = peers.get(a).value();
  nl::Socket* pb = peers.get(b).value();
  ASSERT_OK(addr::add(*pa, "eth0", pfx("10.8.0.1/24")));
  ASSERT_OK(addr::add(*pb, "eth0", pfx("10.8.0.2/24")));
  ASSERT_OK(addr::add(*pa, "eth0", pfx("fd00:8::1/64")));
  ASSERT_OK(addr::add(*pb, "eth0", pfx("fd00:8::2/64")));
  EXPECT_EQ(testing::ipLink("t-br-host", "ha")["master"], "br0");
  EXPECT_EQ(testing::ipLink("t-br-host", "hb")["master"], "br0");
  EXPECT_TRUE(ping("t-br-a", "10.8.0.2"));
  EXPECT_TRUE(ping("t-br-b", "10.8.0.1"));
  EXPECT_TRUE(ping("t-br-a", "fd00:8::2"));

  // Off the bridge, the path is cut.
  ASSERT_OK(link::setMaster(sh, "hb", {}));
  EXPECT_FALSE(ping("t-br-a", "10.8.0.2", 1));
}

TEST(Traffic, PingOverAVxlanBetweenTwoNetns) {
  Namespaces spaces;
  auto& a = spaces.add("t-vx-a");
  auto& b = spaces.add("t-vx-b");
  auto sa = socketIn(a);
  auto sb = socketIn(b);
  link::VethSpec under;
  under.link = common("ua", 0, std::nullopt, {}, true);
  under.peer = peer("ub", &b, 0, std::nullopt, true);
  ASSERT_OK(link::create(sa, under));
  ASSERT_OK(addr::add(sa, "ua", pfx("10.10.0.1/30")));
  ASSERT_OK(addr::add(sb, "ub", pfx("10.10.0.2/30")));

  auto vx = [](const char* local, const char* remote, const char* parent) {
    link::VxlanSpec x;
    x.link = common("vx0", 0, std::nullopt, {}, true, "lab");
    x.vni = 100;
    x.local = ip::Address::parse(local).value();
    x.remote = ip::Address::parse(remote).value();
    x.parent = parent;
    return x;
  };
  ASSERT_OK(link::create(sa, vx("10.10.0.1", "10.10.0.2", "ua")));
  ASSERT_OK(link::create(sb, vx("10.10.0.2", "10.10.0.1", "ub")));
  ASSERT_OK(addr::add(sa, "vx0", pfx("10.20.0.1/24")));
  ASSERT_OK(addr::add(sb, "vx0", pfx("10.20.0.2/24")));
  EXPECT_TRUE(ping("t-vx-a", "10.20.0.2"));
  EXPECT_TRUE(ping("t-vx-b", "10.20.0.1"));
  // The overlay rode on the underlay: the vxlan counted the packets it sent.
  auto stats = testing::ipJson("t-vx-a", "-s link show dev vx0");
  ASSERT_TRUE(stats.is_array());
  EXPECT_GT(stats[0]["stats64"]["tx"]["packets"].get<int>(), 0);
}

}  // namespace
}  // namespace netctl
