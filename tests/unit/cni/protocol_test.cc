// The CNI environment (each variable, each error), CNI_ARGS with IgnoreUnknown, versions,
// the error JSON, and the IP helpers.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "netctl/cni/protocol.h"

using namespace netctl::cni;

namespace {

EnvMap addEnv() {
  return {{"CNI_COMMAND", "ADD"},   {"CNI_CONTAINERID", "c1"}, {"CNI_NETNS", "/run/netns/n1"},
          {"CNI_IFNAME", "eth0"},   {"CNI_PATH", "/opt/cni/bin:/usr/lib/cni"}};
}

int envCode(EnvMap m) {
  auto e = parseEnv(m);
  return e ? 0 : e.error().code;
}

}  // namespace

TEST(CniEnv, ParsesEveryVariable) {
  auto m = addEnv();
  m["CNI_ARGS"] = "IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=abc;"
                  "K8S_POD_UID=u-1;IP=10.0.0.5,fd00::5/64;MAC=0A:58:0A:00:00:05;FOO=bar";
  auto e = parseEnv(m);
  ASSERT_TRUE(e) << e.error().msg;
  EXPECT_EQ(e->command, Command::kAdd);
  EXPECT_EQ(e->containerId, "c1");
  EXPECT_EQ(e->netns.kind, NetnsRef::Kind::kNamed);
  EXPECT_EQ(e->netns.name, "n1");
  EXPECT_EQ(e->ifname, "eth0");
  EXPECT_EQ(e->path, (std::vector<std::string>{"/opt/cni/bin", "/usr/lib/cni"}));
  EXPECT_TRUE(e->args.ignoreUnknown);
  EXPECT_EQ(e->args.podNamespace, "ns");
  EXPECT_EQ(e->args.podName, "web");
  EXPECT_EQ(e->args.podInfraContainerId, "abc");
  EXPECT_EQ(e->args.podUid, "u-1");
  ASSERT_EQ(e->args.ips.size(), 2u);
  EXPECT_EQ(e->args.ips[0].str(), "10.0.0.5");
  EXPECT_EQ(e->args.ips[1].str(), "fd00::5");
  EXPECT_EQ(e->args.mac, "0a:58:0a:00:00:05");
  EXPECT_EQ(e->args.pairs.size(), 8u);
}

TEST(CniEnv, NetnsForms) {
  auto proc = parseNetns("/proc/4242/ns/net");
  ASSERT_TRUE(proc);
  EXPECT_EQ(proc->kind, NetnsRef::Kind::kProcPid);
  EXPECT_EQ(proc->pid, 4242);
  auto named = parseNetns("/var/run/netns/cni-1234");
  ASSERT_TRUE(named);
  EXPECT_EQ(named->kind, NetnsRef::Kind::kNamed);
  EXPECT_EQ(named->name, "cni-1234");
  auto self = parseNetns("/proc/self/ns/net");
  ASSERT_TRUE(self);
  EXPECT_EQ(self->kind, NetnsRef::Kind::kPath);
  auto other = parseNetns("/var/lib/ns/x");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->kind, NetnsRef::Kind::kPath);
  EXPECT_EQ(parseNetns("")->kind, NetnsRef::Kind::kNone);
  auto rel = parseNetns("netns/x");
  ASSERT_FALSE(rel);
  EXPECT_EQ(rel.error().code, code::kInvalidEnv);
}

TEST(CniEnv, MissingVariablesAreCode4AndNamed) {
  auto m = addEnv();
  m.erase("CNI_CONTAINERID");
  m.erase("CNI_NETNS");
  auto e = parseEnv(m);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, code::kInvalidEnv);
  EXPECT_EQ(e.error().msg, "required env variables [CNI_CONTAINERID,CNI_NETNS] missing");
  m = addEnv();
  m.erase("CNI_IFNAME");
  EXPECT_EQ(envCode(m), code::kInvalidEnv);
  EXPECT_EQ(envCode({}), code::kInvalidEnv);
  EXPECT_EQ(envCode({{"CNI_COMMAND", "FROB"}}), code::kInvalidEnv);
}

TEST(CniEnv, PerCommandRequirements) {
  // DEL may go without CNI_NETNS (ctr sends it empty once the task is gone).
  auto m = addEnv();
  m["CNI_COMMAND"] = "DEL";
  m["CNI_NETNS"] = "";
  auto del = parseEnv(m);
  ASSERT_TRUE(del);
  EXPECT_EQ(del->netns.kind, NetnsRef::Kind::kNone);
  // CHECK needs it.
  m["CNI_COMMAND"] = "CHECK";
  EXPECT_EQ(envCode(m), code::kInvalidEnv);
  // STATUS, GC and VERSION need no container; CNI_PATH is never required.
  EXPECT_EQ(envCode({{"CNI_COMMAND", "STATUS"}}), 0);
  EXPECT_EQ(envCode({{"CNI_COMMAND", "GC"}}), 0);
  EXPECT_EQ(envCode({{"CNI_COMMAND", "VERSION"}}), 0);
  m = addEnv();
  m.erase("CNI_PATH");
  EXPECT_EQ(envCode(m), 0);
}

TEST(CniEnv, ContainerIdAndIfnameRules) {
  for (const char* bad : {"-abc", "a b", "a/b", "_x", "é"}) {
    auto m = addEnv();
    m["CNI_CONTAINERID"] = bad;
    EXPECT_EQ(envCode(m), code::kInvalidEnv) << bad;
  }
  for (const char* ok : {"a", "638a9dbfcf59", "netctl-c1", "A.b_c-9"}) {
    auto m = addEnv();
    m["CNI_CONTAINERID"] = ok;
    EXPECT_EQ(envCode(m), 0) << ok;
  }
  for (const char* bad : {".", "..", "a/b", "a:b", "a b", "sixteen-chars-xx"}) {
    auto m = addEnv();
    m["CNI_IFNAME"] = bad;
    EXPECT_EQ(envCode(m), code::kInvalidEnv) << bad;
  }
  auto m = addEnv();
  m["CNI_IFNAME"] = "fifteen-chars-x";
  EXPECT_EQ(envCode(m), 0);
}

TEST(CniArgs, UnknownKeysFailWithoutIgnoreUnknown) {
  auto a = parseCniArgs("FOO=bar");
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, code::kInvalidEnv);
  EXPECT_NE(a.error().msg.find("FOO=bar"), std::string::npos);
  EXPECT_TRUE(parseCniArgs("IgnoreUnknown=1;FOO=bar"));
  EXPECT_TRUE(parseCniArgs("FOO=bar;IgnoreUnknown=true"));  // order does not matter
  EXPECT_TRUE(parseCniArgs("IgnoreUnknown=TRUE;FOO=bar"));
  EXPECT_FALSE(parseCniArgs("IgnoreUnknown=0;FOO=bar"));
  EXPECT_FALSE(parseCniArgs("IgnoreUnknown=false;FOO=bar"));
  auto badBool = parseCniArgs("IgnoreUnknown=yes");
  ASSERT_FALSE(badBool);
  EXPECT_EQ(badBool.error().code, code::kInvalidEnv);
}

TEST(CniArgs, KnownKeysAndSyntax) {
  auto a = parseCniArgs("K8S_POD_NAME=web;IP=10.1.2.3");
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->ignoreUnknown);
  EXPECT_EQ(a->podName, "web");
  ASSERT_EQ(a->ips.size(), 1u);
  EXPECT_TRUE(parseCniArgs(""));
  EXPECT_TRUE(parseCniArgs("IP=10.1.2.3;"));          // a trailing ';' as some runtimes send
  EXPECT_TRUE(parseCniArgs("K8S_POD_NAME=a=b"));      // '=' inside a value
  EXPECT_EQ(parseCniArgs("K8S_POD_NAME=a=b")->podName, "a=b");
  EXPECT_FALSE(parseCniArgs("novalue"));
  EXPECT_FALSE(parseCniArgs("=x"));
  EXPECT_FALSE(parseCniArgs("IP=10.1.2.300"));
  EXPECT_FALSE(parseCniArgs("IP=10.1.2.3/33"));
  EXPECT_FALSE(parseCniArgs("MAC=02:42:ac:11:00"));
  EXPECT_FALSE(parseCniArgs("MAC=02-42-ac-11-00-99"));
  EXPECT_EQ(parseCniArgs("IgnoreUnknown=1;K8S_POD_NAME=web;MAC=02:42:ac:11:00:99")->mac, "02:42:ac:11:00:99");
}

TEST(CniVersion, ParseAndCompare) {
  EXPECT_TRUE(Version::parse("1.1.0"));
  EXPECT_FALSE(Version::parse("1.1"));
  EXPECT_FALSE(Version::parse("1.1.0.0"));
  EXPECT_FALSE(Version::parse("v1.0.0"));
  EXPECT_FALSE(Version::parse(""));
  EXPECT_LT(*Version::parse("0.4.0"), *Version::parse("1.0.0"));
  EXPECT_LT(*Version::parse("0.10.0"), *Version::parse("1.0.0"));
  EXPECT_LT(*Version::parse("0.3.1"), *Version::parse("0.10.0"));
  for (auto v : {"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"}) EXPECT_TRUE(isSupportedVersion(v)) << v;
  for (auto v : {"0.1.0", "0.2.0", "1.2.0", "2.0.0"}) EXPECT_FALSE(isSupportedVersion(v)) << v;
  EXPECT_EQ(highestSupported({"0.4.0", "1.0.0", "1.2.0", "garbage"}), "1.0.0");
  EXPECT_EQ(highestSupported({"0.2.0"}), "");
  EXPECT_TRUE(versionAtLeast("1.1.0", "1.1.0"));
  EXPECT_FALSE(versionAtLeast("1.0.0", "1.1.0"));
}

TEST(CniError, JsonShape) {
  auto j = nlohmann::json::parse(renderError({code::kInvalidConfig, "bad", "worse"}, "0.4.0"));
  EXPECT_EQ(j, nlohmann::json::parse(R"({"cniVersion":"0.4.0","code":7,"msg":"bad","details":"worse"})"));
  auto k = nlohmann::json::parse(renderError({code::kTryAgainLater, "later", ""}, ""));
  EXPECT_EQ(k, nlohmann::json::parse(R"({"cniVersion":"1.1.0","code":11,"msg":"later"})"));
  // Invalid UTF-8 in a message must still give valid JSON.
  EXPECT_NO_THROW(nlohmann::json::parse(renderError({100, std::string("\xff\xfe"), ""}, "1.0.0")));
}

TEST(CniError, FromNetctlError) {
  using netctl::Error;
  EXPECT_EQ(failureFrom(Error(Error::Kind::kInvalidInput, 0, "x")).code, code::kInvalidConfig);
  EXPECT_EQ(failureFrom(Error(Error::Kind::kUnsupported, 0, "x")).code, code::kKernelUnsupported);
  EXPECT_EQ(failureFrom(Error(Error::Kind::kSystem, 5, "x")).code, code::kInternal);
  EXPECT_EQ(failureFrom(Error(Error::Kind::kConflict, 17, "x"), code::kInterfaceExists).code, code::kInterfaceExists);
}

TEST(CniIp, Arithmetic) {
  auto a = IpAddr::parse("10.0.0.255");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->next().str(), "10.0.1.0");
  EXPECT_EQ(IpAddr::parse("255.255.255.255")->next().str(), "0.0.0.0");
  EXPECT_EQ(IpAddr::parse("fd00::ffff")->next().str(), "fd00::1:0");
  auto p = IpPrefix::parse("10.1.2.3/20");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->network().str(), "10.1.0.0/20");
  EXPECT_EQ(p->broadcast().str(), "10.1.15.255");
  EXPECT_TRUE(p->contains(*IpAddr::parse("10.1.15.1")));
  EXPECT_FALSE(p->contains(*IpAddr::parse("10.1.16.1")));
  EXPECT_FALSE(p->contains(*IpAddr::parse("fd00::1")));
  EXPECT_EQ(IpPrefix::parse("fd00:1:2:f::9/61")->network().str(), "fd00:1:2:8::/61");
  EXPECT_FALSE(IpPrefix::parse("10.0.0.1"));
  EXPECT_EQ(IpPrefix::parse("10.0.0.1", true)->len, 32);
  EXPECT_FALSE(IpPrefix::parse("10.0.0.1/"));
  EXPECT_FALSE(IpPrefix::parse("10.0.0.1/1x"));
  EXPECT_FALSE(IpPrefix::parse("fd00::/129"));
  EXPECT_FALSE(IpAddr::parse(" 10.0.0.1"));
}
