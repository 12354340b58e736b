// CNI traffic and concurrency: containers attached by the netctl binary talk to each other,
// reach an "outside" netns only through ipMasq, are reachable on a mapped port; 100 parallel
// ADDs and DELs into one network.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <string>
#include <thread>
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
namespace fs = std::filesystem;

std::string root() { return netctl::sandbox::info().stateRoot; }

Output cni(const std::string& cmd, const std::string& conf, const std::string& id, const std::string& netns) {
  return runWith({NETCTL_BINARY},
                 {"CNI_COMMAND=" + cmd, "CNI_PATH=/usr/lib/cni", "CNI_CONTAINERID=" + id, "CNI_NETNS=" + netns,
                  "CNI_IFNAME=eth0"},
                 conf);
}

json conf(const std::string& net, const std::string& subnet, bool masq) {
  return {{"cniVersion", "1.0.0"},
          {"name", net},
          {"type", "netctl"},
          {"bridge", "br-" + net},
          {"isGateway", true},
          {"isDefaultGateway", true},
          {"ipMasq", masq},
          {"ipam", {{"type", "host-local"}, {"dataDir", root() + "/ipam"}, {"ranges", {{{{"subnet", subnet}}}}}}}};
}

std::string addressOf(const Output& add) {
  auto j = json::parse(add.out, nullptr, false);
  if (!j.is_object() || !j.contains("ips")) return "";
  std::string a = j["ips"][0]["address"];
  return a.substr(0, a.find('/'));
}

bool sh(const std::string& cmd) { return run({"sh", "-c", cmd}).exitCode == 0; }

TEST(CniTraffic, PingEachOtherMasqueradeOutAndMappedPort) {
  std::string net = "traf";
  ASSERT_TRUE(netctl::netns::createNamed(root(), "t-c1"));
  ASSERT_TRUE(netctl::netns::createNamed(root(), "t-c2"));
  ASSERT_TRUE(netctl::netns::createNamed(root(), "t-out"));
  auto c = conf(net, "10.90.0.0/24", true);
  auto c1 = c;
  c1["runtimeConfig"] = {{"portMappings", {{{"hostPort", 8080}, {"containerPort", 80}, {"protocol", "tcp"}}}}};
  c1["capabilities"] = {{"portMappings", true}};
  Output a1 = cni("ADD", c1.dump(), "tc1", "/run/netns/t-c1");
  Output a2 = cni("ADD", c.dump(), "tc2", "/run/netns/t-c2");
  ASSERT_EQ(a1.exitCode, 0) << a1.out;
  ASSERT_EQ(a2.exitCode, 0) << a2.out;
  std::string ip1 = addressOf(a1), ip2 = addressOf(a2);

  // "Outside": a netns on 192.168.50.0/24 with no route back to the container subnet.
  ASSERT_TRUE(sh("ip link add vout type veth peer name eth0 netns t-out && ip addr add 192.168.50.1/24 dev vout && "
                 "ip link set vout up && ip -n t-out addr add 192.168.50.2/24 dev eth0 && ip -n t-out link set eth0 up"));

  EXPECT_TRUE(sh("ip netns exec t-c1 ping -c1 -W2 " + ip2)) << "c1 -> c2";
  EXPECT_TRUE(sh("ip netns exec t-c2 ping -c1 -W2 " + ip1)) << "c2 -> c1";
  EXPECT_TRUE(sh("ip netns exec t-c1 ping -c1 -W2 192.168.50.2")) << "c1 -> outside through ipMasq";

  // The mapped port: outside connects to the host's 192.168.50.1:8080, lands on c1:80.
  std::thread server([&] {
    run({"ip", "netns", "exec", "t-c1", "python3", "-c",
         "import socket\ns=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);"
         "s.bind(('0.0.0.0',80));s.listen(1);s.settimeout(10)\nc,a=s.accept();c.sendall(b'hello '+a[0].encode());c.close()"});
  });
  Output got;
  for (int i = 0; i < 50; ++i) {
    got = run({"ip", "netns", "exec", "t-out", "python3", "-c",
               "import socket\ns=socket.create_connection(('192.168.50.1',8080),timeout=2);print(s.recv(100).decode())"});
    if (got.exitCode == 0) break;
    ::usleep(100000);
  }
  server.join();
  EXPECT_EQ(got.exitCode, 0) << got.err;
  EXPECT_NE(got.out.find("hello 192.168.50.2"), std::string::npos) << got.out;

  // The mapping is an element of netctl's map; DEL takes it out again.
  EXPECT_NE(run({"nft", "list", "map", "inet", "netctl", "anyport4"}).out.find(ip1 + " . 80"), std::string::npos);
  EXPECT_EQ(cni("DEL", c1.dump(), "tc1", "/run/netns/t-c1").exitCode, 0);
  EXPECT_EQ(run({"nft", "list", "map", "inet", "netctl", "anyport4"}).out.find(ip1), std::string::npos);
  EXPECT_EQ(cni("DEL", c.dump(), "tc2", "/run/netns/t-c2").exitCode, 0);
}

TEST(CniTraffic, NoMasqueradeMeansNoWayOut) {
  ASSERT_TRUE(netctl::netns::createNamed(root(), "n-c1"));
  ASSERT_TRUE(netctl::netns::createNamed(root(), "n-out"));
  auto c = conf("nomasq", "10.91.0.0/24", false);
  ASSERT_EQ(cni("ADD", c.dump(), "nc1", "/run/netns/n-c1").exitCode, 0);
  ASSERT_TRUE(sh("ip link add vout2 type veth peer name eth0 netns n-out && ip addr add 192.168.51.1/24 dev vout2 && "
                 "ip link set vout2 up && ip -n n-out addr add 192.168.51.2/24 dev eth0 && ip -n n-out link set eth0 up"));
  EXPECT_TRUE(sh("ip netns exec n-c1 ping -c1 -W1 10.91.0.1"));
  EXPECT_FALSE(sh("ip netns exec n-c1 ping -c1 -W1 192.168.51.2")) << "reached outside without ipMasq";
  EXPECT_EQ(cni("DEL", c.dump(), "nc1", "/run/netns/n-c1").exitCode, 0);
}

TEST(CniConcurrency, HundredParallelAddsThenDels) {
  constexpr int kN = 100;
  auto c = conf("many", "10.92.0.0/24", true).dump();
  for (int i = 0; i < kN; ++i) ASSERT_TRUE(netctl::netns::createNamed(root(), "m" + std::to_string(i)));
  std::vector<Output> adds(kN);
  {
    std::vector<std::thread> ts;
    for (int i = 0; i < kN; ++i)
      ts.emplace_back([&, i] { adds[i] = cni("ADD", c, "m" + std::to_string(i), "/run/netns/m" + std::to_string(i)); });
    for (auto& t : ts) t.join();
  }
  std::set<std::string> addrs;
  for (int i = 0; i < kN; ++i) {
    EXPECT_EQ(adds[i].exitCode, 0) << i << ": " << adds[i].out << adds[i].err;
    addrs.insert(addressOf(adds[i]));
  }
  EXPECT_EQ(addrs.size(), size_t(kN));
  // Kernel: 100 ports on the bridge, each container holds its reported address.
  Output ports = run({"ip", "-j", "link", "show", "master", "br-many"});
  EXPECT_EQ(json::parse(ports.out, nullptr, false).size(), size_t(kN));
  EXPECT_NE(run({"ip", "-n", "m42", "addr", "show", "eth0"}).out.find(addressOf(adds[42]) + "/24"), std::string::npos);

  std::vector<Output> dels(kN);
  {
    std::vector<std::thread> ts;
    for (int i = 0; i < kN; ++i)
      ts.emplace_back([&, i] { dels[i] = cni("DEL", c, "m" + std::to_string(i), "/run/netns/m" + std::to_string(i)); });
    for (auto& t : ts) t.join();
  }
  for (int i = 0; i < kN; ++i) EXPECT_EQ(dels[i].exitCode, 0) << i << ": " << dels[i].out;
  size_t left = 0;
  for (const auto& e : fs::directory_iterator(root() + "/ipam/many")) {
    auto f = e.path().filename().string();
    if (f != "lock" && !f.starts_with("last_reserved_ip")) ++left;
  }
  EXPECT_EQ(left, 0u);
  EXPECT_EQ(run({"ip", "link", "show", "master", "br-many"}).out, "");
  EXPECT_EQ(run({"ip", "-n", "m42", "link", "show", "eth0"}).exitCode == 0, false);
}

}  // namespace
