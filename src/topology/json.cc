#include "netctl/topology/json.h"

#include <fmt/format.h>

namespace netctl::topology {
namespace {

using nlohmann::json;

constexpr int kFormat = 1;  // bump when the layout changes incompatibly

template <typename T>
void opt(json& j, const char* key, const std::optional<T>& v) {
  if (!v) return;
  if constexpr (std::is_same_v<T, IpAddress> || std::is_same_v<T, IpPrefix> ||
                std::is_same_v<T, Mac>)
    j[key] = v->str();
  else
    j[key] = *v;
}

const char* driverName(NetworkDriver d) { return d == NetworkDriver::kBridge ? "bridge" : "macvlan"; }

const char* modeName(MacvlanMode m) {
  switch (m) {
    case MacvlanMode::kBridge: return "bridge";
    case MacvlanMode::kPrivate: return "private";
    case MacvlanMode::kVepa: return "vepa";
    case MacvlanMode::kPassthru: return "passthru";
    case MacvlanMode::kSource: return "source";
  }
  return "bridge";
}

json portJson(const PortMap& p) {
  json j = {{"spec", p.spec},        {"host_port", p.hostPort},         {"host_port_end", p.hostPortEnd},
            {"container_port", p.containerPort}, {"container_port_end", p.containerPortEnd},
            {"proto", protoName(p.proto)}};
  opt(j, "host_ip", p.hostIp);
  return j;
}

json peersJson(const std::vector<VxlanPeer>& peers) {
  json j = json::array();
  for (const auto& p : peers) j.push_back({{"host", p.host}, {"address", p.address.str()}, {"port", p.port}});
  return j;
}

json impairJson(const Impair& im) {
  json j = json::object();
  opt(j, "delay_us", im.delayUs);
  opt(j, "jitter_us", im.jitterUs);
  opt(j, "loss_pct", im.lossPct);
  opt(j, "corrupt_pct", im.corruptPct);
  opt(j, "duplicate_pct", im.duplicatePct);
  opt(j, "reorder_pct", im.reorderPct);
  opt(j, "correlation_pct", im.correlationPct);
  opt(j, "rate_bps", im.rateBitsPerSec);
  opt(j, "limit_packets", im.limitPackets);
  return j;
}

json endpointJson(const Endpoint& e) {
  json j = {{"kind", e.kind == EndpointKind::kNode ? "node" : "bridge"},
            {"node", e.node},
            {"iface", e.iface}};
  opt(j, "mac", e.mac);
  opt(j, "ipv4", e.ipv4);
  opt(j, "ipv6", e.ipv6);
  if (e.impair) j["impair"] = impairJson(*e.impair);
  return j;
}

// ---- reading back; any mismatch throws, fromJson turns it into an error ----

struct Bad {
  std::string what;
};

IpAddress addr(const json& j) {
  auto a = IpAddress::parse(j.get<std::string>());
  if (!a) throw Bad{"bad address " + j.dump()};
  return *a;
}
IpPrefix prefix(const json& j) {
  auto p = IpPrefix::parse(j.get<std::string>());
  if (!p) throw Bad{"bad prefix " + j.dump()};
  return *p;
}
Mac mac(const json& j) {
  auto m = Mac::parse(j.get<std::string>());
  if (!m) throw Bad{"bad MAC " + j.dump()};
  return *m;
}
template <typename T, typename F>
void get(const json& j, const char* key, std::optional<T>& out, F conv) {
  if (j.contains(key)) out = conv(j.at(key));
}
template <typename T>
void get(const json& j, const char* key, std::optional<T>& out) {
  if (j.contains(key)) out = j.at(key).get<T>();
}

Proto proto(const std::string& s) {
  if (s == "tcp") return Proto::kTcp;
  if (s == "udp") return Proto::kUdp;
  if (s == "sctp") return Proto::kSctp;
  throw Bad{"bad protocol " + s};
}
MacvlanMode mode(const std::string& s) {
  for (auto m : {MacvlanMode::kBridge, MacvlanMode::kPrivate, MacvlanMode::kVepa,
                 MacvlanMode::kPassthru, MacvlanMode::kSource})
    if (s == modeName(m)) return m;
  throw Bad{"bad macvlan mode " + s};
}
LinkType linkType(const std::string& s) {
  for (auto t : {LinkType::kVeth, LinkType::kHost, LinkType::kMacvlan, LinkType::kVxlan,
                 LinkType::kDummy})
    if (s == linkTypeName(t)) return t;
  throw Bad{"bad link type " + s};
}
NatAction natAction(const std::string& s) {
  for (auto a : {NatAction::kMasquerade, NatAction::kSnat, NatAction::kDnat})
    if (s == natActionName(a)) return a;
  throw Bad{"bad NAT action " + s};
}

std::vector<VxlanPeer> peersFrom(const json& j) {
  std::vector<VxlanPeer> out;
  for (const auto& x : j)
    out.push_back({x.at("host").get<std::string>(), addr(x.at("address")), x.at("port").get<uint16_t>()});
  return out;
}

Impair impairFrom(const json& im) {
  Impair i;
  get(im, "delay_us", i.delayUs);
  get(im, "jitter_us", i.jitterUs);
  get(im, "loss_pct", i.lossPct);
  get(im, "corrupt_pct", i.corruptPct);
  get(im, "duplicate_pct", i.duplicatePct);
  get(im, "reorder_pct", i.reorderPct);
  get(im, "correlation_pct", i.correlationPct);
  get(im, "rate_bps", i.rateBitsPerSec);
  get(im, "limit_packets", i.limitPackets);
  return i;
}

Endpoint endpointFrom(const json& j) {
  Endpoint e;
  e.kind = j.at("kind").get<std::string>() == "bridge" ? EndpointKind::kBridge : EndpointKind::kNode;
  e.node = j.at("node").get<std::string>();
  e.iface = j.at("iface").get<std::string>();
  get(j, "mac", e.mac, mac);
  get(j, "ipv4", e.ipv4, prefix);
  get(j, "ipv6", e.ipv6, prefix);
  if (j.contains("impair")) e.impair = impairFrom(j.at("impair"));
  return e;
}

}  // namespace

nlohmann::json toJson(const Lab& lab) {
  json j = {{"format", kFormat},
            {"name", lab.name},
            {"file", lab.file},
            {"dialect", lab.dialect == Dialect::kNative ? "native" : "containerlab"},
            {"groups", lab.groups}};
  json& nets = j["networks"] = json::array();
  for (const auto& n : lab.networks) {
    json x = {{"name", n.name}, {"driver", driverName(n.driver)}, {"nat", n.nat},
              {"icc", n.icc},   {"internal", n.internal},         {"mtu", n.mtu},
              {"parent", n.parent}, {"mode", modeName(n.mode)},   {"bridge", n.kernelName},
              {"from_node", n.fromNode}, {"mcast_snooping", n.mcastSnooping}};
    opt(x, "subnet", n.subnet);
    opt(x, "ipv6", n.ipv6);
    opt(x, "gateway", n.gateway);
    opt(x, "gateway6", n.gateway6);
    opt(x, "vni", n.vni);
    if (n.span) {
      json sp = {{"vni", n.span->vni}, {"port", n.span->port}, {"parent", n.span->parent},
                 {"mtu", n.span->mtu}, {"learning", n.span->learning},
                 {"peers", peersJson(n.span->peers)}};
      opt(sp, "slice", n.span->slice);
      opt(sp, "slice6", n.span->slice6);
      x["span"] = std::move(sp);
    }
    nets.push_back(std::move(x));
  }
  json& nodes = j["nodes"] = json::array();
  for (const auto& n : lab.nodes) {
    json x = {{"name", n.name}, {"kind", n.kind == NodeKind::kLinux ? "linux" : "host"},
              {"group", n.group}, {"image", n.image}, {"cmd", n.cmd}, {"exec", n.exec},
              {"env", n.env}, {"binds", n.binds}, {"sysctls", n.sysctls}, {"labels", n.labels},
              {"user", n.user}, {"hostname", n.hostname}, {"host", n.host}};
    json res = json::object();
    opt(res, "memory", n.resources.memoryBytes);
    opt(res, "pids", n.resources.pids);
    opt(res, "cpus", n.resources.cpus);
    x["resources"] = res;
    json& ports = x["ports"] = json::array();
    for (const auto& p : n.ports) ports.push_back(portJson(p));
    json& atts = x["networks"] = json::array();
    for (const auto& a : n.networks) {
      json y = {{"network", a.network}, {"iface", a.iface}, {"ip_explicit", a.ipExplicit},
                {"ip6_explicit", a.ip6Explicit}};
      opt(y, "ip", a.ip);
      opt(y, "ipv6", a.ip6);
      opt(y, "mac", a.mac);
      atts.push_back(std::move(y));
    }
    json& nat = x["nat"] = json::array();
    for (const auto& r : n.nat) {
      json y = {{"action", natActionName(r.action)}, {"out", r.out}, {"in", r.in},
                {"port", r.port}, {"to_port", r.toPort}};
      opt(y, "source", r.source);
      opt(y, "to", r.to);
      if (r.proto) y["proto"] = protoName(*r.proto);
      nat.push_back(std::move(y));
    }
    nodes.push_back(std::move(x));
  }
  json& links = j["links"] = json::array();
  for (const auto& l : lab.links) {
    json x = {{"type", linkTypeName(l.type)}, {"host_interface", l.hostInterface},
              {"mode", modeName(l.mode)},     {"dst_port", l.dstPort},
              {"parent_interface", l.parentInterface}, {"labels", l.labels}};
    json& eps = x["endpoints"] = json::array();
    for (const auto& e : l.endpoints) eps.push_back(endpointJson(e));
    opt(x, "mtu", l.mtu);
    opt(x, "host_ipv4", l.hostIpv4);
    opt(x, "host_ipv6", l.hostIpv6);
    opt(x, "remote", l.remote);
    opt(x, "vni", l.vni);
    opt(x, "src_port", l.srcPort);
    if (!l.peers.empty()) x["peers"] = peersJson(l.peers);
    if (l.impair) x["impair"] = impairJson(*l.impair);
    links.push_back(std::move(x));
  }
  json& hosts = j["hosts"] = json::array();
  for (const auto& h : lab.hosts) {
    json x = {{"name", h.name}, {"vxlan_port", h.vxlanPort}, {"parent", h.parent}};
    opt(x, "address", h.address);
    hosts.push_back(std::move(x));
  }
  if (!lab.localHost.empty()) {
    j["local_host"] = lab.localHost;
    j["placement"] = lab.placement;
  }
  return j;
}

Result<Lab> fromJson(const nlohmann::json& j) {
  Lab lab;
  try {
    if (!j.is_object() || j.value("format", 0) != kFormat)
      return invalidInput(fmt::format("not a netctl topology of format {}", kFormat));
    lab.name = j.at("name").get<std::string>();
    lab.file = j.at("file").get<std::string>();
    lab.dialect = j.at("dialect").get<std::string>() == "native" ? Dialect::kNative
                                                                 : Dialect::kContainerlab;
    lab.groups = j.at("groups").get<std::vector<std::string>>();
    for (const auto& x : j.at("networks")) {
      Network n;
      n.name = x.at("name").get<std::string>();
      n.driver = x.at("driver").get<std::string>() == "macvlan" ? NetworkDriver::kMacvlan
                                                                : NetworkDriver::kBridge;
      n.nat = x.at("nat").get<bool>();
      n.icc = x.at("icc").get<bool>();
      n.internal = x.at("internal").get<bool>();
      n.mtu = x.at("mtu").get<int>();
      n.parent = x.at("parent").get<std::string>();
      n.mode = mode(x.at("mode").get<std::string>());
      n.kernelName = x.at("bridge").get<std::string>();
      n.fromNode = x.at("from_node").get<bool>();
      n.mcastSnooping = x.value("mcast_snooping", defaults::kMcastSnooping);  // absent before 0.6
      get(x, "subnet", n.subnet, prefix);
      get(x, "ipv6", n.ipv6, prefix);
      get(x, "gateway", n.gateway, addr);
      get(x, "gateway6", n.gateway6, addr);
      get(x, "vni", n.vni);
      if (x.contains("span")) {
        const json& sp = x.at("span");
        Span span;
        span.vni = sp.at("vni").get<uint32_t>();
        span.port = sp.at("port").get<uint16_t>();
        span.parent = sp.at("parent").get<std::string>();
        span.mtu = sp.at("mtu").get<int>();
        span.learning = sp.at("learning").get<bool>();
        span.peers = peersFrom(sp.at("peers"));
        get(sp, "slice", span.slice, prefix);
        get(sp, "slice6", span.slice6, prefix);
        n.span = std::move(span);
      }
      lab.networks.push_back(std::move(n));
    }
    for (const auto& x : j.at("nodes")) {
      Node n;
      n.name = x.at("name").get<std::string>();
      n.kind = x.at("kind").get<std::string>() == "host" ? NodeKind::kHost : NodeKind::kLinux;
      n.group = x.at("group").get<std::string>();
      n.image = x.at("image").get<std::string>();
      n.cmd = x.at("cmd").get<std::vector<std::string>>();
      n.exec = x.at("exec").get<std::vector<std::string>>();
      n.env = x.at("env").get<std::map<std::string, std::string>>();
      n.binds = x.at("binds").get<std::vector<std::string>>();
      n.sysctls = x.at("sysctls").get<std::map<std::string, std::string>>();
      n.labels = x.at("labels").get<std::map<std::string, std::string>>();
      n.user = x.at("user").get<std::string>();
      n.hostname = x.at("hostname").get<std::string>();
      n.host = x.at("host").get<std::string>();
      const json& res = x.at("resources");
      get(res, "memory", n.resources.memoryBytes);
      get(res, "pids", n.resources.pids);
      get(res, "cpus", n.resources.cpus);
      for (const auto& p : x.at("ports")) {
        PortMap pm;
        pm.spec = p.at("spec").get<std::string>();
        pm.hostPort = p.at("host_port").get<uint16_t>();
        pm.hostPortEnd = p.at("host_port_end").get<uint16_t>();
        pm.containerPort = p.at("container_port").get<uint16_t>();
        pm.containerPortEnd = p.at("container_port_end").get<uint16_t>();
        pm.proto = proto(p.at("proto").get<std::string>());
        get(p, "host_ip", pm.hostIp, addr);
        n.ports.push_back(std::move(pm));
      }
      for (const auto& y : x.at("networks")) {
        Attachment a;
        a.network = y.at("network").get<std::string>();
        a.iface = y.at("iface").get<std::string>();
        a.ipExplicit = y.at("ip_explicit").get<bool>();
        a.ip6Explicit = y.value("ip6_explicit", false);
        get(y, "ip", a.ip, addr);
        get(y, "ipv6", a.ip6, addr);
        get(y, "mac", a.mac, mac);
        n.networks.push_back(std::move(a));
      }
      for (const auto& y : x.at("nat")) {
        NatRule r;
        r.action = natAction(y.at("action").get<std::string>());
        r.out = y.at("out").get<std::string>();
        r.in = y.at("in").get<std::string>();
        r.port = y.at("port").get<uint16_t>();
        r.toPort = y.at("to_port").get<uint16_t>();
        get(y, "source", r.source, prefix);
        get(y, "to", r.to, addr);
        if (y.contains("proto")) r.proto = proto(y.at("proto").get<std::string>());
        n.nat.push_back(std::move(r));
      }
      lab.nodes.push_back(std::move(n));
    }
    for (const auto& x : j.at("links")) {
      Link l;
      l.type = linkType(x.at("type").get<std::string>());
      l.hostInterface = x.at("host_interface").get<std::string>();
      l.mode = mode(x.at("mode").get<std::string>());
      l.dstPort = x.at("dst_port").get<uint16_t>();
      l.parentInterface = x.at("parent_interface").get<std::string>();
      l.labels = x.at("labels").get<std::map<std::string, std::string>>();
      for (const auto& e : x.at("endpoints")) l.endpoints.push_back(endpointFrom(e));
      get(x, "mtu", l.mtu);
      get(x, "host_ipv4", l.hostIpv4, prefix);
      get(x, "host_ipv6", l.hostIpv6, prefix);
      get(x, "remote", l.remote, addr);
      get(x, "vni", l.vni);
      get(x, "src_port", l.srcPort);
      if (x.contains("peers")) l.peers = peersFrom(x.at("peers"));
      if (x.contains("impair")) l.impair = impairFrom(x.at("impair"));
      lab.links.push_back(std::move(l));
    }
    for (const auto& x : j.at("hosts")) {
      Host h;
      h.name = x.at("name").get<std::string>();
      get(x, "address", h.address, addr);
      h.vxlanPort = x.value("vxlan_port", uint16_t(defaults::kVxlanPort));
      h.parent = x.value("parent", std::string());
      lab.hosts.push_back(std::move(h));
    }
    lab.localHost = j.value("local_host", std::string());
    if (j.contains("placement"))
      lab.placement = j.at("placement").get<std::map<std::string, std::string>>();
  } catch (const Bad& e) {
    return invalidInput("topology.json: " + e.what);
  } catch (const nlohmann::json::exception& e) {
    return invalidInput(std::string("topology.json: ") + e.what());
  }
  lab.reindex();
  return lab;
}

}  // namespace netctl::topology
