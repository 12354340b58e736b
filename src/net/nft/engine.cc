// The NAT engine of one network namespace: state, validation, and the batches that make the
// kernel match it. Sysctls NAT needs are set here and recorded for restore.
#include <linux/netfilter.h>
#include <sys/socket.h>

#include <algorithm>
#include <set>
#include <unordered_map>

#include "conntrack.h"
#include "netctl/base/log.h"
#include "netctl/net/nft/nat.h"
#include "netctl/net/sysctl.h"
#include "netlink.h"
#include "render.h"

namespace netctl::nft {

std::string NatRule::str() const {
  std::string out;
  if (!iif.empty()) out += " iif " + iif;
  if (!oif.empty()) out += " oif " + oif;
  if (src) out += " src " + src->str();
  if (dst) out += " dst " + dst->str();
  if (proto) out += fmt::format(" {}", protoName(*proto));
  if (dport) out += dportEnd && dportEnd != dport ? fmt::format(" dport {}-{}", dport, dportEnd)
                                                  : fmt::format(" dport {}", dport);
  switch (action) {
    case Action::kMasquerade: out += " masquerade"; break;
    case Action::kSnat: out += " snat to " + (to ? to->str() : "?"); break;
    case Action::kDnat:
      out += " dnat to " + (to ? to->str() : "?");
      if (toPort) out += fmt::format(":{}", toPort);
      break;
  }
  return out.empty() ? out : out.substr(1);
}

struct Engine::Impl {
  netns::Handle ns;
  Socket sock;
  State state;
  std::vector<SysctlChange> sysctls;
  std::optional<bool> bridgeFamily;
  // (proto, host port) -> the mappings that claim it, for conflict checks without a scan.
  std::map<std::pair<Proto, uint16_t>, std::vector<std::pair<std::string, PortMapping>>> claims;

  void index(const ContainerPorts& c, bool add) {
    for (const auto& m : c.ports)
      for (uint32_t p = m.hostPort; p <= m.hostPortEnd; ++p) {
        auto& v = claims[{m.proto, uint16_t(p)}];
        if (add) {
          v.emplace_back(c.id, m);
        } else {
          std::erase_if(v, [&](auto& e) { return e.first == c.id; });
        }
      }
  }
  // Container id -> position in state.containers, so add and remove never scan.
  std::unordered_map<std::string, size_t> byId;

  void reindex() {
    claims.clear();
    byId.clear();
    for (size_t i = 0; i < state.containers.size(); ++i) {
      index(state.containers[i], true);
      byId[state.containers[i].id] = i;
    }
  }

  Result<bool> hasBridgeFamily() {
    if (bridgeFamily) return *bridgeFamily;
    // Creating and deleting a bridge table in one batch tells without leaving anything.
    auto probe = commit(sock, [](Batch& b) -> Result<void> {
      addTable(b, NFPROTO_BRIDGE, kTable);
      deleteTable(b, NFPROTO_BRIDGE, kTable);
      return {};
    });
    if (!probe && probe.error().errnum() != EAFNOSUPPORT && probe.error().errnum() != EOPNOTSUPP &&
        probe.error().errnum() != ENOENT)
      return std::unexpected(probe.error());
    bridgeFamily = probe.has_value();
    return *bridgeFamily;
  }

  Result<void> setRecorded(const std::string& key, const std::string& value) {
    std::string cur = NETCTL_TRY(sysctl::get(ns, key));
    if (cur == value) return {};
    std::string prev = NETCTL_TRY(sysctl::set(ns, key, value));
    bool known = std::any_of(sysctls.begin(), sysctls.end(), [&](auto& c) { return c.key == key; });
    if (!known) sysctls.push_back({key, prev});
    return {};
  }

  Result<void> applySysctls() {
    bool any = !state.networks.empty() || !state.natRules.empty();
    bool v6 = std::any_of(state.networks.begin(), state.networks.end(),
                          [](auto& n) { return n.subnet6.has_value(); }) ||
              std::any_of(state.natRules.begin(), state.natRules.end(), [](const NatRule& r) {
                return (r.src && r.src->addr.family == AF_INET6) ||
                       (r.dst && r.dst->addr.family == AF_INET6) || (r.to && r.to->family == AF_INET6);
              });
    if (any) NETCTL_TRY(setRecorded("net.ipv4.ip_forward", "1"));
    if (v6) NETCTL_TRY(setRecorded("net.ipv6.conf.all.forwarding", "1"));
    for (const auto& n : state.networks) {
      // 127.0.0.1-published ports are DNAT'd to the bridge with source 127.0.0.1.
      auto localnet = setRecorded(fmt::format("net.ipv4.conf.{}.route_localnet", n.bridge), "1");
      // A bridge that does not exist yet (another lab declared it and is still creating it)
      // gets its sysctls from that lab's own apply, which follows the bridge's creation.
      if (!localnet && localnet.error().kind() == Error::Kind::kNotFound) continue;
      NETCTL_TRYC(std::move(localnet), "network {}", n.name);
      // Loose reverse-path filtering: hairpinned and DNAT'd replies come back asymmetric.
      NETCTL_TRYC(setRecorded(fmt::format("net.ipv4.conf.{}.rp_filter", n.bridge), "2"),
                  "network {}", n.name);
    }
    return {};
  }

  // Restores recorded sysctls whose key matches pred; a vanished interface is fine.
  Result<void> restoreSysctls(const std::function<bool(const std::string&)>& pred) {
    std::optional<Error> first;
    for (auto it = sysctls.rbegin(); it != sysctls.rend(); ++it) {
      if (!pred(it->key)) continue;
      auto r = sysctl::set(ns, it->key, it->previous);
      if (!r && r.error().kind() != Error::Kind::kNotFound && !first) first = r.error();
    }
    std::erase_if(sysctls, [&](auto& c) { return pred(c.key); });
    if (first) return std::unexpected(*first);
    return {};
  }

  Result<void> apply() {
    bool bridge = NETCTL_TRY(hasBridgeFamily());
    // Nothing left to manage: no table at all, and the sysctls go back to what they were.
    bool empty = state.empty();
    NETCTL_TRY(commit(sock, [&](Batch& b) -> Result<void> {
      deleteTables(b, bridge);
      if (empty) return {};
      return renderAll(b, state, bridge);
    }));
    if (empty) return restoreSysctls([](const std::string&) { return true; });
    return applySysctls();
  }
};

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;
Engine::~Engine() = default;

Result<Engine> Engine::open(const netns::Handle& ns) {
  auto impl = std::make_unique<Impl>();
  impl->ns = NETCTL_TRY(ns.dup());
  impl->sock = NETCTL_TRYC(Socket::open(ns), "netns {}", ns.name());
  return Engine(std::move(impl));
}

const State& Engine::state() const { return impl_->state; }
void Engine::setState(State s) {
  impl_->state = std::move(s);
  impl_->reindex();
}
const std::vector<SysctlChange>& Engine::sysctlChanges() const { return impl_->sysctls; }
void Engine::setSysctlChanges(std::vector<SysctlChange> c) { impl_->sysctls = std::move(c); }

static Result<void> validate(const Network& n) {
  if (n.name.empty() || n.name.size() > 64 ||
      n.name.find_first_of(" \t\n/") != std::string::npos)
    return invalidInput(fmt::format("network name '{}' must be 1-64 characters without spaces", n.name));
  if (n.bridge.empty() || n.bridge.size() > 15)
    return invalidInput(fmt::format("network {}: bridge name '{}' must be 1-15 characters", n.name, n.bridge));
  if (n.subnet4.addr.family != AF_INET)
    return invalidInput(fmt::format("network {}: needs an IPv4 subnet", n.name));
  if (n.subnet6 && n.subnet6->addr.family != AF_INET6)
    return invalidInput(fmt::format("network {}: subnet6 {} is not IPv6", n.name, n.subnet6->str()));
  return {};
}

Result<void> Engine::ensureNetwork(const Network& net) {
  NETCTL_TRY(validate(net));
  State next = impl_->state;
  auto it = std::find_if(next.networks.begin(), next.networks.end(),
                         [&](auto& n) { return n.name == net.name; });
  for (const auto& n : next.networks)
    if (n.name != net.name && n.bridge == net.bridge)
      return conflict(fmt::format("network {}: bridge {} already belongs to network {}", net.name,
                                  net.bridge, n.name));
  if (it != next.networks.end()) {
    *it = net;
  } else {
    next.networks.push_back(net);
  }
  std::swap(impl_->state, next);
  if (auto r = impl_->apply(); !r) {
    std::swap(impl_->state, next);  // keep the state the kernel still has
    return withContext(std::unexpected(r.error()), "network " + net.name);
  }
  return {};
}

Result<void> Engine::removeNetwork(const std::string& name) {
  State next = impl_->state;
  auto it = std::find_if(next.networks.begin(), next.networks.end(),
                         [&](auto& n) { return n.name == name; });
  if (it == next.networks.end()) return {};
  std::string bridge = it->bridge;
  next.networks.erase(it);
  std::erase_if(next.containers, [&](auto& c) { return c.network == name; });
  std::swap(impl_->state, next);
  if (auto r = impl_->apply(); !r) {
    std::swap(impl_->state, next);
    return withContext(std::unexpected(r.error()), "removing network " + name);
  }
  impl_->reindex();
  std::string marker = ".conf." + bridge + ".";
  return impl_->restoreSysctls([&](const std::string& k) { return k.find(marker) != std::string::npos; });
}

Result<void> Engine::addPorts(const ContainerPorts& c) {
  auto& st = impl_->state;
  auto net = std::find_if(st.networks.begin(), st.networks.end(),
                          [&](auto& n) { return n.name == c.network; });
  if (net == st.networks.end())
    return notFound(fmt::format("container {}: network {} is not known", c.id, c.network));
  if (net->internal && !c.ports.empty())
    return invalidInput(fmt::format("container {}: network {} is internal: nothing can be published",
                                    c.id, c.network));
  if (c.addr4.family != AF_INET || !net->subnet4.contains(c.addr4))
    return invalidInput(fmt::format("container {}: address {} is not in {} ({})", c.id, c.addr4.str(),
                                    net->name, net->subnet4.str()));
  if (impl_->byId.contains(c.id))
    return conflict(fmt::format("container {} already has published ports", c.id));
  for (size_t i = 0; i < c.ports.size(); ++i) {
    const auto& m = c.ports[i];
    for (size_t j = 0; j < i; ++j)
      if (overlaps(c.ports[j], m))
        return conflict(fmt::format("container {}: port {} collides with its own port {}", c.id,
                                    m.str(), c.ports[j].str()));
    for (uint32_t p = m.hostPort; p <= m.hostPortEnd; ++p) {
      auto found = impl_->claims.find({m.proto, uint16_t(p)});
      if (found == impl_->claims.end()) continue;
      for (const auto& [owner, theirs] : found->second)
        if (overlaps(theirs, m))
          return conflict(fmt::format("container {}: port {} collides with port {} of container {}",
                                      c.id, m.str(), theirs.str(), owner));
    }
  }
  PortElements e = NETCTL_TRYC(portElements(c), "container {}", c.id);
  NETCTL_TRYC(commit(impl_->sock, [&](Batch& b) -> Result<void> {
                emitPortElements(b, e, true);
                return {};
              }),
              "container {}: publishing ports", c.id);
  st.containers.push_back(c);
  impl_->byId[c.id] = st.containers.size() - 1;
  impl_->index(c, true);
  // NAT is decided on a flow's first packet: a UDP flow that started before the mapping
  // existed (e.g. a client retrying) stays un-NATed until its conntrack entry goes.
  std::vector<uint16_t> udp;
  for (const auto& m : c.ports)
    if (m.proto == Proto::kUdp)
      for (uint32_t p = m.hostPort; p <= m.hostPortEnd; ++p) udp.push_back(uint16_t(p));
  if (!udp.empty())
    NETCTL_TRYC(conntrack::flushUdp(impl_->sock, udp), "container {}: flushing stale UDP conntrack", c.id);
  return {};
}

Result<void> Engine::removePorts(const std::string& containerId) {
  auto& st = impl_->state;
  auto found = impl_->byId.find(containerId);
  if (found == impl_->byId.end()) return {};
  size_t pos = found->second;
  auto it = st.containers.begin() + long(pos);
  PortElements e = NETCTL_TRY(portElements(*it));
  // A container port published under two host ports is one element of the published set.
  auto unique = [](std::vector<Element>& v) {
    std::sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.key < b.key; });
    v.erase(std::unique(v.begin(), v.end(), [](auto& a, auto& b) { return a.key == b.key; }), v.end());
  };
  unique(e.pub4);
  unique(e.pub6);
  NETCTL_TRYC(commit(impl_->sock, [&](Batch& b) -> Result<void> {
                emitPortElements(b, e, false);
                if (!e.pub4.empty()) addElements(b, NFPROTO_INET, kPublished4, e.pub4, false);
                if (!e.pub6.empty()) addElements(b, NFPROTO_INET, kPublished6, e.pub6, false);
                return {};
              }),
              "container {}: unpublishing ports", containerId);
  impl_->index(*it, false);
  impl_->byId.erase(found);
  // Swap with the last one and pop: O(1), and the order of containers means nothing.
  if (pos + 1 != st.containers.size()) {
    std::swap(st.containers[pos], st.containers.back());
    impl_->byId[st.containers[pos].id] = pos;
  }
  st.containers.pop_back();
  return {};
}

Result<void> Engine::addNatRules(const std::vector<NatRule>& rules) {
  for (const auto& r : rules) {
    if (r.action != NatRule::Action::kMasquerade && !r.to)
      return invalidInput(fmt::format("NAT rule '{}': snat/dnat need a target address", r.str()));
    if ((r.dport || r.toPort) && !r.proto)
      return invalidInput(fmt::format("NAT rule '{}': ports need a protocol", r.str()));
    if (r.action == NatRule::Action::kDnat && !r.oif.empty())
      return invalidInput(fmt::format("NAT rule '{}': dnat happens before routing: no oif", r.str()));
    if (r.action != NatRule::Action::kDnat && !r.iif.empty())
      return invalidInput(fmt::format("NAT rule '{}': masquerade/snat match oif, not iif", r.str()));
  }
  State prev = impl_->state;
  for (const auto& r : rules)
    if (std::find(prev.natRules.begin(), prev.natRules.end(), r) == prev.natRules.end())
      impl_->state.natRules.push_back(r);
  auto applied = impl_->apply();
  if (!applied) impl_->state = std::move(prev);
  return applied;
}

Result<void> Engine::removeNatRules(const std::vector<NatRule>& rules) {
  State prev = impl_->state;
  std::erase_if(impl_->state.natRules,
                [&](auto& r) { return std::find(rules.begin(), rules.end(), r) != rules.end(); });
  auto applied = impl_->apply();
  if (!applied) impl_->state = std::move(prev);
  return applied;
}

Result<void> Engine::apply() { return impl_->apply(); }

Result<void> Engine::removeAll() {
  bool bridge = NETCTL_TRY(impl_->hasBridgeFamily());
  NETCTL_TRYC(commit(impl_->sock, [&](Batch& b) -> Result<void> {
                deleteTables(b, bridge);
                return {};
              }),
              "removing the netctl tables");
  impl_->state = {};
  impl_->reindex();
  return impl_->restoreSysctls([](const std::string&) { return true; });
}

}  // namespace netctl::nft
