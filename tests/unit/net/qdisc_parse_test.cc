// The pure side of impairments: user text to numbers, merge, validation, error mapping.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <numeric>

#include "netctl/net/qdisc.h"

namespace netctl::qdisc {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

TEST(QdiscParse, Rates) {
  EXPECT_EQ(parseRate("50mbit").value(), 50'000'000u);
  EXPECT_EQ(parseRate("10gbit").value(), 10'000'000'000u);
  EXPECT_EQ(parseRate("1.5Gbit").value(), 1'500'000'000u);
  EXPECT_EQ(parseRate("800kbit").value(), 800'000u);
  EXPECT_EQ(parseRate("1000000").value(), 1'000'000u);
  EXPECT_EQ(parseRate("100bit").value(), 100u);
  EXPECT_EQ(parseRate("1tbit").value(), 1'000'000'000'000u);
  EXPECT_EQ(parseRate("1mibit").value(), 1'048'576u);
  EXPECT_EQ(parseRate(" 2MBIT ").value(), 2'000'000u);
}

TEST(QdiscParse, BadRatesNameTheValue) {
  for (const char* bad : {"", "mbit", "50xbit", "-5mbit", "0", "50mbps", "1e3mbit", "fast"}) {
    auto r = parseRate(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().kind(), Error::Kind::kInvalidInput) << bad;
    EXPECT_NE(r.error().what().find(fmt::format("\"{}\"", bad)), std::string::npos) << r.error().what();
  }
  EXPECT_NE(parseRate("50mbps").error().what().find("bytes"), std::string::npos);
}

TEST(QdiscParse, Durations) {
  EXPECT_EQ(parseDuration("20ms").value(), milliseconds(20));
  EXPECT_EQ(parseDuration("1.5s").value(), milliseconds(1500));
  EXPECT_EQ(parseDuration("300us").value(), microseconds(300));
  EXPECT_EQ(parseDuration("100ns").value(), Nanos(100));
  EXPECT_EQ(parseDuration("0.5ms").value(), microseconds(500));
  for (const char* bad : {"20", "ms", "20m", "1h", "-1ms", "7200s"}) {
    auto r = parseDuration(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().kind(), Error::Kind::kInvalidInput);
    EXPECT_NE(r.error().what().find(bad), std::string::npos) << r.error().what();
  }
}

TEST(QdiscParse, Percentages) {
  EXPECT_DOUBLE_EQ(parsePercent("0.5%").value(), 0.5);
  EXPECT_DOUBLE_EQ(parsePercent("0.5").value(), 0.5);
  EXPECT_DOUBLE_EQ(parsePercent("100%").value(), 100);
  EXPECT_DOUBLE_EQ(parsePercent("0").value(), 0);
  for (const char* bad : {"101%", "-1", "x", "5%%", "5 percent"}) {
    auto r = parsePercent(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().kind(), Error::Kind::kInvalidInput);
    EXPECT_NE(r.error().what().find(bad), std::string::npos) << r.error().what();
  }
}

TEST(QdiscParse, Sizes) {
  EXPECT_EQ(parseSize("1500").value(), 1500u);
  EXPECT_EQ(parseSize("64k").value(), 65536u);
  EXPECT_EQ(parseSize("1m").value(), 1048576u);
  EXPECT_FALSE(parseSize("5g").has_value());  // above u32
  EXPECT_FALSE(parseSize("12q").has_value());
}

TEST(QdiscFormat, RoundTrips) {
  EXPECT_EQ(formatRate(50'000'000), "50mbit");
  EXPECT_EQ(formatRate(10'000'000'000), "10gbit");
  EXPECT_EQ(formatRate(1'500'000'000), "1.5gbit");
  EXPECT_EQ(formatRate(800'000), "800kbit");
  EXPECT_EQ(formatRate(999), "999bit");
  EXPECT_EQ(formatRate(1'234'567), "1234567bit");
  EXPECT_EQ(formatDuration(milliseconds(20)), "20ms");
  EXPECT_EQ(formatDuration(milliseconds(1500)), "1.5s");
  EXPECT_EQ(formatDuration(microseconds(300)), "300us");
  EXPECT_EQ(formatDuration(Nanos(7)), "7ns");
  for (const char* r : {"50mbit", "1.5gbit", "800kbit", "40gbit"}) EXPECT_EQ(formatRate(parseRate(r).value()), r);
}

TEST(QdiscMerge, ChangesOnlyWhatIsGiven) {
  Impairment cur;
  cur.rate = 50'000'000;
  cur.delay = milliseconds(20);
  cur.loss = 1.0;
  Impairment ch;
  ch.loss = 2.5;
  ch.jitter = milliseconds(5);
  Impairment m = merge(cur, ch);
  EXPECT_EQ(m.rate, 50'000'000u);
  EXPECT_EQ(m.delay, milliseconds(20));
  EXPECT_EQ(m.jitter, milliseconds(5));
  EXPECT_EQ(m.loss, 2.5);
  EXPECT_FALSE(m.corrupt.has_value());
  EXPECT_EQ(merge(cur, Impairment{}), cur);
  EXPECT_EQ(merge(Impairment{}, cur), cur);
}

TEST(QdiscImpairment, Predicates) {
  Impairment i;
  EXPECT_TRUE(i.empty());
  i.limit = 100;  // a bare queue limit changes nothing
  EXPECT_TRUE(i.empty());
  i.loss = 0.0;
  EXPECT_FALSE(i.hasNetem());
  i.rate = 1000;
  EXPECT_TRUE(i.hasRate());
  EXPECT_FALSE(i.hasNetem());
  i.delay = milliseconds(1);
  EXPECT_TRUE(i.hasNetem());
}

TEST(QdiscValidate, RefusesWhatTheKernelWouldNot) {
  Impairment ok;
  ok.rate = 50'000'000;
  ok.delay = milliseconds(10);
  ok.jitter = milliseconds(2);
  ok.reorder = 5;
  EXPECT_TRUE(validate(ok));
  Impairment j;
  j.jitter = milliseconds(2);
  EXPECT_EQ(validate(j).error().kind(), Error::Kind::kInvalidInput);
  Impairment r;
  r.reorder = 10;
  EXPECT_FALSE(validate(r));
  Impairment p;
  p.loss = 150;
  EXPECT_NE(validate(p).error().what().find("150"), std::string::npos);
  Impairment b;
  b.rate = 1'000'000;
  b.burst = 100;
  EXPECT_NE(validate(b).error().what().find("burst"), std::string::npos);
}

TEST(QdiscErrors, MissingKindNamesTheKernelOption) {
  nl::Status unknown{ENOENT, "Specified qdisc kind is unknown."};
  Error e = errorFor(unknown, "netem", "setting the netem qdisc");
  EXPECT_EQ(e.kind(), Error::Kind::kUnsupported);
  EXPECT_NE(e.what().find("CONFIG_NET_SCH_NETEM"), std::string::npos) << e.what();
  EXPECT_EQ(errorFor(nl::Status{ENOENT, ""}, "tbf", "x").kind(), Error::Kind::kUnsupported);
  EXPECT_NE(errorFor(nl::Status{ENOENT, ""}, "htb", "x").what().find("CONFIG_NET_SCH_HTB"), std::string::npos);
  // Other failures keep their errno and the kernel's words.
  Error other = errorFor(nl::Status{EINVAL, "Invalid qdisc name"}, "tbf", "setting the tbf qdisc");
  EXPECT_EQ(other.kind(), Error::Kind::kSystem);
  EXPECT_NE(other.what().find("Invalid qdisc name"), std::string::npos);
  EXPECT_EQ(configOption("netem"), "CONFIG_NET_SCH_NETEM");
  EXPECT_EQ(configOption("tbf"), "CONFIG_NET_SCH_TBF");
  EXPECT_EQ(configOption("sfq"), "");
}

TEST(QdiscDistribution, Names) {
  EXPECT_EQ(parseDistribution("Normal").value(), "normal");
  EXPECT_EQ(parseDistribution("paretonormal").value(), "paretonormal");
  EXPECT_EQ(parseDistribution("uniform").value(), "uniform");
  auto bad = parseDistribution("gauss");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind(), Error::Kind::kInvalidInput);
  EXPECT_NE(bad.error().what().find("gauss"), std::string::npos);
  Impairment noJitter;
  noJitter.delay = milliseconds(10);
  noJitter.distribution = "normal";
  EXPECT_NE(validate(noJitter).error().what().find("jitter"), std::string::npos);
  noJitter.jitter = milliseconds(2);
  EXPECT_TRUE(validate(noJitter));
}

// A table in a directory of our own: shrinking averages runs of sorted neighbours.
TEST(QdiscDistribution, LoadsAndShrinksATable) {
  char dir[] = "/tmp/qdisc-dist-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  {
    std::ofstream f(std::string(dir) + "/ramp.dist");
    f << "# a comment line\n";
    for (int i = 0; i < 4096; ++i) f << (i - 2048) * 8 << ((i % 8 == 7) ? "\n" : " ");
  }
  {
    std::ofstream f(std::string(dir) + "/bad.dist");
    f << "1 2 three\n";
  }
  auto full = loadDistribution("ramp", 0, {dir});
  ASSERT_TRUE(full) << full.error().what();
  EXPECT_EQ(full->size(), 4096u);
  auto small = loadDistribution("ramp", 1024, {dir});
  ASSERT_TRUE(small) << small.error().what();
  ASSERT_EQ(small->size(), 1024u);
  EXPECT_EQ((*small)[0], -16372);  // mean of -16384, -16376, -16368, -16360
  EXPECT_TRUE(std::is_sorted(small->begin(), small->end()));
  EXPECT_EQ(loadDistribution("bad", 1024, {dir}).error().kind(), Error::Kind::kInvalidInput);
  auto missing = loadDistribution("normal", 1024, {dir});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind(), Error::Kind::kUnsupported);
  EXPECT_NE(missing.error().what().find("normal.dist"), std::string::npos);
  std::remove((std::string(dir) + "/ramp.dist").c_str());
  std::remove((std::string(dir) + "/bad.dist").c_str());
  ::rmdir(dir);
}

// iproute2's own tables, where installed: the normal one stays centred and sorted when shrunk.
TEST(QdiscDistribution, IprouteNormalTable) {
  auto t = loadDistribution("normal");
  if (!t && t.error().kind() == Error::Kind::kUnsupported) GTEST_SKIP() << t.error().what();
  ASSERT_TRUE(t) << t.error().what();
  EXPECT_EQ(t->size(), 1024u);
  EXPECT_TRUE(std::is_sorted(t->begin(), t->end()));
  double mean = std::accumulate(t->begin(), t->end(), 0.0) / static_cast<double>(t->size());
  EXPECT_NEAR(mean, 0, 100);  // in units of 1/8192 sigma
}

}  // namespace
}  // namespace netctl::qdisc
