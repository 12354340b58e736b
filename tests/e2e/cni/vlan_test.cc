// Bridge mode `vlan`: filtering on the bridge, the container's port with the VLAN as PVID,
// egress untagged, read back with `ip -d` and `bridge -j vlan`; containers in one VLAN reach
// each other, a container in another VLAN on the same bridge does not. On a kernel without
// CONFIG_BRIDGE_VLAN_FILTERING the ADD fails with code 104 naming the option and leaves
// nothing behind (no port, no address reservation), and the rest of the test skips.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "netctl/net/netns.h"
#include "support/run.h"
#include "support/sandbox.h"

namespace {

using netctl::testing::Output;
using netctl::testing::run;
using netctl::testing::runWith;
using nlohmann::json;
namespace fs = std::filesystem;

std::string root() { return netctl::sandbox::info().stateRoot; }

Output cni(const std::string& cmd, const json& conf, const std::string& id) {
  return runWith({NETCTL_BINARY},
                 {"CNI_COMMAND=" + cmd, "CNI_PATH=/usr/lib/cni", "CNI_CONTAINERID=" + id, "CNI_NETNS=/run/netns/" + id,
                  "CNI_IFNAME=eth0"},
                 conf.dump());
}

json conf(int vlan, bool gateway) {
  return {{"cniVersion", "1.0.0"},
          {"name", "vl"},
          {"type", "netctl"},
          {"bridge", "br-vl"},
          {"vlan", vlan},
          {"isGateway", gateway},
          {"ipam", {{"type", "host-local"}, {"dataDir", root() + "/ipam"}, {"ranges", {{{{"subnet", "10.98.0.0/24"}}}}}}}};
}

size_t reservations() {
  size_t n = 0;
  if (!fs::exists(root() + "/ipam/vl")) return 0;
  for (const auto& e : fs::directory_iterator(root() + "/ipam/vl")) {
    auto f = e.path().filename().string();
    if (f != "lock" && !f.starts_with("last_reserved_ip")) ++n;
  }
  return n;
}

std::string addressOf(const Output& add) {
  auto j = json::parse(add.out, nullptr, false);
  std::string a = j["ips"][0]["address"];
  return a.substr(0, a.find('/'));
}

std::string hostEnd(const Output& add) {
  auto j = json::parse(add.out, nullptr, false);
  for (const auto& i : j["interfaces"])
    if (i["name"].get<std::string>().starts_with("veth")) return i["name"];
  return "";
}

// When the kernel refused: the reason (code 104 naming the option), checked to be clean.
std::string refused(const Output& o, const char* option) {
  auto j = json::parse(o.out, nullptr, false);
  if (o.exitCode == 0 || !j.is_object() || j.value("code", 0) != 104) return "";
  std::string msg = j.value("msg", "");
  if (msg.find(option) == std::string::npos) return "";
  return msg;
}

bool ping(const std::string& from, const std::string& to) {
  return run({"ip", "netns", "exec", from, "ping", "-c1", "-W1", to}).exitCode == 0;
}

TEST(CniVlan, PortPvidUntaggedAndIsolation) {
  for (auto n : {"vl-a", "vl-b", "vl-c"}) ASSERT_TRUE(netctl::netns::createNamed(root(), n));
  Output a = cni("ADD", conf(100, false), "vl-a");
  if (std::string why = refused(a, "CONFIG_BRIDGE_VLAN_FILTERING"); !why.empty()) {
    // Nothing half-made: no port on the bridge, no address held, no interface in the netns.
    EXPECT_EQ(run({"ip", "link", "show", "master", "br-vl"}).out, "");
    EXPECT_EQ(reservations(), 0u);
    EXPECT_NE(run({"ip", "-n", "vl-a", "link", "show", "eth0"}).exitCode, 0);
    GTEST_SKIP() << "the kernel lacks CONFIG_BRIDGE_VLAN_FILTERING: " << why;
  }
  ASSERT_EQ(a.exitCode, 0) << a.out;
  Output b = cni("ADD", conf(100, false), "vl-b");
  Output c = cni("ADD", conf(200, false), "vl-c");
  ASSERT_EQ(b.exitCode, 0) << b.out;
  ASSERT_EQ(c.exitCode, 0) << c.out;

  json br = json::parse(run({"ip", "-j", "-d", "link", "show", "br-vl"}).out, nullptr, false);
  EXPECT_EQ(br[0]["linkinfo"]["info_data"]["vlan_filtering"], 1) << br.dump();
  json v = json::parse(run({"bridge", "-j", "vlan", "show", "dev", hostEnd(a)}).out, nullptr, false);
  bool pvid = false;
  for (const auto& port : v)
    for (const auto& e : port["vlans"])
      if (e["vlan"] == 100) {
        auto flags = e.value("flags", json::array()).dump();
        pvid = flags.find("PVID") != std::string::npos && flags.find("Egress Untagged") != std::string::npos;
      }
  EXPECT_TRUE(pvid) << v.dump();

  EXPECT_TRUE(ping("vl-a", addressOf(b))) << "same VLAN";
  EXPECT_FALSE(ping("vl-a", addressOf(c))) << "across VLANs";

  EXPECT_EQ(cni("DEL", conf(100, false), "vl-a").exitCode, 0);
  EXPECT_EQ(cni("DEL", conf(100, false), "vl-b").exitCode, 0);
  EXPECT_EQ(cni("DEL", conf(200, false), "vl-c").exitCode, 0);
  EXPECT_EQ(reservations(), 0u);
}

TEST(CniVlan, GatewayOnTheVlanInterface) {
  ASSERT_TRUE(netctl::netns::createNamed(root(), "vg-a"));
  json cf = conf(300, true);
  cf["bridge"] = "br-vg";
  cf["name"] = "vg";
  Output a = runWith({NETCTL_BINARY},
                     {"CNI_COMMAND=ADD", "CNI_PATH=/usr/lib/cni", "CNI_CONTAINERID=vg-a", "CNI_NETNS=/run/netns/vg-a",
                      "CNI_IFNAME=eth0"},
                     cf.dump());
  for (auto option : {"CONFIG_BRIDGE_VLAN_FILTERING", "CONFIG_VLAN_8021Q"})
    if (std::string why = refused(a, option); !why.empty()) {
      EXPECT_EQ(run({"ip", "link", "show", "master", "br-vg"}).out, "");
      EXPECT_NE(run({"ip", "-n", "vg-a", "link", "show", "eth0"}).exitCode, 0);
      GTEST_SKIP() << "the kernel lacks " << option << ": " << why;
    }
  ASSERT_EQ(a.exitCode, 0) << a.out;
  json l = json::parse(run({"ip", "-j", "-d", "addr", "show", "br-vg.300"}).out, nullptr, false);
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0]["linkinfo"]["info_kind"], "vlan");
  EXPECT_NE(l.dump().find("10.98.0.1"), std::string::npos) << l.dump();
  EXPECT_TRUE(ping("vg-a", "10.98.0.1"));
  EXPECT_EQ(runWith({NETCTL_BINARY},
                    {"CNI_COMMAND=DEL", "CNI_PATH=/usr/lib/cni", "CNI_CONTAINERID=vg-a", "CNI_NETNS=/run/netns/vg-a",
                     "CNI_IFNAME=eth0"},
                    cf.dump())
                .exitCode,
            0);
}

}  // namespace
