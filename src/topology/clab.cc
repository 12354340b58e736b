// The containerlab dialect: `topology: {defaults, kinds, groups, nodes, links}`, kinds linux,
// bridge and host, inheritance node -> group -> kind -> defaults, `${VAR}` expansion (done by
// the Reader's Expander on every scalar). Keys that have no meaning here are warnings.
#include <fmt/format.h>

#include "netctl/topology/spec.h"
#include "reader.h"

namespace netctl::topology::detail {
namespace {

const std::initializer_list<std::string_view> kNodeKeys = {
    "kind", "group", "image", "cmd", "exec", "env", "binds", "ports", "sysctls", "memory",
    "cpu", "mgmt-ipv4", "mgmt-ipv6", "labels", "user", "hostname", "network-mode"};
// containerlab node keys that cannot apply to a netctl node: kept out with a warning.
const std::initializer_list<std::string_view> kIgnoredNodeKeys = {
    "type", "image-pull-policy", "license", "startup-config", "enforce-startup-config",
    "suppress-startup-config", "auto-remove", "config", "entrypoint", "volumes", "devices",
    "tmpfs", "shm-size", "env-files", "dns", "aliases", "cpu-set", "cgroup-parent",
    "cgroupns-mode", "pid-mode", "privileged", "cap-add", "security-opts", "restart-policy",
    "startup-delay", "healthcheck", "stages", "link-apply-mode", "runtime", "credentials",
    "certificate", "extras", "components", "publish", "sandbox", "kernel", "wait-for",
    "ipv4-mgmt", "mgmt-ipv4-range"};

NodeSpec decodeSpec(Reader& r, const YAML::Node& n, const std::string& path) {
  auto keys = r.keys(n, path, kNodeKeys, kIgnoredNodeKeys);
  NodeSpec s;
  auto at = [&](const char* k) { return Reader::loc(n[k]); };
  auto p = [&](const char* k) { return path + "." + k; };
  if (keys.contains("kind")) s.kind = {r.str(n["kind"], p("kind")), at("kind")};
  if (keys.contains("group")) s.group = {r.str(n["group"], p("group")), at("group")};
  if (keys.contains("image")) s.image = {r.str(n["image"], p("image")), at("image")};
  if (keys.contains("user")) s.user = {r.str(n["user"], p("user")), at("user")};
  if (keys.contains("hostname")) s.hostname = {r.str(n["hostname"], p("hostname")), at("hostname")};
  if (keys.contains("network-mode"))
    s.networkMode = {r.str(n["network-mode"], p("network-mode")), at("network-mode")};
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
  if (keys.contains("memory")) s.memory = {decodeMemory(r, n["memory"], p("memory")), at("memory")};
  if (keys.contains("cpu")) s.cpus = {r.number(n["cpu"], p("cpu"), 0.01, 4096), at("cpu")};
  if (keys.contains("mgmt-ipv4"))
    s.mgmtIpv4 = {r.address(n["mgmt-ipv4"], p("mgmt-ipv4"), 4), at("mgmt-ipv4")};
  if (keys.contains("mgmt-ipv6"))
    s.mgmtIpv6 = {r.address(n["mgmt-ipv6"], p("mgmt-ipv6"), 6), at("mgmt-ipv6")};
  return s;
}

std::map<std::string, NodeSpec> decodeSpecMap(Reader& r, const YAML::Node& n,
                                              const std::string& path) {
  r.requireMap(n, path);
  std::map<std::string, NodeSpec> out;
  for (auto it = n.begin(); it != n.end(); ++it) {
    std::string key = r.str(it->first, path);
    if (out.contains(key)) r.fail(Reader::loc(it->first), path + "." + key, "duplicate key");
    out[key] = decodeSpec(r, it->second, path + "." + key);
  }
  return out;
}

// The management network containerlab gives every node on eth0.
Network decodeMgmt(Reader& r, const YAML::Node& n, bool present) {
  Network net;
  net.name = std::string(defaults::kClabMgmtNetwork);
  net.subnet = IpPrefix::parse(defaults::kClabMgmtSubnet, false);
  net.locs.path = "mgmt";
  if (!present) return net;
  net.locs.self = Reader::loc(n);
  auto keys = r.keys(n, "mgmt", {"ipv4-subnet", "ipv4-gw", "ipv6-subnet", "ipv6-gw", "mtu"},
                     {"network", "bridge", "ipv4-range", "ipv6-range", "external-access",
                      "driver-opts", "skip-when-unused"});
  for (auto& [k, l] : keys) net.locs.at[k] = Reader::loc(n[k]);
  if (keys.contains("ipv4-subnet")) {
    if (r.str(n["ipv4-subnet"], "mgmt.ipv4-subnet") == "auto")
      r.fail(keys.at("ipv4-subnet"), "mgmt.ipv4-subnet", "\"auto\" is not supported; give a subnet");
    net.subnet = r.prefix(n["ipv4-subnet"], "mgmt.ipv4-subnet", true, 4);
    net.locs.at["subnet"] = Reader::loc(n["ipv4-subnet"]);
  }
  if (keys.contains("ipv4-gw")) {
    net.gateway = r.address(n["ipv4-gw"], "mgmt.ipv4-gw", 4);
    net.locs.at["gateway"] = Reader::loc(n["ipv4-gw"]);
  }
  if (keys.contains("ipv6-subnet")) {
    net.ipv6 = r.prefix(n["ipv6-subnet"], "mgmt.ipv6-subnet", true, 6);
    net.locs.at["ipv6"] = Reader::loc(n["ipv6-subnet"]);
  }
  if (keys.contains("ipv6-gw")) {
    net.gateway6 = r.address(n["ipv6-gw"], "mgmt.ipv6-gw", 6);
    net.locs.at["gateway6"] = Reader::loc(n["ipv6-gw"]);
  }
  if (keys.contains("mtu")) net.mtu = r.mtu(n["mtu"], "mgmt.mtu");
  return net;
}

}  // namespace

void decodeClab(Reader& r, const YAML::Node& root, Lab& lab) {
  auto keys = r.keys(root, "", {"name", "mgmt", "topology"}, {"prefix", "settings", "debug"});
  lab.dialect = Dialect::kContainerlab;
  lab.locs.self = Loc{1, 1};
  if (!keys.contains("name")) r.fail(Loc{1, 1}, "name", "missing required key \"name\"");
  lab.name = r.name(root["name"], "name", defaults::kMaxLabName, "lab");
  lab.locs.at["name"] = Reader::loc(root["name"]);
  Network mgmt = decodeMgmt(r, root["mgmt"], keys.contains("mgmt"));

  const YAML::Node topo = root["topology"];
  auto tk = r.keys(topo, "topology", {"defaults", "kinds", "groups", "nodes", "links"});
  NodeSpec defaults;
  if (tk.contains("defaults")) defaults = decodeSpec(r, topo["defaults"], "topology.defaults");
  std::map<std::string, NodeSpec> kinds, groups;
  if (tk.contains("kinds")) kinds = decodeSpecMap(r, topo["kinds"], "topology.kinds");
  if (tk.contains("groups")) groups = decodeSpecMap(r, topo["groups"], "topology.groups");
  for (auto& [g, _] : groups) lab.groups.push_back(g);

  std::vector<std::string> hostNodes;
  bool needMgmt = false;
  if (tk.contains("nodes")) {
    const YAML::Node ns = topo["nodes"];
    r.requireMap(ns, "topology.nodes");
    std::map<std::string, bool> seen;
    for (auto it = ns.begin(); it != ns.end(); ++it) {
      std::string name = r.name(it->first, "topology.nodes", defaults::kMaxNodeName, "node");
      std::string path = "topology.nodes." + name;
      Loc self = Reader::loc(it->first);
      if (seen[name]) r.fail(self, path, "duplicate key");
      seen[name] = true;
      if (name == "host" || name == "macvlan" || name == "mgmt-net")
        r.fail(self, path, fmt::format("\"{}\" is a reserved name", name));
      NodeSpec spec = decodeSpec(r, it->second, path);
      if (spec.group) {
        auto g = groups.find(*spec.group.v);
        if (g == groups.end())
          r.fail(spec.group.loc, path + ".group", fmt::format("unknown group \"{}\"", *spec.group.v));
        inherit(spec, g->second);
      }
      std::string kind = spec.kind ? *spec.kind.v : defaults.kind ? *defaults.kind.v : "linux";
      Loc kindLoc = spec.kind ? spec.kind.loc : defaults.kind ? defaults.kind.loc : self;
      if (auto k = kinds.find(kind); k != kinds.end()) inherit(spec, k->second);
      inherit(spec, defaults);
      if (kind == "bridge") {
        if (name == defaults::kClabMgmtNetwork)
          r.fail(self, path, fmt::format("\"{}\" is the management network's name", name));
        Network br;
        br.name = name;
        // The bridge's device name is derived (names::bridge) so two labs never collide;
        // containerlab would expect a host bridge of this name to exist already.
        br.fromNode = true;
        br.nat = false;  // a containerlab bridge is plain L2
        br.locs.self = self;
        br.locs.path = path;
        lab.networks.push_back(std::move(br));
        continue;
      }
      if (kind == "host") {
        hostNodes.push_back(name);
        continue;
      }
      if (kind != "linux")
        r.fail(kindLoc, path + ".kind",
               fmt::format("kind \"{}\" is not supported (linux, bridge, host)", kind));
      bool noMgmt = false;
      if (spec.networkMode) {
        const std::string& mode = *spec.networkMode.v;
        if (mode == "none") noMgmt = true;
        else
          r.warn(spec.networkMode.loc, path + ".network-mode",
                 fmt::format("network-mode \"{}\" is ignored: every node gets its own netns", mode));
      }
      if (!noMgmt) {
        needMgmt = true;
        Attachment a;
        a.network = mgmt.name;
        a.iface = "eth0";
        a.locs.self = self;
        a.locs.path = path;
        if (spec.mgmtIpv4) {
          a.ip = *spec.mgmtIpv4.v;
          a.ipExplicit = true;
          a.locs.at["ip"] = spec.mgmtIpv4.loc;
        }
        if (spec.mgmtIpv6)
          a.ip6 = *spec.mgmtIpv6.v, a.ip6Explicit = true, a.locs.at["ipv6"] = spec.mgmtIpv6.loc;
        a.locs.renamed["ip"] = path + ".mgmt-ipv4";
        a.locs.renamed["ipv6"] = path + ".mgmt-ipv6";
        spec.networks = {std::vector<Attachment>{a}, self};
      } else if (spec.mgmtIpv4) {
        r.fail(spec.mgmtIpv4.loc, path + ".mgmt-ipv4", "mgmt-ipv4 with network-mode none");
      }
      lab.nodes.push_back(toNode(name, path, self, std::move(spec)));
    }
  }
  if (needMgmt) {
    for (const auto& n : lab.networks)
      if (n.name == mgmt.name)
        r.fail(n.locs.self, "topology.nodes." + n.name, "\"mgmt\" is the management network's name");
    lab.networks.insert(lab.networks.begin(), std::move(mgmt));
  }
  lab.reindex();

  if (tk.contains("links")) {
    const YAML::Node ls = topo["links"];
    r.requireList(ls, "topology.links");
    auto isBridge = [&](std::string_view name) {
      const Network* n = lab.network(name);
      return n && n->fromNode;
    };
    auto isHostNode = [&](std::string_view name) {
      return std::find(hostNodes.begin(), hostNodes.end(), name) != hostNodes.end();
    };
    for (size_t i = 0; i < ls.size(); ++i)
      lab.links.push_back(decodeLink(r, ls[i], fmt::format("topology.links[{}]", i),
                                     Dialect::kContainerlab, isBridge, isHostNode));
  }
}

}  // namespace netctl::topology::detail
