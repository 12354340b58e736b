// Multi-host labs, with three hosts simulated inside the sandbox: each host is its own network
// and mount namespace (its own /run, so its own state root and /run/netns), joined to the
// others by an underlay bridge in the sandbox's namespace. Every host runs
// `netctl up FILE --host X`; the assertions read the kernel of each host with ip, bridge and
// ping, never through netctl's own report.
#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>

#include <fstream>
#include <map>
#include <set>

#include "lab_support.h"

using namespace labtest;

namespace {

const char* kLab = R"(name: mh
hosts:
  a: {address: 10.99.0.1, parent: ul}
  b: {address: 10.99.0.2}
  c: {address: 10.99.0.3, vxlan-port: 4790}
networks:
  lan: {subnet: 172.31.60.0/24}
defaults: {cmd: [sleep, infinity]}
nodes:
  n1: {host: a, networks: [lan]}
  n2: {host: b, networks: [lan]}
  n3: {host: c, networks: [lan]}
  r1: {host: a}
  r2: {host: b}
links:
  - endpoints: [r1:eth1, r2:eth1]
    ipv4: [10.61.0.1/30, 10.61.0.2/30]
  - endpoints: [n1:eth1, n3:eth1]
    ipv4: [10.62.0.1/30, 10.62.0.2/30]
    vni: 4242
    mtu: 1400
)";

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// A simulated host: a process holding a fresh network + mount namespace with its own /run.
struct Host {
  std::string name;
  int n = 0;  // 1-based: underlay address 10.99.0.<n>
  pid_t pid = 0;

  Run run(const std::string& cmd) const {
    return sh(fmt::format("nsenter -t {} -n -m -- env NETCTL_ROOT=/run/netctl sh -c {}", pid, quote(cmd)));
  }
  Run netctl(const std::string& args) const { return run(std::string(NETCTL_BINARY) + " " + args); }
  bool ping(const std::string& node, const std::string& addr) const {
    for (int i = 0; i < 3; ++i)
      if (run("ip netns exec mh-" + node + " ping -c1 -W1 " + addr).rc == 0) return true;
    return false;
  }
  nlohmann::json ipJson(const std::string& args) const {
    auto j = nlohmann::json::parse(run("ip -j " + args).out, nullptr, false);
    return j.is_discarded() ? nlohmann::json::array() : j;
  }
  // Everything a lab can leave in this host; empty when clean.
  std::string leftovers() const {
    std::string bad;
    auto links = run("ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//'").out;
    std::istringstream ls(links);
    for (std::string l; std::getline(ls, l);)
      if (!l.empty() && l != "lo" && l != "ul") bad += "link " + l + "\n";
    bad += run("ls -A /run/netns 2>/dev/null").out;
    bad += run("nft list tables 2>/dev/null | grep netctl").out;
    bad += run("ls -A /run/netctl/labs 2>/dev/null").out;
    bad += run("ls -A /run/netctl/containers 2>/dev/null").out;
    return bad;
  }
};

class MultiHost : public ::testing::Test {
 protected:
  void SetUp() override {
    file_ = fmt::format("/tmp/netctl-mh-{}.yaml", ::getpid());
    std::ofstream(file_) << kLab;
    ASSERT_EQ(sh("ip link add ul0 type bridge && ip link set ul0 up").rc, 0);
    int n = 0;
    for (const char* name : {"a", "b", "c"}) {
      Host h{name, ++n, 0};
      std::string pidFile = fmt::format("/tmp/netctl-mh-{}-{}.pid", ::getpid(), name);
      ::unlink(pidFile.c_str());
      sh("unshare -n -m --propagation private sh -c 'mount -t tmpfs tmpfs /run && mkdir -p "
         "/run/netns && echo $$ > " + pidFile + " && exec sleep 3600' </dev/null >/dev/null 2>&1 &");
      for (int i = 0; i < 200 && !h.pid; ++i) {
        std::ifstream in(pidFile);
        in >> h.pid;
        if (!h.pid) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      ::unlink(pidFile.c_str());
      ASSERT_GT(h.pid, 0) << "host " << name << " did not start";
      hosts_.push_back(h);
      auto r = sh(fmt::format("ip link add ul-{0} type veth peer name ul netns {1} && "
                              "ip link set ul-{0} master ul0 up", name, h.pid));
      ASSERT_EQ(r.rc, 0) << r.out;
      r = h.run(fmt::format("ip link set lo up && ip addr add 10.99.0.{}/24 dev ul && ip link set ul up", n));
      ASSERT_EQ(r.rc, 0) << r.out;
    }
  }

  void TearDown() override {
    for (const auto& h : hosts_) h.netctl("down mh");
    for (const auto& h : hosts_) ::kill(h.pid, SIGKILL);
    for (const auto& h : hosts_) sh("ip link del ul-" + h.name + " 2>/dev/null");
    sh("ip link del ul0 2>/dev/null");
    ::unlink(file_.c_str());
    expectClean("after the multi-host test");
  }

  const Host& host(const std::string& name) const {
    for (const auto& h : hosts_)
      if (h.name == name) return h;
    return hosts_.front();
  }

  // The kernel's view of `iface` inside node `node` of host `h` (ip -d -j link show).
  nlohmann::json linkOf(const Host& h, const std::string& node, const std::string& iface) const {
    auto j = h.ipJson("-d -n mh-" + node + " link show " + iface);
    return j.empty() ? nlohmann::json::object() : j[0];
  }
  std::string addrOf(const Host& h, const std::string& node, const std::string& iface) const {
    auto j = h.ipJson("-4 -n mh-" + node + " addr show " + iface);
    if (j.empty() || j[0]["addr_info"].empty()) return "";
    return j[0]["addr_info"][0]["local"].get<std::string>();
  }

  std::string file_;
  std::vector<Host> hosts_;
};

TEST_F(MultiHost, ThreeHostsOneLab) {
  const Host& a = host("a");
  const Host& b = host("b");
  const Host& c = host("c");
  // The underlay works before netctl touches anything.
  ASSERT_EQ(a.run("ping -c1 -W1 10.99.0.3").rc, 0);
  for (const Host* h : {&a, &b, &c}) {
    auto r = h->netctl("up " + file_ + " --host " + h->name);
    ASSERT_EQ(r.rc, 0) << "host " << h->name << ": " << r.out;
  }

  // The same file again changes nothing: every host derives the same part.
  auto again = a.netctl("up " + file_ + " --host a");
  ASSERT_EQ(again.rc, 0) << again.out;
  EXPECT_NE(again.out.find("no changes"), std::string::npos) << again.out;
  // Each host runs exactly its own nodes.
  EXPECT_EQ(a.run("ls /run/netns | sort | tr '\\n' ' '").out, "mh-n1 mh-r1 ");
  EXPECT_EQ(b.run("ls /run/netns | sort | tr '\\n' ' '").out, "mh-n2 mh-r2 ");
  EXPECT_EQ(c.run("ls /run/netns | sort | tr '\\n' ' '").out, "mh-n3 ");

  // A cross-host link: a vxlan device on each side, same VNI, toward the other's underlay.
  auto r1 = linkOf(a, "r1", "eth1");
  auto r2 = linkOf(b, "r2", "eth1");
  ASSERT_EQ(r1["linkinfo"]["info_kind"], "vxlan") << r1.dump();
  ASSERT_EQ(r2["linkinfo"]["info_kind"], "vxlan") << r2.dump();
  EXPECT_EQ(r1["linkinfo"]["info_data"]["id"], r2["linkinfo"]["info_data"]["id"]);
  EXPECT_EQ(r1["linkinfo"]["info_data"]["remote"], "10.99.0.2");
  EXPECT_EQ(r2["linkinfo"]["info_data"]["remote"], "10.99.0.1");
  EXPECT_EQ(r1["mtu"], 1450);  // 1500 - 50 (IPv4 underlay)
  EXPECT_TRUE(a.ping("r1", "10.61.0.2"));
  EXPECT_TRUE(b.ping("r2", "10.61.0.1"));

  // Explicit VNI and MTU; a and c listen on different ports, so the far end is an FDB entry.
  auto n1 = linkOf(a, "n1", "eth1");
  auto n3 = linkOf(c, "n3", "eth1");
  EXPECT_EQ(n1["linkinfo"]["info_data"]["id"], 4242);
  EXPECT_EQ(n3["linkinfo"]["info_data"]["id"], 4242);
  EXPECT_EQ(n1["mtu"], 1400);
  EXPECT_EQ(n3["linkinfo"]["info_data"]["port"], 4790);
  EXPECT_NE(a.run("bridge -n mh-n1 fdb show dev eth1").out.find("dst 10.99.0.3 port 4790"),
            std::string::npos);
  EXPECT_TRUE(a.ping("n1", "10.62.0.2"));

  // The spanning network: each host's bridge has one VXLAN port flooding to both peers.
  auto vx = a.ipJson("-d link show type vxlan");
  ASSERT_EQ(vx.size(), 1u) << vx.dump();
  std::string vxName = vx[0]["ifname"];
  EXPECT_EQ(vx[0]["mtu"], 1450);
  EXPECT_EQ(vx[0]["linkinfo"]["info_data"]["learning"], false);  // the peers' ports differ
  auto fdb = a.run("bridge fdb show dev " + vxName + " | grep '^00:00:00:00:00:00'").out;
  EXPECT_NE(fdb.find("dst 10.99.0.2 self permanent"), std::string::npos) << fdb;
  EXPECT_NE(fdb.find("dst 10.99.0.3 port 4790 self permanent"), std::string::npos) << fdb;
  // The bridges of all hosts share the gateway address and MAC (an anycast gateway).
  std::set<std::string> gwMacs;
  for (const Host* h : {&a, &b, &c}) {
    auto br = h->ipJson("link show type bridge");
    ASSERT_EQ(br.size(), 1u);
    gwMacs.insert(br[0]["address"].get<std::string>());
    EXPECT_NE(h->run("ip -4 addr show dev " + br[0]["ifname"].get<std::string>()).out.find("172.31.60.1/24"),
              std::string::npos);
  }
  EXPECT_EQ(gwMacs.size(), 1u);

  // Addresses come from each host's slice and never collide.
  std::string a1 = addrOf(a, "n1", "eth0"), a2 = addrOf(b, "n2", "eth0"), a3 = addrOf(c, "n3", "eth0");
  EXPECT_EQ(a1, "172.31.60.2");    // host a: 172.31.60.0/26 (.1 is the gateway)
  EXPECT_EQ(a2, "172.31.60.64");   // host b: 172.31.60.64/26
  EXPECT_EQ(a3, "172.31.60.128");  // host c: 172.31.60.128/26
  std::set<std::string> all;
  for (const Host* h : {&a, &b, &c})
    for (const auto& ns : {"n1", "n2", "n3", "r1", "r2"}) {
      auto j = h->ipJson(fmt::format("-4 -n mh-{} addr", ns));
      for (const auto& i : j)
        for (const auto& ad : i["addr_info"])
          if (ad["local"] != "127.0.0.1") {
            EXPECT_TRUE(all.insert(ad["local"].get<std::string>()).second) << ad;
          }
    }
  EXPECT_EQ(all.size(), 7u);
  EXPECT_TRUE(a.ping("n1", a2));
  EXPECT_TRUE(a.ping("n1", a3));
  EXPECT_TRUE(c.ping("n3", a2));
  EXPECT_TRUE(b.ping("n2", "172.31.60.1"));  // the local gateway

  // inspect shows the placement of every node.
  auto ins = nlohmann::json::parse(a.netctl("inspect mh --output json").out, nullptr, false);
  ASSERT_TRUE(ins.is_object());
  EXPECT_EQ(ins["host"], "a");
  EXPECT_EQ(ins["placement"]["n2"], "b");
  EXPECT_EQ(ins["placement"]["n3"], "c");
  EXPECT_EQ(ins["nodes"].size(), 2u);

  // doctor: from a, both peers' VXLAN ports answer (no ICMP port unreachable).
  auto doc = nlohmann::json::parse(a.netctl("doctor --output json --topology " + file_ + " --host a").out,
                                   nullptr, false);
  ASSERT_TRUE(doc.is_object());
  std::map<std::string, std::string> underlay;
  for (const auto& ch : doc["checks"])
    if (ch["area"] == "underlay") underlay[ch["name"]] = ch["status"];
  EXPECT_EQ(underlay["host b"], "ok") << doc.dump();
  EXPECT_EQ(underlay["host c"], "ok") << doc.dump();

  // down --host on the wrong host is refused; on c it removes c's part only.
  EXPECT_EQ(a.netctl("down " + file_ + " --host b").rc, 2);
  auto down = c.netctl("down " + file_ + " --host c");
  ASSERT_EQ(down.rc, 0) << down.out;
  EXPECT_EQ(c.leftovers(), "");
  EXPECT_TRUE(a.ping("r1", "10.61.0.2"));
  EXPECT_TRUE(a.ping("n1", a2));
  // With c gone, its VXLAN port no longer listens (the kernel releases the sockets of a
  // dismantled netns's devices asynchronously): doctor on a says so. a's and b's bridges
  // still flood toward c's port, and c rate-limits the port unreachables it sends back to
  // each host (icmp_ratelimit, a burst of 6); lifting the limit on c keeps the probe's own
  // answer from being the one suppressed.
  ASSERT_EQ(c.run("sysctl -qw net.ipv4.icmp_ratelimit=0").rc, 0);
  for (int i = 0; i < 100 && c.run("ss -Hlun | grep -q ':4790 '").rc == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_NE(c.run("ss -Hlun | grep -q ':4790 '").rc, 0) << c.run("ss -Hlun").out;
  doc = nlohmann::json::parse(a.netctl("doctor --output json --topology " + file_ + " --host a").out,
                              nullptr, false);
  for (const auto& ch : doc["checks"])
    if (ch["area"] == "underlay") underlay[ch["name"]] = ch["status"];
  EXPECT_EQ(underlay["host c"], "missing") << doc.dump();
  EXPECT_EQ(underlay["host b"], "ok") << doc.dump();

  // Everything down leaves nothing on any host.
  for (const Host* h : {&a, &b}) {
    auto r = h->netctl("down " + file_ + " --host " + h->name);
    ASSERT_EQ(r.rc, 0) << r.out;
  }
  for (const Host* h : {&a, &b, &c}) EXPECT_EQ(h->leftovers(), "") << "host " << h->name;
}

TEST_F(MultiHost, UpWithoutHostFindsItByItsAddress) {
  const Host& b = host("b");
  auto r = b.netctl("up " + file_);
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(b.run("ls /run/netns | sort | tr '\\n' ' '").out, "mh-n2 mh-r2 ");
  // Another host's part cannot come up in the same state root.
  EXPECT_EQ(b.netctl("up " + file_ + " --host a").rc, 2);
  ASSERT_EQ(b.netctl("down mh").rc, 0);
  EXPECT_EQ(b.leftovers(), "");
}

}  // namespace
