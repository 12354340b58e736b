// The pure parts of the live operations: NODE:IFACE, the impair verb's flags, and the topology
// file's impair block in the qdisc engine's terms.
#include <gtest/gtest.h>

#include "netctl/topology/live.h"

using namespace netctl;
using namespace std::chrono_literals;

TEST(LiveParse, IfaceRef) {
  auto r = live::parseIfaceRef("r1:eth1");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->node, "r1");
  EXPECT_EQ(r->iface, "eth1");
  EXPECT_EQ(r->str(), "r1:eth1");
  for (const char* bad : {"r1", ":eth1", "r1:", "a:b:c", "r1:averyveryverylongname"}) {
    auto e = live::parseIfaceRef(bad);
    ASSERT_FALSE(e.has_value()) << bad;
    EXPECT_EQ(e.error().kind(), Error::Kind::kInvalidInput) << bad;
    EXPECT_NE(e.error().what().find(bad), std::string::npos) << e.error().what();
  }
}

TEST(LiveParse, ImpairFlags) {
  auto q = live::parseImpairFlags({{"rate", "50mbit"}, {"delay", "20ms"}, {"jitter", "5ms"},
                                   {"loss", "0.5%"}, {"corrupt", "1"}, {"duplicate", "2"},
                                   {"reorder", "3"}, {"limit", "100"}, {"distribution", "normal"},
                                   {"correlation", "25"}});
  ASSERT_TRUE(q.has_value()) << q.error().what();
  EXPECT_EQ(q->rate, 50'000'000u);
  EXPECT_EQ(q->delay, 20ms);
  EXPECT_EQ(q->jitter, 5ms);
  EXPECT_DOUBLE_EQ(*q->loss, 0.5);
  EXPECT_DOUBLE_EQ(*q->corrupt, 1);
  EXPECT_DOUBLE_EQ(*q->duplicate, 2);
  EXPECT_DOUBLE_EQ(*q->reorder, 3);
  EXPECT_DOUBLE_EQ(*q->delayCorrelation, 25);
  EXPECT_EQ(q->limit, 100u);
  EXPECT_EQ(q->distribution, "normal");
  EXPECT_FALSE(q->burst.has_value());  // only what was given

  auto rateOnly = live::parseImpairFlags({{"rate", "10gbit"}});
  ASSERT_TRUE(rateOnly.has_value());
  EXPECT_TRUE(rateOnly->hasRate());
  EXPECT_FALSE(rateOnly->hasNetem());

  for (auto [k, v] : std::vector<std::pair<std::string, std::string>>{
           {"rate", "50mbps"}, {"delay", "20"}, {"loss", "101"}, {"limit", "0"}, {"bogus", "1"}}) {
    auto e = live::parseImpairFlags({{k, v}});
    ASSERT_FALSE(e.has_value()) << k << "=" << v;
    EXPECT_EQ(e.error().kind(), Error::Kind::kInvalidInput) << k;
    EXPECT_NE(e.error().what().find(k), std::string::npos) << e.error().what();
  }
}

TEST(LiveParse, FromModel) {
  topology::Impair im;
  im.rateBitsPerSec = 100'000'000;
  auto q = live::fromModel(im);
  EXPECT_EQ(q.rate, 100'000'000u);
  EXPECT_FALSE(q.hasNetem());

  im.delayUs = 10'000;
  im.jitterUs = 2'000;
  im.lossPct = 1.5;
  im.correlationPct = 25;
  im.limitPackets = 1000;
  q = live::fromModel(im);
  EXPECT_EQ(q.delay, 10ms);
  EXPECT_EQ(q.jitter, 2ms);
  EXPECT_DOUBLE_EQ(*q.loss, 1.5);
  EXPECT_DOUBLE_EQ(*q.delayCorrelation, 25);
  EXPECT_DOUBLE_EQ(*q.lossCorrelation, 25);
  EXPECT_FALSE(q.reorderCorrelation.has_value());  // no reordering to correlate
  EXPECT_EQ(q.limit, 1000u);
  EXPECT_TRUE(q.hasNetem());
  EXPECT_TRUE(qdisc::validate(q).has_value());
}
