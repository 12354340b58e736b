// The event monitor on real namespaces: link state and address changes made in two namespaces
// arrive as typed events, in order per namespace, and the monitor stops on request.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <thread>

#include "integration/net/net_helpers.h"
#include "netctl/net/addr.h"
#include "netctl/net/monitor.h"

namespace netctl {
namespace {

using namespace std::chrono_literals;
using monitor::Kind;
using testing::common;
using testing::Namespaces;
using testing::peer;

#define ASSERT_OK(expr)                                    \
  do {                                                     \
    auto r_ = (expr);                                      \
    ASSERT_TRUE(r_) << #expr << ": " << r_.error().what(); \
  } while (0)

ip::Prefix pfx(const char* s) { return ip::Prefix::parse(s).value(); }

// "link-down va" / "address-added va 10.66.0.1/24": what the test expects, per namespace.
std::string brief(const monitor::Event& e) {
  std::string s = fmt::format("{} {}", monitor::kindName(e.kind), e.ifname);
  if (!e.address.empty()) s += " " + e.address;
  return s;
}

// IPv6 link-local addresses come and go with the link state on their own schedule (addrconf);
// they are real events, but not the ones this test makes.
bool linkLocal(const monitor::Event& e) { return e.address.starts_with("fe80:"); }

// Collects events until every namespace in `want` has as many as expected (or 5 s pass).
std::map<std::string, std::vector<monitor::Event>> collect(monitor::Monitor& m,
                                                           const std::map<std::string, std::vector<std::string>>& want) {
  std::map<std::string, std::vector<monitor::Event>> got;
  auto done = [&] {
    for (const auto& [ns, events] : want)
      if (got[ns].size() < events.size()) return false;
    return true;
  };
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    auto e = m.next(200ms);
    if (!e) {
      ADD_FAILURE() << e.error().what();
      break;
    }
    if (*e && !linkLocal(**e)) got[(*e)->netns].push_back(std::move(**e));
  }
  // Anything extra that arrives shortly after would be a spurious event.
  for (;;) {
    auto e = m.next(150ms);
    if (!e || !*e) break;
    if (!linkLocal(**e)) got[(*e)->netns].push_back(std::move(**e));
  }
  return got;
}

std::vector<std::string> briefs(const std::vector<monitor::Event>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(brief(e));
  return out;
}

TEST(Monitor, LinkAndAddressEventsFromTwoNamespacesInOrder) {
  Namespaces spaces;
  auto& a = spaces.add("m-ev-a");
  auto& b = spaces.add("m-ev-b");
  auto sa = nl::Socket::openIn(a).value();
  auto sb = nl::Socket::openIn(b).value();
  link::VethSpec v;
  v.link = common("va", 0, std::nullopt, {}, true);
  v.peer = peer("vb", &b, 0, std::nullopt, true);
  int ia = link::create(sa, v).value();
  int ib = link::index(sb, "vb").value();

  auto m = monitor::Monitor::create();
  ASSERT_TRUE(m) << m.error().what();
  ASSERT_OK(m->add(a, "lab-a"));
  ASSERT_OK(m->add(b, "lab-b"));
  // Nothing happened yet: the current links and addresses are the starting state, not events.
  auto quiet = m->next(100ms);
  ASSERT_OK(quiet);
  if (*quiet) {
    EXPECT_TRUE(linkLocal(**quiet)) << monitor::toText(**quiet);
  }

  // In stages: the kernel reports a veth peer's carrier change through linkwatch, up to a
  // second later and coalesced (a down and up quicker than that is no change at all), and an
  // IPv6 address added while its link has no carrier stays tentative without any notice.
  std::map<std::string, std::vector<monitor::Event>> got;
  auto stage = [&](const std::map<std::string, std::vector<std::string>>& want) {
    auto events = collect(*m, want);
    for (const auto& [ns, expected] : want) {
      EXPECT_EQ(briefs(events[ns]), expected) << ns;
      for (auto& e : events[ns]) got[ns].push_back(std::move(e));
    }
  };
  ASSERT_OK(link::setUp(sa, "va", false));
  // vb stays administratively up: its carrier goes with va.
  stage({{"lab-a", {"link-down va"}}, {"lab-b", {"link-down vb"}}});
  ASSERT_OK(link::setUp(sa, "va", true));
  stage({{"lab-a", {"link-up va"}}, {"lab-b", {"link-up vb"}}});
  // IPv6 takes a link as ready once linkwatch has set its operstate, which may come a second
  // after the carrier (linkwatch is rate limited); an address added before that stays tentative
  // and unannounced. The monitor reports what the kernel announces, so the test waits.
  for (int i = 0; i < 60 && !(testing::ipLink("m-ev-a", "va")["operstate"] == "UP" &&
                              testing::ipLink("m-ev-b", "vb")["operstate"] == "UP");
       ++i)
    std::this_thread::sleep_for(50ms);
  ASSERT_OK(addr::add(sa, "va", pfx("10.66.0.1/24")));
  ASSERT_OK(addr::add(sb, "vb", pfx("fd00:66::2/64")));
  // IPv6 announces a new address from a work queue, even without DAD; one removed before that
  // ran is never announced, neither coming nor going. So the removal waits for the news.
  stage({{"lab-a", {"address-added va 10.66.0.1/24"}}, {"lab-b", {"address-added vb fd00:66::2/64"}}});
  ASSERT_OK(addr::remove(sa, "va", pfx("10.66.0.1/24")));
  ASSERT_OK(addr::remove(sb, "vb", pfx("fd00:66::2/64")));
  // A second pair: added, then removed (in both namespaces, as the peer lives in b).
  link::VethSpec w;
  w.link = common("wa", 0, std::nullopt, {}, false);
  w.peer = peer("wb", &b, 0, std::nullopt, false);
  ASSERT_OK(link::create(sa, w));
  ASSERT_OK(link::remove(sa, "wa"));
  stage({{"lab-a", {"address-removed va 10.66.0.1/24", "link-added wa", "link-removed wa"}},
         {"lab-b", {"address-removed vb fd00:66::2/64", "link-added wb", "link-removed wb"}}});

  // The fields, for the first events of each namespace.
  ASSERT_GE(got["lab-a"].size(), 3u);
  const auto& down = got["lab-a"][0];
  EXPECT_EQ(down.index, ia);
  EXPECT_FALSE(down.adminUp);
  const auto& peerDown = got["lab-b"][0];
  EXPECT_EQ(peerDown.index, ib);
  EXPECT_TRUE(peerDown.adminUp);
  EXPECT_FALSE(peerDown.carrier);
  EXPECT_TRUE(got["lab-a"][1].adminUp && got["lab-a"][1].carrier);
  EXPECT_EQ(got["lab-a"][2].index, ia);
  auto age = std::chrono::system_clock::now() - got["lab-a"][2].time;
  EXPECT_LT(age, 10s);
  EXPECT_GE(age, 0s);

  // The formatters: one JSON object per line, and a line of text.
  auto j = nlohmann::json::parse(monitor::toJsonLine(got["lab-a"][2]));
  EXPECT_EQ(j["netns"], "lab-a");
  EXPECT_EQ(j["event"], "address-added");
  EXPECT_EQ(j["ifname"], "va");
  EXPECT_EQ(j["ifindex"], ia);
  EXPECT_EQ(j["address"], "10.66.0.1/24");
  EXPECT_TRUE(j["time"].get<std::string>().ends_with("Z"));
  auto jl = nlohmann::json::parse(monitor::toJsonLine(peerDown));
  EXPECT_EQ(jl["event"], "link-down");
  EXPECT_EQ(jl["admin_up"], true);
  EXPECT_EQ(jl["carrier"], false);
  EXPECT_EQ(monitor::toJsonLine(got["lab-a"][2]).find('\n'), std::string::npos);
  std::string text = monitor::toText(peerDown);
  EXPECT_NE(text.find("lab-b link-down vb"), std::string::npos) << text;
  EXPECT_NE(text.find("no carrier"), std::string::npos) << text;
}

TEST(Monitor, StopEndsAWaitingNextAtOnce) {
  Namespaces spaces;
  auto& a = spaces.add("m-stop-a");
  auto m = monitor::Monitor::create();
  ASSERT_TRUE(m) << m.error().what();
  ASSERT_OK(m->add(a, "a"));
  auto start = std::chrono::steady_clock::now();
  std::thread stopper([&] {
    std::this_thread::sleep_for(100ms);
    m->stop();
  });
  auto e = m->next(10s);
  stopper.join();
  ASSERT_OK(e);
  EXPECT_FALSE(e->has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  // Stopped for good: later calls return at once too, even with events pending.
  auto s = nl::Socket::openIn(a).value();
  ASSERT_OK(link::setUp(s, "lo"));
  auto again = m->next(5s);
  ASSERT_OK(again);
  EXPECT_FALSE(again->has_value());
}

TEST(Monitor, TimeoutWithoutEvents) {
  Namespaces spaces;
  auto& a = spaces.add("m-idle-a");
  auto m = monitor::Monitor::create().value();
  ASSERT_OK(m.add(a, "a"));
  auto start = std::chrono::steady_clock::now();
  auto e = m.next(200ms);
  ASSERT_OK(e);
  EXPECT_FALSE(e->has_value());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 190ms);
}

}  // namespace
}  // namespace netctl
