// The CNI result: the model, its JSON shape per spec version, and parsing of a result (a
// prevResult from any plugin, in any version) so results convert between versions.
//  - 0.3.0, 0.3.1, 0.4.0: ips[] carry "version": "4"|"6".
//  - 1.0.0: no "version" on ips.
//  - 1.1.0: adds interfaces[].mtu/socketPath/pciID and routes[].mtu/advmss/priority/table/scope.
// Rendering for version V writes only the fields V knows, so a 1.0.0 request never gets a
// 1.1.0 result. 0.1.0/0.2.0 results (ip4/ip6) are parsed but never rendered.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "netctl/cni/ip.h"
#include "netctl/cni/protocol.h"

namespace netctl::cni {

struct Interface {
  std::string name;
  std::string mac;      // must be valid for every interface with a sandbox (podman checks)
  std::string sandbox;  // netns path; "" = host side
  std::optional<int> mtu;         // 1.1.0
  std::string socketPath;         // 1.1.0
  std::string pciID;              // 1.1.0
};

struct IpConfig {
  IpPrefix address;              // address with its prefix length, e.g. 10.0.0.2/24
  std::optional<IpAddr> gateway;
  std::optional<int> interface;  // index into NetResult::interfaces
};

struct Route {
  IpPrefix dst;
  std::optional<IpAddr> gw;
  std::optional<int> mtu, advmss, priority, table, scope;  // 1.1.0
};

struct Dns {
  std::vector<std::string> nameservers;
  std::string domain;
  std::vector<std::string> search;
  std::vector<std::string> options;
  bool empty() const { return nameservers.empty() && domain.empty() && search.empty() && options.empty(); }
};

struct NetResult {
  std::string cniVersion;  // as parsed; rendering takes the version explicitly
  std::vector<Interface> interfaces;
  std::vector<IpConfig> ips;
  std::vector<Route> routes;
  Dns dns;
};

// JSON for `version` (one of kSupportedVersions).
nlohmann::json resultToJson(const NetResult& r, std::string_view version);
std::string renderResult(const NetResult& r, std::string_view version);

// Parses a result object of any version (0.1.0 to 1.1.0). `fallbackVersion` is used when the
// object has no cniVersion. Bad shape -> code 6 (decode failure).
Outcome<NetResult> parseResult(const nlohmann::json& j, std::string_view fallbackVersion);
// Converts result JSON to another version's shape.
Outcome<nlohmann::json> convertResult(const nlohmann::json& j, std::string_view toVersion);

// What a plugin may print: sandbox interfaces have valid MACs, ips[].interface points into
// interfaces. Failure code 100 names the culprit.
Outcome<void> validateResult(const NetResult& r);

nlohmann::json dnsToJson(const Dns& d);
Outcome<Dns> parseDns(const nlohmann::json& j);
Outcome<Route> parseRoute(const nlohmann::json& j, bool withV11Fields = true);
nlohmann::json routeToJson(const Route& r, bool withV11Fields);

}  // namespace netctl::cni
