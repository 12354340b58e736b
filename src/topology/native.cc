// The native dialect: name, defaults, networks, groups, nodes, links, hosts (docs/topology.md).
// Inheritance: defaults -> group -> node (the most specific level wins).
#include <fmt/format.h>

#include "netctl/topology/spec.h"
#include "reader.h"

namespace netctl::topology::detail {
namespace {

// The keys a node definition may have at each level.
const std::initializer_list<std::string_view> kNodeKeys = {
    "group", "image", "cmd", "exec", "env", "binds", "ports", "sysctls", "resources",
    "networks", "nat", "labels", "user", "hostname", "host"};
const std::initializer_list<std::string_view> kLevelKeys = {
    "image", "cmd", "exec", "env", "binds", "ports", "sysctls", "resources",
    "networks", "nat", "labels", "user", "hostname", "host"};

std::vector<Attachment> decodeAttachments(Reader& r, const YAML::Node& n, const std::string& path) {
  std::vector<Attachment> out;
  auto one = [&](const YAML::Node& keyNode, const YAML::Node& value, const std::string& p) {
    Attachment a;
    a.network = r.name(keyNode, p, defaults::kMaxNetworkName, "network");
    a.locs.self = Reader::loc(keyNode);
    a.locs.path = p;
    auto keys = r.keys(value, p, {"ip", "ipv6", "iface", "mac"});
    if (keys.contains("ip")) {
      a.ip = r.address(value["ip"], p + ".ip", 4);
      a.ipExplicit = true;
      a.locs.at["ip"] = Reader::loc(value["ip"]);
    }
    if (keys.contains("ipv6")) {
      a.ip6 = r.address(value["ipv6"], p + ".ipv6", 6);
      a.ip6Explicit = true;
      a.locs.at["ipv6"] = Reader::loc(value["ipv6"]);
    }
    if (keys.contains("iface")) {
      a.iface = r.ifName(value["iface"], p + ".iface");
      a.locs.at["iface"] = Reader::loc(value["iface"]);
    }
    if (keys.contains("mac")) {
      a.mac = r.mac(value["mac"], p + ".mac");
      a.locs.at["mac"] = Reader::loc(value["mac"]);
    }
    for (const auto& x : out)
      if (x.network == a.network)
        r.fail(a.locs.self, p, fmt::format("network \"{}\" is listed twice", a.network));
    out.push_back(std::move(a));
  };
  if (n.IsMap()) {
    for (auto it = n.begin(); it != n.end(); ++it) {
      std::string key = it->first.IsScalar() ? it->first.Scalar() : std::string("?");
      one(it->first, it->second, path + "." + key);
    }
  } else if (n.IsSequence()) {
    for (size_t i = 0; i < n.size(); ++i) {
      std::string p = fmt::format("{}[{}]", path, i);
      if (n[i].IsScalar()) {
        one(n[i], YAML::Node(YAML::NodeType::Null), p);
      } else if (n[i].IsMap() && n[i].size() == 1) {
        auto it = n[i].begin();
        one(it->first, it->second, p);
      } else {
        r.fail(Reader::loc(n[i]), p, "expected a network name or {name: {ip: ...}}");
      }
    }
  } else if (!n.IsNull()) {
    r.fail(Reader::loc(n), path, "expected a mapping or a list of network names");
  }
  return out;
}

std::vector<NatRule> decodeNat(Reader& r, const YAML::Node& n, const std::string& path) {
  r.requireList(n, path);
  std::vector<NatRule> out;
  for (size_t i = 0; i < n.size(); ++i) {
    std::string p = fmt::format("{}[{}]", path, i);
    const YAML::Node& e = n[i];
    auto keys = r.keys(e, p, {"action", "out", "in", "source", "to", "proto", "port", "to-port"});
    NatRule rule;
    rule.locs.self = Reader::loc(e);
    rule.locs.path = p;
    for (auto& [k, l] : keys) rule.locs.at[k] = Reader::loc(e[k]);
    if (keys.contains("action")) {
      std::string a = r.str(e["action"], p + ".action");
      if (a == "masquerade") rule.action = NatAction::kMasquerade;
      else if (a == "snat") rule.action = NatAction::kSnat;
      else if (a == "dnat") rule.action = NatAction::kDnat;
      else
        r.fail(Reader::loc(e["action"]), p + ".action",
               fmt::format("unknown NAT action \"{}\" (masquerade, snat, dnat)", a));
    }
    if (keys.contains("out")) rule.out = r.ifName(e["out"], p + ".out");
    if (keys.contains("in")) rule.in = r.ifName(e["in"], p + ".in");
    if (keys.contains("source")) rule.source = r.prefix(e["source"], p + ".source", true);
    if (keys.contains("to")) rule.to = r.address(e["to"], p + ".to");
    if (keys.contains("proto")) {
      std::string s = r.str(e["proto"], p + ".proto");
      if (s == "tcp") rule.proto = Proto::kTcp;
      else if (s == "udp") rule.proto = Proto::kUdp;
      else if (s == "sctp") rule.proto = Proto::kSctp;
      else r.fail(Reader::loc(e["proto"]), p + ".proto", fmt::format("unknown protocol \"{}\"", s));
    }
    if (keys.contains("port")) rule.port = static_cast<uint16_t>(r.integer(e["port"], p + ".port", 1, 65535));
    if (keys.contains("to-port"))
      rule.toPort = static_cast<uint16_t>(r.integer(e["to-port"], p + ".to-port", 1, 65535));
    bool outOk = !rule.out.empty();
    switch (rule.action) {
      case NatAction::kMasquerade:
        if (!outOk) r.fail(rule.locs.self, p, "masquerade needs \"out\" (the egress interface)");
        break;
      case NatAction::kSnat:
        if (!outOk || !rule.to) r.fail(rule.locs.self, p, "snat needs \"out\" and \"to\"");
        break;
      case NatAction::kDnat:
        if (rule.in.empty() || !rule.to) r.fail(rule.locs.self, p, "dnat needs \"in\" and \"to\"");
        if (rule.port && !rule.proto) rule.proto = Proto::kTcp;
        break;
    }
    out.push_back(std::move(rule));
  }
  return out;
}

NodeSpec decodeSpec(Reader& r, const YAML::Node& n, const std::string& path, bool isNode) {
  auto keys = r.keys(n, path, isNode ? kNodeKeys : kLevelKeys);
  NodeSpec s;
  auto at = [&](const char* k) { return Reader::loc(n[k]); };
  auto p = [&](const char* k) { return path + "." + k; };
  if (keys.contains("group")) s.group = {r.name(n["group"], p("group"), 64, "group"), at("group")};
  if (keys.contains("image")) s.image = {r.str(n["image"], p("image")), at("image")};
  if (keys.contains("user")) s.user = {r.str(n["user"], p("user")), at("user")};
  if (keys.contains("hostname")) s.hostname = {r.str(n["hostname"], p("hostname")), at("hostname")};
  if (keys.contains("host")) s.host = {r.name(n["host"], p("host"), 64, "host"), at("host")};
  if (keys.contains("cmd")) s.cmd = {r.command(n["cmd"], p("cmd")), at("cmd")};
  if (keys.contains("exec")) s.exec = {r.strList(n["exec"], p("exec")), at("exec")};
  if (keys.contains("env")) s.env = r.strMap(n["env"], p("env"));
  if (keys.contains("sysctls")) s.sysctls = r.strMap(n["sysctls"], p("sysctls"));
  if (keys.contains("labels")) s.labels = r.strMap(n["labels"], p("labels"));
  if (keys.contains("binds")) {
    auto list = r.strList(n["binds"], p("binds"));
    for (size_t i = 0; i < list.size(); ++i) s.binds.emplace_back(list[i], Reader::loc(n["binds"][i]));
  }
  if (keys.contains("ports")) s.ports = {decodePorts(r, n["ports"], p("ports")), at("ports")};
  if (keys.contains("resources")) {
    const YAML::Node res = n["resources"];
    std::string rp = p("resources");
    auto rk = r.keys(res, rp, {"memory", "pids", "cpus"});
    if (rk.contains("memory"))
      s.memory = {decodeMemory(r, res["memory"], rp + ".memory"), Reader::loc(res["memory"])};
    if (rk.contains("pids"))
      s.pids = {static_cast<uint64_t>(r.integer(res["pids"], rp + ".pids", 1, 4194304)),
                Reader::loc(res["pids"])};
    if (rk.contains("cpus"))
      s.cpus = {r.number(res["cpus"], rp + ".cpus", 0.01, 4096), Reader::loc(res["cpus"])};
  }
  if (keys.contains("networks"))
    s.networks = {decodeAttachments(r, n["networks"], p("networks")), at("networks")};
  if (keys.contains("nat")) s.nat = {decodeNat(r, n["nat"], p("nat")), at("nat")};
  return s;
}

Network decodeNetwork(Reader& r, const YAML::Node& keyNode, const YAML::Node& n,
                      const std::string& path) {
  Network net;
  net.name = r.name(keyNode, path, defaults::kMaxNetworkName, "network");
  net.locs.self = Reader::loc(keyNode);
  net.locs.path = path;
  auto keys = r.keys(n, path,
                     {"driver", "subnet", "ipv6", "gateway", "gateway6", "nat", "icc", "internal",
                      "mtu", "parent", "mode", "bridge", "vni", "mcast_snooping"});
  for (auto& [k, l] : keys) net.locs.at[k] = Reader::loc(n[k]);
  auto p = [&](const char* k) { return path + "." + k; };
  if (keys.contains("driver")) {
    std::string d = r.str(n["driver"], p("driver"));
    if (d == "bridge") net.driver = NetworkDriver::kBridge;
    else if (d == "macvlan") net.driver = NetworkDriver::kMacvlan;
    else
      r.fail(Reader::loc(n["driver"]), p("driver"),
             fmt::format("unknown network driver \"{}\" (bridge, macvlan)", d));
  }
  if (keys.contains("subnet")) net.subnet = r.prefix(n["subnet"], p("subnet"), true, 4);
  if (keys.contains("ipv6")) net.ipv6 = r.prefix(n["ipv6"], p("ipv6"), true, 6);
  if (keys.contains("gateway")) net.gateway = r.address(n["gateway"], p("gateway"), 4);
  if (keys.contains("gateway6")) net.gateway6 = r.address(n["gateway6"], p("gateway6"), 6);
  if (keys.contains("nat")) net.nat = r.boolean(n["nat"], p("nat"));
  if (keys.contains("icc")) net.icc = r.boolean(n["icc"], p("icc"));
  if (keys.contains("mcast_snooping")) net.mcastSnooping = r.boolean(n["mcast_snooping"], p("mcast_snooping"));
  if (keys.contains("internal")) net.internal = r.boolean(n["internal"], p("internal"));
  if (keys.contains("mtu")) net.mtu = r.mtu(n["mtu"], p("mtu"));
  if (keys.contains("vni")) net.vni = static_cast<uint32_t>(r.integer(n["vni"], p("vni"), 1, 16777215));
  if (keys.contains("bridge")) net.kernelName = r.ifName(n["bridge"], p("bridge"));
  if (keys.contains("parent")) net.parent = r.ifName(n["parent"], p("parent"));
  if (keys.contains("mode")) {
    std::string m = r.str(n["mode"], p("mode"));
    if (m == "bridge") net.mode = MacvlanMode::kBridge;
    else if (m == "private") net.mode = MacvlanMode::kPrivate;
    else if (m == "vepa") net.mode = MacvlanMode::kVepa;
    else if (m == "passthru") net.mode = MacvlanMode::kPassthru;
    else
      r.fail(Reader::loc(n["mode"]), p("mode"),
             fmt::format("unknown macvlan mode \"{}\" (bridge, private, vepa, passthru)", m));
  }
  if (net.driver == NetworkDriver::kMacvlan) {
    if (net.parent.empty()) r.fail(net.locs.self, path, "a macvlan network needs \"parent\"");
    for (const char* k : {"nat", "icc", "gateway6", "bridge", "vni", "mcast_snooping"})
      if (keys.contains(k))
        r.fail(keys.at(k), p(k), fmt::format("\"{}\" applies to bridge networks only", k));
  } else {
    for (const char* k : {"parent", "mode"})
      if (keys.contains(k))
        r.fail(keys.at(k), p(k), fmt::format("\"{}\" applies to macvlan networks only", k));
  }
  return net;
}

}  // namespace

void decodeNative(Reader& r, const YAML::Node& root, Lab& lab) {
  auto keys = r.keys(root, "", {"name", "defaults", "networks", "groups", "nodes", "links", "hosts"});
  lab.dialect = Dialect::kNative;
  lab.locs.self = Loc{1, 1};
  if (!keys.contains("name")) r.fail(Loc{1, 1}, "name", "missing required key \"name\"");
  lab.name = r.name(root["name"], "name", defaults::kMaxLabName, "lab");
  lab.locs.at["name"] = Reader::loc(root["name"]);

  NodeSpec defaults;
  if (keys.contains("defaults")) defaults = decodeSpec(r, root["defaults"], "defaults", false);

  if (keys.contains("networks")) {
    const YAML::Node nets = root["networks"];
    r.requireMap(nets, "networks");
    for (auto it = nets.begin(); it != nets.end(); ++it) {
      std::string key = it->first.IsScalar() ? it->first.Scalar() : "?";
      std::string path = "networks." + key;
      if (key == "host" || key == "macvlan")
        r.fail(Reader::loc(it->first), path, fmt::format("\"{}\" is a reserved name", key));
      for (const auto& n : lab.networks)
        if (n.name == key) r.fail(Reader::loc(it->first), path, "duplicate key");
      lab.networks.push_back(decodeNetwork(r, it->first, it->second, path));
    }
  }

  std::map<std::string, NodeSpec> groups;
  if (keys.contains("groups")) {
    const YAML::Node gs = root["groups"];
    r.requireMap(gs, "groups");
    for (auto it = gs.begin(); it != gs.end(); ++it) {
      std::string key = r.name(it->first, "groups", 64, "group");
      if (groups.contains(key)) r.fail(Reader::loc(it->first), "groups." + key, "duplicate key");
      groups[key] = decodeSpec(r, it->second, "groups." + key, false);
      lab.groups.push_back(key);
    }
  }

  if (keys.contains("hosts")) {
    const YAML::Node hs = root["hosts"];
    r.requireMap(hs, "hosts");
    lab.locs.at["hosts"] = keys.at("hosts");
    for (auto it = hs.begin(); it != hs.end(); ++it) {
      Host h;
      h.name = r.name(it->first, "hosts", 64, "host");
      h.locs.self = Reader::loc(it->first);
      std::string path = "hosts." + h.name;
      h.locs.path = path;
      auto hk = r.keys(it->second, path, {"address", "vxlan-port", "parent"});
      for (auto& [k, l] : hk) h.locs.at[k] = Reader::loc(it->second[k]);
      if (hk.contains("address")) h.address = r.address(it->second["address"], path + ".address");
      if (hk.contains("vxlan-port"))
        h.vxlanPort = static_cast<uint16_t>(
            r.integer(it->second["vxlan-port"], path + ".vxlan-port", 1, 65535));
      if (hk.contains("parent")) h.parent = r.ifName(it->second["parent"], path + ".parent");
      for (const auto& other : lab.hosts)
        if (other.name == h.name) r.fail(h.locs.self, path, "duplicate key");
      lab.hosts.push_back(std::move(h));
    }
  }

  if (keys.contains("nodes")) {
    const YAML::Node ns = root["nodes"];
    r.requireMap(ns, "nodes");
    std::map<std::string, bool> seen;
    for (auto it = ns.begin(); it != ns.end(); ++it) {
      std::string name = r.name(it->first, "nodes", defaults::kMaxNodeName, "node");
      std::string path = "nodes." + name;
      if (name == "host" || name == "macvlan" || name == "mgmt-net")
        r.fail(Reader::loc(it->first), path, fmt::format("\"{}\" is a reserved name", name));
      if (seen[name]) r.fail(Reader::loc(it->first), path, "duplicate key");
      seen[name] = true;
      if (std::any_of(lab.networks.begin(), lab.networks.end(),
                                           [&](auto& n) { return n.name == name; }))
        r.fail(Reader::loc(it->first), path,
               fmt::format("\"{}\" is already the name of a network", name));
      NodeSpec spec = decodeSpec(r, it->second, path, true);
      if (spec.group) {
        auto g = groups.find(*spec.group.v);
        if (g == groups.end())
          r.fail(spec.group.loc, path + ".group", fmt::format("unknown group \"{}\"", *spec.group.v));
        inherit(spec, g->second);
      }
      inherit(spec, defaults);
      lab.nodes.push_back(toNode(name, path, Reader::loc(it->first), std::move(spec)));
    }
  }
  lab.reindex();

  if (keys.contains("links")) {
    const YAML::Node ls = root["links"];
    r.requireList(ls, "links");
    auto isBridge = [&](std::string_view name) {
      const Network* n = lab.network(name);
      return n && n->driver == NetworkDriver::kBridge;
    };
    auto isHostNode = [](std::string_view) { return false; };
    for (size_t i = 0; i < ls.size(); ++i)
      lab.links.push_back(
          decodeLink(r, ls[i], fmt::format("links[{}]", i), Dialect::kNative, isBridge, isHostNode));
  }
}

}  // namespace netctl::topology::detail
