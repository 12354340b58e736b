// The link engine at lab scale: 1000 veth pairs, each peer created straight into its own netns,
// host ends on one bridge, both ends up and marked. Prints the time; the bound is loose (the
// design target is ~1.5 s on a 2-vCPU VM without sanitizers) so slow CI machines do not flake.
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>

#include "integration/net/net_helpers.h"
#include "netctl/net/link.h"

namespace netctl {
namespace {

using Clock = std::chrono::steady_clock;
double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }
// CPU time of this thread (user + system): the kernel does the link work in our context, so
// this is what the machine spends, whatever else competes for the CPUs.
double cpuMs() {
  rusage r{};
  ::getrusage(RUSAGE_THREAD, &r);
  return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e3 + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e3;
}

TEST(Scale, ThousandVethPairsWithPeersInThousandNetns) {
  constexpr int kPairs = 1000;
  testing::Namespaces spaces;
  auto& host = spaces.add("t-scale");
  auto s = nl::Socket::openIn(host);
  ASSERT_TRUE(s) << s.error().what();
  link::BridgeSpec br;
  br.link = testing::common("br0", 0, std::nullopt, {}, true, "scale");
  int brIdx = link::create(*s, br).value();

  std::vector<netns::Handle> nets;
  auto t0 = Clock::now();
  for (int i = 0; i < kPairs; ++i) {
    auto n = netns::createAnonymous();
    ASSERT_TRUE(n) << n.error().what();
    nets.push_back(std::move(*n));
  }
  auto t1 = Clock::now();

  std::vector<link::Spec> specs;
  for (int i = 0; i < kPairs; ++i) {
    link::VethSpec v;
    v.link = testing::common(fmt::format("h{}", i), 1500, std::nullopt, brIdx, true, "scale");
    v.peer = testing::peer("eth0", &nets[i], 0, std::nullopt, true);
    specs.push_back(std::move(v));
  }
  nl::SocketCache peers;
  double c2 = cpuMs();
  auto t2 = Clock::now();
  auto results = link::createMany(*s, specs, &peers);
  auto t3 = Clock::now();
  double cpu = cpuMs() - c2;
  for (auto& r : results) ASSERT_TRUE(r) << r.error().what();
  std::printf("[ scale    ] %d netns: %.0f ms; %d veth pairs (peer in its netns, master, up, marked): %.0f ms wall, %.0f ms cpu\n",
              kPairs, ms(t1 - t0), kPairs, ms(t3 - t2), cpu);
  EXPECT_LT(ms(t3 - t2), 15000.0);

  // Independent read-back: all ports on the bridge and up; a sample of peers up in their netns.
  auto ports = testing::ipJson("t-scale", "link show master br0");
  ASSERT_TRUE(ports.is_array());
  EXPECT_EQ(ports.size(), static_cast<size_t>(kPairs));
  for (int i : {0, kPairs / 2, kPairs - 1}) {
    auto in = netns::runIn(nets[i], []() -> Result<nlohmann::json> { return testing::ipLink("", "eth0"); });
    ASSERT_TRUE(in);
    EXPECT_TRUE(testing::hasFlag(*in, "UP")) << i;
    EXPECT_EQ((*in)["ifalias"], "netctl:scale");
  }
  auto owned = link::listOwned(*s, "scale");
  ASSERT_TRUE(owned);
  EXPECT_EQ(owned->size(), static_cast<size_t>(kPairs + 1));
  // Teardown is the netns going away: the kernel deletes the peers, and with them the host
  // ends, in batches. Wait for it here, so that its cost is this test's and not the next one's.
  peers.clear();
  auto t4 = Clock::now();
  nets.clear();
  size_t left = kPairs;
  while (left > 0 && Clock::now() - t4 < std::chrono::seconds(60)) {
    auto all = link::list(*s);
    ASSERT_TRUE(all);
    left = 0;
    for (auto& l : *all) left += l.kind == "veth";
    if (left) ::usleep(20000);
  }
  EXPECT_EQ(left, 0u);
  std::printf("[ scale    ] teardown by closing the %d netns: %.0f ms\n", kPairs, ms(Clock::now() - t4));
}

}  // namespace
}  // namespace netctl
