// CNI conformance: drives the netctl binary exactly as a runtime does (CNI_* environment,
// config on stdin, JSON on stdout, exit code) and reads the kernel back with `ip` and `nft`.
#include <gtest/gtest.h>
#include <unistd.h>

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

std::string root() { return netctl::sandbox::info().stateRoot; }
std::string ipamDir() { return root() + "/ipam"; }

Output cni(const std::string& cmd, const std::string& conf, const std::string& id = "",
           const std::string& netns = "", const std::string& ifname = "eth0") {
  std::vector<std::string> env = {"CNI_COMMAND=" + cmd, "CNI_PATH=/usr/lib/cni"};
  if (!id.empty()) env.push_back("CNI_CONTAINERID=" + id);
  if (!netns.empty()) env.push_back("CNI_NETNS=" + netns);
  if (!ifname.empty()) env.push_back("CNI_IFNAME=" + ifname);
  return runWith({NETCTL_BINARY}, env, conf);
}

json bridgeConf(const std::string& version, const std::string& net, const std::string& subnet,
                json extra = json::object()) {
  json c = {{"cniVersion", version},
            {"name", net},
            {"type", "netctl"},
            {"bridge", "br-" + net},
            {"isGateway", true},
            {"ipam", {{"type", "host-local"}, {"dataDir", ipamDir()}, {"ranges", {{{{"subnet", subnet}}}}}}}};
  c.update(extra);
  return c;
}

// A container: a named netns in the sandbox's state root.
struct Container {
  std::string name;
  netctl::netns::Handle ns;
  std::string path() const { return "/run/netns/" + name; }
};
Container makeContainer(const std::string& name) {
  auto h = netctl::netns::createNamed(root(), name);
  EXPECT_TRUE(h) << (h ? "" : h.error().what());
  return Container{name, h ? std::move(*h) : netctl::netns::Handle()};
}

json ipJson(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"ip", "-j"};
  argv.insert(argv.end(), args.begin(), args.end());
  Output o = run(argv);
  if (o.exitCode != 0 || o.out.empty()) return json::array();
  return json::parse(o.out, nullptr, false);
}
std::vector<std::string> addrsOf(const std::string& ns, const std::string& dev) {
  std::vector<std::string> out;
  for (const auto& l : ipJson({"-n", ns, "addr", "show", "dev", dev}))
    for (const auto& a : l.value("addr_info", json::array()))
      if (a.value("scope", "") == "global") out.push_back(a["local"].get<std::string>() + "/" + std::to_string(a["prefixlen"].get<int>()));
  return out;
}
bool linkExists(const std::string& ns, const std::string& dev) {
  std::vector<std::string> a = {"ip"};
  if (!ns.empty()) a.insert(a.end(), {"-n", ns});
  a.insert(a.end(), {"link", "show", "dev", dev});
  return run(a).exitCode == 0;
}
size_t reservations(const std::string& net) {
  size_t n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(ipamDir() + "/" + net, ec)) {
    auto f = e.path().filename().string();
    if (f != "lock" && !f.starts_with("last_reserved_ip")) ++n;
  }
  return n;
}
int errorCode(const Output& o) {
  auto j = json::parse(o.out, nullptr, false);
  return j.is_object() ? j.value("code", -1) : -1;
}
json withPrev(json conf, const std::string& result) {
  conf["prevResult"] = json::parse(result);
  return conf;
}
bool atLeast(const std::string& v, const std::string& w) {
  auto key = [](const std::string& s) { int a = 0, b = 0, c = 0; std::sscanf(s.c_str(), "%d.%d.%d", &a, &b, &c); return a * 10000 + b * 100 + c; };
  return key(v) >= key(w);
}

class Versions : public ::testing::TestWithParam<std::string> {};

TEST_P(Versions, AddCheckDelDelAgainStatusGc) {
  const std::string v = GetParam();
  std::string net = "n" + std::to_string(std::hash<std::string>{}(v) % 10000);
  auto conf = bridgeConf(v, net, "10.77.0.0/24", {{"isDefaultGateway", true}});
  Container c = makeContainer("ctr-" + net);

  Output ver = cni("VERSION", json({{"cniVersion", v}}).dump());
  ASSERT_EQ(ver.exitCode, 0) << ver.out;
  auto vj = json::parse(ver.out);
  EXPECT_EQ(vj["cniVersion"], v);
  EXPECT_NE(std::find(vj["supportedVersions"].begin(), vj["supportedVersions"].end(), v), vj["supportedVersions"].end());

  Output add = cni("ADD", conf.dump(), "c1", c.path());
  ASSERT_EQ(add.exitCode, 0) << add.out << add.err;
  auto r = json::parse(add.out);
  EXPECT_EQ(r["cniVersion"], v);
  ASSERT_EQ(r["ips"].size(), 1u);
  std::string address = r["ips"][0]["address"];
  EXPECT_EQ(r["ips"][0].contains("version"), !atLeast(v, "1.0.0")) << add.out;
  for (const auto& i : r["interfaces"])
    if (i.contains("sandbox")) {
      EXPECT_EQ(i["sandbox"], c.path());
      EXPECT_EQ(i["mac"].get<std::string>().size(), 17u);
    }
  // Kernel: the address on eth0 in the container, the default route, the veth on the bridge.
  EXPECT_EQ(addrsOf(c.name, "eth0"), std::vector<std::string>{address});
  auto routes = ipJson({"-n", c.name, "route", "show", "default"});
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes[0]["gateway"], "10.77.0.1");
  EXPECT_NE(run({"ip", "addr", "show", "dev", "br-" + net}).out.find("inet 10.77.0.1/24"), std::string::npos);
  auto host = ipJson({"link", "show", "master", "br-" + net});
  EXPECT_EQ(host.size(), 1u);
  EXPECT_EQ(reservations(net), 1u);

  if (atLeast(v, "0.4.0")) {
    Output chk = cni("CHECK", withPrev(conf, add.out).dump(), "c1", c.path());
    EXPECT_EQ(chk.exitCode, 0) << chk.out;
  }
  if (v == "1.1.0") {
    Output st = cni("STATUS", conf.dump());
    EXPECT_EQ(st.exitCode, 0) << st.out;
  }
  Output del = cni("DEL", withPrev(conf, add.out).dump(), "c1", c.path());
  EXPECT_EQ(del.exitCode, 0) << del.out;
  EXPECT_EQ(del.out, "");
  EXPECT_FALSE(linkExists(c.name, "eth0"));
  EXPECT_EQ(ipJson({"link", "show", "master", "br-" + net}).size(), 0u);
  EXPECT_EQ(reservations(net), 0u);
  Output again = cni("DEL", conf.dump(), "c1", c.path());
  EXPECT_EQ(again.exitCode, 0) << again.out;
  // DEL with the netns gone succeeds too.
  Output gone = cni("DEL", conf.dump(), "c1", "/run/netns/does-not-exist");
  EXPECT_EQ(gone.exitCode, 0) << gone.out;

  if (v == "1.1.0") {
    // GC: an attachment not in the valid list loses its address.
    ASSERT_EQ(cni("ADD", conf.dump(), "c2", c.path()).exitCode, 0);
    EXPECT_EQ(reservations(net), 1u);
    auto g = conf;
    g["cni.dev/valid-attachments"] = json::array({{{"containerID", "c2"}, {"ifname", "eth0"}}});
    EXPECT_EQ(cni("GC", g.dump()).exitCode, 0);
    EXPECT_EQ(reservations(net), 1u);
    g["cni.dev/valid-attachments"] = json::array();
    Output gc = cni("GC", g.dump());
    EXPECT_EQ(gc.exitCode, 0) << gc.out;
    EXPECT_EQ(reservations(net), 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(Cni, Versions, ::testing::Values("0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"),
                         [](const auto& info) {
                           std::string s = info.param;
                           std::replace(s.begin(), s.end(), '.', '_');
                           return "v" + s;
                         });

TEST(Cni, CheckFailsAfterTampering) {
  auto conf = bridgeConf("1.0.0", "tamper", "10.78.0.0/24");
  Container c = makeContainer("ctr-tamper");
  Output add = cni("ADD", conf.dump(), "t1", c.path());
  ASSERT_EQ(add.exitCode, 0) << add.out;
  std::string address = json::parse(add.out)["ips"][0]["address"];
  ASSERT_EQ(run({"ip", "-n", c.name, "addr", "del", address, "dev", "eth0"}).exitCode, 0);
  Output chk = cni("CHECK", withPrev(conf, add.out).dump(), "t1", c.path());
  EXPECT_NE(chk.exitCode, 0);
  EXPECT_EQ(errorCode(chk), 105) << chk.out;
  ASSERT_EQ(run({"ip", "-n", c.name, "link", "del", "eth0"}).exitCode, 0);
  chk = cni("CHECK", withPrev(conf, add.out).dump(), "t1", c.path());
  EXPECT_NE(chk.exitCode, 0);
  EXPECT_EQ(errorCode(chk), 105) << chk.out;
  EXPECT_EQ(cni("DEL", conf.dump(), "t1", c.path()).exitCode, 0);
  EXPECT_EQ(reservations("tamper"), 0u);
}

TEST(Cni, ProcPidNetnsPath) {
  // CNI_NETNS as /proc/PID/ns/net: a sleeping child in a netns of its own.
  auto conf = bridgeConf("1.0.0", "procpid", "10.79.0.0/24");
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::unshare(CLONE_NEWNET) != 0) ::_exit(1);
    ::pause();
    ::_exit(0);
  }
  ::usleep(100000);
  std::string path = "/proc/" + std::to_string(pid) + "/ns/net";
  Output add = cni("ADD", conf.dump(), "p1", path);
  EXPECT_EQ(add.exitCode, 0) << add.out;
  Output in = run({"nsenter", "--net=" + path, "ip", "-j", "addr", "show", "dev", "eth0"});
  EXPECT_NE(in.out.find("10.79.0."), std::string::npos) << in.out;
  EXPECT_EQ(cni("DEL", conf.dump(), "p1", path).exitCode, 0);
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  EXPECT_EQ(reservations("procpid"), 0u);
}

// Every malformed request gets the spec's code, and nothing is left behind.
TEST(Cni, MalformedInputChangesNothing) {
  Container c = makeContainer("ctr-bad");
  auto good = bridgeConf("1.0.0", "bad", "10.80.0.0/30");  // one usable address: 10.80.0.2
  auto expectCode = [&](const Output& o, int code, const char* what) {
    EXPECT_NE(o.exitCode, 0) << what;
    EXPECT_EQ(errorCode(o), code) << what << ": " << o.out;
  };
  size_t linksBefore = ipJson({"link", "show"}).size();
  expectCode(cni("ADD", "{not json", "b1", c.path()), 6, "invalid JSON");
  auto t = good;
  t["type"] = "nonsense";
  expectCode(cni("ADD", t.dump(), "b1", c.path()), 7, "unknown type");
  auto m = good;
  m.erase("name");
  expectCode(cni("ADD", m.dump(), "b1", c.path()), 7, "missing name");
  auto bv = good;
  bv["cniVersion"] = "9.9.9";
  expectCode(cni("ADD", bv.dump(), "b1", c.path()), 1, "bad cniVersion");
  expectCode(cni("ADD", good.dump(), "b1", "/run/netns/nope"), 3, "missing netns");
  expectCode(cni("ADD", good.dump(), "", c.path()), 4, "missing CNI_CONTAINERID");
  EXPECT_EQ(ipJson({"link", "show"}).size(), linksBefore);
  EXPECT_EQ(reservations("bad"), 0u);
  EXPECT_EQ(ipJson({"-n", c.name, "link", "show"}).size(), 1u);  // lo only

  // The pool: the first ADD takes the only address, the second gets 101.
  ASSERT_EQ(cni("ADD", good.dump(), "b1", c.path()).exitCode, 0);
  Container c2 = makeContainer("ctr-bad2");
  expectCode(cni("ADD", good.dump(), "b2", c2.path()), 101, "exhausted pool");
  EXPECT_EQ(ipJson({"-n", c2.name, "link", "show"}).size(), 1u);
  // The interface name is taken in the netns.
  auto other = bridgeConf("1.0.0", "bad2", "10.81.0.0/24");
  expectCode(cni("ADD", other.dump(), "b3", c.path()), 102, "ifname taken");
  EXPECT_EQ(reservations("bad2"), 0u);
  EXPECT_EQ(reservations("bad"), 1u);
  EXPECT_EQ(cni("DEL", good.dump(), "b1", c.path()).exitCode, 0);
  EXPECT_EQ(reservations("bad"), 0u);
}

}  // namespace

namespace {

// Bridge keys: mtu, hairpinMode, promiscMode and a requested MAC, read back from the kernel.
TEST(Cni, BridgeKeysMtuHairpinPromiscMac) {
  auto conf = bridgeConf("1.1.0", "keys", "10.82.0.0/24",
                         {{"mtu", 1420}, {"hairpinMode", true},
                          {"runtimeConfig", {{"mac", "02:11:22:33:44:55"}}}, {"capabilities", {{"mac", true}}}});
  Container c = makeContainer("ctr-keys");
  Output add = cni("ADD", conf.dump(), "k1", c.path());
  ASSERT_EQ(add.exitCode, 0) << add.out;
  auto r = json::parse(add.out);
  EXPECT_EQ(r["interfaces"][2]["mac"], "02:11:22:33:44:55");
  EXPECT_EQ(r["interfaces"][2]["mtu"], 1420);  // 1.1.0 result field
  auto in = ipJson({"-n", c.name, "link", "show", "dev", "eth0"});
  ASSERT_EQ(in.size(), 1u);
  EXPECT_EQ(in[0]["address"], "02:11:22:33:44:55");
  EXPECT_EQ(in[0]["mtu"], 1420);
  std::string hostEnd = r["interfaces"][1]["name"];
  auto port = ipJson({"-d", "link", "show", "dev", hostEnd});
  ASSERT_EQ(port.size(), 1u);
  EXPECT_EQ(port[0]["mtu"], 1420);
  EXPECT_EQ(port[0]["linkinfo"]["info_slave_data"]["hairpin"], true) << port.dump();
  EXPECT_EQ(cni("DEL", conf.dump(), "k1", c.path()).exitCode, 0);
  // promiscMode (the reference refuses it together with hairpinMode, so does netctl).
  auto promisc = bridgeConf("1.1.0", "keys2", "10.83.0.0/24", {{"promiscMode", true}});
  ASSERT_EQ(cni("ADD", promisc.dump(), "k2", c.path()).exitCode, 0);
  auto br = ipJson({"link", "show", "dev", "br-keys2"});
  ASSERT_EQ(br.size(), 1u);
  auto flags = br[0]["flags"];
  EXPECT_NE(std::find(flags.begin(), flags.end(), "PROMISC"), flags.end()) << br.dump();
  EXPECT_EQ(cni("DEL", promisc.dump(), "k2", c.path()).exitCode, 0);
}

}  // namespace
