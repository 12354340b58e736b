// CNI chaining: netctl's result fed as prevResult to the reference portmap, bandwidth and
// tuning plugins (Debian's containernetworking-plugins in /usr/lib/cni), and netctl chained
// after another plugin, each driven as libcni drives a conflist:
//  - ADD runs the plugins in order; each gets the plugin object plus the list's cniVersion and
//    name, the previous plugin's result as prevResult, and runtimeConfig for the capabilities
//    it declares; the last result is the attachment's result;
//  - DEL runs them in reverse order, each with that final result as prevResult.
// Every assertion reads the kernel back independently (nft -j, tc -j, ip -j, sysctl) or
// sends traffic.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
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

constexpr const char* kPluginDir = "/usr/lib/cni";

std::string root() { return netctl::sandbox::info().stateRoot; }
bool sh(const std::string& cmd) { return run({"sh", "-c", cmd}).exitCode == 0; }

// The chain runner: a conflist, one container (id, netns, ifname), the runtime's capability
// arguments. add() and del() return "" on success, else which plugin failed and what it said.
struct Chain {
  Chain(json l, std::string i, std::string n) : list(std::move(l)), id(std::move(i)), netns(std::move(n)) {}
  json list;
  std::string id, netns, ifname = "eth0";
  json runtimeArgs = json::object();  // capability name -> value (portMappings, ...)
  json result;                        // the attachment's result after add()
  std::vector<json> steps;            // each plugin's own result, in order

  static std::string binary(const std::string& type) {
    return type == "netctl" ? std::string(NETCTL_BINARY) : std::string(kPluginDir) + "/" + type;
  }
  json request(const json& plugin, const json& prev) const {
    json r = plugin;
    r["cniVersion"] = list["cniVersion"];
    r["name"] = list["name"];
    if (!prev.is_null()) r["prevResult"] = prev;
    if (auto caps = plugin.find("capabilities"); caps != plugin.end()) {
      json rc = json::object();
      for (auto& [k, on] : caps->items())
        if (on == true && runtimeArgs.contains(k)) rc[k] = runtimeArgs[k];
      if (!rc.empty()) r["runtimeConfig"] = rc;
    }
    return r;
  }
  Output call(const std::string& cmd, const json& plugin, const json& prev) const {
    return runWith({binary(plugin["type"])},
                   {"CNI_COMMAND=" + cmd, "CNI_CONTAINERID=" + id, "CNI_NETNS=" + netns, "CNI_IFNAME=" + ifname,
                    "CNI_PATH=" + std::string(kPluginDir)},
                   request(plugin, prev).dump());
  }
  std::string add() {
    json prev;
    steps.clear();
    for (const auto& p : list["plugins"]) {
      Output o = call("ADD", p, prev);
      json got = json::parse(o.out, nullptr, false);
      if (o.exitCode != 0 || got.is_discarded())
        return fmt_fail("ADD", p, o);
      steps.push_back(got);
      prev = got;
    }
    result = prev;
    return "";
  }
  std::string del() const { return reverse("DEL"); }
  std::string check() const {
    for (const auto& p : list["plugins"]) {
      Output o = call("CHECK", p, result);
      if (o.exitCode != 0) return fmt_fail("CHECK", p, o);
    }
    return "";
  }
  std::string checkOne(size_t i) const {
    Output o = call("CHECK", list["plugins"][i], result);
    return o.exitCode == 0 ? "" : fmt_fail("CHECK", list["plugins"][i], o);
  }
  std::string delOne(size_t i) const {
    Output o = call("DEL", list["plugins"][i], result);
    return o.exitCode == 0 ? "" : fmt_fail("DEL", list["plugins"][i], o);
  }
  std::string reverse(const std::string& cmd) const {
    const auto& ps = list["plugins"];
    for (size_t i = ps.size(); i-- > 0;) {
      Output o = call(cmd, ps[i], result);
      if (o.exitCode != 0) return fmt_fail(cmd, ps[i], o);
    }
    return "";
  }
  static std::string fmt_fail(const std::string& cmd, const json& p, const Output& o) {
    return cmd + " " + p["type"].get<std::string>() + " failed (" + std::to_string(o.exitCode) + "): " + o.out +
           o.err;
  }
};

json netctlPlugin(const std::string& net, const std::string& subnet) {
  return {{"type", "netctl"},
          {"bridge", "br-" + net},
          {"isGateway", true},
          {"isDefaultGateway", true},
          {"ipam", {{"type", "host-local"}, {"dataDir", root() + "/ipam"}, {"ranges", {{{{"subnet", subnet}}}}}}}};
}

json conflist(const std::string& version, const std::string& net, std::vector<json> plugins) {
  return {{"cniVersion", version}, {"name", net}, {"plugins", plugins}};
}

// The result's interface `name` in a sandbox (index), or -1.
int sandboxIface(const json& r, const std::string& name) {
  for (size_t i = 0; i < r["interfaces"].size(); ++i) {
    const auto& f = r["interfaces"][i];
    if (f["name"] == name && f.contains("sandbox") && !f["sandbox"].get<std::string>().empty()) return int(i);
  }
  return -1;
}
std::string firstV4(const json& r) {
  for (const auto& ip : r["ips"]) {
    std::string a = ip["address"];
    if (a.find('.') != std::string::npos && !a.starts_with("127.")) return a.substr(0, a.find('/'));
  }
  return "";
}
// The host end of the attachment: the result interface without a sandbox that is not a bridge.
std::string hostVeth(const json& r, const std::string& bridge) {
  for (const auto& f : r["interfaces"])
    if ((!f.contains("sandbox") || f["sandbox"] == "") && f["name"] != bridge &&
        f["name"].get<std::string>().starts_with("veth"))
      return f["name"];
  return "";
}

json ipJson(const std::vector<std::string>& argv) {
  std::vector<std::string> a = {"ip", "-j"};
  a.insert(a.end(), argv.begin(), argv.end());
  return json::parse(run(a).out, nullptr, false);
}

// Every object of `ruleset` (nft -j list ruleset) of a kind ("chain", "rule"), flattened.
std::vector<json> nftObjects(const json& ruleset, const std::string& kind) {
  std::vector<json> out;
  if (!ruleset.contains("nftables")) return out;
  for (const auto& o : ruleset["nftables"])
    if (o.contains(kind)) out.push_back(o[kind]);
  return out;
}
json nftRuleset() { return json::parse(run({"nft", "-j", "list", "ruleset"}).out, nullptr, false); }

// "Outside": a netns on 192.168.60.0/24 behind a veth whose host end holds .1.
void makeOutside(const std::string& ns, const std::string& hostEnd, const std::string& net) {
  ASSERT_TRUE(netctl::netns::createNamed(root(), ns));
  ASSERT_TRUE(sh("ip link add " + hostEnd + " type veth peer name eth0 netns " + ns + " && ip addr add " + net +
                 ".1/24 dev " + hostEnd + " && ip link set " + hostEnd + " up && ip -n " + ns + " addr add " + net +
                 ".2/24 dev eth0 && ip -n " + ns + " link set eth0 up && ip -n " + ns + " route add default via " +
                 net + ".1"));
}

// A one-shot TCP server in netns `ns` on `port` that answers "hello <peer address>".
std::thread serveOnce(const std::string& ns, int port) {
  return std::thread([ns, port] {
    run({"ip", "netns", "exec", ns, "python3", "-c",
         "import socket\ns=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);"
         "s.bind(('0.0.0.0'," + std::to_string(port) +
             "));s.listen(1);s.settimeout(10)\nc,a=s.accept();c.sendall(b'hello '+a[0].encode());c.close()"});
  });
}
Output connectFrom(const std::string& ns, const std::string& addr, int port) {
  Output got;
  for (int i = 0; i < 50; ++i) {
    got = run({"ip", "netns", "exec", ns, "python3", "-c",
               "import socket\ns=socket.create_connection(('" + addr + "'," + std::to_string(port) +
                   "),timeout=2);print(s.recv(100).decode())"});
    if (got.exitCode == 0) break;
    ::usleep(100000);
  }
  return got;
}

bool havePlugin(const std::string& type) { return ::access((std::string(kPluginDir) + "/" + type).c_str(), X_OK) == 0; }
#define NEED_PLUGIN(t) \
  if (!havePlugin(t)) GTEST_SKIP() << kPluginDir << "/" << t << " missing (Debian package containernetworking-plugins)"

TEST(CniChain, PortmapAfterNetctl) {
  NEED_PLUGIN("portmap");
  ASSERT_TRUE(netctl::netns::createNamed(root(), "pm-c1"));
  makeOutside("pm-out", "vpmout", "192.168.60");
  json pm = {{"type", "portmap"}, {"capabilities", {{"portMappings", true}}}, {"snat", true}};
  Chain ch{conflist("1.0.0", "pmnet", {netctlPlugin("pmnet", "10.93.0.0/24"), pm}), "pmc1", "/run/netns/pm-c1"};
  ch.runtimeArgs["portMappings"] = json::array({{{"hostPort", 9090}, {"containerPort", 80}, {"protocol", "tcp"}}});
  ASSERT_EQ(ch.add(), "");
  std::string ip = firstV4(ch.result);
  ASSERT_FALSE(ip.empty()) << ch.result.dump();
  // portmap passes netctl's result through unchanged.
  EXPECT_EQ(ch.result["interfaces"], ch.steps[0]["interfaces"]);
  EXPECT_EQ(ch.result["ips"], ch.steps[0]["ips"]);

  // Kernel: portmap's per-container chain (iptables-nft, table ip nat) matches :9090 and ends
  // in a DNAT target. nft -j shows an iptables target only as {"xt": "DNAT"}, so the target's
  // address is read with iptables, which decodes it from the same kernel rule.
  json rs = nftRuleset();
  std::string chain;
  for (const auto& r : nftObjects(rs, "rule")) {
    if (r["family"] != "ip" || r["table"] != "nat" || !r["chain"].get<std::string>().starts_with("CNI-DN-")) continue;
    std::string e = r["expr"].dump();
    if (e.find("\"DNAT\"") != std::string::npos && e.find("9090") != std::string::npos) chain = r["chain"];
  }
  ASSERT_FALSE(chain.empty()) << "no CNI-DN-* rule DNATing :9090\n" << rs.dump();
  Output rules = run({"iptables", "-t", "nat", "-S", chain});
  EXPECT_NE(rules.out.find("--to-destination " + ip + ":80"), std::string::npos) << rules.out;

  // Traffic: outside -> host 192.168.60.1:9090 -> container :80.
  std::thread server = serveOnce("pm-c1", 80);
  Output got = connectFrom("pm-out", "192.168.60.1", 9090);
  server.join();
  EXPECT_EQ(got.exitCode, 0) << got.err;
  EXPECT_NE(got.out.find("hello 192.168.60.2"), std::string::npos) << got.out;

  EXPECT_EQ(ch.del(), "");
  for (const auto& c : nftObjects(nftRuleset(), "chain"))
    EXPECT_FALSE(c["name"].get<std::string>().starts_with("CNI-DN-")) << "left behind: " << c.dump();
  EXPECT_NE(run({"ip", "-n", "pm-c1", "link", "show", "eth0"}).exitCode, 0);
  EXPECT_FALSE(fs::exists(root() + "/ipam/pmnet/" + ip));
  EXPECT_EQ(ch.del(), "") << "DEL of the chain again";
}

TEST(CniChain, BandwidthAfterNetctl) {
  NEED_PLUGIN("bandwidth");
  ASSERT_TRUE(netctl::netns::createNamed(root(), "bw-c1"));
  // 2 Mbit/s each way; bursts in bits as the plugin wants them (a few MTUs).
  json bw = {{"type", "bandwidth"},
             {"ingressRate", 2000000},
             {"ingressBurst", 40000},
             {"egressRate", 2000000},
             {"egressBurst", 40000}};
  Chain ch{conflist("1.0.0", "bwnet", {netctlPlugin("bwnet", "10.94.0.0/24"), bw}), "bwc1", "/run/netns/bw-c1"};
  ASSERT_EQ(ch.add(), "");
  std::string veth = hostVeth(ch.steps[0], "br-bwnet");
  ASSERT_FALSE(veth.empty()) << ch.steps[0].dump();

  // bandwidth found netctl's host end by the container end's peer index: tbf on it for
  // ingress, and an ingress redirect to an ifb device (appended to the result) for egress.
  json q = json::parse(run({"tc", "-j", "qdisc", "show", "dev", veth}).out, nullptr, false);
  bool tbf = false, ingress = false;
  for (const auto& e : q) {
    if (e["kind"] == "tbf") tbf = true;
    if (e["kind"] == "ingress") ingress = true;
  }
  EXPECT_TRUE(tbf && ingress) << q.dump();
  ASSERT_EQ(ch.result["interfaces"].size(), ch.steps[0]["interfaces"].size() + 1) << ch.result.dump();
  std::string ifb = ch.result["interfaces"].back()["name"];
  json ifbLink = ipJson({"-d", "link", "show", ifb});
  ASSERT_TRUE(ifbLink.is_array() && ifbLink.size() == 1) << ifb;
  EXPECT_EQ(ifbLink[0]["linkinfo"]["info_kind"], "ifb");
  json qi = json::parse(run({"tc", "-j", "qdisc", "show", "dev", ifb}).out, nullptr, false);
  EXPECT_NE(qi.dump().find("\"tbf\""), std::string::npos) << qi.dump();
  EXPECT_NE(run({"tc", "filter", "show", "dev", veth, "ingress"}).out.find(ifb), std::string::npos)
      << "no redirect to " << ifb;
  // netctl's own entries are untouched in the final result.
  EXPECT_EQ(ch.result["ips"], ch.steps[0]["ips"]);

  // Traffic is shaped: 300 kB from the container to the host at 2 Mbit/s takes about 1.2 s
  // (unshaped, a veth moves it in milliseconds).
  std::string ip = firstV4(ch.result);
  std::thread server([&] {
    run({"ip", "netns", "exec", "bw-c1", "python3", "-c",
         "import socket\ns=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);"
         "s.bind(('0.0.0.0',5001));s.listen(1);s.settimeout(10)\nc,a=s.accept();c.sendall(b'x'*300000);c.close()"});
  });
  Output got;
  for (int i = 0; i < 50; ++i) {
    got = run({"python3", "-c",
               "import socket,time\ns=socket.create_connection(('" + ip +
                   "',5001),timeout=2);s.settimeout(20);t=time.time();n=0\nwhile True:\n d=s.recv(65536)\n if not d: break\n "
                   "n+=len(d)\nprint(n,time.time()-t)"});
    if (got.exitCode == 0) break;
    ::usleep(100000);
  }
  server.join();
  ASSERT_EQ(got.exitCode, 0) << got.err;
  long bytes = 0;
  double secs = 0;
  ASSERT_EQ(std::sscanf(got.out.c_str(), "%ld %lf", &bytes, &secs), 2) << got.out;
  EXPECT_EQ(bytes, 300000);
  EXPECT_GT(secs, 0.7) << "not shaped";
  EXPECT_LT(secs, 8.0);

  EXPECT_EQ(ch.del(), "");
  EXPECT_NE(run({"ip", "link", "show", ifb}).exitCode, 0) << ifb << " left behind";
  EXPECT_NE(run({"ip", "link", "show", veth}).exitCode, 0) << veth << " left behind";
}

TEST(CniChain, TuningAfterNetctl) {
  NEED_PLUGIN("tuning");
  ASSERT_TRUE(netctl::netns::createNamed(root(), "tu-c1"));
  const std::string mac = "c2:11:22:33:44:55";
  json tu = {{"type", "tuning"},
             {"mtu", 1400},
             {"promisc", true},
             {"mac", mac},
             {"sysctl", {{"net.ipv4.conf.IFNAME.arp_filter", "1"}}}};
  Chain ch{conflist("0.4.0", "tunet", {netctlPlugin("tunet", "10.95.0.0/24"), tu}), "tuc1", "/run/netns/tu-c1"};
  ASSERT_EQ(ch.add(), "");
  int i = sandboxIface(ch.result, "eth0");
  ASSERT_GE(i, 0) << ch.result.dump();
  // tuning found netctl's container interface in the result and rewrote its MAC there.
  EXPECT_EQ(ch.result["interfaces"][i]["mac"], mac);
  EXPECT_NE(ch.steps[0]["interfaces"][i]["mac"], mac);
  EXPECT_EQ(ch.result["ips"][0]["version"], "4") << "0.4.0 shape kept";

  json l = ipJson({"-n", "tu-c1", "link", "show", "eth0"});
  ASSERT_TRUE(l.is_array() && l.size() == 1);
  EXPECT_EQ(l[0]["mtu"], 1400);
  EXPECT_EQ(l[0]["address"], mac);
  auto flags = l[0]["flags"].dump();
  EXPECT_NE(flags.find("PROMISC"), std::string::npos) << flags;
  Output sc = run({"ip", "netns", "exec", "tu-c1", "cat", "/proc/sys/net/ipv4/conf/eth0/arp_filter"});
  EXPECT_EQ(sc.out, "1\n");
  // The address netctl configured survived the MAC change and still answers.
  std::string ip = firstV4(ch.result);
  EXPECT_TRUE(sh("ping -c1 -W2 " + ip));
  // netctl's CHECK with the chain's final result (tuning changed the MAC). tuning 1.1.1's own
  // CHECK does not substitute IFNAME in sysctl keys (it opens .../conf/IFNAME/...), so it is
  // not asked.
  EXPECT_EQ(ch.checkOne(0), "");

  // DEL of tuning alone restores what it changed; then netctl's DEL removes the interface.
  std::string before = ch.steps[0]["interfaces"][i]["mac"];
  ASSERT_EQ(ch.delOne(1), "");
  l = ipJson({"-n", "tu-c1", "link", "show", "eth0"});
  ASSERT_TRUE(l.is_array() && l.size() == 1);
  EXPECT_EQ(l[0]["mtu"], 1500);
  EXPECT_EQ(l[0]["address"], before);
  EXPECT_EQ(l[0]["flags"].dump().find("PROMISC"), std::string::npos);
  ASSERT_EQ(ch.delOne(0), "");
  EXPECT_NE(run({"ip", "-n", "tu-c1", "link", "show", "eth0"}).exitCode, 0);
}

// netctl chained after another plugin (the reference loopback): the earlier result stays in
// front of netctl's, and netctl's ips point at its own interfaces in the merged list.
TEST(CniChain, NetctlAcceptsPrevResult) {
  NEED_PLUGIN("loopback");
  for (std::string version : {"0.4.0", "1.0.0"}) {
    SCOPED_TRACE(version);
    std::string ns = "lo-c" + std::string(version == "1.0.0" ? "1" : "0");
    ASSERT_TRUE(netctl::netns::createNamed(root(), ns));
    Chain ch{conflist(version, "lonet", {json{{"type", "loopback"}}, netctlPlugin("lonet", "10.96.0.0/24")}), "lo" + ns,
             "/run/netns/" + ns};
    ASSERT_EQ(ch.add(), "");
    const json& prev = ch.steps[0];
    const json& r = ch.result;
    EXPECT_EQ(r["cniVersion"], version);
    ASSERT_GE(r["interfaces"].size(), prev["interfaces"].size() + 3) << r.dump();
    for (size_t k = 0; k < prev["interfaces"].size(); ++k) EXPECT_EQ(r["interfaces"][k], prev["interfaces"][k]);
    // (loopback 1.1.1 leaves out the 0.4.0 "version" of its ips; netctl renders the version's shape)
    for (size_t k = 0; k < prev["ips"].size(); ++k) {
      EXPECT_EQ(r["ips"][k]["address"], prev["ips"][k]["address"]);
      EXPECT_EQ(r["ips"][k]["interface"], prev["ips"][k]["interface"]);
    }
    int eth0 = sandboxIface(r, "eth0");
    ASSERT_GE(eth0, int(prev["interfaces"].size()));
    std::string ip = firstV4(r);
    bool pointed = false;
    for (const auto& e : r["ips"])
      if (e["address"].get<std::string>().starts_with(ip + "/")) pointed = e["interface"] == eth0;
    EXPECT_TRUE(pointed) << r.dump();
    // Kernel: lo is up (loopback's work), eth0 holds netctl's address.
    json lo = ipJson({"-n", ns, "link", "show", "lo"});
    ASSERT_TRUE(lo.is_array() && lo.size() == 1);
    EXPECT_NE(lo[0]["flags"].dump().find("UP"), std::string::npos);
    EXPECT_NE(run({"ip", "-n", ns, "addr", "show", "eth0"}).out.find(ip + "/24"), std::string::npos);
    EXPECT_TRUE(sh("ip netns exec " + ns + " ping -c1 -W2 10.96.0.1"));
    EXPECT_EQ(ch.check(), "");
    EXPECT_EQ(ch.del(), "");
    EXPECT_NE(run({"ip", "-n", ns, "link", "show", "eth0"}).exitCode, 0);
    EXPECT_FALSE(fs::exists(root() + "/ipam/lonet/" + ip));
  }
}

}  // namespace
