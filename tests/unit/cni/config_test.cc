// Network configuration parsing: versions, required keys, the reference plugins' keys, netctl's
// mode and type aliases, IPAM (host-local ranges with their defaults, static), runtimeConfig,
// args, prevResult, GC attachments, conflists.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "netctl/cni/config.h"

using namespace netctl::cni;

namespace {

int codeOf(const std::string& text) {
  auto c = parseNetConf(text);
  return c ? 0 : c.error().code;
}

std::string conf(const std::string& version, const std::string& extra = "") {
  return fmt::format(R"({{"cniVersion":"{}","name":"net1","type":"netctl"{}}})", version, extra);
}

}  // namespace

TEST(CniConfig, EverySupportedVersionParses) {
  for (auto v : kSupportedVersions) {
    auto c = parseNetConf(conf(std::string(v)));
    ASSERT_TRUE(c) << v << ": " << c.error().msg;
    EXPECT_EQ(c->cniVersion, v);
    EXPECT_EQ(c->mode, PluginMode::kBridge);
    EXPECT_EQ(c->bridge, "cni0");
    EXPECT_FALSE(c->ipam);
  }
}

TEST(CniConfig, VersionErrors) {
  EXPECT_EQ(codeOf(conf("0.2.0")), code::kIncompatibleVersion);
  EXPECT_EQ(codeOf(conf("1.2.0")), code::kIncompatibleVersion);
  EXPECT_EQ(codeOf(R"({"name":"n","type":"netctl"})"), code::kIncompatibleVersion);
  EXPECT_EQ(codeOf(conf("banana")), code::kDecodeFailure);
  EXPECT_EQ(codeOf(R"({"cniVersion":1,"name":"n","type":"netctl"})"), code::kDecodeFailure);
  // cniVersions (a conflist key) is honoured when cniVersion is absent.
  auto c = parseNetConf(R"({"cniVersions":["0.4.0","1.0.0","9.9.9"],"name":"n","type":"netctl"})");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->cniVersion, "1.0.0");
}

TEST(CniConfig, DecodeAndRequiredKeyErrors) {
  EXPECT_EQ(codeOf(""), code::kDecodeFailure);
  EXPECT_EQ(codeOf("{"), code::kDecodeFailure);
  EXPECT_EQ(codeOf("[1]"), code::kDecodeFailure);
  EXPECT_EQ(codeOf(R"({"cniVersion":"1.0.0","type":"netctl"})"), code::kInvalidConfig);
  EXPECT_EQ(codeOf(R"({"cniVersion":"1.0.0","name":"n"})"), code::kInvalidConfig);
  EXPECT_EQ(codeOf(R"({"cniVersion":"1.0.0","name":"bad name","type":"netctl"})"), code::kInvalidConfig);
  EXPECT_EQ(codeOf(R"({"cniVersion":"1.0.0","name":"n","type":"frob"})"), code::kInvalidConfig);
}

TEST(CniConfig, UnknownKeysAreKept) {
  auto c = parseNetConf(conf("1.0.0", R"(,"capabilities":{"portMappings":true},"someFutureKey":{"a":1})"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->raw["someFutureKey"]["a"], 1);
}

TEST(CniConfig, BridgeKeys) {
  auto c = parseNetConf(conf("0.4.0", R"(,"bridge":"br-lab","isDefaultGateway":true,"ipMasq":true,
    "hairpinMode":true,"mtu":1400,"forceAddress":true,"vlan":12)"));
  ASSERT_TRUE(c) << c.error().msg;
  EXPECT_EQ(c->bridge, "br-lab");
  EXPECT_TRUE(c->isGateway);  // implied by isDefaultGateway
  EXPECT_TRUE(c->isDefaultGateway);
  EXPECT_TRUE(c->ipMasq);
  EXPECT_TRUE(c->hairpinMode);
  EXPECT_TRUE(c->forceAddress);
  EXPECT_EQ(c->mtu, 1400);
  EXPECT_EQ(*c->vlan, 12);
  EXPECT_EQ(codeOf(conf("1.0.0", R"(,"hairpinMode":true,"promiscMode":true)")), code::kInvalidConfig);
  EXPECT_EQ(codeOf(conf("1.0.0", R"(,"ipMasq":"yes")")), code::kInvalidConfig);
  EXPECT_EQ(codeOf(conf("1.0.0", R"(,"mtu":-1)")), code::kInvalidConfig);
  EXPECT_EQ(codeOf(conf("1.0.0", R"(,"mtu":1.5)")), code::kInvalidConfig);
  EXPECT_EQ(codeOf(conf("1.0.0", R"(,"vlan":4095)")), code::kInvalidConfig);
  EXPECT_EQ(codeOf(conf("1.0.0", R"(,"bridge":"a-very-long-bridge-name")")), code::kInvalidConfig);
}

TEST(CniConfig, ModesAndAliases) {
  auto mac = parseNetConf(conf("1.0.0", R"(,"mode":"macvlan","master":"eth1","macvlanMode":"vepa")"));
  ASSERT_TRUE(mac);
  EXPECT_EQ(mac->mode, PluginMode::kMacvlan);
  EXPECT_EQ(mac->master, "eth1");
  EXPECT_EQ(mac->macvlanMode, "vepa");
  // With a type alias, `mode` is the reference macvlan plugin's key.
  auto ref = parseNetConf(R"({"cniVersion":"1.0.0","name":"n","type":"macvlan","master":"eth1","mode":"private"})");
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->mode, PluginMode::kMacvlan);
  EXPECT_EQ(ref->macvlanMode, "private");
  auto ptp = parseNetConf(R"({"cniVersion":"1.0.0","name":"n","type":"netctl-ptp","ipMasq":true,
    "ipam":{"type":"host-local","subnet":"10.1.0.0/24"}})");
  ASSERT_TRUE(ptp);
  EXPECT_EQ(ptp->mode, PluginMode::kPtp);
  EXPECT_EQ(parseNetConf(R"({"cniVersion":"1.0.0","name":"n","type":"bridge"})")->mode, PluginMode::kBridge);
  EXPECT_EQ(codeOf(conf("1.0.0", R"(,"mode":"vepa")")), code::kInvalidConfig);
  EXPECT_EQ(codeOf(R"({"cniVersion":"1.0.0","name":"n","type":"macvlan","mode":"frob"})"), code::kInvalidConfig);
  EXPECT_EQ(codeOf(R"({"cniVersion":"1.0.0","name":"n","type":"netctl-bridge","mode":"ptp"})"), code::kInvalidConfig);
  EXPECT_EQ(codeOf(R"({"cniVersion":"1.0.0","name":"n","type":"ptp"})"), code::kInvalidConfig);  // no ipam
  // A name the binary was installed under can be declared generic.
  ParseOptions po;
  po.extraTypeNames = {"labnet"};
  auto own = parseNetConf(R"({"cniVersion":"1.0.0","name":"n","type":"labnet","mode":"ptp",
    "ipam":{"type":"static","addresses":[{"address":"10.0.0.2/24"}]}})", po);
  ASSERT_TRUE(own);
  EXPECT_EQ(own->mode, PluginMode::kPtp);
}

TEST(CniConfig, HostLocalDefaultsLikeHostLocal) {
  auto c = parseNetConf(conf("1.0.0", R"(,"ipam":{"type":"host-local","ranges":[
      [{"subnet":"10.10.0.0/24"},{"subnet":"10.11.0.0/24","rangeStart":"10.11.0.100","rangeEnd":"10.11.0.110","gateway":"10.11.0.254"}],
      [{"subnet":"fd00:10::/64"}]],
    "routes":[{"dst":"0.0.0.0/0"},{"dst":"192.168.0.0/16","gw":"10.10.0.254"}],"dataDir":"/tmp/x"})"));
  ASSERT_TRUE(c) << c.error().msg;
  ASSERT_TRUE(c->ipam);
  const auto& ip = *c->ipam;
  EXPECT_EQ(ip.type, "host-local");
  EXPECT_EQ(ip.dataDir, "/tmp/x");
  ASSERT_EQ(ip.ranges.size(), 2u);
  ASSERT_EQ(ip.ranges[0].size(), 2u);
  EXPECT_EQ(ip.ranges[0][0].rangeStart.str(), "10.10.0.1");
  EXPECT_EQ(ip.ranges[0][0].rangeEnd.str(), "10.10.0.254");  // broadcast excluded
  EXPECT_EQ(ip.ranges[0][0].gateway.str(), "10.10.0.1");
  EXPECT_EQ(ip.ranges[0][1].str(), "10.11.0.100-10.11.0.110");
  EXPECT_EQ(ip.ranges[0][1].gateway.str(), "10.11.0.254");
  EXPECT_EQ(ip.ranges[1][0].rangeEnd.str(), "fd00:10::ffff:ffff:ffff:ffff");  // IPv6: no broadcast
  ASSERT_EQ(ip.routes.size(), 2u);
  EXPECT_EQ(ip.routes[1].gw->str(), "10.10.0.254");
  EXPECT_EQ(rangeSetStr(ip.ranges[0]), "10.10.0.1-10.10.0.254,10.11.0.100-10.11.0.110");
}

TEST(CniConfig, HostLocalLegacyRangeGoesFirst) {
  auto c = parseNetConf(conf("0.3.1", R"(,"ipam":{"type":"host-local","subnet":"10.5.0.0/16","rangeStart":"10.5.1.0",
     "ranges":[[{"subnet":"fd00::/120"}]]})"));
  ASSERT_TRUE(c) << c.error().msg;
  ASSERT_EQ(c->ipam->ranges.size(), 2u);
  EXPECT_EQ(c->ipam->ranges[0][0].rangeStart.str(), "10.5.1.0");
  EXPECT_TRUE(c->ipam->ranges[1][0].subnet.addr.family == AF_INET6);
}

TEST(CniConfig, HostLocalErrors) {
  auto ipam = [](const char* body) { return conf("1.0.0", std::string(R"(,"ipam":)") + body); };
  EXPECT_EQ(codeOf(ipam(R"({"type":"host-local"})")), code::kInvalidConfig);
  EXPECT_EQ(codeOf(ipam(R"({"type":"host-local","ranges":[[{"subnet":"10.0.0.0/31"}]]})")), code::kInvalidConfig);
  EXPECT_EQ(codeOf(ipam(R"({"type":"host-local","ranges":[[{"subnet":"10.0.0.1/24"}]]})")), code::kInvalidConfig);
  EXPECT_EQ(codeOf(ipam(R"({"type":"host-local","ranges":[[{"subnet":"10.0.0.0/24","rangeStart":"10.0.1.5"}]]})")),
            code::kInvalidConfig);
  EXPECT_EQ(codeOf(ipam(R"({"type":"host-local","ranges":[[{"subnet":"10.0.0.0/24","rangeStart":"10.0.0.9","rangeEnd":"10.0.0.5"}]]})")),
            code::kInvalidConfig);
  EXPECT_EQ(codeOf(ipam(R"({"type":"host-local","ranges":[[{"subnet":"10.0.0.0/24"},{"subnet":"fd00::/64"}]]})")),
            code::kInvalidConfig);
  EXPECT_EQ(codeOf(ipam(R"({"type":"host-local","ranges":[[{"subnet":"10.0.0.0/24"},{"subnet":"10.0.0.0/25"}]]})")),
            code::kInvalidConfig);
  EXPECT_EQ(codeOf(ipam(R"({"type":"host-local","ranges":[[{"subnet":"10.0.0.0/24"}],[{"subnet":"10.0.0.128/25"}]]})")),
            code::kInvalidConfig);
  EXPECT_EQ(codeOf(ipam(R"({"type":"host-local","ranges":[]})")), code::kInvalidConfig);
  EXPECT_EQ(codeOf(ipam(R"({"type":"host-local","ranges":[[]]})")), code::kInvalidConfig);
  EXPECT_EQ(codeOf(ipam(R"({"type":"host-local","ranges":"10.0.0.0/24"})")), code::kInvalidConfig);
  EXPECT_EQ(codeOf(ipam(R"({"type":"dhcp"})")), code::kUnsupportedField);
  EXPECT_EQ(codeOf(ipam(R"({"subnet":"10.0.0.0/24"})")), code::kInvalidConfig);
  EXPECT_EQ(codeOf(ipam(R"("host-local")")), code::kInvalidConfig);
  EXPECT_EQ(codeOf(ipam("{}")), 0);  // L2 only
}

TEST(CniConfig, StaticIpam) {
  auto c = parseNetConf(conf("1.0.0", R"(,"ipam":{"type":"static","addresses":[{"address":"10.10.0.1/24","gateway":"10.10.0.254"},
    {"address":"fd00::1/64"}],"routes":[{"dst":"0.0.0.0/0"}],"dns":{"nameservers":["8.8.8.8"]}})"));
  ASSERT_TRUE(c) << c.error().msg;
  ASSERT_EQ(c->ipam->addresses.size(), 2u);
  EXPECT_EQ(c->ipam->addresses[0].gateway->str(), "10.10.0.254");
  EXPECT_EQ(c->ipam->dns.nameservers[0], "8.8.8.8");
  EXPECT_EQ(codeOf(conf("1.0.0", R"(,"ipam":{"type":"static","addresses":[{"address":"10.10.0.1"}]})")),
            code::kInvalidConfig);
  EXPECT_EQ(codeOf(conf("1.0.0", R"(,"ipam":{"type":"static","addresses":[{"address":"10.10.0.1/24","gateway":"fd00::1"}]})")),
            code::kInvalidConfig);
}

TEST(CniConfig, RuntimeConfigAndArgs) {
  auto c = parseNetConf(conf("1.0.0", R"(,"ipam":{"type":"host-local","subnet":"10.0.0.0/24"},
    "runtimeConfig":{"portMappings":[{"hostPort":8080,"containerPort":80,"protocol":"TCP"},
                                     {"hostPort":53,"containerPort":53,"protocol":"udp","hostIP":"127.0.0.1"}],
                     "ips":["10.0.0.7/24"],"mac":"02:00:00:00:00:07",
                     "ipRanges":[[{"subnet":"10.9.0.0/24"}]],"aliases":{"net1":["x"]}},
    "args":{"cni":{"ips":["10.0.0.8"],"mac":"02:00:00:00:00:08","labels":[{"key":"a","value":"b"}]}})"));
  ASSERT_TRUE(c) << c.error().msg;
  ASSERT_EQ(c->portMappings.size(), 2u);
  EXPECT_EQ(c->portMappings[0].protocol, "tcp");
  EXPECT_EQ(c->portMappings[0].hostPort, 8080);
  EXPECT_FALSE(c->portMappings[0].hostIP);
  EXPECT_EQ(c->portMappings[1].hostIP->str(), "127.0.0.1");
  EXPECT_EQ(c->runtimeIps[0].str(), "10.0.0.7");
  EXPECT_EQ(c->runtimeMac, "02:00:00:00:00:07");
  EXPECT_EQ(c->argsIps[0].str(), "10.0.0.8");
  EXPECT_EQ(c->argsMac, "02:00:00:00:00:08");
  ASSERT_EQ(c->ipam->ranges.size(), 2u);  // ipRanges prepended
  EXPECT_EQ(c->ipam->ranges[0][0].subnet.str(), "10.9.0.0/24");
  auto pm = [](const char* m) { return conf("1.0.0", std::string(R"(,"runtimeConfig":{"portMappings":[)") + m + "]}"); };
  EXPECT_EQ(codeOf(pm(R"({"hostPort":0,"containerPort":80})")), code::kInvalidConfig);
  EXPECT_EQ(codeOf(pm(R"({"hostPort":70000,"containerPort":80})")), code::kInvalidConfig);
  EXPECT_EQ(codeOf(pm(R"({"containerPort":80})")), code::kInvalidConfig);
  EXPECT_EQ(codeOf(pm(R"({"hostPort":1,"containerPort":80,"protocol":"icmp"})")), code::kInvalidConfig);
  EXPECT_EQ(codeOf(pm(R"({"hostPort":1,"containerPort":80,"hostIP":"nope"})")), code::kInvalidConfig);
  EXPECT_EQ(codeOf(pm(R"({"hostPort":1,"containerPort":80,"hostIP":""})")), 0);
}

TEST(CniConfig, PrevResultAnyVersion) {
  auto c = parseNetConf(conf("1.0.0", R"(,"prevResult":{"cniVersion":"0.4.0","interfaces":[{"name":"eth0","mac":"02:00:00:00:00:01","sandbox":"/proc/1/ns/net"}],
    "ips":[{"version":"4","address":"10.0.0.2/24","interface":0}],"dns":{}})"));
  ASSERT_TRUE(c) << c.error().msg;
  ASSERT_TRUE(c->prevResult);
  EXPECT_EQ(c->prevResult->ips[0].address.str(), "10.0.0.2/24");
  EXPECT_EQ(codeOf(conf("1.0.0", R"(,"prevResult":{"ips":[{"address":"bad"}]})")), code::kDecodeFailure);
}

TEST(CniConfig, GcAttachmentsBothKeys) {
  auto c = parseNetConf(conf("1.1.0", R"(,"cni.dev/valid-attachments":[{"containerID":"a","ifname":"eth0"}],
    "cni.dev/attachments":[{"containerID":"ignored","ifname":"eth0"}])"));
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->validAttachments);
  ASSERT_EQ(c->validAttachments->size(), 1u);
  EXPECT_EQ((*c->validAttachments)[0].containerId, "a");
  auto old = parseNetConf(conf("1.1.0", R"(,"cni.dev/attachments":[{"containerID":"b","ifname":"eth1"}])"));
  ASSERT_TRUE(old);
  EXPECT_EQ((*old->validAttachments)[0].ifname, "eth1");
  EXPECT_EQ(codeOf(conf("1.1.0", R"(,"cni.dev/valid-attachments":{"containerID":"b"})")), code::kInvalidConfig);
}

TEST(CniConfig, ConfListSelectsVersion) {
  auto l = parseConfList(R"({"cniVersion":"0.4.0","cniVersions":["0.4.0","1.0.0","1.1.0","2.0.0"],"name":"podnet",
    "disableCheck":true,"plugins":[{"type":"netctl","ipam":{"type":"host-local","subnet":"10.88.0.0/16"}},{"type":"portmap","capabilities":{"portMappings":true}}]})");
  ASSERT_TRUE(l) << l.error().msg;
  EXPECT_EQ(l->cniVersion, "1.1.0");
  EXPECT_TRUE(l->disableCheck);
  ASSERT_EQ(l->plugins.size(), 2u);
  auto req = parseNetConf(requestConfig(*l, 0));
  ASSERT_TRUE(req);
  EXPECT_EQ(req->name, "podnet");
  EXPECT_EQ(req->cniVersion, "1.1.0");
  auto bad = parseConfList(R"({"cniVersion":"0.2.0","name":"x","plugins":[{"type":"a"}]})");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, code::kIncompatibleVersion);
  EXPECT_FALSE(parseConfList(R"({"cniVersion":"1.0.0","name":"x","plugins":[]})"));
}

TEST(CniConfig, PodmanGeneratedConflistWithTypeSwapped) {
  // The shape `podman network create` (CNI backend, podman 4.3) writes, with the bridge
  // plugin's type changed to netctl: every key keeps its meaning.
  auto l = parseConfList(R"({"cniVersion":"0.4.0","name":"mynet","plugins":[
    {"type":"netctl","bridge":"cni-podman1","isGateway":true,"ipMasq":true,"hairpinMode":true,
     "ipam":{"type":"host-local","routes":[{"dst":"0.0.0.0/0"}],"ranges":[[{"subnet":"10.79.0.0/24","gateway":"10.79.0.1"}]]},
     "capabilities":{"ips":true}},
    {"type":"portmap","capabilities":{"portMappings":true}},
    {"type":"firewall","backend":""},
    {"type":"tuning"}]})");
  ASSERT_TRUE(l) << l.error().msg;
  EXPECT_EQ(l->cniVersion, "0.4.0");
  // What podman then sends to the plugin on ADD: the object plus name, version, runtimeConfig.
  auto req = nlohmann::json::parse(requestConfig(*l, 0));
  req["runtimeConfig"] = nlohmann::json::parse(R"({"ips":["10.79.0.33"]})");
  auto c = parseNetConf(req.dump());
  ASSERT_TRUE(c) << c.error().msg;
  EXPECT_EQ(c->mode, PluginMode::kBridge);
  EXPECT_EQ(c->bridge, "cni-podman1");
  EXPECT_TRUE(c->isGateway);
  EXPECT_TRUE(c->ipMasq);
  EXPECT_TRUE(c->hairpinMode);
  EXPECT_EQ(c->ipam->ranges[0][0].gateway.str(), "10.79.0.1");
  EXPECT_EQ(c->runtimeIps[0].str(), "10.79.0.33");
}
