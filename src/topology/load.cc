// loadFile/loadString: YAML text -> decoded model -> resolved defaults -> validated lab.
#include "netctl/topology/load.h"

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "reader.h"

namespace netctl::topology {
namespace {

std::optional<std::string> processEnv(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  return v ? std::optional<std::string>(v) : std::nullopt;
}

// Fills what the file left to defaults and that depends on other entities: gateways and the
// interface names of network attachments (eth0, eth1, ... skipping names the node's links use).
void resolveNames(Lab& lab) {
  for (auto& net : lab.networks) {
    if (net.driver != NetworkDriver::kBridge) continue;
    if (net.subnet && !net.gateway) net.gateway = net.subnet->nth(1);
    if (net.ipv6 && !net.gateway6) net.gateway6 = net.ipv6->nth(1);
  }
  std::unordered_map<std::string, std::unordered_set<std::string>> used;
  for (const auto& link : lab.links)
    for (const auto& ep : link.endpoints)
      if (ep.kind == EndpointKind::kNode) used[ep.node].insert(ep.iface);
  for (auto& node : lab.nodes) {
    auto& taken = used[node.name];
    for (const auto& a : node.networks)
      if (!a.iface.empty()) taken.insert(a.iface);
    int k = 0;
    for (auto& a : node.networks) {
      if (!a.iface.empty()) continue;
      while (taken.contains(fmt::format("eth{}", k))) ++k;
      a.iface = fmt::format("eth{}", k++);
      taken.insert(a.iface);
    }
  }
}

// Gives every attachment without an address the next free one of its network's subnet, in
// file order, starting at .2 (the first address is the gateway's whether or not one is set).
// File order makes it deterministic: adding a node at the end never moves the others.
std::optional<Diagnostic> assignAddresses(Lab& lab) {
  struct Pool {
    std::set<IpAddress> used;
    uint64_t next = 2;
  };
  std::unordered_map<std::string, Pool> v4, v6;
  for (const auto& net : lab.networks) {
    auto& p4 = v4[net.name];
    auto& p6 = v6[net.name];
    if (net.gateway) p4.used.insert(*net.gateway);
    if (net.gateway6) p6.used.insert(*net.gateway6);
  }
  for (const auto& node : lab.nodes)
    for (const auto& a : node.networks) {
      if (a.ip) v4[a.network].used.insert(*a.ip);
      if (a.ip6) v6[a.network].used.insert(*a.ip6);
    }
  auto take = [](Pool& pool, const IpPrefix& subnet) -> std::optional<IpAddress> {
    while (true) {
      auto a = subnet.nth(pool.next++);
      if (!a || (subnet.addr.family == 4 && *a == subnet.last() && subnet.len < 31))
        return std::nullopt;
      if (!pool.used.contains(*a)) {
        pool.used.insert(*a);
        return a;
      }
    }
  };
  for (auto& node : lab.nodes)
    for (auto& a : node.networks) {
      const Network* net = lab.network(a.network);
      if (!net) continue;
      if (!a.ip && net->subnet) {
        a.ip = take(v4[a.network], *net->subnet);
        if (!a.ip)
          return lab.at(a.locs.self, a.locs.path,
                        fmt::format("subnet {} of network \"{}\" has no free address left",
                                    net->subnet->str(), net->name));
      }
      if (!a.ip6 && net->ipv6) {
        a.ip6 = take(v6[a.network], *net->ipv6);
        if (!a.ip6)
          return lab.at(a.locs.self, a.locs.path,
                        fmt::format("subnet {} of network \"{}\" has no free address left",
                                    net->ipv6->str(), net->name));
      }
    }
  return std::nullopt;
}

Diagnostic yamlDiag(const std::string& file, const YAML::Exception& e) {
  Loc loc;
  if (e.mark.line >= 0) loc = Loc{e.mark.line + 1, e.mark.column + 1};
  return Diagnostic{file, loc, "", "YAML: " + e.msg};
}

}  // namespace

Error toError(const Diagnostic& d) { return Error(Error::Kind::kInvalidInput, 0, d.str()); }

Result<Loaded> loadString(std::string_view yaml, const std::string& file, const LoadOptions& opts) {
  Loaded out;
  Lab& lab = out.lab;
  lab.file = file;
  detail::Expander expander(opts.getenv ? opts.getenv : processEnv);
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    if (!root.IsMap())
      return std::unexpected(toError(Diagnostic{
          file, Loc{1, 1}, "", root.IsNull() ? "the file is empty" : "the file must be a mapping"}));
    bool clab = root["topology"].IsDefined();
    detail::Reader reader(file, &out.warnings, clab ? &expander : nullptr);
    if (clab) detail::decodeClab(reader, root, lab);
    else detail::decodeNative(reader, root, lab);
  } catch (const detail::DecodeError& e) {
    return std::unexpected(toError(e.diag));
  } catch (const YAML::Exception& e) {
    return std::unexpected(toError(yamlDiag(file, e)));
  } catch (const std::exception& e) {
    return std::unexpected(toError(Diagnostic{file, {}, "", e.what()}));
  }
  lab.reindex();
  resolveNames(lab);
  if (opts.validate) NETCTL_TRY(validate(lab));
  if (auto d = assignAddresses(lab)) return std::unexpected(toError(*d));
  return out;
}

Result<Loaded> loadFile(const std::string& path, const LoadOptions& opts) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return withContext(errnoError("opening " + path), "reading topology");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return withContext(errnoError("reading " + path), "reading topology");
  return loadString(text.str(), path, opts);
}

}  // namespace netctl::topology
