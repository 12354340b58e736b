// Desired minus current: compares the resolved model object by object through its JSON form
// (topology/json.h), so any field that changes makes the object change.
#include "netctl/topology/plan.h"

#include <fmt/format.h>

#include <map>
#include <set>

#include "netctl/topology/json.h"
#include "netctl/topology/names.h"

namespace netctl::topology {
namespace {

using nlohmann::json;

std::map<std::string, json> byName(const json& arr, const char* key) {
  std::map<std::string, json> m;
  for (const auto& x : arr) m[x.at(key).get<std::string>()] = x;
  return m;
}

std::map<std::string, json> linksById(const Lab& lab, const json& arr) {
  std::map<std::string, json> m;
  for (size_t i = 0; i < lab.links.size(); ++i) m[names::linkId(lab.links[i])] = arr.at(i);
  return m;
}

// Everything that decides the host's NAT tables: networks and published ports.
json natView(const Lab& lab) {
  json ports = json::array();
  for (const auto& n : lab.nodes) {
    json p = json::array();
    for (const auto& m : n.ports) p.push_back(m.spec);
    ports.push_back({n.name, p, primaryAddress(lab, n)});
  }
  return json{{"networks", toJson(lab)["networks"]}, {"ports", ports}};
}

json hostsView(const Lab& lab) {
  json j = json::array();
  for (const auto& n : lab.nodes) j.push_back({n.name, n.hostname, primaryAddress(lab, n)});
  return j;
}

}  // namespace

std::string primaryAddress(const Lab& lab, const Node& node) {
  for (const auto& a : node.networks)
    if (a.ip) return a.ip->str();
  for (const auto& l : lab.links)
    for (const auto& e : l.endpoints)
      if (e.kind == EndpointKind::kNode && e.node == node.name && e.ipv4) return e.ipv4->addr.str();
  return {};
}

std::string Plan::str() const {
  if (changes() == 0 && !hostsChanged) return "no changes\n";
  std::string s;
  for (const auto& n : removeLinks) s += fmt::format("- link {}\n", n);
  for (const auto& n : removeNodes) s += fmt::format("- node {}\n", n);
  for (const auto& n : removeNetworks) s += fmt::format("- network {}\n", n);
  for (const auto& n : addNetworks) s += fmt::format("+ network {}\n", n);
  for (const auto& n : addNodes) s += fmt::format("+ node {}\n", n);
  for (const auto& n : addLinks) s += fmt::format("+ link {}\n", n);
  if (natChanged) s += "~ host NAT (networks, published ports)\n";
  if (hostsChanged) s += "~ /etc/hosts of every node\n";
  return s;
}

Plan makePlan(const Lab* current, const Lab& desired) {
  Plan p;
  json want = toJson(desired);
  json have = current ? toJson(*current) : json{{"networks", json::array()},
                                                {"nodes", json::array()},
                                                {"links", json::array()}};
  auto wantNets = byName(want["networks"], "name"), haveNets = byName(have["networks"], "name");
  auto wantNodes = byName(want["nodes"], "name"), haveNodes = byName(have["nodes"], "name");
  auto wantLinks = linksById(desired, want["links"]);
  auto haveLinks = current ? linksById(*current, have["links"]) : std::map<std::string, json>{};

  std::set<std::string> netChanged, nodeChanged;
  for (const auto& [name, j] : haveNets) {
    auto it = wantNets.find(name);
    if (it == wantNets.end() || it->second != j) {
      p.removeNetworks.push_back(name);
      netChanged.insert(name);
    }
  }
  for (const auto& [name, j] : wantNets) {
    auto it = haveNets.find(name);
    if (it == haveNets.end() || it->second != j) p.addNetworks.push_back(name);
  }
  // A node is re-made when it changed or hangs on a network that is re-made.
  auto nodeOnChangedNet = [&](const json& node) {
    for (const auto& a : node["networks"])
      if (netChanged.count(a["network"].get<std::string>())) return true;
    return false;
  };
  for (const auto& [name, j] : haveNodes) {
    auto it = wantNodes.find(name);
    if (it == wantNodes.end() || it->second != j || nodeOnChangedNet(j)) {
      p.removeNodes.push_back(name);
      nodeChanged.insert(name);
    }
  }
  for (const auto& [name, j] : wantNodes) {
    if (!haveNodes.count(name) || nodeChanged.count(name)) p.addNodes.push_back(name);
  }
  auto linkTouchesChanged = [&](const json& link) {
    for (const auto& e : link["endpoints"]) {
      std::string n = e.value("node", "");
      if (nodeChanged.count(n) || netChanged.count(n)) return true;
    }
    return false;
  };
  std::set<std::string> linkRemoved;
  for (const auto& [id, j] : haveLinks) {
    auto it = wantLinks.find(id);
    if (it == wantLinks.end() || it->second != j || linkTouchesChanged(j)) {
      p.removeLinks.push_back(id);
      linkRemoved.insert(id);
    }
  }
  for (const auto& [id, j] : wantLinks) {
    if (!haveLinks.count(id) || linkRemoved.count(id)) p.addLinks.push_back(id);
  }
  // Keep file order for additions (nodes come up in the order written).
  auto fileOrder = [](std::vector<std::string>& v, const auto& all, auto key) {
    std::map<std::string, size_t> pos;
    for (size_t i = 0; i < all.size(); ++i) pos[key(all[i])] = i;
    std::sort(v.begin(), v.end(), [&](const auto& a, const auto& b) { return pos[a] < pos[b]; });
  };
  fileOrder(p.addNodes, desired.nodes, [](const Node& n) { return n.name; });
  fileOrder(p.addNetworks, desired.networks, [](const Network& n) { return n.name; });
  fileOrder(p.addLinks, desired.links, [](const Link& l) { return names::linkId(l); });

  p.natChanged = !current || natView(*current) != natView(desired);
  if (!current && desired.networks.empty()) {
    bool ports = false;
    for (const auto& n : desired.nodes) ports |= !n.ports.empty();
    p.natChanged = ports;
  }
  p.hostsChanged = current && hostsView(*current) != hostsView(desired);
  return p;
}

}  // namespace netctl::topology
