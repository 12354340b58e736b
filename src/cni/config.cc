#include "netctl/cni/config.h"

#include <fmt/format.h>

namespace netctl::cni {

using nlohmann::json;

std::string_view modeName(PluginMode m) {
  switch (m) {
    case PluginMode::kBridge: return "bridge";
    case PluginMode::kMacvlan: return "macvlan";
    case PluginMode::kPtp: return "ptp";
  }
  return "?";
}

bool Range::contains(const IpAddr& a) const {
  return a.family == rangeStart.family && a >= rangeStart && a <= rangeEnd;
}

std::string Range::str() const { return rangeStart.str() + "-" + rangeEnd.str(); }

std::string rangeSetStr(const RangeSet& s) {
  std::vector<std::string> parts;
  for (const auto& r : s) parts.push_back(r.str());
  return fmt::format("{}", fmt::join(parts, ","));
}

namespace {

std::unexpected<Failure> invalid(std::string msg) {
  return fail(code::kInvalidConfig, std::move(msg));
}

// Typed readers: absent or null keeps the default; a wrong type is an error naming the key.
Outcome<void> readBool(const json& o, const char* key, bool& out, std::string_view where = "") {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return {};
  if (!it->is_boolean()) return invalid(fmt::format("{}\"{}\" must be true or false", where, key));
  out = it->get<bool>();
  return {};
}

Outcome<void> readString(const json& o, const char* key, std::string& out, std::string_view where = "") {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return {};
  if (!it->is_string()) return invalid(fmt::format("{}\"{}\" must be a string", where, key));
  out = it->get<std::string>();
  return {};
}

Outcome<std::optional<int64_t>> readInt(const json& o, const char* key, int64_t lo, int64_t hi,
                                        std::string_view where = "") {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return std::optional<int64_t>();
  if (!it->is_number_integer())
    return invalid(fmt::format("{}\"{}\" must be an integer", where, key));
  int64_t v = it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)
                  ? INT64_MAX
                  : it->get<int64_t>();
  if (v < lo || v > hi)
    return invalid(fmt::format("{}\"{}\" is {}: it must be between {} and {}", where, key, v, lo, hi));
  return std::optional<int64_t>(v);
}

Outcome<IpAddr> readAddr(const json& v, std::string_view what) {
  if (!v.is_string()) return invalid(fmt::format("{} must be a string", what));
  auto a = IpAddr::parse(v.get<std::string>());
  if (!a) return invalid(fmt::format("{}: invalid IP address \"{}\"", what, v.get<std::string>()));
  return *a;
}

// "10.0.0.2" or "10.0.0.2/24" (runtimeConfig.ips, args.cni.ips).
Outcome<std::vector<IpAddr>> readIpList(const json& o, const char* key, std::string_view where) {
  std::vector<IpAddr> out;
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return out;
  if (!it->is_array()) return invalid(fmt::format("{}\"{}\" must be a list", where, key));
  for (const auto& e : *it) {
    if (!e.is_string()) return invalid(fmt::format("{}\"{}\" entries must be strings", where, key));
    auto p = IpPrefix::parse(e.get<std::string>(), true);
    if (!p) return invalid(fmt::format("{}\"{}\": invalid IP \"{}\"", where, key, e.get<std::string>()));
    out.push_back(p->addr);
  }
  return out;
}

Outcome<std::string> readMac(const json& o, const char* key, std::string_view where) {
  std::string mac;
  auto r = readString(o, key, mac, where);
  if (!r) return std::unexpected(r.error());
  if (!mac.empty() && !validMac(mac)) return invalid(fmt::format("{}\"{}\": invalid MAC \"{}\"", where, key, mac));
  return lowerMac(mac);
}

Outcome<Range> parseRange(const json& j, std::string_view where) {
  if (!j.is_object()) return invalid(fmt::format("{}: a range must be an object", where));
  Range r;
  auto sub = j.find("subnet");
  if (sub == j.end() || !sub->is_string()) return invalid(fmt::format("{}: \"subnet\" is required", where));
  auto p = IpPrefix::parse(sub->get<std::string>());
  if (!p) return invalid(fmt::format("{}: invalid subnet \"{}\"", where, sub->get<std::string>()));
  if (p->len > p->addr.bits() - 2)
    return invalid(fmt::format("{}: network {} too small to allocate from", where, p->str()));
  if (p->network().addr != p->addr)
    return invalid(fmt::format("{}: network {} has host bits set; the network address is {}", where,
                               p->str(), p->network().addr.str()));
  r.subnet = *p;
  IpAddr first = p->addr.next();
  IpAddr last = p->broadcast();
  if (last.isV4()) last.bytes[3]--;  // the IPv4 broadcast is never handed out
  auto within = [&](const char* key, IpAddr def) -> Outcome<IpAddr> {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return def;
    auto a = readAddr(*it, fmt::format("{}: \"{}\"", where, key));
    if (!a) return std::unexpected(a.error());
    if (!p->contains(*a)) return invalid(fmt::format("{}: {} {} is not in network {}", where, key, a->str(), p->str()));
    return *a;
  };
  auto start = within("rangeStart", first);
  if (!start) return std::unexpected(start.error());
  auto end = within("rangeEnd", last);
  if (!end) return std::unexpected(end.error());
  if (*start > *end)
    return invalid(fmt::format("{}: rangeStart {} is after rangeEnd {}", where, start->str(), end->str()));
  r.rangeStart = *start;
  r.rangeEnd = *end;
  r.gateway = first;
  if (auto gw = j.find("gateway"); gw != j.end() && !gw->is_null()) {
    auto a = readAddr(*gw, fmt::format("{}: \"gateway\"", where));
    if (!a) return std::unexpected(a.error());
    if (a->family != p->addr.family) return invalid(fmt::format("{}: gateway {} is not of the subnet's family", where, a->str()));
    r.gateway = *a;
  }
  return r;
}

bool overlaps(const Range& a, const Range& b) {
  return a.rangeStart.family == b.rangeStart.family && a.rangeStart <= b.rangeEnd && b.rangeStart <= a.rangeEnd;
}

Outcome<std::vector<RangeSet>> parseRangeSets(const json& list, std::string_view where) {
  std::vector<RangeSet> sets;
  if (!list.is_array()) return invalid(fmt::format("{} must be a list of range lists", where));
  for (size_t i = 0; i < list.size(); ++i) {
    const auto& s = list[i];
    auto w = fmt::format("{}[{}]", where, i);
    if (!s.is_array() || s.empty()) return invalid(fmt::format("{} must be a non-empty list of ranges", w));
    RangeSet set;
    for (size_t k = 0; k < s.size(); ++k) {
      auto r = parseRange(s[k], fmt::format("{}[{}]", w, k));
      if (!r) return std::unexpected(r.error());
      if (!set.empty() && set[0].subnet.addr.family != r->subnet.addr.family)
        return invalid(fmt::format("{}: mixes IPv4 and IPv6 ranges", w));
      for (const auto& other : set)
        if (overlaps(other, *r)) return invalid(fmt::format("{}: ranges {} and {} overlap", w, other.str(), r->str()));
      set.push_back(*r);
    }
    sets.push_back(std::move(set));
  }
  return sets;
}

Outcome<std::vector<Route>> parseRoutes(const json& o, std::string_view where) {
  std::vector<Route> out;
  auto it = o.find("routes");
  if (it == o.end() || it->is_null()) return out;
  if (!it->is_array()) return invalid(fmt::format("{}\"routes\" must be a list", where));
  for (const auto& e : *it) {
    auto r = parseRoute(e, true);
    if (!r) return invalid(fmt::format("{}\"routes\": {}", where, r.error().details));
    out.push_back(*r);
  }
  return out;
}

Outcome<std::vector<Attachment>> parseAttachments(const json& v, std::string_view key) {
  std::vector<Attachment> out;
  if (!v.is_array()) return invalid(fmt::format("\"{}\" must be a list", key));
  for (const auto& e : v) {
    if (!e.is_object()) return invalid(fmt::format("\"{}\" entries must be objects", key));
    Attachment a;
    auto id = readString(e, "containerID", a.containerId, fmt::format("{}: ", key));
    if (!id) return std::unexpected(id.error());
    auto ifn = readString(e, "ifname", a.ifname, fmt::format("{}: ", key));
    if (!ifn) return std::unexpected(ifn.error());
    if (a.containerId.empty()) return invalid(fmt::format("\"{}\" entry without containerID", key));
    out.push_back(std::move(a));
  }
  return out;
}

Outcome<std::vector<PortMapping>> parsePortMappings(const json& v) {
  std::vector<PortMapping> out;
  if (!v.is_array()) return invalid("runtimeConfig \"portMappings\" must be a list");
  for (const auto& e : v) {
    if (!e.is_object()) return invalid("portMappings entries must be objects");
    PortMapping m;
    auto hp = readInt(e, "hostPort", 1, 65535, "portMappings: ");
    if (!hp) return std::unexpected(hp.error());
    auto cp = readInt(e, "containerPort", 1, 65535, "portMappings: ");
    if (!cp) return std::unexpected(cp.error());
    if (!*hp || !*cp) return invalid("portMappings entries need hostPort and containerPort");
    m.hostPort = static_cast<int>(**hp);
    m.containerPort = static_cast<int>(**cp);
    auto pr = readString(e, "protocol", m.protocol, "portMappings: ");
    if (!pr) return std::unexpected(pr.error());
    for (auto& c : m.protocol) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (m.protocol.empty()) m.protocol = "tcp";
    if (m.protocol != "tcp" && m.protocol != "udp" && m.protocol != "sctp")
      return invalid(fmt::format("portMappings: unknown protocol \"{}\"", m.protocol));
    if (auto h = e.find("hostIP"); h != e.end() && !h->is_null() && !(h->is_string() && h->get<std::string>().empty())) {
      auto a = readAddr(*h, "portMappings: \"hostIP\"");
      if (!a) return std::unexpected(a.error());
      m.hostIP = *a;
    }
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace

Outcome<std::optional<IpamConf>> parseIpam(const json& ipam) {
  if (ipam.is_null()) return std::optional<IpamConf>();
  if (!ipam.is_object()) return invalid("\"ipam\" must be an object");
  IpamConf c;
  auto t = readString(ipam, "type", c.type, "ipam: ");
  if (!t) return std::unexpected(t.error());
  if (c.type.empty()) {
    if (ipam.empty()) return std::optional<IpamConf>();  // {} = L2 only
    return invalid("ipam: \"type\" is required");
  }
  auto routes = parseRoutes(ipam, "ipam: ");
  if (!routes) return std::unexpected(routes.error());
  c.routes = *routes;
  if (auto d = ipam.find("dns"); d != ipam.end()) {
    auto dns = parseDns(*d);
    if (!dns) return invalid(fmt::format("ipam: {}", dns.error().details));
    c.dns = *dns;
  }
  if (c.type == "host-local") {
    auto dd = readString(ipam, "dataDir", c.dataDir, "ipam: ");
    if (!dd) return std::unexpected(dd.error());
    auto rc = readString(ipam, "resolvConf", c.resolvConf, "ipam: ");
    if (!rc) return std::unexpected(rc.error());
    // The legacy single range (keys directly under ipam) comes first, as in host-local.
    if (ipam.contains("subnet")) {
      auto r = parseRange(ipam, "ipam");
      if (!r) return std::unexpected(r.error());
      c.ranges.push_back({*r});
    }
    if (auto rs = ipam.find("ranges"); rs != ipam.end() && !rs->is_null()) {
      auto sets = parseRangeSets(*rs, "ipam: ranges");
      if (!sets) return std::unexpected(sets.error());
      c.ranges.insert(c.ranges.end(), sets->begin(), sets->end());
    }
    if (c.ranges.empty()) return invalid("ipam: no IP ranges specified");
  } else if (c.type == "static") {
    auto it = ipam.find("addresses");
    if (it != ipam.end() && !it->is_null()) {
      if (!it->is_array()) return invalid("ipam: \"addresses\" must be a list");
      for (const auto& e : *it) {
        if (!e.is_object()) return invalid("ipam: \"addresses\" entries must be objects");
        auto a = e.find("address");
        if (a == e.end() || !a->is_string()) return invalid("ipam: an address entry needs \"address\"");
        auto p = IpPrefix::parse(a->get<std::string>());
        if (!p) return invalid(fmt::format("ipam: invalid address \"{}\" (want addr/len)", a->get<std::string>()));
        StaticAddress s{*p, {}};
        if (auto g = e.find("gateway"); g != e.end() && !g->is_null()) {
          auto gw = readAddr(*g, "ipam: \"gateway\"");
          if (!gw) return std::unexpected(gw.error());
          if (gw->family != p->addr.family)
            return invalid(fmt::format("ipam: gateway {} does not match address {}", gw->str(), p->str()));
          s.gateway = *gw;
        }
        c.addresses.push_back(s);
      }
    }
  } else {
    return fail(code::kUnsupportedField, fmt::format("unsupported field ipam.type = \"{}\"", c.type),
                "netctl runs no external IPAM plugin; use \"host-local\" or \"static\"");
  }
  return std::optional<IpamConf>(std::move(c));
}

Outcome<NetConf> parseNetConf(std::string_view text, const ParseOptions& opts) {
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return fail(code::kDecodeFailure, "failed to decode network configuration", "invalid JSON");
  if (!j.is_object()) return fail(code::kDecodeFailure, "failed to decode network configuration", "not a JSON object");
  NetConf c;

  // Version first: a config in a version netctl does not speak is judged by nothing else.
  auto v = j.find("cniVersion");
  if (v != j.end() && !v->is_null() && !v->is_string())
    return fail(code::kDecodeFailure, "\"cniVersion\" must be a string");
  if (v != j.end() && v->is_string()) c.cniVersion = v->get<std::string>();
  if (c.cniVersion.empty()) {
    // A conflist's cniVersions may arrive in a lenient runtime's request.
    if (auto vs = j.find("cniVersions"); vs != j.end() && vs->is_array()) {
      std::vector<std::string> cand;
      for (const auto& e : *vs)
        if (e.is_string()) cand.push_back(e.get<std::string>());
      c.cniVersion = highestSupported(cand);
    }
  }
  if (c.cniVersion.empty()) {
    if (opts.requireSupportedVersion)
      return fail(code::kIncompatibleVersion, "incompatible CNI versions",
                  fmt::format("config has no cniVersion (0.1.0 assumed), plugin supports [{}]",
                              fmt::join(kSupportedVersions, " ")));
  } else if (!Version::parse(c.cniVersion)) {
    return fail(code::kDecodeFailure, fmt::format("invalid cniVersion \"{}\"", c.cniVersion));
  } else if (opts.requireSupportedVersion && !isSupportedVersion(c.cniVersion)) {
    return fail(code::kIncompatibleVersion, "incompatible CNI versions",
                fmt::format("config is \"{}\", plugin supports [{}]", c.cniVersion,
                            fmt::join(kSupportedVersions, " ")));
  }

#define TRY_OUT(expr)                                        \
  do {                                                       \
    auto r_ = (expr);                                        \
    if (!r_) return std::unexpected(std::move(r_).error()); \
  } while (0)

  TRY_OUT(readString(j, "name", c.name));
  if (c.name.empty()) return invalid("missing network name");
  if (!validContainerId(c.name))
    return invalid(fmt::format("invalid characters in network name \"{}\"", c.name));
  TRY_OUT(readString(j, "type", c.type));
  if (c.type.empty()) return invalid("missing plugin type");

  // Mode: from the type alias, or from the `mode` key when the type is netctl's own name.
  std::string modeKey;
  TRY_OUT(readString(j, "mode", modeKey));
  bool generic = c.type == "netctl";
  for (const auto& n : opts.extraTypeNames) generic = generic || c.type == n;
  auto modeFrom = [](std::string_view s) -> std::optional<PluginMode> {
    if (s == "bridge") return PluginMode::kBridge;
    if (s == "macvlan") return PluginMode::kMacvlan;
    if (s == "ptp") return PluginMode::kPtp;
    return std::nullopt;
  };
  if (generic) {
    if (!modeKey.empty()) {
      auto m = modeFrom(modeKey);
      if (!m)
        return invalid(fmt::format("unknown mode \"{}\": netctl's modes are bridge, macvlan and ptp "
                                   "(for a macvlan mode use \"macvlanMode\" or type netctl-macvlan)",
                                   modeKey));
      c.mode = *m;
    }
    TRY_OUT(readString(j, "macvlanMode", c.macvlanMode));
  } else {
    std::string_view t = c.type;
    if (t.starts_with("netctl-")) t.remove_prefix(7);
    auto m = modeFrom(t);
    if (!m) return invalid(fmt::format("unknown plugin type \"{}\"", c.type));
    c.mode = *m;
    if (c.mode == PluginMode::kMacvlan) {
      if (!modeKey.empty()) c.macvlanMode = modeKey;
    } else if (!modeKey.empty() && modeKey != modeName(c.mode)) {
      return invalid(fmt::format("type \"{}\" conflicts with mode \"{}\"", c.type, modeKey));
    }
  }
  if (c.mode == PluginMode::kMacvlan && c.macvlanMode != "bridge" && c.macvlanMode != "private" &&
      c.macvlanMode != "vepa" && c.macvlanMode != "passthru")
    return invalid(fmt::format("unknown macvlan mode \"{}\"", c.macvlanMode));

  TRY_OUT(readString(j, "bridge", c.bridge));
  if (!validIfname(c.bridge)) return invalid(fmt::format("invalid bridge name \"{}\"", c.bridge));
  TRY_OUT(readBool(j, "isGateway", c.isGateway));
  TRY_OUT(readBool(j, "isDefaultGateway", c.isDefaultGateway));
  if (c.isDefaultGateway) c.isGateway = true;
  TRY_OUT(readBool(j, "forceAddress", c.forceAddress));
  TRY_OUT(readBool(j, "hairpinMode", c.hairpinMode));
  TRY_OUT(readBool(j, "promiscMode", c.promiscMode));
  if (c.hairpinMode && c.promiscMode)
    return invalid("cannot set hairpin mode and promiscuous mode at the same time");
  TRY_OUT(readBool(j, "ipMasq", c.ipMasq));
  {
    auto mtu = readInt(j, "mtu", 0, 65535);
    if (!mtu) return std::unexpected(mtu.error());
    if (*mtu) c.mtu = static_cast<int>(**mtu);
    auto vlan = readInt(j, "vlan", 0, 4094);
    if (!vlan) return std::unexpected(vlan.error());
    if (*vlan) c.vlan = static_cast<int>(**vlan);
  }
  TRY_OUT(readBool(j, "preserveDefaultVlan", c.preserveDefaultVlan));
  TRY_OUT(readString(j, "master", c.master));
  if (!c.master.empty() && !validIfname(c.master))
    return invalid(fmt::format("invalid master name \"{}\"", c.master));

  if (auto it = j.find("ipam"); it != j.end()) {
    auto ipam = parseIpam(*it);
    if (!ipam) return std::unexpected(ipam.error());
    c.ipam = std::move(*ipam);
  }
  if (c.mode == PluginMode::kPtp && !c.ipam) return invalid("ptp needs \"ipam\" (an address for each end)");
  if (auto it = j.find("dns"); it != j.end()) {
    auto dns = parseDns(*it);
    if (!dns) return invalid(dns.error().details);
    c.dns = *dns;
  }

  if (auto rc = j.find("runtimeConfig"); rc != j.end() && !rc->is_null()) {
    if (!rc->is_object()) return invalid("\"runtimeConfig\" must be an object");
    if (auto pm = rc->find("portMappings"); pm != rc->end() && !pm->is_null()) {
      auto maps = parsePortMappings(*pm);
      if (!maps) return std::unexpected(maps.error());
      c.portMappings = std::move(*maps);
    }
    auto ips = readIpList(*rc, "ips", "runtimeConfig: ");
    if (!ips) return std::unexpected(ips.error());
    c.runtimeIps = *ips;
    auto mac = readMac(*rc, "mac", "runtimeConfig: ");
    if (!mac) return std::unexpected(mac.error());
    c.runtimeMac = *mac;
    if (auto r = rc->find("ipRanges"); r != rc->end() && !r->is_null() && c.ipam && c.ipam->type == "host-local") {
      auto sets = parseRangeSets(*r, "runtimeConfig: ipRanges");
      if (!sets) return std::unexpected(sets.error());
      c.ipam->ranges.insert(c.ipam->ranges.begin(), sets->begin(), sets->end());
    }
  }
  if (auto a = j.find("args"); a != j.end() && a->is_object()) {
    if (auto cni = a->find("cni"); cni != a->end() && cni->is_object()) {
      auto ips = readIpList(*cni, "ips", "args.cni: ");
      if (!ips) return std::unexpected(ips.error());
      c.argsIps = *ips;
      auto mac = readMac(*cni, "mac", "args.cni: ");
      if (!mac) return std::unexpected(mac.error());
      c.argsMac = *mac;
    }
  }
  if (c.ipam) {
    // Range sets must not overlap each other either (host-local refuses it).
    const auto& sets = c.ipam->ranges;
    for (size_t a = 0; a < sets.size(); ++a)
      for (size_t b = a + 1; b < sets.size(); ++b)
        for (const auto& ra : sets[a])
          for (const auto& rb : sets[b])
            if (overlaps(ra, rb)) return invalid(fmt::format("range set {} overlaps with {}", a, b));
  }

  if (auto p = j.find("prevResult"); p != j.end() && !p->is_null()) {
    auto r = parseResult(*p, c.cniVersion);
    if (!r) return fail(code::kDecodeFailure, "failed to decode prevResult", r.error().details);
    c.prevResult = std::move(*r);
    c.prevResultJson = *p;
  }
  for (const char* key : {"cni.dev/valid-attachments", "cni.dev/attachments"}) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null() || c.validAttachments) continue;
    auto list = parseAttachments(*it, key);
    if (!list) return std::unexpected(list.error());
    c.validAttachments = std::move(*list);
  }
#undef TRY_OUT
  c.raw = std::move(j);
  return c;
}

Outcome<ConfList> parseConfList(std::string_view text) {
  json j = json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return fail(code::kDecodeFailure, "failed to decode network configuration list");
  ConfList l;
  auto n = readString(j, "name", l.name);
  if (!n) return std::unexpected(n.error());
  if (l.name.empty() || !validContainerId(l.name)) return invalid(fmt::format("invalid network name \"{}\"", l.name));
  auto v = readString(j, "cniVersion", l.cniVersion);
  if (!v) return std::unexpected(v.error());
  if (auto vs = j.find("cniVersions"); vs != j.end() && !vs->is_null()) {
    if (!vs->is_array()) return invalid("\"cniVersions\" must be a list");
    std::vector<std::string> cand;
    for (const auto& e : *vs)
      if (e.is_string()) cand.push_back(e.get<std::string>());
    auto best = highestSupported(cand);
    if (!best.empty()) l.cniVersion = best;
  }
  if (!isSupportedVersion(l.cniVersion))
    return fail(code::kIncompatibleVersion, "incompatible CNI versions",
                fmt::format("conflist is \"{}\", netctl supports [{}]", l.cniVersion, fmt::join(kSupportedVersions, " ")));
  auto dc = readBool(j, "disableCheck", l.disableCheck);
  if (!dc) return std::unexpected(dc.error());
  auto dg = readBool(j, "disableGC", l.disableGC);
  if (!dg) return std::unexpected(dg.error());
  auto p = j.find("plugins");
  if (p == j.end() || !p->is_array() || p->empty()) return invalid("\"plugins\" must be a non-empty list");
  for (const auto& e : *p) {
    if (!e.is_object() || !e.contains("type") || !e["type"].is_string())
      return invalid("every plugin needs a \"type\"");
    l.plugins.push_back(e);
  }
  return l;
}

std::string requestConfig(const ConfList& list, size_t i) {
  json j = list.plugins.at(i);
  j["cniVersion"] = list.cniVersion;
  j["name"] = list.name;
  return j.dump();
}

}  // namespace netctl::cni
