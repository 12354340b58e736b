#include "netctl/cni/result.h"

#include <fmt/format.h>

namespace netctl::cni {

using nlohmann::json;

namespace {

// What differs between the result shapes of the spec versions, decided in one place; the
// renderer and the parser both follow it.
struct Shape {
  bool legacy = false;     // 0.1.0, 0.2.0: ip4/ip6 objects instead of interfaces/ips
  bool ipVersion = false;  // 0.3.x, 0.4.0: ips[].version "4"|"6"
  bool v11 = false;        // 1.1.0: interfaces[].mtu/socketPath/pciID, routes[].mtu/advmss/...
};
Shape shapeOf(const Version& v) {
  return {v < Version{0, 3, 0}, v < Version{1, 0, 0}, v >= Version{1, 1, 0}};
}
Shape shapeOf(std::string_view version) {
  auto v = Version::parse(version);
  return v ? shapeOf(*v) : Shape{};
}

std::unexpected<Failure> bad(std::string what) {
  return fail(code::kDecodeFailure, "failed to decode result", std::move(what));
}

// Reads an optional string member; wrong type is an error.
Outcome<std::string> optString(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::string();
  if (!it->is_string()) return bad(fmt::format("\"{}\" must be a string", key));
  return it->get<std::string>();
}

Outcome<std::optional<int>> optInt(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::optional<int>();
  if (!it->is_number_integer()) return bad(fmt::format("\"{}\" must be an integer", key));
  auto v = it->get<int64_t>();
  if (v < INT32_MIN || v > INT32_MAX) return bad(fmt::format("\"{}\" out of range", key));
  return std::optional<int>(static_cast<int>(v));
}

Outcome<std::vector<std::string>> optStrings(const json& j, const char* key) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return out;
  if (!it->is_array()) return bad(fmt::format("\"{}\" must be a list of strings", key));
  for (const auto& e : *it) {
    if (!e.is_string()) return bad(fmt::format("\"{}\" must be a list of strings", key));
    out.push_back(e.get<std::string>());
  }
  return out;
}

// Reads optional members straight into their targets; the first wrong type is the error.
Outcome<void> readInto(const json& j, const char* key, std::string& out) {
  auto v = optString(j, key);
  if (!v) return std::unexpected(v.error());
  out = std::move(*v);
  return {};
}
Outcome<void> readInto(const json& j, const char* key, std::optional<int>& out) {
  auto v = optInt(j, key);
  if (!v) return std::unexpected(v.error());
  out = *v;
  return {};
}
Outcome<void> readInto(const json& j, const char* key, std::vector<std::string>& out) {
  auto v = optStrings(j, key);
  if (!v) return std::unexpected(v.error());
  out = std::move(*v);
  return {};
}
#define READ(j, key, out) \
  if (auto r_ = readInto(j, key, out); !r_) return std::unexpected(r_.error())

Outcome<std::optional<IpAddr>> optAddr(const json& j, const char* key) {
  auto s = optString(j, key);
  if (!s) return std::unexpected(s.error());
  if (s->empty()) return std::optional<IpAddr>();
  auto a = IpAddr::parse(*s);
  if (!a) return bad(fmt::format("\"{}\": invalid address \"{}\"", key, *s));
  return std::optional<IpAddr>(*a);
}

}  // namespace

json dnsToJson(const Dns& d) {
  json j = json::object();
  if (!d.nameservers.empty()) j["nameservers"] = d.nameservers;
  if (!d.domain.empty()) j["domain"] = d.domain;
  if (!d.search.empty()) j["search"] = d.search;
  if (!d.options.empty()) j["options"] = d.options;
  return j;
}

Outcome<Dns> parseDns(const json& j) {
  Dns d;
  if (j.is_null()) return d;
  if (!j.is_object()) return bad("\"dns\" must be an object");
  READ(j, "nameservers", d.nameservers);
  READ(j, "domain", d.domain);
  READ(j, "search", d.search);
  READ(j, "options", d.options);
  return d;
}

json routeToJson(const Route& r, bool withV11Fields) {
  json j;
  j["dst"] = r.dst.str();
  if (r.gw) j["gw"] = r.gw->str();
  if (withV11Fields) {
    if (r.mtu) j["mtu"] = *r.mtu;
    if (r.advmss) j["advmss"] = *r.advmss;
    if (r.priority) j["priority"] = *r.priority;
    if (r.table) j["table"] = *r.table;
    if (r.scope) j["scope"] = *r.scope;
  }
  return j;
}

Outcome<Route> parseRoute(const json& j, bool withV11Fields) {
  if (!j.is_object()) return bad("a route must be an object");
  Route r;
  auto dst = optString(j, "dst");
  if (!dst) return std::unexpected(dst.error());
  auto p = IpPrefix::parse(*dst);
  if (!p) return bad(fmt::format("route \"dst\": invalid prefix \"{}\"", *dst));
  r.dst = *p;
  auto gw = optAddr(j, "gw");
  if (!gw) return std::unexpected(gw.error());
  r.gw = *gw;
  if (withV11Fields) {
    READ(j, "mtu", r.mtu);
    READ(j, "advmss", r.advmss);
    READ(j, "priority", r.priority);
    READ(j, "table", r.table);
    READ(j, "scope", r.scope);
  }
  return r;
}

json resultToJson(const NetResult& r, std::string_view version) {
  const Shape shape = shapeOf(version);
  json j;
  j["cniVersion"] = std::string(version);
  if (!r.interfaces.empty()) {
    json list = json::array();
    for (const auto& i : r.interfaces) {
      json o;
      o["name"] = i.name;
      if (!i.mac.empty()) o["mac"] = i.mac;
      if (!i.sandbox.empty()) o["sandbox"] = i.sandbox;
      if (shape.v11) {
        if (i.mtu) o["mtu"] = *i.mtu;
        if (!i.socketPath.empty()) o["socketPath"] = i.socketPath;
        if (!i.pciID.empty()) o["pciID"] = i.pciID;
      }
      list.push_back(std::move(o));
    }
    j["interfaces"] = std::move(list);
  }
  if (!r.ips.empty()) {
    json list = json::array();
    for (const auto& ip : r.ips) {
      json o;
      if (shape.ipVersion) o["version"] = ip.address.addr.isV4() ? "4" : "6";
      o["address"] = ip.address.str();
      if (ip.gateway) o["gateway"] = ip.gateway->str();
      if (ip.interface) o["interface"] = *ip.interface;
      list.push_back(std::move(o));
    }
    j["ips"] = std::move(list);
  }
  if (!r.routes.empty()) {
    json list = json::array();
    for (const auto& rt : r.routes) list.push_back(routeToJson(rt, shape.v11));
    j["routes"] = std::move(list);
  }
  j["dns"] = dnsToJson(r.dns);
  return j;
}

std::string renderResult(const NetResult& r, std::string_view version) {
  return resultToJson(r, version).dump(-1, ' ', false, json::error_handler_t::replace);
}

namespace {

// 0.1.0 / 0.2.0: {"ip4": {"ip", "gateway", "routes"}, "ip6": {...}, "dns"}.
Outcome<NetResult> parseLegacy(const json& j, NetResult r) {
  for (const char* key : {"ip4", "ip6"}) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) continue;
    if (!it->is_object()) return bad(fmt::format("\"{}\" must be an object", key));
    auto ipText = optString(*it, "ip");
    if (!ipText) return std::unexpected(ipText.error());
    auto p = IpPrefix::parse(*ipText);
    if (!p) return bad(fmt::format("\"{}.ip\": invalid address \"{}\"", key, *ipText));
    IpConfig c{*p, {}, {}};
    auto gw = optAddr(*it, "gateway");
    if (!gw) return std::unexpected(gw.error());
    c.gateway = *gw;
    r.ips.push_back(c);
    if (auto rt = it->find("routes"); rt != it->end() && !rt->is_null()) {
      if (!rt->is_array()) return bad(fmt::format("\"{}.routes\" must be a list", key));
      for (const auto& e : *rt) {
        auto route = parseRoute(e, false);
        if (!route) return std::unexpected(route.error());
        r.routes.push_back(*route);
      }
    }
  }
  if (auto d = j.find("dns"); d != j.end()) {
    auto dns = parseDns(*d);
    if (!dns) return std::unexpected(dns.error());
    r.dns = *dns;
  }
  return r;
}

}  // namespace

Outcome<NetResult> parseResult(const json& j, std::string_view fallbackVersion) {
  if (!j.is_object()) return bad("a result must be an object");
  NetResult r;
  auto ver = optString(j, "cniVersion");
  if (!ver) return std::unexpected(ver.error());
  r.cniVersion = ver->empty() ? std::string(fallbackVersion) : *ver;
  auto pv = Version::parse(r.cniVersion);
  if (!pv) return bad(fmt::format("invalid result cniVersion \"{}\"", r.cniVersion));
  const Shape shape = shapeOf(*pv);
  if (shape.legacy) return parseLegacy(j, std::move(r));

  if (auto it = j.find("interfaces"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return bad("\"interfaces\" must be a list");
    for (const auto& e : *it) {
      if (!e.is_object()) return bad("an interface must be an object");
      Interface i;
      READ(e, "name", i.name);
      READ(e, "mac", i.mac);
      READ(e, "sandbox", i.sandbox);
      if (shape.v11) {
        READ(e, "mtu", i.mtu);
        READ(e, "socketPath", i.socketPath);
        READ(e, "pciID", i.pciID);
      }
      r.interfaces.push_back(std::move(i));
    }
  }
  if (auto it = j.find("ips"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return bad("\"ips\" must be a list");
    for (const auto& e : *it) {
      if (!e.is_object()) return bad("an ips entry must be an object");
      auto addr = optString(e, "address");
      if (!addr) return std::unexpected(addr.error());
      auto p = IpPrefix::parse(*addr);
      if (!p) return bad(fmt::format("ips \"address\": invalid \"{}\"", *addr));
      IpConfig c{*p, {}, {}};
      auto gw = optAddr(e, "gateway");
      if (!gw) return std::unexpected(gw.error());
      c.gateway = *gw;
      if (c.gateway && c.gateway->family != p->addr.family)
        return bad(fmt::format("gateway {} does not match address {}", c.gateway->str(), *addr));
      READ(e, "interface", c.interface);
      // "version" (0.3.x/0.4.0) is implied by the address; a contradiction is an error.
      auto v = optString(e, "version");
      if (!v) return std::unexpected(v.error());
      if (!v->empty() && *v != (p->addr.isV4() ? "4" : "6"))
        return bad(fmt::format("ips entry {} has version \"{}\"", *addr, *v));
      r.ips.push_back(c);
    }
  }
  if (auto it = j.find("routes"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return bad("\"routes\" must be a list");
    for (const auto& e : *it) {
      auto route = parseRoute(e, shape.v11);
      if (!route) return std::unexpected(route.error());
      r.routes.push_back(*route);
    }
  }
  if (auto d = j.find("dns"); d != j.end()) {
    auto dns = parseDns(*d);
    if (!dns) return std::unexpected(dns.error());
    r.dns = *dns;
  }
  return r;
}

Outcome<json> convertResult(const json& j, std::string_view toVersion) {
  if (!isSupportedVersion(toVersion))
    return fail(code::kIncompatibleVersion, fmt::format("cannot convert a result to version {}", toVersion));
  auto r = parseResult(j, toVersion);
  if (!r) return std::unexpected(r.error());
  return resultToJson(*r, toVersion);
}

Outcome<void> validateResult(const NetResult& r) {
  for (const auto& i : r.interfaces) {
    if (i.name.empty()) return fail(code::kInternal, "result has an interface without a name");
    // A sandbox interface must have a MAC (podman rejects the result otherwise); any MAC given
    // must be well formed.
    if ((!i.sandbox.empty() || !i.mac.empty()) && !validMac(i.mac))
      return fail(code::kInternal, fmt::format("interface {} has an invalid MAC \"{}\"", i.name, i.mac));
  }
  for (const auto& ip : r.ips) {
    if (ip.interface && (*ip.interface < 0 || *ip.interface >= static_cast<int>(r.interfaces.size())))
      return fail(code::kInternal,
                  fmt::format("ips entry {} points to interface {} of {}", ip.address.str(),
                              *ip.interface, r.interfaces.size()));
  }
  return {};
}

}  // namespace netctl::cni
