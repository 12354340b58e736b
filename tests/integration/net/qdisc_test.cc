// Impairments on real links: a veth pair between two namespaces, the qdiscs read back
// independently with `tc -j`, and the rate measured with a TCP transfer between the two.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <optional>
#include <thread>
#include <vector>

#include "integration/net/net_helpers.h"
#include "support/goodput.h"
#include "netctl/base/unique_fd.h"
#include "netctl/net/addr.h"
#include "netctl/net/qdisc.h"

namespace netctl {
namespace {

using namespace std::chrono_literals;
using testing::common;
using testing::Namespaces;
using testing::peer;

#define ASSERT_OK(expr)                                    \
  do {                                                     \
    auto r_ = (expr);                                      \
    ASSERT_TRUE(r_) << #expr << ": " << r_.error().what(); \
  } while (0)

// Two namespaces joined by a veth pair "ea" (in a, 10.77.0.1) -- "eb" (in b, 10.77.0.2), up.
struct Pair {
  Namespaces spaces;
  std::string nameA, nameB;
  netns::Handle* a = nullptr;
  netns::Handle* b = nullptr;
  std::optional<nl::Socket> sa, sb;

  explicit Pair(const std::string& tag) : nameA("q-" + tag + "-a"), nameB("q-" + tag + "-b") {
    a = &spaces.add(nameA);
    b = &spaces.add(nameB);
    sa.emplace(nl::Socket::openIn(*a).value());
    sb.emplace(nl::Socket::openIn(*b).value());
    link::VethSpec v;
    v.link = common("ea", 0, std::nullopt, {}, true);
    v.peer = peer("eb", b, 0, std::nullopt, true);
    auto created = link::create(*sa, v);
    if (!created) ADD_FAILURE() << created.error().what();
    EXPECT_TRUE(addr::add(*sa, "ea", ip::Prefix::parse("10.77.0.1/30").value()));
    EXPECT_TRUE(addr::add(*sb, "eb", ip::Prefix::parse("10.77.0.2/30").value()));
    EXPECT_TRUE(link::setUp(*sa, "lo"));
    EXPECT_TRUE(link::setUp(*sb, "lo"));
  }
};

// The root qdisc of dev as `tc -j qdisc show` reports it (null when tc fails or none).
nlohmann::json tcRoot(const std::string& ns, const std::string& dev) {
  auto [rc, out] = testing::run(fmt::format("ip netns exec {} tc -j qdisc show dev {}", ns, dev));
  if (rc != 0) return nullptr;
  try {
    for (auto& q : nlohmann::json::parse(out))
      if (q.value("root", false)) return q;
  } catch (const std::exception&) {
  }
  return nullptr;
}

nlohmann::json tcAll(const std::string& ns, const std::string& dev) {
  auto [rc, out] = testing::run(fmt::format("ip netns exec {} tc -j qdisc show dev {}", ns, dev));
  try {
    return rc == 0 ? nlohmann::json::parse(out) : nlohmann::json();
  } catch (const std::exception&) {
    return nullptr;
  }
}

// Whether this kernel has netem, asked independently of netctl (tc in a scratch veth's netns).
bool kernelHasNetem(const std::string& ns) {
  testing::run(fmt::format("ip -n {} link add name nprobe0 type veth peer name nprobe1", ns));
  bool has = testing::run(fmt::format("ip netns exec {} tc qdisc add dev nprobe0 root netem delay 1ms", ns)).first == 0;
  testing::run(fmt::format("ip -n {} link del nprobe0", ns));
  return has;
}

// TCP goodput from a to b (10.77.0.2), in bits/s (support/goodput.h).
double goodput(Pair& p, std::chrono::milliseconds warmup, std::chrono::milliseconds duration) {
  return testing::goodput(*p.a, *p.b, "10.77.0.2", warmup, duration);
}

TEST(Qdisc, RateLimitHoldsWithinTenPercentAndResetRestoresFullSpeed) {
  Pair p("rate");
  qdisc::Impairment imp;
  imp.rate = qdisc::parseRate("50mbit").value();
  ASSERT_OK(qdisc::apply(*p.sa, "ea", imp));
  auto tc = tcRoot(p.nameA, "ea");
  ASSERT_FALSE(tc.is_null());
  EXPECT_EQ(tc["kind"], "tbf");
  EXPECT_EQ(tc["options"]["rate"], 50'000'000 / 8);

  double limited = goodput(p, 300ms, 2000ms);
  RecordProperty("limited_mbit", std::to_string(limited / 1e6));
  std::printf("goodput with a 50mbit limit: %.2f Mbit/s\n", limited / 1e6);
  // TCP goodput carries 1448 payload bytes per 1514 bytes shaped: ~47.8 Mbit/s at best.
  EXPECT_GE(limited, 45e6);
  EXPECT_LE(limited, 55e6);

  ASSERT_OK(qdisc::reset(*p.sa, "ea"));
  auto after = tcRoot(p.nameA, "ea");
  EXPECT_TRUE(after.is_null() || after["kind"] != "tbf") << after.dump();
  double full = goodput(p, 100ms, 700ms);
  std::printf("goodput after reset: %.2f Mbit/s\n", full / 1e6);
  EXPECT_GT(full, 150e6);  // a veth pair does gigabits; three times the limit is a safe floor
}

TEST(Qdisc, MultiGigabitRatesReadBackExactly) {
  Pair p("gbit");
  for (const char* text : {"10gbit", "40gbit", "100gbit", "1.5gbit", "800kbit"}) {
    SCOPED_TRACE(text);
    qdisc::Impairment imp;
    imp.rate = qdisc::parseRate(text).value();
    ASSERT_OK(qdisc::apply(*p.sa, "ea", imp));
    auto st = qdisc::read(*p.sa, "ea");
    ASSERT_OK(st);
    EXPECT_EQ(st->rootKind, "tbf");
    EXPECT_EQ(st->impairment.rate, imp.rate);
    // Independently: tc's idea of the same qdisc (rate in bytes/s, from TCA_TBF_RATE64 above
    // 2^32-1 bytes/s), burst and limit.
    auto tc = tcRoot(p.nameA, "ea");
    ASSERT_FALSE(tc.is_null());
    EXPECT_EQ(tc["kind"], "tbf");
    EXPECT_EQ(tc["handle"], "1:");
    EXPECT_EQ(tc["options"]["rate"].get<uint64_t>() * 8, *imp.rate);
    EXPECT_NEAR(tc["options"]["burst"].get<double>(), *st->impairment.burst, *st->impairment.burst * 0.001 + 2);
    EXPECT_EQ(tc.value("options", nlohmann::json::object()).value("limit", *st->impairment.rateLimit),
              *st->impairment.rateLimit);
    EXPECT_EQ(qdisc::formatRate(*st->impairment.rate), text);
  }
}

TEST(Qdisc, ExplicitBurstAndLimitAreKept) {
  Pair p("burst");
  qdisc::Impairment imp;
  imp.rate = 20'000'000;
  imp.burst = 32768;
  imp.rateLimit = 200000;
  ASSERT_OK(qdisc::apply(*p.sa, "ea", imp));
  auto st = qdisc::read(*p.sa, "ea").value();
  EXPECT_EQ(st.impairment.rate, imp.rate);
  EXPECT_NEAR(static_cast<double>(*st.impairment.burst), 32768, 40);
  EXPECT_EQ(st.impairment.rateLimit, 200000u);
  auto tc = tcRoot(p.nameA, "ea");
  EXPECT_NEAR(tc["options"]["burst"].get<double>(), 32768, 40);
}

TEST(Qdisc, ChangeInPlaceThenResetIsIdempotent) {
  Pair p("change");
  qdisc::Impairment imp;
  imp.rate = 50'000'000;
  ASSERT_OK(qdisc::apply(*p.sa, "ea", imp));
  qdisc::Impairment change;
  change.rate = 100'000'000;
  auto merged = qdisc::merge(qdisc::read(*p.sa, "ea").value().impairment, change);
  ASSERT_OK(qdisc::apply(*p.sa, "ea", merged));
  auto all = tcAll(p.nameA, "ea");
  ASSERT_TRUE(all.is_array());
  ASSERT_EQ(all.size(), 1u) << all.dump();
  EXPECT_EQ(all[0]["handle"], "1:");
  EXPECT_EQ(all[0]["options"]["rate"], 100'000'000 / 8);
  ASSERT_OK(qdisc::reset(*p.sa, "ea"));
  ASSERT_OK(qdisc::reset(*p.sa, "ea"));  // nothing left to delete
  auto root = tcRoot(p.nameA, "ea");
  EXPECT_TRUE(root.is_null() || root["kind"] == "noqueue") << root.dump();
  auto st = qdisc::read(*p.sa, "ea").value();
  EXPECT_TRUE(st.impairment.empty());
  // An empty impairment is a reset too; so is a reset of a link that never had one.
  ASSERT_OK(qdisc::apply(*p.sa, "ea", qdisc::Impairment{}));
  EXPECT_EQ(qdisc::reset(*p.sa, "nosuch").error().kind(), Error::Kind::kNotFound);
}

TEST(Qdisc, ResetRemovesAForeignRootQdiscToo) {
  Pair p("foreign");
  ASSERT_EQ(testing::run(fmt::format("ip netns exec {} tc qdisc add dev ea root handle 5: pfifo limit 10", p.nameA)).first, 0);
  auto st = qdisc::read(*p.sa, "ea").value();
  EXPECT_EQ(st.rootKind, "pfifo");
  EXPECT_TRUE(st.impairment.empty());
  ASSERT_OK(qdisc::reset(*p.sa, "ea"));
  auto root = tcRoot(p.nameA, "ea");
  EXPECT_TRUE(root.is_null() || root["kind"] == "noqueue") << root.dump();
}

TEST(Qdisc, ProbeReportsTheKernelsQdiscs) {
  Pair p("probe");
  EXPECT_TRUE(qdisc::probeScratch("tbf")) << "tbf must exist: rate limiting depends on it";
  EXPECT_TRUE(qdisc::probeScratch("htb"));
  auto netem = qdisc::probeScratch("netem");
  if (kernelHasNetem(p.nameA)) {
    EXPECT_TRUE(netem) << netem.error().what();
  } else {
    ASSERT_FALSE(netem);
    EXPECT_EQ(netem.error().kind(), Error::Kind::kUnsupported);
    EXPECT_NE(netem.error().what().find("CONFIG_NET_SCH_NETEM"), std::string::npos) << netem.error().what();
  }
  auto bogus = qdisc::probeScratch("nosuchqdisc");
  EXPECT_FALSE(bogus);
}

// On a kernel without netem, netem parameters are a clear kUnsupported and leave nothing behind
// (not even the shaper asked for with them); with netem they are applied and read back.
TEST(Qdisc, NetemParametersMatchTheKernel) {
  Pair p("netem");
  bool has = kernelHasNetem(p.nameA);
  qdisc::Impairment delay;
  delay.delay = 20ms;
  qdisc::Impairment both = delay;
  both.rate = 50'000'000;
  both.loss = 0.5;
  qdisc::Impairment shaped = delay;  // a jitter with iproute2's normal table (where installed)
  shaped.jitter = 5ms;
  shaped.distribution = "normal";
  std::vector<const qdisc::Impairment*> cases = {&delay, &both};
  if (qdisc::loadDistribution("normal")) cases.push_back(&shaped);
  for (const auto* imp : cases) {
    auto r = qdisc::apply(*p.sa, "ea", *imp);
    if (has) {
      ASSERT_OK(r);
      auto st = qdisc::read(*p.sa, "ea").value();
      EXPECT_EQ(st.impairment.delay, 20ms);
      EXPECT_EQ(st.impairment.rate, imp->rate);
      EXPECT_EQ(st.impairment.loss, imp->loss);
      auto all = tcAll(p.nameA, "ea");
      bool sawNetem = false;
      for (auto& q : all)
        if (q["kind"] == "netem") {
          sawNetem = true;
          EXPECT_NEAR(q["options"]["delay"]["delay"].get<double>(), 0.020, 1e-6) << q.dump();
        }
      EXPECT_TRUE(sawNetem) << all.dump();
    } else {
      ASSERT_FALSE(r);
      std::printf("without netem: %s\n", r.error().what().c_str());
      EXPECT_EQ(r.error().kind(), Error::Kind::kUnsupported);
      EXPECT_NE(r.error().what().find("CONFIG_NET_SCH_NETEM"), std::string::npos) << r.error().what();
      auto root = tcRoot(p.nameA, "ea");
      EXPECT_TRUE(root.is_null() || root["kind"] == "noqueue") << root.dump();
    }
  }
}

TEST(Qdisc, NetemDelayShowsInPingRtt) {
  Pair p("rtt");
  if (!kernelHasNetem(p.nameA)) GTEST_SKIP() << "this kernel has no netem qdisc (CONFIG_NET_SCH_NETEM is not set)";
  qdisc::Impairment imp;
  imp.delay = 20ms;
  ASSERT_OK(qdisc::apply(*p.sa, "ea", imp));
  auto [rc, out] = testing::run(fmt::format("ip netns exec {} ping -c3 -i0.2 -W2 10.77.0.2", p.nameA));
  ASSERT_EQ(rc, 0) << out;
  // "rtt min/avg/max/mdev = 20.1/20.3/..."
  auto pos = out.find("= ");
  ASSERT_NE(pos, std::string::npos) << out;
  double minRtt = std::stod(out.substr(pos + 2));
  EXPECT_GE(minRtt, 20.0);
  EXPECT_LT(minRtt, 40.0);
}

}  // namespace
}  // namespace netctl
