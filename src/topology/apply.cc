// `netctl up`: validate against the host and the other labs, plan, then apply the plan in
// phases (removals, networks, nodes, links, NAT inside nodes, /etc/hosts, exec), each phase in
// parallel over a bounded pool. Every object is journaled before it is created.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <deque>
#include <map>
#include <set>
#include <mutex>

#include <nlohmann/json.hpp>

#include "lab_common.h"
#include "live_common.h"
#include "netctl/base/fs.h"
#include "netctl/net/addr.h"
#include "netctl/net/nft/nat.h"
#include "netctl/net/route.h"
#include "netctl/runtime/container.h"
#include "netctl/runtime/spawner.h"
#include "netctl/topology/json.h"
#include "netctl/topology/lab.h"
#include "netctl/topology/live.h"
#include "netctl/topology/load.h"
#include "netctl/topology/names.h"
#include "netctl/topology/spec.h"
#include "netctl/topology/state.h"
#include "network.h"
#include "tunnel.h"

// Specs are written with designated initializers that name only the fields that matter.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace netctl::lab {
namespace {

using nlohmann::json;
using namespace topology;

void raiseNofile() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

bool isDir(const std::string& p) {
  struct stat st{};
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string labDir(const Lab& lab) {
  auto pos = lab.file.rfind('/');
  return pos == std::string::npos ? "." : lab.file.substr(0, pos);
}

// One spawner per worker (runtime/spawner.h), each lent to one worker at a time.
class Spawners {
 public:
  Spawners() = default;
  Spawners(const Spawners&) = delete;
  // The newest first: each spawner holds a copy of the sockets of those started before it, so
  // an older one sees its socket close only once the newer ones are gone.
  ~Spawners() {
    while (!all_.empty()) all_.pop_back();
  }
  Result<void> start(const runtime::Runtime& rt, const std::vector<runtime::Spec>& specs, int n) {
    for (int i = 0; i < n; ++i) {
      all_.push_back(NETCTL_TRY(runtime::Spawner::start(rt, specs)));
      free_.push_back(&all_.back());
    }
    return {};
  }
  // rt.create(specs[index]) in a free spawner; there is one for every worker.
  Result<pid_t> create(size_t index) {
    runtime::Spawner* sp;
    {
      std::lock_guard g(mu_);
      sp = free_.back();
      free_.pop_back();
    }
    auto pid = sp->create(index);
    std::lock_guard g(mu_);
    free_.push_back(sp);
    return pid;
  }

 private:
  std::deque<runtime::Spawner> all_;  // a deque: the spawners never move once started
  std::vector<runtime::Spawner*> free_;
  std::mutex mu_;
};

struct Ctx {
  const Lab& lab;
  const UpOptions& o;
  state::LabPaths paths;
  std::string netnsDir;
  runtime::Runtime rt;
  Journal& journal;
  int jobs;
  std::mutex mu;
  std::map<std::string, netns::Handle> ns;  // node -> its netns

  Result<const netns::Handle*> nodeNs(const std::string& node) {
    std::lock_guard g(mu);
    auto it = ns.find(node);
    if (it != ns.end()) return &it->second;
    auto h = NETCTL_TRY(netns::openPath(netnsDir + "/" + names::netns(lab.name, node)));
    return &ns.emplace(node, std::move(h)).first->second;
  }
};

Result<void> ignoreMissing(Result<void> r) {
  if (!r && r.error().kind() == Error::Kind::kNotFound) return {};
  return r;
}

// ---- checks before anything is created -------------------------------------------------

Result<void> probeFeature(const std::string& feature) {
  if (feature == "veth" || feature == "bridge") return {};
  if (feature == "netem" || feature == "tbf") return live::probeImpairment(feature);
  auto scratch = NETCTL_TRY(netns::createAnonymous());
  auto sock = NETCTL_TRY(nl::Socket::openIn(scratch));
  link::Spec spec;
  if (feature == "dummy") {
    spec = link::DummySpec{.link = {.name = "probe0"}};
  } else if (feature == "vxlan") {
    spec = link::VxlanSpec{.link = {.name = "probe0"}, .vni = 1};
  } else if (feature == "macvlan") {
    NETCTL_TRY(link::create(sock, link::BridgeSpec{.link = {.name = "probep"}}));
    spec = link::MacvlanSpec{.link = {.name = "probe0"}, .parent = "probep"};
  } else {
    return {};
  }
  auto r = link::create(sock, spec);
  if (!r) return std::unexpected(std::move(r).error());
  return {};
}

Result<void> preflight(const Lab& lab, const UpOptions& o, std::vector<Diagnostic>& warnings) {
  auto others = NETCTL_TRY(desiredLabs(o.root, lab.name));
  std::vector<const Lab*> ptrs;
  for (const auto& l : others) ptrs.push_back(&l);
  auto clashes = checkAgainst(lab, ptrs);
  if (!clashes.empty()) return std::unexpected(toError(clashes.front()));

  nl::SocketCache cache;
  auto* host = NETCTL_TRY(cache.current());
  std::map<std::string, Result<void>> probed;
  for (const auto& req : hostRequirements(lab)) {
    switch (req.what) {
      case HostRequirement::What::kInterfaceExists:
        if (!link::get(*host, link::Ref(req.name)))
          return std::unexpected(toError(lab.at(req.loc, req.path,
              fmt::format("interface \"{}\" does not exist on the host", req.name))));
        break;
      case HostRequirement::What::kInterfaceAbsent:
        if (auto info = link::get(*host, link::Ref(req.name)); info && info->owner() != lab.name)
          return std::unexpected(toError(lab.at(req.loc, req.path,
              fmt::format("interface \"{}\" already exists on the host", req.name))));
        break;
      case HostRequirement::What::kKernelFeature: {
        auto it = probed.find(req.name);
        if (it == probed.end()) it = probed.emplace(req.name, probeFeature(req.name)).first;
        if (!it->second) {
          const Error& e = it->second.error();
          if (req.name == "netem" || req.name == "tbf")
            return std::unexpected(toError(lab.at(req.loc, req.path, e.message())));
          std::string opt(link::configOption(req.name));
          return std::unexpected(toError(lab.at(req.loc, req.path,
              fmt::format("the kernel lacks {} links{}: {}", req.name,
                          opt.empty() ? "" : " (" + opt + ")", e.what()))));
        }
        break;
      }
    }
  }
  for (const auto& n : lab.nodes) {
    if (n.kind != NodeKind::kLinux || n.image == defaults::kImage) continue;
    if (isDir(n.image)) continue;
    auto d = lab.at(n.locs.of("image"), n.locs.pathOf("image"),
                    fmt::format("image \"{}\" is not a local directory; the node runs on the host "
                                "rootfs", n.image));
    if (o.strictImages) return std::unexpected(toError(d));
    warnings.push_back(d);
  }
  return {};
}

// ---- nodes -----------------------------------------------------------------------------

}  // namespace

// Also used by `netctl start` (node_ops.cc), which makes a stopped node again.
HostEntries hostEntries(const Lab& lab) {
  auto out = std::make_shared<std::vector<runtime::HostEntry>>();
  for (const auto& n : lab.nodes) {
    std::string a = primaryAddress(lab, n);
    if (a.empty()) continue;
    runtime::HostEntry e{a, {n.name}};
    if (!n.hostname.empty() && n.hostname != n.name) e.names.push_back(n.hostname);
    out->push_back(std::move(e));
  }
  return out;
}

runtime::Spec nodeSpec(const Lab& lab, const Node& n, const HostEntries& hosts) {
  runtime::Spec s;
  s.name = names::netns(lab.name, n.name);
  s.hostname = n.hostname.empty() ? n.name : n.hostname;
  std::vector<std::string> cmd = n.cmd.empty() ? std::vector<std::string>{"sleep", "infinity"} : n.cmd;
  s.command = cmd[0];
  s.args.assign(cmd.begin() + 1, cmd.end());
  for (const auto& [k, v] : n.env) s.env.push_back(k + "=" + v);
  if (n.image != defaults::kImage && isDir(n.image)) {
    s.rootfs.kind = runtime::RootfsKind::kLower;
    s.rootfs.path = n.image;
  }
  for (const auto& b : n.binds) {
    auto parts = b;
    runtime::BindMount m;
    auto first = parts.find(':');
    if (first == std::string::npos) continue;
    m.source = parts.substr(0, first);
    std::string rest = parts.substr(first + 1);
    auto second = rest.find(':');
    m.target = rest.substr(0, second);
    if (second != std::string::npos) m.readonly = rest.substr(second + 1) == "ro";
    if (!m.source.empty() && m.source[0] != '/') m.source = labDir(lab) + "/" + m.source;
    s.binds.push_back(std::move(m));
  }
  s.sysctls = n.sysctls;
  s.limits.memoryBytes = n.resources.memoryBytes;
  s.limits.pids = n.resources.pids;
  s.limits.cpus = n.resources.cpus;
  s.hosts = hosts;
  return s;
}

namespace {

Result<void> removeNode(Ctx& c, const Lab& cur, const Node& n, nl::SocketCache& cache) {
  std::string nsName = names::netns(cur.name, n.name);
  auto* host = NETCTL_TRY(cache.current());
  // Host ends first, synchronously, so a node made again under the same names finds them free.
  for (const auto& a : n.networks) {
    const Network* net = cur.network(a.network);
    if (net && net->driver == NetworkDriver::kBridge)
      NETCTL_TRY(ignoreMissing(link::remove(*host, link::Ref(names::hostVeth(cur.name, n.name, a.iface)))));
  }
  {
    std::lock_guard g(c.mu);
    if (auto it = c.ns.find(n.name); it != c.ns.end()) {
      cache.forget(it->second);
      c.ns.erase(it);
    }
  }
  NETCTL_TRYC(c.rt.destroy(nsName), "removing node {}", n.name);
  NETCTL_TRYC(netns::removeIn(c.netnsDir, nsName), "removing node {}", n.name);
  return {};
}

// Node `index` of the spawners' specs: `spec` is the caller's copy of it.
Result<void> addNode(Ctx& c, const Node& n, const runtime::Spec& spec, Spawners& spawners, size_t index,
                     nl::SocketCache& cache) {
  const Lab& lab = c.lab;
  std::string nsName = names::netns(lab.name, n.name);
  const std::string what = fmt::format("node {}", n.name);
  std::vector<std::string> hostEnds;
  for (const auto& a : n.networks) {
    const Network* net = lab.network(a.network);
    if (net && net->driver == NetworkDriver::kBridge)
      hostEnds.push_back(names::hostVeth(lab.name, n.name, a.iface));
  }
  NETCTL_TRY(c.journal.record({{"container", nsName, json::object()},
                               {"netns", nsName, {{"links", hostEnds}}}}));
  pid_t initPid = NETCTL_TRYC(spawners.create(index), "{}: creating the container", what);
  auto h = NETCTL_TRYC(netns::openPid(initPid), "{}", what);

  auto* host = NETCTL_TRY(cache.current());
  std::vector<link::Spec> specs;
  for (const auto& a : n.networks) {
    const Network* net = lab.network(a.network);
    if (!net) continue;
    link::Mac mac = toMac(a.mac ? *a.mac : names::mac(lab.name, n.name, a.iface));
    if (net->driver == NetworkDriver::kBridge) {
      link::VethSpec v;
      v.link = {.name = names::hostVeth(lab.name, n.name, a.iface), .mtu = uint32_t(net->mtu),
                .master = link::Ref(bridgeName(lab, *net)), .up = true, .owner = lab.name,
                .ipv6LinkLocal = false};  // a bridge port
      // As Docker does, an IPv4-only network gives the node's interface no IPv6 at all.
      v.peer = {.name = a.iface, .netns = &h, .mtu = uint32_t(net->mtu), .mac = mac, .up = true,
                .ipv6LinkLocal = net->ipv6.has_value()};
      specs.push_back(std::move(v));
    } else {
      link::MacvlanSpec m;
      m.link = {.name = a.iface, .mac = mac, .up = true, .owner = lab.name};
      m.parent = link::Ref(net->parent);
      m.mode = static_cast<link::MacvlanSpec::Mode>(std::min(int(net->mode), 3));
      m.netns = &h;
      specs.push_back(std::move(m));
    }
  }
  auto made = link::createMany(*host, specs, &cache);
  for (auto& r : made)
    if (!r) return std::unexpected(std::move(r).error().context(what + ": wiring its networks"));
  // Hairpin on every bridge port, so a node reaches its own network's published ports
  // through the host's address (the DNAT'd packet leaves by the port it came in on).
  for (size_t i = 0; i < specs.size(); ++i)
    if (std::holds_alternative<link::VethSpec>(specs[i]))
      NETCTL_TRYC(link::setHairpin(*host, link::Ref(*made[i])), "{}: wiring its networks", what);
  auto* sock = NETCTL_TRY(cache.get(h));
  bool haveDefault = false;
  for (const auto& a : n.networks) {
    const Network* net = lab.network(a.network);
    if (!net) continue;
    if (net->driver == NetworkDriver::kMacvlan)
      NETCTL_TRYC(link::setUp(*sock, link::Ref(a.iface)), "{}: {}", what, a.iface);
    if (a.ip && net->subnet)
      NETCTL_TRYC(addr::add(*sock, link::Ref(a.iface), toIp(IpPrefix{*a.ip, net->subnet->len})),
                  "{}: address of {}", what, a.iface);
    if (a.ip6 && net->ipv6)
      NETCTL_TRYC(addr::add(*sock, link::Ref(a.iface), toIp(IpPrefix{*a.ip6, net->ipv6->len})),
                  "{}: address of {}", what, a.iface);
    if (!haveDefault && !net->internal && net->gateway && a.ip) {
      route::Route r{.dst = ip::Prefix::anyV4(), .via = toIp(*net->gateway), .dev = link::Ref(a.iface)};
      NETCTL_TRYC(route::replace(*sock, r), "{}: default route", what);
      if (net->gateway6 && a.ip6)
        NETCTL_TRYC(route::replace(*sock, route::Route{.dst = ip::Prefix::anyV6(),
                                                         .via = toIp(*net->gateway6),
                                                         .dev = link::Ref(a.iface)}),
                    "{}: default IPv6 route", what);
      haveDefault = true;
    }
  }
  NETCTL_TRYC(c.rt.start(nsName), "{}: starting {}", what, spec.command);
  // Its socket goes: every fd the parent holds is copied into each later node's init.
  cache.forget(h);
  std::lock_guard g(c.mu);
  c.ns.insert_or_assign(n.name, std::move(h));
  return {};
}

// ---- networks ----------------------------------------------------------------------------

Result<void> addNetwork(Ctx& c, const Network& n, nl::SocketCache& cache) {
  if (n.driver != NetworkDriver::kBridge) return {};
  std::string br = bridgeName(c.lab, n);
  NETCTL_TRY(c.journal.record({"bridge", br, {{"network", n.name}}}));
  auto* host = NETCTL_TRY(cache.current());
  const std::string what = fmt::format("network {} (bridge {})", n.name, br);
  NETCTL_TRYC(link::create(*host, link::BridgeSpec{.link = {.name = br, .mtu = uint32_t(n.mtu),
                                                             .up = true, .owner = c.lab.name},
                                                    .multicastSnooping = n.mcastSnooping}),
              "{}", what);
  if (n.gateway && n.subnet)
    NETCTL_TRYC(addr::add(*host, link::Ref(br), toIp(IpPrefix{*n.gateway, n.subnet->len})), "{}", what);
  if (n.gateway6 && n.ipv6)
    NETCTL_TRYC(addr::add(*host, link::Ref(br), toIp(IpPrefix{*n.gateway6, n.ipv6->len})), "{}", what);
  NETCTL_TRYC(tunnel::addSpan(c.journal, *host, c.lab, n, br), "{}", what);  // multi-host
  return {};
}

// ---- links -------------------------------------------------------------------------------

const Endpoint* nodeEnd(const Link& l, size_t skip = 0) {
  for (const auto& e : l.endpoints)
    if (e.kind == EndpointKind::kNode && skip-- == 0) return &e;
  return nullptr;
}
const Endpoint* bridgeEnd(const Link& l) {
  for (const auto& e : l.endpoints)
    if (e.kind == EndpointKind::kBridge) return &e;
  return nullptr;
}

Result<void> removeLink(Ctx& c, const Lab& cur, const Link& l, nl::SocketCache& cache) {
  auto* host = NETCTL_TRY(cache.current());
  if (const Endpoint* b = bridgeEnd(l)) return ignoreMissing(link::remove(*host, link::Ref(b->iface)));
  if (l.type == LinkType::kHost) return ignoreMissing(link::remove(*host, link::Ref(l.hostInterface)));
  for (size_t i = 0; i < 2; ++i) {
    const Endpoint* e = nodeEnd(l, i);
    if (!e) break;
    auto ns = c.nodeNs(e->node);
    if (!ns) continue;  // that node is gone already
    auto* sock = NETCTL_TRY(cache.get(**ns));
    return ignoreMissing(link::remove(*sock, link::Ref(e->iface)));
  }
  (void)cur;
  return {};
}

Result<void> addAddresses(nl::Socket& s, const Endpoint& e) {
  if (e.ipv4) NETCTL_TRYC(addr::add(s, link::Ref(e.iface), toIp(*e.ipv4)), "address of {}", e.str());
  if (e.ipv6) NETCTL_TRYC(addr::add(s, link::Ref(e.iface), toIp(*e.ipv6)), "address of {}", e.str());
  return {};
}

Result<void> addLink(Ctx& c, const Link& l, nl::SocketCache& cache) {
  const Lab& lab = c.lab;
  std::string id = names::linkId(l);
  const std::string what = fmt::format("link {}", id);
  auto* host = NETCTL_TRY(cache.current());
  const Endpoint* a = nodeEnd(l);
  if (!a) return invalidInput(fmt::format("{}: no node endpoint", what));
  auto macOf = [&](const Endpoint& e) { return toMac(e.mac ? *e.mac : names::mac(lab.name, e.node, e.iface)); };
  uint32_t mtu = l.mtu ? uint32_t(*l.mtu) : 0;
  const netns::Handle* nsA = NETCTL_TRYC(c.nodeNs(a->node), "{}: netns of {}", what, a->node);
  auto* sockA = NETCTL_TRY(cache.get(*nsA));

  if (l.type == LinkType::kDummy)
    return unsupported(fmt::format("{}: the kernel lacks dummy links (CONFIG_DUMMY)", what));
  if (l.type == LinkType::kVeth && !bridgeEnd(l)) {
    const Endpoint* b = nodeEnd(l, 1);
    if (!b) return invalidInput(fmt::format("{}: a veth needs two ends", what));
    const netns::Handle* nsB = NETCTL_TRYC(c.nodeNs(b->node), "{}: netns of {}", what, b->node);
    NETCTL_TRY(c.journal.record({"link", id, {{"node", a->node}, {"iface", a->iface}}}));
    link::VethSpec v;
    v.link = {.name = a->iface, .mtu = mtu, .mac = macOf(*a), .up = true, .owner = lab.name};
    v.peer = {.name = b->iface, .netns = nsB, .mtu = mtu, .mac = macOf(*b), .up = true};
    NETCTL_TRYC(link::create(*sockA, v, &cache), "{}", what);
    auto* sockB = NETCTL_TRY(cache.get(*nsB));
    NETCTL_TRYC(addAddresses(*sockA, *a), "{}", what);
    NETCTL_TRYC(addAddresses(*sockB, *b), "{}", what);
    return {};
  }
  if (l.type == LinkType::kVeth || l.type == LinkType::kHost) {
    // One end in the host netns: a bridge port, or a host interface.
    std::string hostName;
    link::Ref master;
    if (const Endpoint* br = bridgeEnd(l)) {
      hostName = br->iface;
      const Network* net = lab.network(br->node);
      if (!net) return invalidInput(fmt::format("{}: unknown bridge {}", what, br->node));
      master = link::Ref(bridgeName(lab, *net));
    } else {
      hostName = l.hostInterface.empty() ? names::hostVeth(lab.name, a->node, a->iface) : l.hostInterface;
    }
    NETCTL_TRY(c.journal.record({"hostlink", hostName, {{"link", id}}}));
    link::VethSpec v;
    v.link = {.name = hostName, .mtu = mtu, .master = master, .up = true, .owner = lab.name,
              .ipv6LinkLocal = master.empty()};  // a bridge port needs none
    v.peer = {.name = a->iface, .netns = nsA, .mtu = mtu, .mac = macOf(*a), .up = true};
    int port = NETCTL_TRYC(link::create(*host, v, &cache), "{}", what);
    if (!master.empty()) NETCTL_TRYC(link::setHairpin(*host, link::Ref(port)), "{}", what);
    if (l.hostIpv4) NETCTL_TRYC(addr::add(*host, link::Ref(hostName), toIp(*l.hostIpv4)), "{}", what);
    if (l.hostIpv6) NETCTL_TRYC(addr::add(*host, link::Ref(hostName), toIp(*l.hostIpv6)), "{}", what);
    NETCTL_TRYC(addAddresses(*sockA, *a), "{}", what);
    return {};
  }
  if (l.type == LinkType::kMacvlan) {
    NETCTL_TRY(c.journal.record({"link", id, {{"node", a->node}, {"iface", a->iface}}}));
    link::MacvlanSpec m;
    m.link = {.name = a->iface, .mtu = mtu, .mac = macOf(*a), .up = true, .owner = lab.name};
    m.parent = link::Ref(l.hostInterface);
    m.mode = static_cast<link::MacvlanSpec::Mode>(std::min(int(l.mode), 3));
    m.netns = nsA;
    NETCTL_TRYC(link::create(*host, m, &cache), "{}", what);
    NETCTL_TRYC(link::setUp(*sockA, link::Ref(a->iface)), "{}", what);
    NETCTL_TRYC(addAddresses(*sockA, *a), "{}", what);
    return {};
  }
  // vxlan: made in the host netns (its underlay lives there) under a scratch name, then moved.
  std::string scratch = names::scratch(lab.name, a->node, a->iface);
  NETCTL_TRY(c.journal.record({"hostlink", scratch, {{"link", id}}}));
  link::VxlanSpec x;
  x.link = {.name = scratch, .mtu = mtu, .mac = macOf(*a), .owner = lab.name};
  x.vni = l.vni ? *l.vni : names::vni(lab.name, l);
  if (l.remote) x.remote = toIp(*l.remote);
  x.dstPort = l.dstPort;
  x.learning = l.peers.empty();  // multi-host: a learned far end would carry our port, not the peer's
  if (!l.parentInterface.empty()) x.parent = link::Ref(l.parentInterface);
  NETCTL_TRYC(link::create(*host, x), "{}", what);
  NETCTL_TRYC(link::moveTo(*host, link::Ref(scratch), *nsA), "{}", what);
  NETCTL_TRYC(link::rename(*sockA, link::Ref(scratch), a->iface), "{}", what);
  NETCTL_TRYC(link::setUp(*sockA, link::Ref(a->iface)), "{}", what);
  NETCTL_TRYC(tunnel::addPeers(*sockA, link::Ref(a->iface), l), "{}", what);  // multi-host
  NETCTL_TRYC(addAddresses(*sockA, *a), "{}", what);
  return {};
}

// ---- NAT inside a node ---------------------------------------------------------------

nft::Addr toNft(const IpAddress& a) { return nft::Addr{a.family == 4 ? 2 : 10, a.bytes}; }

Result<void> nodeNat(Ctx& c, const Node& n) {
  if (n.nat.empty()) return {};
  std::string nsName = names::netns(c.lab.name, n.name);
  NETCTL_TRY(c.journal.record({"nodenat", nsName, json::object()}));
  const netns::Handle* h = NETCTL_TRY(c.nodeNs(n.name));
  auto engine = NETCTL_TRYC(nft::Engine::open(*h), "NAT of node {}", n.name);
  std::vector<nft::NatRule> rules;
  for (const auto& r : n.nat) {
    nft::NatRule x;
    x.action = r.action == NatAction::kMasquerade ? nft::NatRule::Action::kMasquerade
               : r.action == NatAction::kSnat     ? nft::NatRule::Action::kSnat
                                                  : nft::NatRule::Action::kDnat;
    x.oif = r.out;
    x.iif = r.in;
    if (r.source) x.src = nft::Prefix{toNft(r.source->network().addr), r.source->len};
    if (r.to) x.to = toNft(*r.to);
    if (r.proto)
      x.proto = *r.proto == Proto::kUdp ? nft::Proto::kUdp
                : *r.proto == Proto::kSctp ? nft::Proto::kSctp : nft::Proto::kTcp;
    x.dport = x.dportEnd = r.port;
    x.toPort = r.toPort;
    rules.push_back(std::move(x));
  }
  NETCTL_TRYC(engine.addNatRules(rules), "NAT of node {}", n.name);
  NETCTL_TRYC(engine.apply(), "NAT of node {}", n.name);
  return {};
}

// ---- exec --------------------------------------------------------------------------------

struct ExecOut {
  std::string text;
};

Result<void> runExec(Ctx& c, const Node& n, ExecOut& out) {
  std::string nsName = names::netns(c.lab.name, n.name);
  for (const auto& line : n.exec) {
    auto argv = spec::splitWords(line);
    if (!argv || argv->empty()) continue;
    UniqueFd mem(::memfd_create("exec", MFD_CLOEXEC));
    if (!mem) return errnoError("memfd_create");
    runtime::ExecOptions eo;
    eo.argv = *argv;
    eo.stdio = {.in = -1, .out = mem.get(), .err = mem.get()};
    auto code = c.rt.exec(nsName, eo);
    out.text += fmt::format("{}$ {}\n", n.name, line);
    std::string captured;
    ::lseek(mem.get(), 0, SEEK_SET);
    char buf[4096];
    for (ssize_t k; (k = ::read(mem.get(), buf, sizeof buf)) > 0;) captured.append(buf, size_t(k));
    out.text += captured;
    if (!captured.empty() && captured.back() != '\n') out.text += '\n';
    if (!code) return std::unexpected(std::move(code).error().context(fmt::format("node {}: exec \"{}\"", n.name, line)));
    if (*code != 0) out.text += fmt::format("{}: exit code {}\n", n.name, *code);
  }
  return {};
}

// ---- summary -----------------------------------------------------------------------------

void printSummary(Ctx& c) {
  const Lab& lab = c.lab;
  std::vector<std::array<std::string, 4>> rows{{"NODE", "STATE", "ADDRESSES", "PORTS"}};
  for (const auto& n : lab.nodes) {
    if (n.kind != NodeKind::kLinux) continue;
    auto st = c.rt.state(names::netns(lab.name, n.name));
    std::string addrs, ports;
    for (const auto& a : n.networks)
      if (a.ip) addrs += (addrs.empty() ? "" : ",") + a.ip->str();
    for (const auto& l : lab.links)
      for (const auto& e : l.endpoints)
        if (e.kind == EndpointKind::kNode && e.node == n.name && e.ipv4)
          addrs += (addrs.empty() ? "" : ",") + e.ipv4->str();
    for (const auto& p : n.ports) ports += (ports.empty() ? "" : ",") + p.spec;
    rows.push_back({n.name, st ? std::string(runtime::statusName(st->status)) : "unknown", addrs, ports});
  }
  std::array<size_t, 4> w{};
  for (const auto& r : rows)
    for (size_t i = 0; i < 4; ++i) w[i] = std::max(w[i], r[i].size());
  for (const auto& r : rows)
    fmt::print(c.o.out, "{:<{}}  {:<{}}  {:<{}}  {}\n", r[0], w[0], r[1], w[1], r[2], w[2], r[3]);
}

void progress(Ctx& c, const char* phase, size_t n) {
  if (c.o.progress && n) fmt::print(c.o.out, "{} {}...\n", phase, n), std::fflush(c.o.out);
}

Result<bool> previousComplete(const state::LabPaths& p) {
  auto entries = NETCTL_TRY(journal::read(p.journal));
  if (entries.empty()) return true;
  return entries.back().kind == "done";
}

}  // namespace

Result<UpResult> up(const Lab& lab, const UpOptions& o) {
  raiseNofile();
  Timer timer("up");
  UpResult result;
  auto paths = state::labPaths(o.root, lab.name);
  bool existed = isDir(paths.dir);
  auto lock = NETCTL_TRY(state::LabLock::acquire(o.root, lab.name));

  // Current state: the last complete up's topology. After an interrupted up the journal
  // ends without "done"; what it made is torn down first and the lab is built afresh.
  std::optional<Lab> current;
  bool complete = NETCTL_TRY(previousComplete(paths));
  if (complete) {
    if (auto text = fs::readFile(paths.topology)) {
      json doc = json::parse(*text, nullptr, false);
      if (!doc.is_discarded())
        if (auto l = fromJson(doc)) current = std::move(*l);
    }
  }
  result.plan = makePlan(current ? &*current : nullptr, lab);

  std::vector<Diagnostic> warnings;
  if (auto ok = preflight(lab, o, warnings); !ok) {
    if (!existed) (void)state::removeLab(o.root, lab.name);
    return std::unexpected(std::move(ok).error());
  }
  for (const auto& w : warnings) fmt::print(o.err, "netctl: warning: {}\n", w.str());
  if (o.dryRun) {
    if (!existed) (void)state::removeLab(o.root, lab.name);
    if (!complete) fmt::print(o.out, "~ clean up the interrupted previous up\n");
    fmt::print(o.out, "{}", result.plan.str());
    return result;
  }
  if (!complete) {
    fmt::print(o.err, "netctl: the previous up of lab {} did not finish; removing what it made\n", lab.name);
    NETCTL_TRYC(teardownLocked(o.root, lab.name, true), "cleaning up after the interrupted up");
  }

  Journal jr(NETCTL_TRY(journal::Writer::open(paths.journal)));
  int jobs = forkingJobs(o.jobs > 0 ? o.jobs : cpuCount());  // nodes and exec fork
  Ctx c{lab, o, paths, paths.dir + "/netns", runtime::Runtime(o.root), jr, jobs, {}, {}};
  const Plan& plan = result.plan;
  if (plan.changes() == 0 && !plan.hostsChanged) {
    fmt::print(o.out, "lab {}: no changes\n", lab.name);
    printSummary(c);
    return result;
  }

  // The desired lab goes on record first: the host NAT tables and other labs' checks read it.
  NETCTL_TRY(fs::writeFileAtomic(paths.dir + "/desired.json", toJson(lab).dump()));
  NETCTL_TRY(jr.record({"begin", lab.name, {{"changes", plan.changes()}}}));
  NETCTL_TRY(fs::makeDirs(c.netnsDir));

  // Removals (of what the current lab had).
  if (current) {
    const Lab& cur = *current;
    std::map<std::string, const Link*> curLinks;
    for (const auto& l : cur.links) curLinks[names::linkId(l)] = &l;
    NETCTL_TRY(parallel(plan.removeLinks.size(), jobs, [&](size_t i, nl::SocketCache& cache) {
      return removeLink(c, cur, *curLinks.at(plan.removeLinks[i]), cache);
    }));
    NETCTL_TRY(parallel(plan.removeNodes.size(), jobs, [&](size_t i, nl::SocketCache& cache) {
      return removeNode(c, cur, *cur.node(plan.removeNodes[i]), cache);
    }));
    nl::SocketCache cache;
    auto* host = NETCTL_TRY(cache.current());
    for (const auto& name : plan.removeNetworks) {
      const Network* n = cur.network(name);
      if (n->driver == NetworkDriver::kBridge)
        NETCTL_TRY(ignoreMissing(link::remove(*host, link::Ref(bridgeName(cur, *n)))));
      NETCTL_TRY(tunnel::removeSpan(*host, cur, *n));  // multi-host
    }
  }

  timer.lap("prepared");
  // Networks, then the host's NAT tables (the per-bridge sysctls need the bridges).
  progress(c, "networks", plan.addNetworks.size());
  {
    nl::SocketCache cache;
    for (const auto& name : plan.addNetworks) NETCTL_TRY(addNetwork(c, *lab.network(name), cache));
  }
  if (plan.natChanged) {
    NETCTL_TRY(jr.record({"nft", "host", json::object()}));
    NETCTL_TRY(syncHostNat(o.root, lab.name, &lab));
  }

  timer.lap("networks");
  // Nodes.
  auto hosts = hostEntries(lab);
  std::vector<const Node*> addNodes;
  for (const auto& name : plan.addNodes)
    if (const Node* n = lab.node(name); n && n->kind == NodeKind::kLinux) addNodes.push_back(n);
  progress(c, "nodes", addNodes.size());
  // The inits are forked by spawners started now, while this process runs one thread: the
  // workers, whose heaps grow and change all along, never fork (runtime/spawner.h).
  std::vector<runtime::Spec> specs;
  for (const Node* n : addNodes) specs.push_back(nodeSpec(lab, *n, hosts));
  {
    Spawners spawners;
    NETCTL_TRY(spawners.start(c.rt, specs, static_cast<int>(std::min<size_t>(addNodes.size(), size_t(jobs)))));
    NETCTL_TRY(parallel(addNodes.size(), jobs, [&](size_t i, nl::SocketCache& cache) {
      return addNode(c, *addNodes[i], specs[i], spawners, i, cache);
    }));
  }
  // Pinned only now: every new mount namespace copies the mounts of its parent, so pins made
  // while other nodes are still being created would make each create cost O(nodes).
  for (const Node* n : addNodes) {
    const netns::Handle* h = NETCTL_TRY(c.nodeNs(n->name));
    NETCTL_TRYC(netns::pinIn(c.netnsDir, names::netns(lab.name, n->name), *h),
                "node {}: pinning its netns", n->name);
  }

  timer.lap("nodes");
  // Links.
  std::map<std::string, const Link*> links;
  for (const auto& l : lab.links) links[names::linkId(l)] = &l;
  progress(c, "links", plan.addLinks.size());
  NETCTL_TRY(parallel(plan.addLinks.size(), jobs, [&](size_t i, nl::SocketCache& cache) {
    return addLink(c, *links.at(plan.addLinks[i]), cache);
  }));

  timer.lap("links");
  // Impairments of the new links, and what the live verbs recorded (links down, stopped nodes).
  NETCTL_TRYC(live::afterUp(o.root, lab, plan), "lab {}", lab.name);
  // NAT inside the new nodes; /etc/hosts of the nodes that were there already.
  NETCTL_TRY(parallel(addNodes.size(), jobs, [&](size_t i, nl::SocketCache&) {
    return nodeNat(c, *addNodes[i]);
  }));
  if (plan.hostsChanged) {
    std::set<std::string> added(plan.addNodes.begin(), plan.addNodes.end());
    // A stopped node (netctl stop) has no container to write into; start makes it afresh.
    for (auto& n : NETCTL_TRY(live::stoppedNodes(o.root, lab.name))) added.insert(std::move(n));
    std::vector<const Node*> kept;
    for (const auto& n : lab.nodes)
      if (n.kind == NodeKind::kLinux && !added.count(n.name)) kept.push_back(&n);
    NETCTL_TRY(parallel(kept.size(), jobs, [&](size_t i, nl::SocketCache&) {
      const Node& n = *kept[i];
      return c.rt.writeHosts(names::netns(lab.name, n.name),
                             runtime::hostsFileText(n.hostname.empty() ? n.name : n.hostname, *hosts));
    }));
  }

  timer.lap("node NAT and hosts");
  // exec commands, after all the wiring; output printed in file order.
  std::vector<ExecOut> outs(addNodes.size());
  NETCTL_TRY(parallel(addNodes.size(), jobs, [&](size_t i, nl::SocketCache&) {
    return runExec(c, *addNodes[i], outs[i]);
  }));
  for (const auto& x : outs) fmt::print(o.out, "{}", x.text);

  timer.lap("exec");
  NETCTL_TRY(fs::writeFileAtomic(paths.topology, toJson(lab).dump()));
  NETCTL_TRY(jr.record({"done", lab.name, json::object()}));
  result.applied = true;
  fmt::print(o.out, "lab {}: {} change{}\n", lab.name, plan.changes(), plan.changes() == 1 ? "" : "s");
  printSummary(c);
  return result;
}

Result<std::vector<std::string>> labs(const std::string& root) { return state::listLabs(root); }

}  // namespace netctl::lab
