// runPlugin driven exactly as a runtime drives a plugin (env vars, stdin, stdout, exit code),
// with a recording fake Backend and host-local IPAM in a temporary directory: every command,
// every version, and every error code the dispatcher produces.
#include <gtest/gtest.h>

#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "netctl/cni/plugin.h"

using namespace netctl::cni;
using nlohmann::json;

namespace {

struct FakeBackend : Backend {
  std::vector<std::string> calls;
  std::optional<Failure> failAdd, failDel, failCheck, failStatus, failGc;
  bool dropMac = false;
  Request last;
  std::vector<Attachment> gcValid;

  Outcome<NetResult> add(const Request& req, const NetResult& ipam) override {
    calls.push_back("add");
    last = req;
    if (failAdd) return std::unexpected(*failAdd);
    NetResult r = ipam;
    r.interfaces.push_back({req.conf.bridge, "0a:58:00:00:00:01", "", {}, "", ""});
    r.interfaces.push_back({"veth0", "0a:58:00:00:00:02", "", {}, "", ""});
    r.interfaces.push_back({req.env.ifname, dropMac ? "" : "0a:58:00:00:00:03", req.env.netns.path, 1500, "", ""});
    for (auto& ip : r.ips) ip.interface = 2;
    return r;
  }
  Outcome<void> del(const Request& req) override {
    calls.push_back("del");
    last = req;
    if (failDel) return std::unexpected(*failDel);
    return {};
  }
  Outcome<void> check(const Request& req, const NetResult&) override {
    calls.push_back("check");
    last = req;
    if (failCheck) return std::unexpected(*failCheck);
    return {};
  }
  Outcome<void> status(const Request&) override {
    calls.push_back("status");
    if (failStatus) return std::unexpected(*failStatus);
    return {};
  }
  Outcome<void> gc(const Request&, const std::vector<Attachment>& valid) override {
    calls.push_back("gc");
    gcValid = valid;
    if (failGc) return std::unexpected(*failGc);
    return {};
  }
};

class CniPlugin : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/netctl-cni-plugin-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir = tmpl;
    opts.dataDir = dir;
  }
  void TearDown() override { std::filesystem::remove_all(dir); }

  std::string config(const std::string& version, const std::string& extra = "") {
    return fmt::format(R"({{"cniVersion":"{}","name":"testnet","type":"netctl","bridge":"br-t",
      "ipam":{{"type":"host-local","ranges":[[{{"subnet":"10.99.0.0/24"}}],[{{"subnet":"fd99::/120"}}]],
      "routes":[{{"dst":"0.0.0.0/0"}}]}}{}}})", version, extra);
  }
  EnvMap env(const std::string& cmd, const std::string& id = "ctr1", const std::string& ifname = "eth0") {
    return {{"CNI_COMMAND", cmd}, {"CNI_CONTAINERID", id}, {"CNI_NETNS", "/proc/self/ns/net"},
            {"CNI_IFNAME", ifname}, {"CNI_PATH", "/usr/lib/cni"}, {"CNI_NETNS_OVERRIDE", "1"}};
  }
  int run(const EnvMap& e, const std::string& in) {
    std::ostringstream os;
    int rc = runPlugin(e, in, os, backend, opts);
    out = os.str();
    return rc;
  }
  json outJson() { return json::parse(out); }
  int errCode() { return outJson()["code"].get<int>(); }
  std::string file(const std::string& name) {
    std::ifstream f(dir + "/testnet/" + name, std::ios::binary);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
  }
  bool has(const std::string& name) { return std::filesystem::exists(dir + "/testnet/" + name); }

  std::string dir;
  Options opts;
  FakeBackend backend;
  std::string out;
};

}  // namespace

TEST_F(CniPlugin, VersionEchoesTheRequest) {
  ASSERT_EQ(run({{"CNI_COMMAND", "VERSION"}}, R"({"cniVersion":"1.0.0"})"), 0);
  EXPECT_EQ(outJson(), json::parse(R"({"cniVersion":"1.0.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]})"));
  ASSERT_EQ(run({{"CNI_COMMAND", "VERSION"}}, ""), 0);  // skel ignores stdin for VERSION
  EXPECT_EQ(outJson()["cniVersion"], "1.1.0");
  EXPECT_TRUE(backend.calls.empty());
}

TEST_F(CniPlugin, NoCommandPrintsAbout) {
  ASSERT_EQ(run({}, ""), 0);
  EXPECT_NE(out.find("1.1.0"), std::string::npos);
}

TEST_F(CniPlugin, AddInEveryVersionThenDelTwice) {
  int n = 0;
  for (auto v : kSupportedVersions) {
    std::string id = fmt::format("ctr{}", ++n);
    ASSERT_EQ(run(env("ADD", id), config(std::string(v))), 0) << v << out;
    auto j = outJson();
    EXPECT_EQ(j["cniVersion"], v);
    ASSERT_EQ(j["ips"].size(), 2u) << out;
    EXPECT_EQ(j["ips"][0]["address"], fmt::format("10.99.0.{}/24", n + 1));
    EXPECT_EQ(j["ips"][0]["gateway"], "10.99.0.1");
    EXPECT_EQ(j["ips"][0]["interface"], 2);
    EXPECT_EQ(j["ips"][1]["address"], fmt::format("fd99::{}/120", n + 1));
    EXPECT_EQ(j["ips"][0].contains("version"), !versionAtLeast(v, "1.0.0")) << v;
    EXPECT_EQ(j["interfaces"][2].contains("mtu"), v == "1.1.0") << v;  // 1.1.0 fields only in 1.1.0
    EXPECT_EQ(j["routes"][0]["dst"], "0.0.0.0/0");
    // host-local's bytes on disk.
    EXPECT_EQ(file(fmt::format("10.99.0.{}", n + 1)), id + "\r\neth0");
    EXPECT_EQ(file("last_reserved_ip.0"), fmt::format("10.99.0.{}", n + 1));
    EXPECT_EQ(file("last_reserved_ip.1"), fmt::format("fd99::{}", n + 1));
  }
  std::string prev = out;
  json delConf = json::parse(config("1.0.0"));
  delConf["prevResult"] = json::parse(prev);
  auto delEnv = env("DEL", "ctr5");
  delEnv["CNI_NETNS"] = "";  // ctr sends DEL without a netns
  ASSERT_EQ(run(delEnv, delConf.dump()), 0) << out;
  EXPECT_EQ(out, "");
  EXPECT_FALSE(has("10.99.0.6"));
  EXPECT_FALSE(has("fd99::6"));
  EXPECT_TRUE(has("10.99.0.5"));
  ASSERT_EQ(run(delEnv, delConf.dump()), 0) << out;  // idempotent
  EXPECT_EQ(backend.calls.back(), "del");
}

TEST_F(CniPlugin, RequestedMacAndIpPrecedence) {
  auto e = env("ADD");
  e["CNI_ARGS"] = "IgnoreUnknown=1;K8S_POD_NAME=web;IP=10.99.0.50;MAC=02:42:ac:11:00:99";
  ASSERT_EQ(run(e, config("0.4.0")), 0) << out;
  EXPECT_EQ(backend.last.mac, "02:42:ac:11:00:99");
  EXPECT_EQ(outJson()["ips"][0]["address"], "10.99.0.50/24");
  EXPECT_EQ(backend.last.env.args.podName, "web");
  // args.cni.ips wins over CNI_ARGS IP.
  auto e2 = env("ADD", "ctr2");
  e2["CNI_ARGS"] = "IP=10.99.0.60";
  ASSERT_EQ(run(e2, config("1.0.0", R"(,"args":{"cni":{"ips":["10.99.0.61"]}},"runtimeConfig":{"mac":"02:00:00:00:00:61"})")), 0) << out;
  EXPECT_EQ(outJson()["ips"][0]["address"], "10.99.0.61/24");
  EXPECT_EQ(backend.last.mac, "02:00:00:00:00:61");
}

TEST_F(CniPlugin, FailedAddReleasesAddresses) {
  backend.failAdd = Failure{code::kInterfaceExists, "eth0 already exists in the netns", ""};
  ASSERT_EQ(run(env("ADD"), config("1.0.0")), 1);
  EXPECT_EQ(errCode(), code::kInterfaceExists);
  EXPECT_EQ(outJson()["cniVersion"], "1.0.0");
  EXPECT_FALSE(has("10.99.0.2"));
  backend.failAdd.reset();
  backend.dropMac = true;  // a sandbox interface without a MAC is never printed
  ASSERT_EQ(run(env("ADD"), config("1.0.0")), 1);
  EXPECT_EQ(errCode(), code::kInternal);
  EXPECT_FALSE(has("10.99.0.3"));
  backend.dropMac = false;
  backend.failAdd = Failure{code::kTryAgainLater, "busy", ""};
  ASSERT_EQ(run(env("ADD"), config("1.0.0")), 1);
  EXPECT_EQ(errCode(), code::kTryAgainLater);
}

TEST_F(CniPlugin, DelTellsTheBackendWhatWasHeld) {
  ASSERT_EQ(run(env("ADD", "a"), config("1.0.0")), 0);
  ASSERT_EQ(run(env("ADD", "b"), config("1.0.0")), 0);
  ASSERT_EQ(run(env("DEL", "a"), config("1.0.0")), 0);  // no prevResult at all
  ASSERT_EQ(backend.last.heldIps.size(), 2u);
  EXPECT_EQ(backend.last.heldIps[0].str(), "10.99.0.2");
  EXPECT_EQ(backend.last.heldIps[1].str(), "fd99::2");
  ASSERT_EQ(run(env("DEL", "a"), config("1.0.0")), 0);
  EXPECT_TRUE(backend.last.heldIps.empty());
}

TEST_F(CniPlugin, DelReleasesEvenWhenBackendFails) {
  ASSERT_EQ(run(env("ADD"), config("1.0.0")), 0);
  backend.failDel = Failure{code::kInternal, "boom", ""};
  ASSERT_EQ(run(env("DEL"), config("1.0.0")), 1);
  EXPECT_EQ(errCode(), code::kInternal);
  EXPECT_FALSE(has("10.99.0.2"));
}

TEST_F(CniPlugin, DelOfUnknownNetworkSucceedsWithoutCreatingState) {
  ASSERT_EQ(run(env("DEL", "never"), config("0.3.1")), 0) << out;
  EXPECT_FALSE(std::filesystem::exists(dir + "/testnet"));
}

TEST_F(CniPlugin, Check) {
  ASSERT_EQ(run(env("ADD"), config("1.0.0")), 0);
  json c = json::parse(config("1.0.0"));
  c["prevResult"] = json::parse(out);
  ASSERT_EQ(run(env("CHECK"), c.dump()), 0) << out;
  EXPECT_EQ(out, "");
  EXPECT_EQ(backend.calls.back(), "check");
  // The reservation removed behind our back: CHECK fails.
  std::filesystem::remove(dir + "/testnet/fd99::2");
  ASSERT_EQ(run(env("CHECK"), c.dump()), 1);
  EXPECT_EQ(errCode(), code::kCheckFailed);
  // Needs prevResult, and 0.4.0 or later.
  ASSERT_EQ(run(env("CHECK"), config("1.0.0")), 1);
  EXPECT_EQ(errCode(), code::kInvalidConfig);
  c["cniVersion"] = "0.3.1";
  ASSERT_EQ(run(env("CHECK"), c.dump()), 1);
  EXPECT_EQ(errCode(), code::kIncompatibleVersion);
}

TEST_F(CniPlugin, StatusOnlyIn110) {
  ASSERT_EQ(run({{"CNI_COMMAND", "STATUS"}}, config("1.1.0")), 0) << out;
  EXPECT_EQ(out, "");
  ASSERT_EQ(run({{"CNI_COMMAND", "STATUS"}}, config("1.0.0")), 1);
  EXPECT_EQ(errCode(), code::kIncompatibleVersion);
  backend.failStatus = Failure{code::kNotAvailable, "bridge missing", ""};
  ASSERT_EQ(run({{"CNI_COMMAND", "STATUS"}}, config("1.1.0")), 1);
  EXPECT_EQ(errCode(), code::kNotAvailable);
  backend.failStatus = Failure{code::kLimitedConnectivity, "nat missing", ""};
  ASSERT_EQ(run({{"CNI_COMMAND", "STATUS"}}, config("1.1.0")), 1);
  EXPECT_EQ(errCode(), code::kLimitedConnectivity);
}

TEST_F(CniPlugin, GcReleasesStaleAttachments) {
  ASSERT_EQ(run(env("ADD", "keep"), config("1.1.0")), 0);
  ASSERT_EQ(run(env("ADD", "stale"), config("1.1.0")), 0);
  ASSERT_EQ(run(env("ADD", "keep", "eth1"), config("1.1.0")), 0);
  EXPECT_TRUE(has("10.99.0.3"));
  ASSERT_EQ(run({{"CNI_COMMAND", "GC"}, {"CNI_PATH", "/usr/lib/cni"}},
                config("1.1.0", R"(,"cni.dev/valid-attachments":[{"containerID":"keep","ifname":"eth0"},{"containerID":"keep","ifname":"eth1"}])")),
            0)
      << out;
  EXPECT_TRUE(has("10.99.0.2"));
  EXPECT_FALSE(has("10.99.0.3"));
  EXPECT_FALSE(has("fd99::3"));
  EXPECT_TRUE(has("10.99.0.4"));
  EXPECT_EQ(backend.gcValid.size(), 2u);
  // The older key alone works too; now eth1 is no longer valid.
  ASSERT_EQ(run({{"CNI_COMMAND", "GC"}}, config("1.1.0", R"(,"cni.dev/attachments":[{"containerID":"keep","ifname":"eth0"}])")), 0);
  EXPECT_FALSE(has("10.99.0.4"));
  EXPECT_TRUE(has("10.99.0.2"));
  ASSERT_EQ(run({{"CNI_COMMAND", "GC"}}, config("1.0.0", R"(,"cni.dev/valid-attachments":[])")), 1);
  EXPECT_EQ(errCode(), code::kIncompatibleVersion);
  ASSERT_EQ(run({{"CNI_COMMAND", "GC"}}, config("1.1.0")), 1);
  EXPECT_EQ(errCode(), code::kInvalidConfig);
  backend.failGc = Failure{code::kInternal, "nat", "table gone"};
  ASSERT_EQ(run({{"CNI_COMMAND", "GC"}}, config("1.1.0", R"(,"cni.dev/valid-attachments":[])")), 1);
  EXPECT_EQ(errCode(), code::kInternal);
  EXPECT_FALSE(has("10.99.0.2"));  // IPAM GC ran despite the backend's failure
}

TEST_F(CniPlugin, EveryErrorCodeOnStdoutWithExit1) {
  struct Case {
    EnvMap env;
    std::string in;
    int code;
  };
  auto noNetns = env("ADD");
  noNetns["CNI_NETNS"] = "/run/netns/does-not-exist";
  auto badArgs = env("ADD");
  badArgs["CNI_ARGS"] = "FOO=bar";
  std::vector<Case> cases = {
      {env("ADD"), config("0.2.0"), code::kIncompatibleVersion},
      {env("ADD"), config("1.2.0"), code::kIncompatibleVersion},
      {env("ADD"), config("1.0.0", R"(,"ipam":{"type":"dhcp"})").replace(0, 0, ""), 0},  // replaced below
      {noNetns, config("1.0.0"), code::kUnknownContainer},
      {badArgs, config("1.0.0"), code::kInvalidEnv},
      {env("FROB"), config("1.0.0"), code::kInvalidEnv},
      {env("ADD"), "{not json", code::kDecodeFailure},
      {env("ADD"), R"({"cniVersion":"1.0.0","type":"netctl"})", code::kInvalidConfig},
      {env("ADD"), R"({"cniVersion":"1.0.0","name":"n","type":"unknown-plugin"})", code::kInvalidConfig},
  };
  cases[2].in = R"({"cniVersion":"1.0.0","name":"n","type":"netctl","ipam":{"type":"dhcp"}})";
  cases[2].code = code::kUnsupportedField;
  for (const auto& c : cases) {
    ASSERT_EQ(run(c.env, c.in), 1) << c.in;
    EXPECT_EQ(errCode(), c.code) << c.in << " -> " << out;
    EXPECT_TRUE(outJson()["msg"].is_string());
  }
  EXPECT_TRUE(backend.calls.empty()) << "malformed input must not reach the backend";
  EXPECT_FALSE(std::filesystem::exists(dir + "/testnet")) << "malformed input must change nothing";
  // I/O failure: the data root is a file.
  std::ofstream(dir + "/file") << "x";
  opts.dataDir = dir + "/file";
  ASSERT_EQ(run(env("ADD"), config("1.0.0")), 1);
  EXPECT_EQ(errCode(), code::kIoFailure);
}

TEST_F(CniPlugin, ExhaustedPoolAndTakenAddress) {
  std::string small = R"({"cniVersion":"0.4.0","name":"testnet","type":"netctl",
    "ipam":{"type":"host-local","ranges":[[{"subnet":"10.98.0.0/30"}]]}})";
  ASSERT_EQ(run(env("ADD", "a"), small), 0) << out;  // /30: .1 is the gateway, .2 the only address
  EXPECT_EQ(outJson()["ips"][0]["address"], "10.98.0.2/30");
  ASSERT_EQ(run(env("ADD", "b"), small), 1);
  EXPECT_EQ(errCode(), code::kPoolExhausted);
  EXPECT_EQ(outJson()["cniVersion"], "0.4.0");
  auto e = env("ADD", "c");
  e["CNI_ARGS"] = "IP=10.98.0.2";
  ASSERT_EQ(run(e, small), 1);
  EXPECT_EQ(errCode(), code::kAddressUnavailable);
  ASSERT_EQ(run(env("ADD", "a"), small), 1);  // the same attachment twice
  EXPECT_EQ(errCode(), code::kAddressUnavailable);
}

TEST_F(CniPlugin, L2OnlyAndStatic) {
  ASSERT_EQ(run(env("ADD"), R"({"cniVersion":"1.0.0","name":"l2","type":"netctl","ipam":{}})"), 0) << out;
  EXPECT_FALSE(outJson().contains("ips"));
  auto e = env("ADD");
  e["CNI_ARGS"] = "IP=10.0.0.5";
  ASSERT_EQ(run(e, R"({"cniVersion":"1.0.0","name":"l2","type":"netctl"})"), 1);
  EXPECT_EQ(errCode(), code::kInvalidConfig);
  e["CNI_COMMAND"] = "DEL";  // DEL stays lenient about it
  EXPECT_EQ(run(e, R"({"cniVersion":"1.0.0","name":"l2","type":"netctl"})"), 0) << out;
  ASSERT_EQ(run(env("ADD"), R"({"cniVersion":"0.3.1","name":"st","type":"netctl-ptp",
    "ipam":{"type":"static","addresses":[{"address":"10.7.0.5/24","gateway":"10.7.0.1"}],"dns":{"nameservers":["10.7.0.1"]}}})"), 0) << out;
  EXPECT_EQ(outJson()["ips"][0]["address"], "10.7.0.5/24");
  EXPECT_EQ(outJson()["ips"][0]["version"], "4");
  EXPECT_EQ(outJson()["dns"]["nameservers"][0], "10.7.0.1");
  EXPECT_EQ(backend.last.conf.mode, PluginMode::kPtp);
}

TEST_F(CniPlugin, RunFromProcessUsesEnvStdinStdout) {
  // A child process with real env vars, stdin and stdout, as a runtime runs the plugin.
  int in[2], out2[2];
  ASSERT_EQ(pipe(in), 0);
  ASSERT_EQ(pipe(out2), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out2[1], 1);
    close(in[1]);
    close(out2[0]);
    clearenv();
    setenv("CNI_COMMAND", "ADD", 1);
    setenv("CNI_CONTAINERID", "proc1", 1);
    setenv("CNI_NETNS", "/proc/self/ns/net", 1);
    setenv("CNI_IFNAME", "eth0", 1);
    setenv("CNI_ARGS", "IgnoreUnknown=1;K8S_POD_NAME=web", 1);
    setenv("CNI_NETNS_OVERRIDE", "1", 1);
    FakeBackend b;
    _exit(runFromProcess(b, opts));
  }
  close(in[0]);
  close(out2[1]);
  std::string conf = config("0.3.1");
  ASSERT_EQ(write(in[1], conf.data(), conf.size()), static_cast<ssize_t>(conf.size()));
  close(in[1]);
  std::string got;
  char buf[4096];
  ssize_t n;
  while ((n = read(out2[0], buf, sizeof buf)) > 0) got.append(buf, static_cast<size_t>(n));
  close(out2[0]);
  int st = 0;
  ASSERT_EQ(waitpid(pid, &st, 0), pid);
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 0) << got;
  auto j = json::parse(got);
  EXPECT_EQ(j["cniVersion"], "0.3.1");
  EXPECT_EQ(j["ips"][0]["address"], "10.99.0.2/24");
  EXPECT_EQ(file("10.99.0.2"), "proc1\r\neth0");
}

TEST_F(CniPlugin, ErrorsEchoTheRequestVersion) {
  ASSERT_EQ(run(env("ADD"), config("0.2.0")), 1);
  EXPECT_EQ(outJson()["cniVersion"], "0.2.0");
  EXPECT_EQ(errCode(), code::kIncompatibleVersion);
  ASSERT_EQ(run(env("ADD"), config("1.0.0", R"(,"mtu":"big")")), 1);
  EXPECT_EQ(outJson()["cniVersion"], "1.0.0");
}

TEST_F(CniPlugin, OwnNetnsNeedsOverride) {
  auto e = env("ADD");
  e.erase("CNI_NETNS_OVERRIDE");  // CNI_NETNS=/proc/self/ns/net is the plugin's own netns
  ASSERT_EQ(run(e, config("1.0.0")), 1);
  EXPECT_EQ(errCode(), code::kInvalidNetns);
  EXPECT_TRUE(backend.calls.empty());
  EXPECT_FALSE(std::filesystem::exists(dir + "/testnet"));
  auto del = env("DEL");
  del.erase("CNI_NETNS_OVERRIDE");  // DEL does not care
  EXPECT_EQ(run(del, config("1.0.0")), 0);
}

// Chained after another plugin: that plugin's interfaces, ips and routes come first, netctl's
// ips point at netctl's interfaces in the merged list, and an interface netctl made again (same
// name and sandbox) is not listed twice.
TEST_F(CniPlugin, AddKeepsPrevResultInFront) {
  json c = json::parse(config("1.0.0"));
  c["prevResult"] = json::parse(R"({"cniVersion":"1.0.0",
    "interfaces":[{"name":"lo","mac":"00:00:00:00:00:00","sandbox":"/proc/self/ns/net"},
                  {"name":"eth0","mac":"0a:58:00:00:00:09","sandbox":"/proc/self/ns/net"}],
    "ips":[{"address":"127.0.0.1/8","interface":0}],
    "routes":[{"dst":"192.0.2.0/24"}],
    "dns":{"nameservers":["192.0.2.53"]}})");
  ASSERT_EQ(run(env("ADD"), c.dump()), 0) << out;
  auto j = outJson();
  ASSERT_EQ(j["interfaces"].size(), 4u) << out;  // lo, eth0 (netctl's, in place), br-t, veth0
  EXPECT_EQ(j["interfaces"][0]["name"], "lo");
  EXPECT_EQ(j["interfaces"][1]["name"], "eth0");
  EXPECT_EQ(j["interfaces"][1]["mac"], "0a:58:00:00:00:03");
  EXPECT_EQ(j["interfaces"][2]["name"], "br-t");
  EXPECT_EQ(j["interfaces"][3]["name"], "veth0");
  ASSERT_EQ(j["ips"].size(), 3u);
  EXPECT_EQ(j["ips"][0]["address"], "127.0.0.1/8");
  EXPECT_EQ(j["ips"][0]["interface"], 0);
  EXPECT_EQ(j["ips"][1]["address"], "10.99.0.2/24");
  EXPECT_EQ(j["ips"][1]["interface"], 1);
  EXPECT_EQ(j["routes"][0]["dst"], "192.0.2.0/24");
  EXPECT_EQ(j["routes"][1]["dst"], "0.0.0.0/0");
  EXPECT_EQ(j["dns"]["nameservers"][0], "192.0.2.53");
}
