// A network whose bridge does not exist yet (another lab declared it and is still creating it)
// must not fail the apply; its bridge sysctls follow once the bridge exists.
#include <gtest/gtest.h>

#include "netctl/net/link.h"
#include "netctl/net/netlink.h"
#include "netctl/net/netns.h"
#include "netctl/net/nft/nat.h"
#include "netctl/net/sysctl.h"

namespace netctl {
namespace {

TEST(NatMissingBridge, ApplySkipsItAndSetsItsSysctlsOnceItExists) {
  auto ns = netns::createAnonymous().value();
  auto engine = nft::Engine::open(ns);
  ASSERT_TRUE(engine) << engine.error().what();
  nft::Network later;
  later.name = "later";
  later.bridge = "br-later";
  later.subnet4 = nft::parsePrefix("10.77.0.0/24").value();
  ASSERT_TRUE(engine->ensureNetwork(later)) << "a bridge that is not there yet must not fail apply";
  EXPECT_EQ(sysctl::get(ns, "net.ipv4.ip_forward").value(), "1");

  auto s = nl::Socket::openIn(ns).value();
  link::BridgeSpec br;
  br.link.name = "br-later";
  ASSERT_TRUE(link::create(s, br));
  ASSERT_TRUE(engine->apply());
  EXPECT_EQ(sysctl::get(ns, "net.ipv4.conf.br-later.route_localnet").value(), "1");
  EXPECT_EQ(sysctl::get(ns, "net.ipv4.conf.br-later.rp_filter").value(), "2");
  ASSERT_TRUE(engine->removeAll());
  EXPECT_EQ(sysctl::get(ns, "net.ipv4.ip_forward").value(), "0");
}

}  // namespace
}  // namespace netctl
