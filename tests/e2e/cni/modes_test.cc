// CNI macvlan and ptp modes through the binary, read back with `ip` and traffic.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "netctl/net/netns.h"
#include "support/run.h"
#include "support/sandbox.h"

namespace {

using netctl::testing::Output;
using netctl::testing::run;
using netctl::testing::runWith;
using nlohmann::json;

std::string root() { return netctl::sandbox::info().stateRoot; }

Output cni(const std::string& cmd, const json& conf, const std::string& id, const std::string& ns) {
  return runWith({NETCTL_BINARY},
                 {"CNI_COMMAND=" + cmd, "CNI_PATH=/usr/lib/cni", "CNI_CONTAINERID=" + id,
                  "CNI_NETNS=/run/netns/" + ns, "CNI_IFNAME=eth0"},
                 conf.dump());
}
json ipam(const std::string& subnet) {
  return {{"type", "host-local"}, {"dataDir", root() + "/ipam"}, {"ranges", {{{{"subnet", subnet}}}}},
          {"routes", {{{"dst", "0.0.0.0/0"}}}}};
}
std::string addressOf(const Output& add) {
  auto j = json::parse(add.out, nullptr, false);
  if (!j.is_object() || !j.contains("ips")) return "";
  std::string a = j["ips"][0]["address"];
  return a.substr(0, a.find('/'));
}
bool sh(const std::string& cmd) { return run({"sh", "-c", cmd}).exitCode == 0; }
json linkDetails(const std::string& ns, const std::string& dev) {
  auto j = json::parse(run({"ip", "-d", "-j", "-n", ns, "link", "show", "dev", dev}).out, nullptr, false);
  return j.is_array() && !j.empty() ? j[0] : json::object();
}

TEST(CniModes, MacvlanMasterModeMtu) {
  // No dummy in this kernel: a veth end (up, with carrier) serves as the master.
  ASSERT_TRUE(sh("ip link add mvm type veth peer name mvm-p && ip link set mvm up && ip link set mvm-p up"));
  ASSERT_TRUE(netctl::netns::createNamed(root(), "mv1"));
  ASSERT_TRUE(netctl::netns::createNamed(root(), "mv2"));
  ASSERT_TRUE(netctl::netns::createNamed(root(), "mv3"));
  json c = {{"cniVersion", "1.0.0"}, {"name", "mvnet"}, {"type", "macvlan"}, {"master", "mvm"},
            {"mode", "bridge"}, {"mtu", 1400}, {"ipam", ipam("10.93.0.0/24")}};
  Output a1 = cni("ADD", c, "mv1", "mv1");
  Output a2 = cni("ADD", c, "mv2", "mv2");
  ASSERT_EQ(a1.exitCode, 0) << a1.out;
  ASSERT_EQ(a2.exitCode, 0) << a2.out;
  auto d = linkDetails("mv1", "eth0");
  EXPECT_EQ(d["mtu"], 1400);
  EXPECT_EQ(d["linkinfo"]["info_kind"], "macvlan");
  EXPECT_EQ(d["linkinfo"]["info_data"]["mode"], "bridge");
  auto mac = json::parse(a1.out)["interfaces"][0]["mac"];
  EXPECT_EQ(d["address"], mac);
  EXPECT_TRUE(sh("ip netns exec mv1 ping -c1 -W2 " + addressOf(a2)));
  // Another mode.
  json p = c;
  p["name"] = "mvpriv";
  p["mode"] = "private";
  p["ipam"] = ipam("10.94.0.0/24");
  Output a3 = cni("ADD", p, "mv3", "mv3");
  ASSERT_EQ(a3.exitCode, 0) << a3.out;
  EXPECT_EQ(linkDetails("mv3", "eth0")["linkinfo"]["info_data"]["mode"], "private");
  // A missing master: the ADD fails and leaves nothing.
  json bad = c;
  bad["master"] = "nosuch";
  ASSERT_TRUE(netctl::netns::createNamed(root(), "mv4"));
  Output a4 = cni("ADD", bad, "mv4", "mv4");
  EXPECT_NE(a4.exitCode, 0);
  EXPECT_NE(run({"ip", "-n", "mv4", "link", "show", "eth0"}).exitCode, 0);
  for (auto [id, conf] : {std::pair{"mv1", c}, {"mv2", c}, {"mv3", p}}) {
    EXPECT_EQ(cni("DEL", conf, id, id).exitCode, 0);
    EXPECT_NE(run({"ip", "-n", id, "link", "show", "eth0"}).exitCode, 0);
  }
}

TEST(CniModes, PtpMtuIpMasqAndRoutes) {
  for (const char* n : {"pt1", "pt2", "pt-out"}) ASSERT_TRUE(netctl::netns::createNamed(root(), n));
  json c = {{"cniVersion", "1.0.0"}, {"name", "ptpnet"}, {"type", "ptp"}, {"mtu", 1300},
            {"ipMasq", true}, {"ipam", ipam("10.95.0.0/24")}};
  Output a1 = cni("ADD", c, "pt1", "pt1");
  Output a2 = cni("ADD", c, "pt2", "pt2");
  ASSERT_EQ(a1.exitCode, 0) << a1.out;
  ASSERT_EQ(a2.exitCode, 0) << a2.out;
  std::string ip1 = addressOf(a1), ip2 = addressOf(a2);
  EXPECT_EQ(linkDetails("pt1", "eth0")["mtu"], 1300);
  EXPECT_NE(run({"ip", "-n", "pt1", "addr", "show", "eth0"}).out.find(ip1 + "/32"), std::string::npos);
  EXPECT_NE(run({"ip", "-n", "pt1", "route", "show", "default"}).out.find("via 10.95.0.1"), std::string::npos);
  EXPECT_NE(run({"ip", "route", "show", ip1}).out.find("dev veth"), std::string::npos);
  ASSERT_TRUE(sh("ip link add vpo type veth peer name eth0 netns pt-out && ip addr add 192.168.52.1/24 dev vpo && "
                 "ip link set vpo up && ip -n pt-out addr add 192.168.52.2/24 dev eth0 && ip -n pt-out link set eth0 up"));
  EXPECT_TRUE(sh("ip netns exec pt1 ping -c1 -W2 " + ip2)) << "ptp containers reach each other through the host";
  EXPECT_TRUE(sh("ip netns exec pt1 ping -c1 -W2 192.168.52.2")) << "out through ipMasq";
  EXPECT_NE(run({"nft", "list", "table", "inet", "netctl"}).out.find("10.95.0.0/24"), std::string::npos);
  EXPECT_EQ(cni("DEL", c, "pt1", "pt1").exitCode, 0);
  EXPECT_EQ(cni("DEL", c, "pt2", "pt2").exitCode, 0);
  EXPECT_EQ(run({"ip", "route", "show", ip1}).out, "");
  EXPECT_NE(run({"ip", "-n", "pt1", "link", "show", "eth0"}).exitCode, 0);
}

}  // namespace
