// Result rendering per spec version (golden JSON), parsing of results of every version, and
// conversion between versions (prevResult from other plugins, results for chained plugins).
#include <gtest/gtest.h>

#include "netctl/cni/result.h"

using namespace netctl::cni;
using nlohmann::json;

namespace {

NetResult sample() {
  NetResult r;
  r.interfaces.push_back({"cni0", "0a:58:0a:58:00:01", "", {}, "", ""});
  r.interfaces.push_back({"veth1234", "aa:bb:cc:dd:ee:ff", "", {}, "", ""});
  r.interfaces.push_back({"eth0", "0a:58:0a:58:00:02", "/run/netns/c1", 1500, "", ""});
  r.ips.push_back({*IpPrefix::parse("10.88.0.2/16"), IpAddr::parse("10.88.0.1"), 2});
  r.ips.push_back({*IpPrefix::parse("fd00::2/64"), IpAddr::parse("fd00::1"), 2});
  Route def{*IpPrefix::parse("0.0.0.0/0"), {}, {}, {}, {}, {}, {}};
  def.priority = 100;
  r.routes.push_back(def);
  r.routes.push_back({*IpPrefix::parse("::/0"), IpAddr::parse("fd00::1"), {}, {}, {}, {}, {}});
  r.dns.nameservers = {"10.88.0.1"};
  return r;
}

const char* kIfaces =
    R"("interfaces":[{"mac":"0a:58:0a:58:00:01","name":"cni0"},{"mac":"aa:bb:cc:dd:ee:ff","name":"veth1234"},{"mac":"0a:58:0a:58:00:02","name":"eth0","sandbox":"/run/netns/c1"}])";
const char* kIpsOld =
    R"("ips":[{"address":"10.88.0.2/16","gateway":"10.88.0.1","interface":2,"version":"4"},{"address":"fd00::2/64","gateway":"fd00::1","interface":2,"version":"6"}])";
const char* kIpsNew =
    R"("ips":[{"address":"10.88.0.2/16","gateway":"10.88.0.1","interface":2},{"address":"fd00::2/64","gateway":"fd00::1","interface":2}])";
const char* kRoutesOld = R"("routes":[{"dst":"0.0.0.0/0"},{"dst":"::/0","gw":"fd00::1"}])";

std::string golden(const char* version, const char* ips) {
  return std::string(R"({"cniVersion":")") + version + R"(","dns":{"nameservers":["10.88.0.1"]},)" + kIfaces +
         "," + ips + "," + kRoutesOld + "}";
}

}  // namespace

TEST(CniResult, Golden030) { EXPECT_EQ(renderResult(sample(), "0.3.0"), golden("0.3.0", kIpsOld)); }
TEST(CniResult, Golden031) { EXPECT_EQ(renderResult(sample(), "0.3.1"), golden("0.3.1", kIpsOld)); }
TEST(CniResult, Golden040) { EXPECT_EQ(renderResult(sample(), "0.4.0"), golden("0.4.0", kIpsOld)); }
TEST(CniResult, Golden100HasNoIpVersionAndNo11Fields) {
  EXPECT_EQ(renderResult(sample(), "1.0.0"), golden("1.0.0", kIpsNew));
}
TEST(CniResult, Golden110HasMtuAndRoutePriority) {
  EXPECT_EQ(renderResult(sample(), "1.1.0"),
            R"({"cniVersion":"1.1.0","dns":{"nameservers":["10.88.0.1"]},"interfaces":[{"mac":"0a:58:0a:58:00:01","name":"cni0"},{"mac":"aa:bb:cc:dd:ee:ff","name":"veth1234"},{"mac":"0a:58:0a:58:00:02","mtu":1500,"name":"eth0","sandbox":"/run/netns/c1"}],)"
            R"("ips":[{"address":"10.88.0.2/16","gateway":"10.88.0.1","interface":2},{"address":"fd00::2/64","gateway":"fd00::1","interface":2}],)"
            R"("routes":[{"dst":"0.0.0.0/0","priority":100},{"dst":"::/0","gw":"fd00::1"}]})");
}

TEST(CniResult, EmptyResultStillHasDns) {
  EXPECT_EQ(renderResult(NetResult{}, "1.0.0"), R"({"cniVersion":"1.0.0","dns":{}})");
}

TEST(CniResult, ParsesTheDebianBridgeResult) {
  // A real 0.4.0 result from the Debian 12 bridge plugin (notes A.6 shape).
  auto j = json::parse(R"({"cniVersion":"0.4.0","interfaces":[{"name":"cni-test0","mac":"0a:db:b6:0d:a4:b9"},
    {"name":"vethd202bd04","mac":"1a:33:cd:13:35:03"},{"name":"eth0","mac":"4a:fa:58:45:6a:5a","sandbox":"/run/netns/c1"}],
    "ips":[{"version":"4","interface":2,"address":"10.99.0.2/24","gateway":"10.99.0.1"}],
    "routes":[{"dst":"0.0.0.0/0"}],"dns":{}})");
  auto r = parseResult(j, "0.4.0");
  ASSERT_TRUE(r) << r.error().msg << r.error().details;
  ASSERT_EQ(r->interfaces.size(), 3u);
  EXPECT_EQ(r->interfaces[2].sandbox, "/run/netns/c1");
  ASSERT_EQ(r->ips.size(), 1u);
  EXPECT_EQ(r->ips[0].address.str(), "10.99.0.2/24");
  EXPECT_EQ(*r->ips[0].interface, 2);
  EXPECT_EQ(r->ips[0].gateway->str(), "10.99.0.1");
  EXPECT_TRUE(validateResult(*r));
  // Up-converted to 1.0.0: "version" disappears, the rest stays.
  auto up = convertResult(j, "1.0.0");
  ASSERT_TRUE(up);
  EXPECT_FALSE((*up)["ips"][0].contains("version"));
  EXPECT_EQ((*up)["ips"][0]["interface"], 2);
  EXPECT_EQ((*up)["cniVersion"], "1.0.0");
}

TEST(CniResult, ConvertsDownFrom110DroppingNewFields) {
  auto j = resultToJson(sample(), "1.1.0");
  auto down = convertResult(j, "1.0.0");
  ASSERT_TRUE(down);
  EXPECT_EQ(down->dump(), golden("1.0.0", kIpsNew));
  auto older = convertResult(j, "0.3.1");
  ASSERT_TRUE(older);
  EXPECT_EQ(older->dump(), golden("0.3.1", kIpsOld));
}

TEST(CniResult, ParsesLegacy020Result) {
  auto j = json::parse(R"({"cniVersion":"0.2.0","ip4":{"ip":"10.99.0.2/24","gateway":"10.99.0.1",
    "routes":[{"dst":"0.0.0.0/0"}]},"ip6":{"ip":"fd00::5/64"},"dns":{"domain":"lab"}})");
  auto r = parseResult(j, "0.2.0");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->ips.size(), 2u);
  EXPECT_EQ(r->ips[1].address.str(), "fd00::5/64");
  EXPECT_FALSE(r->ips[1].gateway);
  EXPECT_EQ(r->routes.size(), 1u);
  EXPECT_EQ(r->dns.domain, "lab");
  auto up = convertResult(j, "0.4.0");
  ASSERT_TRUE(up);
  EXPECT_EQ(up->dump(),
            R"({"cniVersion":"0.4.0","dns":{"domain":"lab"},"ips":[{"address":"10.99.0.2/24","gateway":"10.99.0.1","version":"4"},{"address":"fd00::5/64","version":"6"}],"routes":[{"dst":"0.0.0.0/0"}]})");
}

TEST(CniResult, ParsesIpamAbbreviatedResultWithoutVersion) {
  // host-local's own output (observed): no interfaces, no interface index.
  auto j = json::parse(R"({"ips":[{"address":"203.0.113.2/24","gateway":"203.0.113.1"}],"dns":{}})");
  auto r = parseResult(j, "1.0.0");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->cniVersion, "1.0.0");
  EXPECT_FALSE(r->ips[0].interface);
}

TEST(CniResult, RejectsMalformedResults) {
  for (const char* bad : {R"([])", R"({"cniVersion":"x"})", R"({"ips":[{"address":"10.0.0.300/24"}]})",
                          R"({"ips":[{"address":"10.0.0.3"}]})", R"({"ips":{}})",
                          R"({"ips":[{"address":"10.0.0.3/24","gateway":"fd00::1"}]})",
                          R"({"ips":[{"address":"10.0.0.3/24","version":"6"}]})",
                          R"({"interfaces":[{"name":1}]})", R"({"routes":[{"dst":"x"}]})",
                          R"({"dns":{"nameservers":"1.1.1.1"}})", R"({"interfaces":[{"name":"a","mtu":"9000"}],"cniVersion":"1.1.0"})"}) {
    auto r = parseResult(json::parse(bad), "1.1.0");
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, code::kDecodeFailure) << bad;
  }
}

TEST(CniResult, ValidateDemandsMacOnSandboxInterfaces) {
  NetResult r = sample();
  EXPECT_TRUE(validateResult(r));
  r.interfaces[2].mac = "";
  auto v = validateResult(r);
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().msg.find("eth0"), std::string::npos);
  r = sample();
  r.interfaces[2].mac = "0a:58:0a:58:00";
  EXPECT_FALSE(validateResult(r));
  r = sample();
  r.ips[0].interface = 3;
  EXPECT_FALSE(validateResult(r));
  r = sample();
  r.interfaces[0].mac = "";  // a host-side interface may go without a MAC
  EXPECT_TRUE(validateResult(r));
}
