// Addresses and routes added by netctl, read back with `ip -j addr` / `ip -j route`.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include "integration/net/net_helpers.h"
#include "netctl/net/addr.h"
#include "netctl/net/link.h"
#include "netctl/net/route.h"

namespace netctl {
namespace {

using testing::common;
using testing::ipJson;
using testing::Namespaces;
using testing::peer;

ip::Prefix pfx(const char* s) { return ip::Prefix::parse(s).value(); }
ip::Address ipa(const char* s) { return ip::Address::parse(s).value(); }

// The addr_info entries of `dev` as ip shows them: "10.0.0.1/24" -> the entry.
std::map<std::string, nlohmann::json> ipAddrs(const std::string& ns, const std::string& dev) {
  std::map<std::string, nlohmann::json> out;
  auto j = ipJson(ns, "addr show dev " + dev);
  if (!j.is_array() || j.empty()) return out;
  for (auto& a : j[0]["addr_info"]) out[fmt::format("{}/{}", a["local"].get<std::string>(), a["prefixlen"].get<int>())] = a;
  return out;
}

class AddrRoute : public ::testing::Test {
 protected:
  void SetUp() override {
    auto& ns = spaces_.add("t-ar");
    auto s = nl::Socket::openIn(ns);
    ASSERT_TRUE(s) << s.error().what();
    sock_.emplace(std::move(*s));
    link::VethSpec v;
    v.link = common("x", 0, std::nullopt, {}, true);
    v.peer = peer("xp", nullptr, 0, std::nullopt, true);
    auto idx = link::create(*sock_, v);
    ASSERT_TRUE(idx) << idx.error().what();
    index_ = *idx;
  }
  Namespaces spaces_;
  std::optional<nl::Socket> sock_;
  int index_ = 0;
};

TEST_F(AddrRoute, Addresses) {
  nl::Socket& s = *sock_;
  ASSERT_TRUE(addr::add(s, "x", pfx("10.0.0.1/24")));
  ASSERT_TRUE(addr::add(s, index_, pfx("fd00::1/64")));
  auto seen = ipAddrs("t-ar", "x");
  ASSERT_TRUE(seen.contains("10.0.0.1/24"));
  EXPECT_EQ(seen["10.0.0.1/24"]["broadcast"], "10.0.0.255");
  ASSERT_TRUE(seen.contains("fd00::1/64"));
  EXPECT_FALSE(seen["fd00::1/64"].contains("tentative"));  // nodad: usable at once

  auto listed = addr::list(s, AF_UNSPEC, index_);
  ASSERT_TRUE(listed) << listed.error().what();
  std::set<std::string> ours;
  for (auto& e : *listed) ours.insert(e.prefix.str());
  EXPECT_TRUE(ours.contains("10.0.0.1/24"));
  EXPECT_TRUE(ours.contains("fd00::1/64"));
  auto v4 = addr::list(s, AF_INET, index_);
  ASSERT_TRUE(v4);
  ASSERT_EQ(v4->size(), 1u);

  auto dup = addr::add(s, "x", pfx("10.0.0.1/24"));
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().kind(), Error::Kind::kConflict);
  EXPECT_NE(dup.error().what().find("adding address 10.0.0.1/24 to link x"), std::string::npos) << dup.error().what();

  ASSERT_TRUE(addr::remove(s, "x", pfx("10.0.0.1/24")));
  ASSERT_TRUE(addr::remove(s, "x", pfx("fd00::1/64")));
  seen = ipAddrs("t-ar", "x");
  EXPECT_FALSE(seen.contains("10.0.0.1/24"));
  EXPECT_FALSE(seen.contains("fd00::1/64"));
  auto gone = addr::remove(s, "x", pfx("10.0.0.1/24"));
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().kind(), Error::Kind::kNotFound);
  auto noLink = addr::add(s, "nope", pfx("10.0.0.1/24"));
  ASSERT_FALSE(noLink);
  EXPECT_EQ(noLink.error().kind(), Error::Kind::kNotFound);
}

TEST_F(AddrRoute, Routes) {
  nl::Socket& s = *sock_;
  ASSERT_TRUE(addr::add(s, "x", pfx("10.0.0.1/24")));
  ASSERT_TRUE(addr::add(s, "x", pfx("fd00::1/64")));

  route::Route via{.dst = pfx("10.50.0.0/16"), .via = ipa("10.0.0.2"), .dev = {}, .metric = 100, .table = route::kMainTable, .src = {}};
  route::Route def{.dst = ip::Prefix::anyV4(), .via = ipa("10.0.0.254"), .dev = "x", .metric = 0, .table = route::kMainTable, .src = {}};
  route::Route tbl{.dst = pfx("10.60.0.0/24"), .via = {}, .dev = "x", .metric = 0, .table = 100, .src = ipa("10.0.0.1")};
  route::Route def6{.dst = ip::Prefix::anyV6(), .via = ipa("fd00::2"), .dev = "x", .metric = 0, .table = route::kMainTable, .src = {}};
  for (auto* r : {&via, &def, &tbl, &def6}) {
    auto ok = route::add(s, *r);
    ASSERT_TRUE(ok) << ok.error().what();
  }

  auto main4 = ipJson("t-ar", "route show");
  std::map<std::string, nlohmann::json> byDst;
  for (auto& r : main4) byDst[r["dst"].get<std::string>()] = r;
  ASSERT_TRUE(byDst.contains("10.50.0.0/16"));
  EXPECT_EQ(byDst["10.50.0.0/16"]["gateway"], "10.0.0.2");
  EXPECT_EQ(byDst["10.50.0.0/16"]["metric"], 100);
  EXPECT_EQ(byDst["10.50.0.0/16"]["dev"], "x");
  ASSERT_TRUE(byDst.contains("default"));
  EXPECT_EQ(byDst["default"]["gateway"], "10.0.0.254");
  auto t100 = ipJson("t-ar", "route show table 100");
  ASSERT_EQ(t100.size(), 1u);
  EXPECT_EQ(t100[0]["dst"], "10.60.0.0/24");
  EXPECT_EQ(t100[0]["dev"], "x");
  EXPECT_EQ(t100[0]["scope"], "link");
  EXPECT_EQ(t100[0]["prefsrc"], "10.0.0.1");
  auto v6 = ipJson("t-ar", "-6 route show default");
  ASSERT_EQ(v6.size(), 1u);
  EXPECT_EQ(v6[0]["gateway"], "fd00::2");

  auto listed = route::list(s, AF_INET);
  ASSERT_TRUE(listed) << listed.error().what();
  bool found = false;
  for (auto& e : *listed)
    if (e.dst.str() == "10.50.0.0/16") {
      found = true;
      EXPECT_EQ(e.via->str(), "10.0.0.2");
      EXPECT_EQ(e.dev, index_);
      EXPECT_EQ(e.metric, 100u);
    }
  EXPECT_TRUE(found);
  auto listed100 = route::list(s, AF_INET, 100);
  ASSERT_TRUE(listed100);
  ASSERT_EQ(listed100->size(), 1u);
  EXPECT_EQ((*listed100)[0].dst.str(), "10.60.0.0/24");

  auto dup = route::add(s, via);
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().kind(), Error::Kind::kConflict);
  via.metric = 100;
  ASSERT_TRUE(route::replace(s, via));

  for (auto* r : {&via, &def, &tbl, &def6}) {
    auto ok = route::remove(s, *r);
    ASSERT_TRUE(ok) << ok.error().what();
  }
  main4 = ipJson("t-ar", "route show");
  for (auto& r : main4) {
    EXPECT_NE(r["dst"], "10.50.0.0/16");
    EXPECT_NE(r["dst"], "default");
  }
  EXPECT_TRUE(ipJson("t-ar", "route show table 100").empty());
  EXPECT_TRUE(ipJson("t-ar", "-6 route show default").empty());
  auto gone = route::remove(s, via);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().kind(), Error::Kind::kNotFound);
}

}  // namespace
}  // namespace netctl
