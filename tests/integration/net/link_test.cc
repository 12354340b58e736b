// Each link kind: created by netctl, read back independently with `ip -j -d link`, deleted.
#include "netctl/net/link.h"

#include <libmnl/libmnl.h>
#include <linux/if_bridge.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>

#include <gtest/gtest.h>

#include "integration/net/net_helpers.h"
#include "net/rtattr.h"

namespace netctl {
namespace {

using testing::hasFlag;
using testing::ipJson;
using testing::ipLink;
using testing::Namespaces;
using testing::common;
using testing::mac;
using testing::peer;

class Link : public ::testing::Test {
 protected:
  void SetUp() override {
    ns_ = &spaces_.add("t-link");
    auto s = nl::Socket::openIn(*ns_);
    ASSERT_TRUE(s) << s.error().what();
    sock_.emplace(std::move(*s));
  }
  nl::Socket& sock() { return *sock_; }

  Namespaces spaces_;
  netns::Handle* ns_ = nullptr;
  std::optional<nl::Socket> sock_;
};

TEST_F(Link, Bridge) {
  link::BridgeSpec br;
  br.link = common("br0", 1400, mac("02:00:00:00:00:b0"), {}, true, "lab1");
  br.ageingSeconds = 100;
  auto idx = link::create(sock(), br);
  ASSERT_TRUE(idx) << idx.error().what();

  auto j = ipLink("t-link", "br0");
  ASSERT_FALSE(j.is_null());
  EXPECT_EQ(j["ifindex"], *idx);
  EXPECT_EQ(j["linkinfo"]["info_kind"], "bridge");
  EXPECT_EQ(j["mtu"], 1400);
  EXPECT_EQ(j["address"], "02:00:00:00:00:b0");
  EXPECT_TRUE(hasFlag(j, "UP"));
  EXPECT_EQ(j["ifalias"], "netctl:lab1");
  EXPECT_EQ(j["linkinfo"]["info_data"]["stp_state"], 0);
  EXPECT_EQ(j["linkinfo"]["info_data"]["ageing_time"], 10000);
  EXPECT_EQ(j["linkinfo"]["info_data"]["vlan_filtering"], 0);
  EXPECT_EQ(j["linkinfo"]["info_data"]["mcast_snooping"], 1);  // the kernel's default
  // And not in the sandbox's own netns.
  EXPECT_TRUE(ipLink("", "br0").is_null());

  ASSERT_TRUE(link::remove(sock(), "br0"));
  EXPECT_TRUE(ipLink("t-link", "br0").is_null());

  // vlan_filtering needs CONFIG_BRIDGE_VLAN_FILTERING, which some kernels (this one) lack.
  link::BridgeSpec vf;
  vf.link = common("brv");
  vf.vlanFiltering = true;
  auto vfIdx = link::create(sock(), vf);
  if (vfIdx) {
    EXPECT_EQ(ipLink("t-link", "brv")["linkinfo"]["info_data"]["vlan_filtering"], 1);
    ASSERT_TRUE(link::remove(sock(), "brv"));
  } else {
    EXPECT_EQ(vfIdx.error().kind(), Error::Kind::kUnsupported) << vfIdx.error().what();
    EXPECT_NE(vfIdx.error().what().find("CONFIG_BRIDGE_VLAN_FILTERING"), std::string::npos) << vfIdx.error().what();
    EXPECT_TRUE(ipLink("t-link", "brv").is_null());
  }

  link::BridgeSpec quiet;
  quiet.link = common("brm");
  quiet.multicastSnooping = false;
  ASSERT_TRUE(link::create(sock(), quiet));
  EXPECT_EQ(ipLink("t-link", "brm")["linkinfo"]["info_data"]["mcast_snooping"], 0);
  ASSERT_TRUE(link::remove(sock(), "brm"));

  auto again = link::remove(sock(), "br0");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind(), Error::Kind::kNotFound);
}

TEST_F(Link, VethWithPeerInAnotherNetnsMasterMtuMacUpInOneRequest) {
  auto& peerNs = spaces_.add("t-peer");
  link::BridgeSpec br;
  br.link = common("br0", 0, std::nullopt, {}, true);
  int brIdx = link::create(sock(), br).value();

  link::VethSpec v;
  v.link = common("h1", 1450, mac("02:00:00:00:00:01"), brIdx, true, "lab1");
  v.peer = peer("eth1", &peerNs, 0, mac("02:00:00:00:00:02"), true);
  auto idx = link::create(sock(), v);
  ASSERT_TRUE(idx) << idx.error().what();

  auto h = ipLink("t-link", "h1");
  ASSERT_FALSE(h.is_null());
  EXPECT_EQ(h["ifindex"], *idx);
  EXPECT_EQ(h["linkinfo"]["info_kind"], "veth");
  EXPECT_EQ(h["master"], "br0");
  EXPECT_EQ(h["mtu"], 1450);
  EXPECT_EQ(h["address"], "02:00:00:00:00:01");
  EXPECT_TRUE(hasFlag(h, "UP"));
  EXPECT_EQ(h["ifalias"], "netctl:lab1");

  auto p = ipLink("t-peer", "eth1");
  ASSERT_FALSE(p.is_null());
  EXPECT_EQ(p["linkinfo"]["info_kind"], "veth");
  EXPECT_EQ(p["mtu"], 1450);  // the first end's mtu when the peer names none
  EXPECT_EQ(p["address"], "02:00:00:00:00:02");
  EXPECT_TRUE(hasFlag(p, "UP"));
  EXPECT_EQ(p["operstate"], "UP");  // both ends up: carrier
  EXPECT_EQ(p["ifalias"], "netctl:lab1");
  EXPECT_TRUE(ipLink("t-link", "eth1").is_null());

  // Our own reading agrees.
  auto info = link::get(sock(), "h1");
  ASSERT_TRUE(info) << info.error().what();
  EXPECT_EQ(info->kind, "veth");
  EXPECT_EQ(info->master, brIdx);
  EXPECT_EQ(info->owner(), "lab1");
  EXPECT_TRUE(info->up());

  ASSERT_TRUE(link::remove(sock(), "h1"));
  EXPECT_TRUE(ipLink("t-link", "h1").is_null());
  EXPECT_TRUE(ipLink("t-peer", "eth1").is_null());
}

// A peer without an IPv6 link-local address sends no DAD, MLD or router solicitation (which a
// bridge floods to every port); a peer by default keeps the kernel's behaviour.
TEST_F(Link, VethPeerWithoutIpv6LinkLocal) {
  auto& peerNs = spaces_.add("t-peer");
  link::VethSpec quiet;
  quiet.link = common("h1", 0, std::nullopt, {}, true);
  quiet.peer = peer("eth1", &peerNs, 0, std::nullopt, true);
  quiet.peer.ipv6LinkLocal = false;
  link::VethSpec normal;
  normal.link = common("h2", 0, std::nullopt, {}, true);
  normal.peer = peer("eth2", &peerNs, 0, std::nullopt, true);
  std::vector<link::Spec> specs{quiet, normal};
  for (auto& r : link::createMany(sock(), specs)) ASSERT_TRUE(r) << r.error().what();

  auto q = ipLink("t-peer", "eth1");
  EXPECT_EQ(q["inet6_addr_gen_mode"], "none");
  EXPECT_TRUE(hasFlag(q, "UP"));
  EXPECT_EQ(ipJson("t-peer", "-6 addr show dev eth1")[0]["addr_info"].size(), 0u);
  auto n = ipLink("t-peer", "eth2");
  EXPECT_NE(n["inet6_addr_gen_mode"], "none");
  auto addrs = ipJson("t-peer", "-6 addr show dev eth2")[0]["addr_info"];
  ASSERT_EQ(addrs.size(), 1u);
  EXPECT_EQ(addrs[0]["scope"], "link");
}


// A bridge port made without an IPv6 link-local still comes up, joins its bridge and carries
// its mark; it has no IPv6 address and puts no unicast route in the host's table. (The lab examples'
// traffic tests cross such ports.)
TEST_F(Link, BridgePortWithoutIpv6LinkLocal) {
  auto& peerNs = spaces_.add("t-peer");
  link::BridgeSpec br;
  br.link = common("br0", 0, std::nullopt, {}, true);
  ASSERT_TRUE(link::create(sock(), br));
  link::VethSpec v;
  v.link = common("h1", 0, std::nullopt, "br0", true, "lab1");
  v.link.ipv6LinkLocal = false;
  v.peer = peer("eth1", &peerNs, 0, std::nullopt, true);
  ASSERT_TRUE(link::create(sock(), v));

  auto h = ipLink("t-link", "h1");
  EXPECT_EQ(h["inet6_addr_gen_mode"], "none");
  EXPECT_TRUE(hasFlag(h, "UP"));
  EXPECT_EQ(h["master"], "br0");
  EXPECT_EQ(h["ifalias"], "netctl:lab1");
  EXPECT_EQ(ipLink("t-peer", "eth1")["operstate"], "UP");  // both ends up: carrier
  EXPECT_EQ(ipJson("t-link", "-6 addr show dev h1")[0]["addr_info"].size(), 0u);
  // Only the multicast route that every IPv6 device gets: no fe80::/64, no local address.
  for (const auto& r : ipJson("t-link", "-6 route show table all dev h1")) EXPECT_EQ(r["type"], "multicast") << r;
}

// The bridge's own announcements of a port's STP state (RTM_NEWLINK, family AF_BRIDGE), read
// from a socket subscribed to RTNLGRP_LINK in ns until `quiet` passes without one.
std::vector<int> portStates(int fd, int port, std::chrono::milliseconds quiet) {
  std::vector<int> states;
  std::vector<char> buf(1 << 16);
  pollfd p{fd, POLLIN, 0};
  while (::poll(&p, 1, static_cast<int>(quiet.count())) > 0) {
    ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n < 0 && errno == ENOBUFS) ADD_FAILURE() << "the listener lost notifications";
    if (n <= 0) break;
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); mnl_nlmsg_ok(h, static_cast<int>(n));
         h = mnl_nlmsg_next(h, reinterpret_cast<int*>(&n))) {
      auto* ifm = static_cast<ifinfomsg*>(mnl_nlmsg_get_payload(h));
      if (h->nlmsg_type != RTM_NEWLINK || ifm->ifi_family != AF_BRIDGE || ifm->ifi_index != port) continue;
      rtattr::Table<IFLA_MAX> tb(h, sizeof(*ifm));
      if (!tb[IFLA_PROTINFO]) continue;
      rtattr::Table<IFLA_BRPORT_MAX> brport(tb[IFLA_PROTINFO]);
      if (brport[IFLA_BRPORT_STATE]) states.push_back(brport.u8(IFLA_BRPORT_STATE));
    }
  }
  return states;
}

// A port brought up before its peer is enabled, disabled when the kernel sees no carrier, and
// enabled again: each pass walks all of the bridge's ports and logs a line. The peer comes up
// first, so the port is never disabled on the way.
TEST_F(Link, BridgePortIsEnabledOnce) {
  auto& peerNs = spaces_.add("t-peer");
  link::BridgeSpec br;
  br.link = common("br0", 0, std::nullopt, {}, true);
  ASSERT_TRUE(link::create(sock(), br));
  auto listener = netns::runIn(*ns_, []() -> Result<UniqueFd> {
    UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    if (!fd) return errnoError("socket");
    // Bound, so it has a port id: the kernel skips port id 0 in broadcasts not sent as echoes.
    sockaddr_nl sa{.nl_family = AF_NETLINK, .nl_pad = 0, .nl_pid = 0, .nl_groups = 0};
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return errnoError("bind");
    int group = RTNLGRP_LINK, size = 1 << 22;
    if (::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0) return errnoError("SO_RCVBUFFORCE");
    if (::setsockopt(fd.get(), SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) != 0)
      return errnoError("joining RTNLGRP_LINK");
    return fd;
  });
  ASSERT_TRUE(listener) << listener.error().what();
  for (bool linkLocal : {true, false}) {
    SCOPED_TRACE(linkLocal ? "with an IPv6 link-local" : "without one");
    link::VethSpec v;
    v.link = common("h1", 0, std::nullopt, "br0", true, "lab1");
    v.link.ipv6LinkLocal = linkLocal;
    v.peer = peer("eth1", &peerNs, 0, std::nullopt, true);
    auto idx = link::create(sock(), v);
    ASSERT_TRUE(idx) << idx.error().what();
    // A carrier loss without IFF_UP reaches the bridge up to a second late (linkwatch).
    auto states = portStates(listener->get(), *idx, std::chrono::milliseconds(1500));
    // Disabled while it joins the bridge down, then forwarding, and never disabled again.
    auto on = std::find(states.begin(), states.end(), BR_STATE_FORWARDING);
    ASSERT_NE(on, states.end()) << ::testing::PrintToString(states);
    EXPECT_EQ(std::count(on, states.end(), BR_STATE_DISABLED), 0) << ::testing::PrintToString(states);
    EXPECT_EQ(states.back(), BR_STATE_FORWARDING);
    EXPECT_EQ(ipLink("t-link", "h1")["linkinfo"]["info_slave_data"]["state"], "forwarding");
    ASSERT_TRUE(link::remove(sock(), "h1"));
  }
}

TEST_F(Link, ExistingNameIsAConflictAndIsNotMarked) {
  link::VethSpec v;
  v.link = common("h1");
  v.peer = peer("p1");
  ASSERT_TRUE(link::create(sock(), v));
  v.link.owner = "intruder";
  v.peer.name = "p2";
  auto again = link::create(sock(), v);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind(), Error::Kind::kConflict);
  EXPECT_EQ(again.error().errnum(), EEXIST);
  EXPECT_NE(again.error().what().find("creating veth h1 (peer p2 in netns"), std::string::npos) << again.error().what();
  EXPECT_NE(again.error().what().find("File exists (EEXIST)"), std::string::npos) << again.error().what();
  auto j = ipLink("t-link", "h1");
  EXPECT_FALSE(j.contains("ifalias"));
}

TEST_F(Link, MacvlanModes) {
  auto& other = spaces_.add("t-mv");
  // Parents: the ends of veth pairs, one per mode (passthru wants a parent of its own).
  const std::pair<link::MacvlanSpec::Mode, const char*> modes[] = {
      {link::MacvlanSpec::Mode::kBridge, "bridge"},
      {link::MacvlanSpec::Mode::kPrivate, "private"},
      {link::MacvlanSpec::Mode::kVepa, "vepa"},
      {link::MacvlanSpec::Mode::kPassthru, "passthru"},
  };
  int n = 0;
  for (auto [mode, text] : modes) {
    std::string parent = fmt::format("par{}", n), peerName = fmt::format("pp{}", n), name = fmt::format("mv{}", n);
    link::VethSpec v;
    v.link = common(parent, 0, std::nullopt, {}, true);
    v.peer = peer(peerName, nullptr, 0, std::nullopt, true);
    ASSERT_TRUE(link::create(sock(), v));
    link::MacvlanSpec mv;
    mv.link = common(name, 1400, std::nullopt, {}, true, "lab2");
    if (mode != link::MacvlanSpec::Mode::kPassthru) mv.link.mac = mac("02:00:00:00:01:01");
    mv.parent = parent;
    mv.mode = mode;
    auto idx = link::create(sock(), mv);
    ASSERT_TRUE(idx) << idx.error().what();
    auto j = ipLink("t-link", name);
    ASSERT_FALSE(j.is_null()) << name;
    EXPECT_EQ(j["ifindex"], *idx);
    EXPECT_EQ(j["linkinfo"]["info_kind"], "macvlan");
    EXPECT_EQ(j["linkinfo"]["info_data"]["mode"], text);
    EXPECT_EQ(j["link"], parent);
    EXPECT_EQ(j["mtu"], 1400);
    if (mode != link::MacvlanSpec::Mode::kPassthru) {
      EXPECT_EQ(j["address"], "02:00:00:00:01:01");
    }
    EXPECT_TRUE(hasFlag(j, "UP"));
    EXPECT_EQ(j["ifalias"], "netctl:lab2");
    ASSERT_TRUE(link::remove(sock(), name));
    EXPECT_TRUE(ipLink("t-link", name).is_null());
    ++n;
  }

  // Straight into another netns (as a container's interface), marked there.
  link::MacvlanSpec mv;
  mv.link = common("eth0", 0, std::nullopt, {}, true, "lab2");
  mv.parent = "par0";
  mv.netns = &other;
  auto idx = link::create(sock(), mv);
  ASSERT_TRUE(idx) << idx.error().what();
  auto j = ipLink("t-mv", "eth0");
  ASSERT_FALSE(j.is_null());
  EXPECT_EQ(j["ifindex"], *idx);
  EXPECT_EQ(j["linkinfo"]["info_kind"], "macvlan");
  EXPECT_EQ(j["ifalias"], "netctl:lab2");
  EXPECT_TRUE(ipLink("t-link", "eth0").is_null());
}

TEST_F(Link, Vxlan) {
  link::VethSpec v;
  v.link = common("under", 0, std::nullopt, {}, true);
  v.peer = peer("under-p", nullptr, 0, std::nullopt, true);
  ASSERT_TRUE(link::create(sock(), v));
  // A vxlan is typically a bridge port (a lab's segment stretched to another host).
  link::BridgeSpec br;
  br.link = common("br-vx", 0, std::nullopt, {}, true);
  ASSERT_TRUE(link::create(sock(), br));
  link::VxlanSpec x;
  x.link = common("vx0", 1400, mac("02:00:00:00:02:01"), "br-vx", true, "lab3");
  x.vni = 4242;
  x.local = ip::Address::parse("10.1.0.1").value();
  x.remote = ip::Address::parse("10.1.0.2").value();
  x.dstPort = 4790;
  x.parent = "under";
  x.learning = false;
  auto idx = link::create(sock(), x);
  ASSERT_TRUE(idx) << idx.error().what();
  auto j = ipLink("t-link", "vx0");
  ASSERT_FALSE(j.is_null());
  EXPECT_EQ(j["ifindex"], *idx);
  auto d = j["linkinfo"]["info_data"];
  EXPECT_EQ(j["linkinfo"]["info_kind"], "vxlan");
  EXPECT_EQ(d["id"], 4242);
  EXPECT_EQ(d["local"], "10.1.0.1");
  EXPECT_EQ(d["remote"], "10.1.0.2");
  EXPECT_EQ(d["port"], 4790);
  EXPECT_EQ(d["link"], "under");
  EXPECT_EQ(d["learning"], false);
  EXPECT_EQ(j["master"], "br-vx");
  EXPECT_EQ(j["mtu"], 1400);
  EXPECT_EQ(j["address"], "02:00:00:00:02:01");
  EXPECT_TRUE(hasFlag(j, "UP"));
  EXPECT_EQ(j["ifalias"], "netctl:lab3");
  ASSERT_TRUE(link::remove(sock(), "vx0"));
  EXPECT_TRUE(ipLink("t-link", "vx0").is_null());

  link::VxlanSpec bad;
  bad.link.name = "vx1";
  bad.vni = 0;
  auto r = link::create(sock(), bad);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), Error::Kind::kInvalidInput);
}

TEST_F(Link, DummyNamesTheMissingKernelOption) {
  link::DummySpec d;
  d.link = common("dum0", 1400, std::nullopt, {}, true, "lab4");
  auto idx = link::create(sock(), d);
  if (idx) {
    // A kernel with CONFIG_DUMMY: then it must really work.
    auto j = ipLink("t-link", "dum0");
    ASSERT_FALSE(j.is_null());
    EXPECT_EQ(j["linkinfo"]["info_kind"], "dummy");
    EXPECT_EQ(j["mtu"], 1400);
    EXPECT_EQ(j["ifalias"], "netctl:lab4");
    ASSERT_TRUE(link::remove(sock(), "dum0"));
    EXPECT_TRUE(ipLink("t-link", "dum0").is_null());
    return;
  }
  EXPECT_EQ(idx.error().kind(), Error::Kind::kUnsupported) << idx.error().what();
  EXPECT_NE(idx.error().what().find("CONFIG_DUMMY"), std::string::npos) << idx.error().what();
  EXPECT_NE(idx.error().what().find("creating dummy dum0"), std::string::npos) << idx.error().what();
  EXPECT_TRUE(ipLink("t-link", "dum0").is_null());
}

TEST_F(Link, ChangeUpDownMtuMacNameMaster) {
  link::BridgeSpec br;
  br.link = common("br0", 0, std::nullopt, {}, true);
  ASSERT_TRUE(link::create(sock(), br));
  link::VethSpec v;
  v.link = common("h1");
  v.peer = peer("p1");
  ASSERT_TRUE(link::create(sock(), v));

  ASSERT_TRUE(link::setUp(sock(), "h1"));
  EXPECT_TRUE(hasFlag(ipLink("t-link", "h1"), "UP"));
  ASSERT_TRUE(link::setUp(sock(), "h1", false));
  EXPECT_FALSE(hasFlag(ipLink("t-link", "h1"), "UP"));
  ASSERT_TRUE(link::setMtu(sock(), "h1", 1300));
  EXPECT_EQ(ipLink("t-link", "h1")["mtu"], 1300);
  ASSERT_TRUE(link::setMac(sock(), "h1", mac("02:00:00:00:03:03")));
  EXPECT_EQ(ipLink("t-link", "h1")["address"], "02:00:00:00:03:03");
  ASSERT_TRUE(link::setMaster(sock(), "h1", "br0"));
  EXPECT_EQ(ipLink("t-link", "h1")["master"], "br0");
  ASSERT_TRUE(link::setMaster(sock(), "h1", {}));
  EXPECT_FALSE(ipLink("t-link", "h1").contains("master"));
  ASSERT_TRUE(link::rename(sock(), "h1", "h1-new"));
  EXPECT_TRUE(ipLink("t-link", "h1").is_null());
  EXPECT_FALSE(ipLink("t-link", "h1-new").is_null());
  ASSERT_TRUE(link::addAltName(sock(), "h1-new", "netctl-lab1-h1"));
  auto j = ipLink("t-link", "h1-new");
  ASSERT_TRUE(j.contains("altnames"));
  EXPECT_EQ(j["altnames"][0], "netctl-lab1-h1");
  auto info = link::get(sock(), "netctl-lab1-h1");  // altnames resolve too
  ASSERT_TRUE(info) << info.error().what();
  EXPECT_EQ(info->name, "h1-new");
  ASSERT_EQ(info->altnames.size(), 1u);
  EXPECT_EQ(info->altnames[0], "netctl-lab1-h1");
  ASSERT_TRUE(link::setOwner(sock(), "h1-new", "lab9"));
  EXPECT_EQ(ipLink("t-link", "h1-new")["ifalias"], "netctl:lab9");

  auto missing = link::setMtu(sock(), "nope", 1400);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().what().find("nope"), std::string::npos);
  auto none = link::get(sock(), "nope");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().kind(), Error::Kind::kNotFound);
}

TEST_F(Link, ListOwnedIsOneDumpOfMarkedLinks) {
  std::vector<link::Spec> specs;
  for (int i = 0; i < 3; ++i) {
    link::VethSpec v;
    v.link = common(fmt::format("a{}", i), 0, std::nullopt, {}, false, "labA");
    v.peer = peer(fmt::format("a{}p", i));
    specs.push_back(v);
  }
  link::BridgeSpec b;
  b.link = common("brB", 0, std::nullopt, {}, false, "labB");
  specs.push_back(b);
  link::VethSpec v;
  v.link = common("free");
  v.peer = peer("freep");
  specs.push_back(v);
  auto results = link::createMany(sock(), specs);
  for (auto& r : results) ASSERT_TRUE(r) << r.error().what();

  auto owned = link::listOwned(sock(), "labA");
  ASSERT_TRUE(owned) << owned.error().what();
  std::vector<std::string> names;
  for (auto& i : *owned) names.push_back(i.name);
  std::sort(names.begin(), names.end());
  // The peers (here in the same netns) carry the mark too.
  EXPECT_EQ(names, (std::vector<std::string>{"a0", "a0p", "a1", "a1p", "a2", "a2p"}));
  // Cross-check with ip: the same six carry the alias.
  auto all = testing::ipJson("t-link", "link show");
  int marked = 0;
  for (auto& l : all)
    if (l.value("ifalias", "") == "netctl:labA") ++marked;
  EXPECT_EQ(marked, 6);
  auto b2 = link::listOwned(sock(), "labB");
  ASSERT_TRUE(b2);
  ASSERT_EQ(b2->size(), 1u);
  EXPECT_EQ((*b2)[0].name, "brB");
  EXPECT_EQ((*b2)[0].kind, "bridge");

  // Both ends of the pairs are in the owner's interface group, as the kernel reports it.
  for (const char* n : {"a0", "a0p"}) EXPECT_EQ(ipLink("t-link", n)["group"], std::to_string(link::ownerGroup("labA"))) << n;
  EXPECT_EQ(ipLink("t-link", "free")["group"], "default");

  // Cleanup by mark touches only what the owner has (one group deletion here).
  auto removed = link::removeOwned(sock(), "labA");
  ASSERT_TRUE(removed) << removed.error().what();
  EXPECT_EQ(*removed, 6u);  // every marked link is gone
  for (const char* n : {"a0", "a0p", "a1", "a1p", "a2", "a2p"}) EXPECT_TRUE(ipLink("t-link", n).is_null()) << n;
  EXPECT_FALSE(ipLink("t-link", "brB").is_null());
  EXPECT_FALSE(ipLink("t-link", "free").is_null());
}

// A link that is in the owner's group but not the owner's (someone's own choice of group, or
// a hash collision) survives: removeOwned then deletes the marked links one by one.
TEST_F(Link, RemoveOwnedSparesAForeignLinkInTheGroup) {
  link::VethSpec v;
  v.link = common("o1", 0, std::nullopt, {}, false, "labC");
  v.peer = peer("o1p");
  ASSERT_TRUE(link::create(sock(), v));
  link::BridgeSpec b;
  b.link = common("foreign");
  ASSERT_TRUE(link::create(sock(), b));
  auto [rc, out] = testing::run(fmt::format("ip -n t-link link set foreign group {}", link::ownerGroup("labC")));
  ASSERT_EQ(rc, 0) << out;

  auto removed = link::removeOwned(sock(), "labC");
  ASSERT_TRUE(removed) << removed.error().what();
  EXPECT_EQ(*removed, 2u);
  EXPECT_TRUE(ipLink("t-link", "o1").is_null());
  EXPECT_TRUE(ipLink("t-link", "o1p").is_null());
  EXPECT_FALSE(ipLink("t-link", "foreign").is_null());
}

TEST_F(Link, MoveToAnotherNetns) {
  auto& other = spaces_.add("t-move");
  link::VethSpec v;
  v.link = common("mv-a");
  v.peer = peer("mv-b");
  ASSERT_TRUE(link::create(sock(), v));
  ASSERT_TRUE(link::moveTo(sock(), "mv-b", other));
  EXPECT_TRUE(ipLink("t-link", "mv-b").is_null());
  auto j = ipLink("t-move", "mv-b");
  ASSERT_FALSE(j.is_null());
  EXPECT_EQ(j["linkinfo"]["info_kind"], "veth");
  // The first end now names its peer's netns by the id the kernel gave it.
  auto info = link::get(sock(), "mv-a");
  ASSERT_TRUE(info);
  EXPECT_GE(info->linkNetnsId, 0);
}

TEST_F(Link, BridgeHoldsAtMost1023Ports) {
  link::BridgeSpec br;
  br.link = common("big");
  int brIdx = link::create(sock(), br).value();
  std::vector<link::Spec> specs;
  for (int i = 0; i < 1023; ++i) {
    link::VethSpec v;
    v.link = common(fmt::format("b{}", i), 0, std::nullopt, brIdx);
    v.peer = peer(fmt::format("b{}p", i));
    specs.push_back(v);
  }
  auto results = link::createMany(sock(), specs);
  for (auto& r : results) ASSERT_TRUE(r) << r.error().what();
  auto ports = testing::ipJson("t-link", "link show master big");
  ASSERT_TRUE(ports.is_array());
  EXPECT_EQ(ports.size(), 1023u);

  link::VethSpec last;
  last.link = common("b1023", 0, std::nullopt, "big");
  last.peer = peer("b1023p");
  auto full = link::create(sock(), last);
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().errnum(), EXFULL);
  EXPECT_NE(full.error().what().find("at most 1023 ports"), std::string::npos) << full.error().what();
  EXPECT_NE(full.error().what().find("creating veth b1023"), std::string::npos) << full.error().what();
  EXPECT_TRUE(ipLink("t-link", "b1023").is_null());  // nothing left half made
}

}  // namespace
}  // namespace netctl

namespace netctl {
namespace {

TEST(LinkPort, HairpinAndPromiscReadBack) {
  testing::Namespaces spaces;
  auto& ns = spaces.add("t-hairpin");
  auto s = nl::Socket::openIn(ns).value();
  link::BridgeSpec br;
  br.link = testing::common("brh", 0, std::nullopt, {}, true);
  ASSERT_TRUE(link::create(s, br));
  link::VethSpec v;
  v.link = testing::common("porth", 0, std::nullopt, link::Ref("brh"), true);
  v.peer = testing::peer("peerh");
  ASSERT_TRUE(link::create(s, v));

  ASSERT_TRUE(link::setHairpin(s, "porth")) << "hairpin on a bridge port";
  auto j = testing::ipLink("t-hairpin", "porth");
  EXPECT_EQ(j["linkinfo"]["info_slave_data"]["hairpin"], true) << j.dump();
  ASSERT_TRUE(link::setHairpin(s, "porth", false));
  EXPECT_EQ(testing::ipLink("t-hairpin", "porth")["linkinfo"]["info_slave_data"]["hairpin"], false);

  ASSERT_TRUE(link::setPromisc(s, "brh"));
  EXPECT_EQ(testing::ipLink("t-hairpin", "brh")["promiscuity"], 1);
  ASSERT_TRUE(link::setPromisc(s, "brh", false));
  EXPECT_EQ(testing::ipLink("t-hairpin", "brh")["promiscuity"], 0);

  auto notPort = link::setHairpin(s, "brh");
  EXPECT_FALSE(notPort) << "a bridge is not a bridge port";
}

}  // namespace
}  // namespace netctl
