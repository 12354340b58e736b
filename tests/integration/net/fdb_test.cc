// VXLAN FDB entries (net/fdb.h): appended by netctl, read back independently with
// `bridge -j fdb show`, and through fdb::list; the head-end replication of multi-host labs.
#include "netctl/net/fdb.h"

#include <gtest/gtest.h>

#include <set>

#include "integration/net/net_helpers.h"

namespace netctl {
namespace {

using testing::Namespaces;
using testing::run;

// "dst[:port]" of every all-zero entry of dev, as `bridge` reports them.
std::set<std::string> bridgeFdb(const std::string& ns, const std::string& dev) {
  auto [rc, out] = run("bridge -n " + ns + " -j fdb show dev " + dev);
  std::set<std::string> s;
  if (rc != 0) return s;
  auto j = nlohmann::json::parse(out, nullptr, false);
  if (!j.is_array()) return s;
  for (const auto& e : j)
    if (e.value("mac", "") == "00:00:00:00:00:00" && e.contains("dst"))
      s.insert(e["dst"].get<std::string>() + (e.contains("port") ? ":" + std::to_string(e["port"].get<int>()) : ""));
  return s;
}

TEST(Fdb, AppendListRemoveOnAVxlanDevice) {
  Namespaces spaces;
  auto& ns = spaces.add("t-fdb");
  auto sock = nl::Socket::openIn(ns);
  ASSERT_TRUE(sock) << sock.error().what();
  link::VxlanSpec x;
  x.link.name = "vx0";
  x.vni = 4242;
  x.dstPort = 4789;
  x.learning = false;
  auto made = link::create(*sock, x);
  ASSERT_TRUE(made) << made.error().what();

  auto a = ip::Address::parse("192.0.2.1").value();
  auto b = ip::Address::parse("192.0.2.2").value();
  ASSERT_TRUE(fdb::append(*sock, link::Ref("vx0"), {link::Mac{}, a, 0}));
  ASSERT_TRUE(fdb::append(*sock, link::Ref(*made), {link::Mac{}, b, 4790}));
  EXPECT_TRUE(fdb::append(*sock, link::Ref("vx0"), {link::Mac{}, a, 0}));  // again: fine
  EXPECT_EQ(bridgeFdb("t-fdb", "vx0"), (std::set<std::string>{"192.0.2.1", "192.0.2.2:4790"}));

  auto listed = fdb::list(*sock, link::Ref("vx0"));
  ASSERT_TRUE(listed) << listed.error().what();
  std::set<std::string> mine;
  for (const auto& r : *listed) mine.insert(r.dst.str() + (r.port ? ":" + std::to_string(r.port) : ""));
  EXPECT_EQ(mine, (std::set<std::string>{"192.0.2.1", "192.0.2.2:4790"}));

  ASSERT_TRUE(fdb::remove(*sock, link::Ref("vx0"), {link::Mac{}, b, 4790}));
  EXPECT_EQ(bridgeFdb("t-fdb", "vx0"), (std::set<std::string>{"192.0.2.1"}));
  // Removing it again: the kernel finds no such destination and changes nothing.
  (void)fdb::remove(*sock, link::Ref("vx0"), {link::Mac{}, b, 4790});
  EXPECT_EQ(bridgeFdb("t-fdb", "vx0"), (std::set<std::string>{"192.0.2.1"}));
  // A device that does not exist is named in the error.
  auto none = fdb::append(*sock, link::Ref("nope0"), {link::Mac{}, a, 0});
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().what().find("nope0"), std::string::npos) << none.error().what();
}

}  // namespace
}  // namespace netctl
