// Live lab operations (issue 7) through the netctl binary, checked on the kernel's own state:
// impairments from the file and from `impair` (tc -j qdisc show, a TCP transfer), netem's
// absence as a clear error, link down/up (flags, ping, routes), node stop/start/restart in the
// routed triangle (processes, cgroup, interfaces, addresses, routes, pings), and the events
// stream of all of it.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <atomic>
#include <cstring>
#include <fstream>

#include "lab_support.h"
#include "netctl/base/unique_fd.h"
#include "netctl/net/netns.h"
#include "support/goodput.h"

using namespace labtest;
using namespace std::chrono_literals;

namespace {

std::string writeLab(const std::string& name, const std::string& text) {
  std::string path = "/tmp/netctl-livetest-" + std::to_string(::getpid()) + "-" + name + ".yaml";
  std::ofstream(path) << text;
  return path;
}

// Two nodes on one veth link, with `impair` (a YAML flow map) on the link when given.
std::string pairLab(const std::string& name, const std::string& impair) {
  std::string text = fmt::format(R"(name: {}
defaults: {{cmd: [sleep, infinity]}}
nodes:
  a: {{}}
  b: {{}}
links:
  - endpoints: ["a:eth1", "b:eth1"]
    ipv4: [10.77.0.1/30, 10.77.0.2/30]
)", name);
  if (!impair.empty()) text += "    impair: " + impair + "\n";
  return writeLab(name, text);
}

// Every qdisc `tc -j` shows on dev in netns.
nlohmann::json tcQdiscs(const std::string& ns, const std::string& dev) {
  auto r = sh("ip netns exec " + ns + " tc -j qdisc show dev " + dev);
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  return j.is_discarded() ? nlohmann::json::array() : j;
}
nlohmann::json tcRoot(const std::string& ns, const std::string& dev) {
  for (const auto& q : tcQdiscs(ns, dev))
    if (q.value("root", false)) return q;
  return nullptr;
}

// Whether the kernel has netem, asked with tc on a scratch veth in netns (not through netctl).
bool kernelHasNetem(const std::string& ns) {
  sh("ip -n " + ns + " link add name nprobe0 type veth peer name nprobe1");
  bool has = sh("ip netns exec " + ns + " tc qdisc add dev nprobe0 root netem delay 1ms").rc == 0;
  sh("ip -n " + ns + " link del nprobe0");
  return has;
}

// TCP goodput between two named netns (see support/goodput.h), in bits/s.
double goodput(const std::string& from, const std::string& to, const std::string& addr,
               std::chrono::milliseconds warmup, std::chrono::milliseconds duration) {
  auto nsTo = netctl::netns::openPath("/run/netns/" + to);
  auto nsFrom = netctl::netns::openPath("/run/netns/" + from);
  if (!nsTo || !nsFrom) return ADD_FAILURE() << "no netns " << from << " or " << to, 0;
  return netctl::testing::goodput(*nsFrom, *nsTo, addr, warmup, duration);
}

nlohmann::json impairShow(const std::string& lab, const std::string& at) {
  auto r = labtest::netctl("impair show " + lab + " " + at + " --output json");
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  if (j.is_discarded() || !j.is_array() || j.size() != 1) {
    ADD_FAILURE() << "impair show: " << r.out;
    return nullptr;
  }
  return j[0];
}

// `impair show --output json` agrees with what tc reads from the kernel.
void expectShowMatchesKernel(const std::string& lab, const std::string& node, const std::string& dev) {
  auto shown = impairShow(lab, node + ":" + dev);
  auto root = tcRoot(lab + "-" + node, dev);
  if (root.is_null() || root["kind"] == "noqueue") {
    EXPECT_TRUE(shown["rate"].is_null()) << shown.dump();
    return;
  }
  EXPECT_EQ(shown["qdisc"], root["kind"]) << shown.dump() << root.dump();
  if (root["kind"] == "tbf") {
    EXPECT_EQ(shown["rate_bits"].get<uint64_t>() / 8, root["options"]["rate"].get<uint64_t>()) << root.dump();
    EXPECT_EQ(shown["rate"].get<uint64_t>(), root["options"]["rate"].get<uint64_t>() * 8 / 1000);
    // The kernel keeps the bucket as a time; tc turns it back into bytes through its own tick
    // clock (tc_core's psched ticks), which rounds by up to ~0.05%: 16384 shows as 16381.
    double tcBurst = root["options"]["burst"].get<double>();
    EXPECT_NEAR(shown["burst"].get<double>(), tcBurst, 8 + tcBurst * 1e-3) << root.dump();
  }
}

bool isUp(const std::string& ns, const std::string& dev) {
  auto j = nlohmann::json::parse(sh("ip -n " + ns + " -j link show " + dev).out, nullptr, false);
  if (j.is_discarded() || j.empty()) return false;
  for (const auto& f : j[0]["flags"])
    if (f == "UP") return true;
  return false;
}

std::string linkField(const std::string& ns, const std::string& dev, const char* field) {
  auto j = nlohmann::json::parse(sh("ip -n " + ns + " -j link show " + dev).out, nullptr, false);
  if (j.is_discarded() || j.empty()) return "";
  return j[0][field].dump();
}

bool hasRoute(const std::string& ns, const std::string& dst, const std::string& via) {
  return sh("ip -n " + ns + " route show " + dst).out.find("via " + via) != std::string::npos;
}

// Pings until one answers or ~tries seconds pass: a veth's carrier returns through linkwatch.
bool pingSoon(const std::string& ns, const std::string& addr, int tries = 8) {
  for (int i = 0; i < tries; ++i)
    if (sh("ip netns exec " + ns + " ping -c1 -W1 " + addr).rc == 0) return true;
  return false;
}

size_t pids(const std::string& ns) {
  auto out = sh("ip netns pids " + ns).out;
  return static_cast<size_t>(std::count(out.begin(), out.end(), '\n'));
}

bool cgroupExists(const std::string& name) {
  for (const auto& d : cgroupDirs())
    if (sh("test -d " + d + "/" + name).rc == 0) return true;
  return false;
}

}  // namespace

TEST(Live, RateLimitFromTheFileHoldsAndResetRestoresFullSpeed) {
  std::string file = pairLab("rl", "{rate: 50mbit}");
  auto up = labtest::netctl("up " + file);
  ASSERT_EQ(up.rc, 0) << up.out;
  // Both directions: both ends carry the shaper.
  for (const char* node : {"rl-a", "rl-b"}) {
    auto root = tcRoot(node, "eth1");
    ASSERT_FALSE(root.is_null()) << node;
    EXPECT_EQ(root["kind"], "tbf") << node;
    EXPECT_EQ(root["options"]["rate"], 50'000'000 / 8) << node;
  }
  expectShowMatchesKernel("rl", "a", "eth1");
  expectShowMatchesKernel("rl", "b", "eth1");

  double limited = goodput("rl-a", "rl-b", "10.77.0.2", 300ms, 2000ms);
  std::printf("goodput with a 50mbit limit from the file: %.2f Mbit/s\n", limited / 1e6);
  EXPECT_GE(limited, 45e6);  // 50 Mbit/s on the wire is ~47.8 Mbit/s of TCP payload
  EXPECT_LE(limited, 55e6);

  ASSERT_EQ(labtest::netctl("impair reset rl a:eth1").rc, 0);
  ASSERT_EQ(labtest::netctl("impair reset rl b:eth1").rc, 0);
  for (const char* node : {"rl-a", "rl-b"}) {
    auto root = tcRoot(node, "eth1");
    EXPECT_TRUE(root.is_null() || root["kind"] != "tbf") << root.dump();
  }
  expectShowMatchesKernel("rl", "a", "eth1");
  double full = goodput("rl-a", "rl-b", "10.77.0.2", 100ms, 700ms);
  std::printf("goodput after reset: %.2f Mbit/s\n", full / 1e6);
  EXPECT_GT(full, 150e6);

  // `set` changes only what it is given, on that interface only; multi-gigabit rates work.
  ASSERT_EQ(labtest::netctl("impair set rl a:eth1 --rate 20mbit").rc, 0);
  EXPECT_EQ(tcRoot("rl-a", "eth1")["options"]["rate"], 20'000'000 / 8);
  auto bRoot = tcRoot("rl-b", "eth1");
  EXPECT_TRUE(bRoot.is_null() || bRoot["kind"] != "tbf");
  ASSERT_EQ(labtest::netctl("impair set rl a:eth1 --rate 40gbit").rc, 0);
  expectShowMatchesKernel("rl", "a", "eth1");
  EXPECT_EQ(impairShow("rl", "a:eth1")["rate_bits"], 40'000'000'000ull);
  EXPECT_EQ(tcQdiscs("rl-a", "eth1").size(), 1u) << "changed in place, one qdisc";
  // A second up keeps the live change (nothing in the file changed).
  auto again = labtest::netctl("up " + file);
  EXPECT_NE(again.out.find("no changes"), std::string::npos) << again.out;
  EXPECT_EQ(impairShow("rl", "a:eth1")["rate_bits"], 40'000'000'000ull);

  // Bad input names the value and exits 2; an unknown interface is an error too.
  auto bad = labtest::netctl("impair set rl a:eth1 --rate 50mbps");
  EXPECT_EQ(bad.rc, 2) << bad.out;
  EXPECT_NE(bad.out.find("50mbps"), std::string::npos) << bad.out;
  EXPECT_NE(labtest::netctl("impair set rl a:eth9 --rate 1mbit").rc, 0);
  ASSERT_EQ(labtest::netctl("down rl").rc, 0);
  expectClean("after down rl");
}

// An endpoint's impair shapes that end's egress only, and wins over the link's on that end.
TEST(Live, EndpointImpairShapesOneDirection) {
  std::string file = writeLab("ep", R"(name: ep
defaults: {cmd: [sleep, infinity]}
nodes: {a: {}, b: {}}
links:
  - type: veth
    endpoints:
      - {node: a, interface: eth1, ipv4: 10.78.0.1/30, impair: {rate: 20mbit}}
      - {node: b, interface: eth1, ipv4: 10.78.0.2/30}
    impair: {rate: 80mbit}
)");
  auto up = labtest::netctl("up " + file);
  ASSERT_EQ(up.rc, 0) << up.out;
  auto a = tcRoot("ep-a", "eth1"), b = tcRoot("ep-b", "eth1");
  ASSERT_FALSE(a.is_null());
  ASSERT_FALSE(b.is_null());
  EXPECT_EQ(a["kind"], "tbf");
  EXPECT_EQ(a["options"]["rate"], 20'000'000 / 8);  // the endpoint's own
  EXPECT_EQ(b["options"]["rate"], 80'000'000 / 8);  // the link's
  double ab = goodput("ep-a", "ep-b", "10.78.0.2", 300ms, 1500ms);
  std::printf("goodput a->b with a's egress at 20mbit: %.2f Mbit/s\n", ab / 1e6);
  EXPECT_GE(ab, 18e6);
  EXPECT_LE(ab, 22e6);
  auto again = labtest::netctl("up " + file);
  EXPECT_NE(again.out.find("no changes"), std::string::npos) << again.out;
  ASSERT_EQ(labtest::netctl("down ep").rc, 0);
  expectClean("after down ep");
}

TEST(Live, NetemMissingIsAClearErrorAndKeepsTheRate) {
  std::string file = pairLab("nm", "{rate: 10mbit}");
  auto up = labtest::netctl("up " + file);
  ASSERT_EQ(up.rc, 0) << up.out;
  bool netem = kernelHasNetem("nm-a");
  if (netem) {
    ASSERT_EQ(labtest::netctl("down nm").rc, 0);
    GTEST_SKIP() << "this kernel has netem (CONFIG_NET_SCH_NETEM): the error path cannot happen";
  }
  auto set = labtest::netctl("impair set nm a:eth1 --delay 20ms");
  EXPECT_EQ(set.rc, 1) << set.out;
  EXPECT_NE(set.out.find("CONFIG_NET_SCH_NETEM"), std::string::npos) << set.out;
  // The refused change leaves the rate that was there.
  auto root = tcRoot("nm-a", "eth1");
  ASSERT_FALSE(root.is_null());
  EXPECT_EQ(root["kind"], "tbf");
  EXPECT_EQ(root["options"]["rate"], 10'000'000 / 8);
  ASSERT_EQ(labtest::netctl("down nm").rc, 0);

  // In the file: `up` refuses before creating anything, naming the option.
  std::string delayed = pairLab("nd", "{delay: 20ms, rate: 10mbit}");
  auto up2 = labtest::netctl("up " + delayed);
  EXPECT_EQ(up2.rc, 2) << up2.out;
  EXPECT_NE(up2.out.find("CONFIG_NET_SCH_NETEM"), std::string::npos) << up2.out;
  EXPECT_NE(up2.out.find("links[0].impair"), std::string::npos) << up2.out;
  EXPECT_NE(sh("ls /run/netns/nd-a").rc, 0) << "up created a node";
  expectClean("after the refused up");
}

TEST(Live, DelayShowsInThePingRtt) {
  std::string file = pairLab("dl", "");
  auto up = labtest::netctl("up " + file);
  ASSERT_EQ(up.rc, 0) << up.out;
  if (!kernelHasNetem("dl-a")) {
    ASSERT_EQ(labtest::netctl("down dl").rc, 0);
    GTEST_SKIP() << "the kernel lacks netem (CONFIG_NET_SCH_NETEM is not set)";
  }
  ASSERT_EQ(labtest::netctl("impair set dl a:eth1 --delay 20ms").rc, 0);
  auto root = tcRoot("dl-a", "eth1");
  EXPECT_EQ(root["kind"], "netem");
  auto out = sh("ip netns exec dl-a ping -c3 -i0.2 10.77.0.2").out;
  auto pos = out.find("rtt min/avg/max/mdev = ");
  ASSERT_NE(pos, std::string::npos) << out;
  double mn = std::stod(out.substr(pos + 23));
  EXPECT_GE(mn, 19.0) << out;
  EXPECT_LT(mn, 60.0) << out;
  ASSERT_EQ(labtest::netctl("down dl").rc, 0);
}

TEST(Live, LinkDownUpAndNodeRestartInTheRoutedTriangle) {
  auto up = labtest::netctl("up " + example("routed-triangle.yaml"));
  ASSERT_EQ(up.rc, 0) << up.out;
  ASSERT_TRUE(pingSoon("triangle-h1", "10.1.2.10"));
  std::string events = "/tmp/netctl-livetest-" + std::to_string(::getpid()) + "-events";
  // The stream runs until SIGTERM (a duration bounds it should the test fail half-way).
  std::string pidText = sh(std::string(NETCTL_BINARY) + " events triangle --output json --duration 60 > " +
                           events + " 2>&1 & echo $!").out;
  pid_t eventsPid = std::atoi(pidText.c_str());
  ASSERT_GT(eventsPid, 0) << pidText;
  std::this_thread::sleep_for(700ms);  // the stream subscribes before it reads the start state

  // link down: both ends lose UP, the ping across stops, r1's route through it is flushed.
  auto down = labtest::netctl("link down triangle r1:eth1");
  ASSERT_EQ(down.rc, 0) << down.out;
  EXPECT_FALSE(isUp("triangle-r1", "eth1"));
  EXPECT_FALSE(isUp("triangle-r2", "eth1"));
  EXPECT_NE(sh("ip netns exec triangle-h1 ping -c1 -W1 10.0.12.2").rc, 0);
  EXPECT_FALSE(hasRoute("triangle-r1", "10.1.2.0/24", "10.0.12.2"));
  // `up` keeps it down.
  auto again = labtest::netctl("up " + example("routed-triangle.yaml"));
  EXPECT_EQ(again.rc, 0) << again.out;
  EXPECT_FALSE(isUp("triangle-r1", "eth1"));
  // link up: both ends up, the route is back, the ping crosses again.
  ASSERT_EQ(labtest::netctl("link up triangle r1:eth1").rc, 0);
  EXPECT_TRUE(isUp("triangle-r1", "eth1"));
  EXPECT_TRUE(isUp("triangle-r2", "eth1"));
  EXPECT_TRUE(hasRoute("triangle-r1", "10.1.2.0/24", "10.0.12.2"));
  EXPECT_TRUE(pingSoon("triangle-h1", "10.1.2.10"));

  // stop r1: its processes and cgroup go, its interfaces stay (parked, down), the neighbours'
  // ends stay with the same ifindex, and nothing crosses r1 any more.
  std::string macBefore = linkField("triangle-r1", "eth1", "address");
  std::string peerIndex = linkField("triangle-r2", "eth1", "ifindex");
  ASSERT_GT(pids("triangle-r1"), 0u);
  ASSERT_TRUE(cgroupExists("triangle-r1"));
  auto stop = labtest::netctl("stop triangle r1");
  ASSERT_EQ(stop.rc, 0) << stop.out;
  EXPECT_EQ(pids("triangle-r1"), 0u);
  EXPECT_FALSE(cgroupExists("triangle-r1"));
  EXPECT_EQ(linkField("triangle-r1", "eth1", "address"), macBefore);
  EXPECT_FALSE(isUp("triangle-r1", "eth1"));
  EXPECT_EQ(linkField("triangle-r2", "eth1", "ifindex"), peerIndex);
  EXPECT_NE(sh("ip netns exec triangle-h1 ping -c1 -W1 10.1.2.10").rc, 0);
  EXPECT_EQ(labtest::netctl("stop triangle r1").rc, 1) << "stopped twice";

  // start r1: a new container in the same netns, interfaces, addresses, routes as before.
  auto start = labtest::netctl("start triangle r1");
  ASSERT_EQ(start.rc, 0) << start.out;
  EXPECT_GT(pids("triangle-r1"), 0u);
  EXPECT_TRUE(cgroupExists("triangle-r1"));
  for (const char* dev : {"eth1", "eth2", "eth3"}) EXPECT_TRUE(isUp("triangle-r1", dev)) << dev;
  EXPECT_EQ(linkField("triangle-r1", "eth1", "address"), macBefore);
  auto addrs = sh("ip -n triangle-r1 -br addr").out;
  for (const char* a : {"10.0.12.1/30", "10.0.13.1/30", "10.1.1.1/24"})
    EXPECT_NE(addrs.find(a), std::string::npos) << a << " in " << addrs;
  EXPECT_TRUE(hasRoute("triangle-r1", "10.1.2.0/24", "10.0.12.2"));
  EXPECT_TRUE(hasRoute("triangle-r1", "10.1.3.0/24", "10.0.13.2"));
  EXPECT_EQ(sh("ip netns exec triangle-r1 sysctl -n net.ipv4.ip_forward").out, "1\n");
  EXPECT_TRUE(pingSoon("triangle-h1", "10.1.2.10"));
  EXPECT_TRUE(pingSoon("triangle-h1", "10.1.3.10"));
  // `exec` reaches the new container.
  EXPECT_EQ(labtest::netctl("exec triangle r1 -- true").rc, 0);

  // restart r2 in one go.
  auto restart = labtest::netctl("restart triangle r2");
  ASSERT_EQ(restart.rc, 0) << restart.out;
  EXPECT_TRUE(hasRoute("triangle-r2", "10.1.1.0/24", "10.0.12.1"));
  EXPECT_TRUE(pingSoon("triangle-h2", "10.1.1.10"));
  EXPECT_TRUE(pingSoon("triangle-h3", "10.1.2.10"));

  // The events stream saw the link go down and up and r1 stop and start, as JSON lines.
  std::this_thread::sleep_for(1500ms);  // a veth peer's carrier is announced through linkwatch
  ::kill(eventsPid, SIGTERM);
  for (int i = 0; i < 50 && ::kill(eventsPid, 0) == 0; ++i) std::this_thread::sleep_for(100ms);
  std::ifstream in(events);
  std::set<std::string> seen;
  std::string all;
  for (std::string line; std::getline(in, line);) {
    all += line + "\n";
    auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << line;
    std::string what = j.value("event", "") + " " + j.value("netns", "") + " " +
                       j.value("ifname", j.value("node", ""));
    seen.insert(what);
  }
  ::unlink(events.c_str());
  EXPECT_TRUE(seen.count("link-down triangle-r1 eth1")) << all;
  EXPECT_TRUE(seen.count("link-up triangle-r1 eth1")) << all;
  EXPECT_TRUE(seen.count("link-down triangle-r2 eth1")) << all;
  EXPECT_TRUE(seen.count("node-stopped triangle-r1 r1")) << all;
  EXPECT_TRUE(seen.count("node-started triangle-r1 r1")) << all;

  ASSERT_EQ(labtest::netctl("down triangle").rc, 0);
  expectClean("after down triangle");
}

TEST(Live, UpKeepsAStoppedNodeStoppedAndStartGivesItTheNewHosts) {
  std::string file = pairLab("st", "");
  ASSERT_EQ(labtest::netctl("up " + file).rc, 0);
  ASSERT_EQ(labtest::netctl("stop st b").rc, 0);
  // A third node changes every node's /etc/hosts; the stopped one is left alone.
  std::string text;
  {
    std::ifstream in(file);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  text.insert(text.find("links:"), "  c: {}\n");
  text += "  - endpoints: [\"a:eth2\", \"c:eth1\"]\n    ipv4: [10.77.1.1/30, 10.77.1.2/30]\n";
  std::ofstream(file) << text;
  auto up = labtest::netctl("up " + file);
  ASSERT_EQ(up.rc, 0) << up.out;
  EXPECT_EQ(pids("st-b"), 0u);
  EXPECT_FALSE(isUp("st-b", "eth1"));
  EXPECT_TRUE(pingSoon("st-c", "10.77.1.1"));
  ASSERT_EQ(labtest::netctl("start st b").rc, 0);
  EXPECT_GT(pids("st-b"), 0u);
  EXPECT_TRUE(pingSoon("st-b", "10.77.0.1"));
  auto hosts = labtest::netctl("exec st b -- cat /etc/hosts");
  EXPECT_NE(hosts.out.find("10.77.1.2"), std::string::npos) << hosts.out;  // c, by its link address
  ASSERT_EQ(labtest::netctl("down st").rc, 0);
  expectClean("after down st");
}
