// The CNI backend's link half: bridge and macvlan attachments on the libmnl link engine.
//
// ADD (bridge): the bridge is created when missing (a concurrent ADD may win: EEXIST means
// "use it"); the veth is ONE RTM_NEWLINK with the peer created straight in CNI_NETNS under
// CNI_IFNAME, with its MAC, MTU, master and IFF_UP; MACs are chosen here (or requested), so
// the result needs no read-back. Addresses and routes go into the container in one pipelined
// send.
//
// DEL removes the container's interface through a socket in CNI_NETNS (the host end goes with
// it), or, when the netns is gone, the host end by its derived name. Deleting a veth costs
// ~20 ms, nearly all of it AFTER the kernel has unlisted both ends: RTM_DELLINK returns only
// once netdev_run_todo has waited for the devices' last references (an RCU barrier). The
// interface is gone from the container (name free, invisible to every dump) as soon as it is
// unlisted, which is what DEL must guarantee. So removeUnlisted() sends the RTM_DELLINK from a
// forked copy of this process (no exec; stdin/stdout/stderr closed so the runtime's pipes
// see EOF) and returns as soon as a GETLINK on the container's netns no longer finds the
// link; the child sits out the kernel's wait and exits. If the child fails (or the link
// never disappears within 5 s), DEL reports the failure as before.
#include "netctl/cni/backend.h"

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <sys/random.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include <cstdlib>
#include <functional>

#include "netctl/cni/vlan.h"
#include "netctl/net/addr.h"
#include "netctl/net/link.h"
#include "netctl/net/netlink.h"
#include "netctl/net/netns.h"
#include "netctl/net/route.h"
#include "netctl/net/sysctl.h"

namespace netctl::cni {
namespace {

Failure failed(const Error& e, const std::string& what, int c = -1) {
  Failure f = failureFrom(e, c);
  f.msg = what + ": " + f.msg;
  return f;
}
#define CNI_TRY(expr, what)                                                         \
  ({                                                                                \
    auto&& cni_r_ = (expr);                                                         \
    if (!cni_r_) return std::unexpected(failed(cni_r_.error(), what));              \
    std::move(cni_r_).value();                                                      \
  })

ip::Address toIp(const IpAddr& a) {
  return *ip::Address::fromBytes(a.family, a.bytes.data(), a.isV4() ? 4 : 16);
}
ip::Prefix toIp(const IpPrefix& p) { return *ip::Prefix::make(toIp(p.addr), p.len); }

link::Mac randomMac() {
  link::Mac m;
  if (::getrandom(m.bytes.data(), m.bytes.size(), 0) != 6) {
    for (auto& b : m.bytes) b = uint8_t(std::rand());
  }
  m.bytes[0] = uint8_t((m.bytes[0] & 0xfe) | 0x02);  // unicast, locally administered
  return m;
}

std::string defaultStateDir() {
  const char* root = std::getenv("NETCTL_ROOT");
  return std::string(root && *root ? root : "/run/netctl") + "/cni";
}

// The bridge, created when missing; returns its index and MAC.
Result<link::Info> ensureBridge(nl::Socket& host, const NetConf& c) {
  auto got = link::get(host, c.bridge);
  if (got) {
    if (got->kind != "bridge")
      return conflict(fmt::format("\"{}\" exists and is not a bridge (it is a {})", c.bridge, got->kind));
    if (!got->up()) NETCTL_TRY(link::setUp(host, got->index));
    return got;
  }
  if (got.error().kind() != Error::Kind::kNotFound) return std::unexpected(got.error());
  link::BridgeSpec b;
  b.link.name = c.bridge;
  b.link.mtu = uint32_t(c.mtu);
  b.link.mac = randomMac();  // set: else the bridge takes its ports' MACs and the result goes stale
  b.link.up = true;
  auto made = link::create(host, b);
  if (!made && made.error().kind() != Error::Kind::kConflict) return std::unexpected(made.error());
  return link::get(host, c.bridge);  // ours, or the one a concurrent ADD made
}

// IPAM's routes (and the default route) inside the container on `index`.
Result<void> configureRoutes(nl::Socket& cs, int index, const NetResult& ipam, bool defaultGateway = false) {
  auto gatewayFor = [&](bool v4) -> std::optional<IpAddr> {
    for (const auto& ipc : ipam.ips)
      if (ipc.gateway && ipc.address.addr.isV4() == v4) return ipc.gateway;
    return std::nullopt;
  };
  for (const auto& r : ipam.routes) {
    route::Route rt;
    rt.dst = toIp(r.dst.network());
    auto gw = r.gw ? r.gw : gatewayFor(r.dst.addr.isV4());
    if (gw) rt.via = toIp(*gw);
    rt.dev = index;
    if (r.priority) rt.metric = uint32_t(*r.priority);
    NETCTL_TRYC(route::replace(cs, rt), "route {}", r.dst.str());
  }
  if (defaultGateway) {
    for (bool v4 : {true, false}) {
      auto gw = gatewayFor(v4);
      if (!gw) continue;
      route::Route rt;
      rt.dst = v4 ? ip::Prefix::anyV4() : ip::Prefix::anyV6();
      rt.via = toIp(*gw);
      rt.dev = index;
      NETCTL_TRYC(route::replace(cs, rt), "default route via {}", gw->str());
    }
  }
  return {};
}

// Addresses and routes inside the container on `index`.
Result<void> configure(nl::Socket& cs, int index, const NetResult& ipam, bool defaultGateway) {
  for (const auto& ipc : ipam.ips)
    NETCTL_TRY(addr::add(cs, index, toIp(ipc.address), {.noDad = true, .broadcast = true, .replace = true}));
  return configureRoutes(cs, index, ipam, defaultGateway);
}

Interface iface(std::string name, std::string mac, std::string sandbox = {}) {
  Interface i;
  i.name = std::move(name);
  i.mac = std::move(mac);
  i.sandbox = std::move(sandbox);
  return i;
}

Outcome<netns::Handle> openNetns(const Request& req) {
  auto ns = netns::openPath(req.env.netns.path);
  if (!ns) return std::unexpected(failed(ns.error(), "opening netns " + req.env.netns.path, code::kUnknownContainer));
  return std::move(*ns);
}

std::optional<IpAddr> firstOf(const NetResult& r, bool v4) {
  for (const auto& ipc : r.ips)
    if (ipc.address.addr.isV4() == v4) return ipc.address.addr;
  return std::nullopt;
}

std::string natId(const Request& req) { return req.env.containerId + "/" + req.env.ifname; }

// NAT for a bridge attachment: masquerade for the network, the attachment's mapped ports.
Outcome<void> attachNat(const std::string& stateDir, const Request& req, const NetResult& ipam) {
  const NetConf& c = req.conf;
  if (!c.ipMasq && c.portMappings.empty()) return {};
  natstate::Attach a;
  a.network = c.name;
  a.bridge = c.bridge;
  a.masquerade = c.ipMasq;
  a.id = natId(req);
  a.addr4 = firstOf(ipam, true);
  a.addr6 = firstOf(ipam, false);
  bool have4 = false;
  for (const auto& ipc : ipam.ips) {
    if (ipc.address.addr.isV4() && !have4) {
      a.subnet4 = ipc.address.network();
      have4 = true;
    } else if (!ipc.address.addr.isV4() && !a.subnet6) {
      a.subnet6 = ipc.address.network();
    }
  }
  if (!have4) return fail(code::kInvalidConfig, "ipMasq and portMappings need an IPv4 address from IPAM");
  a.ports = c.portMappings;
  return natstate::attach(stateDir, a);
}

Outcome<NetResult> addBridge(const std::string& stateDir, const Request& req, const NetResult& ipam) {
  const NetConf& c = req.conf;
  auto ns = openNetns(req);
  if (!ns) return std::unexpected(ns.error());
  nl::SocketCache cache;
  nl::Socket* host = CNI_TRY(cache.current(), "netlink");
  nl::Socket* cs = CNI_TRY(cache.get(*ns), "netlink in " + req.env.netns.path);
  if (auto there = link::get(*cs, req.env.ifname); there)
    return fail(code::kInterfaceExists,
                fmt::format("interface \"{}\" already exists in {}", req.env.ifname, req.env.netns.path));

  link::Info br = CNI_TRY(ensureBridge(*host, c), "bridge " + c.bridge);
  if (c.promiscMode && !(br.flags & IFF_PROMISC)) CNI_TRY(link::setPromisc(*host, br.index), "bridge " + c.bridge);
  // vlan: filtering on before anything is attached, so a kernel without it fails the ADD
  // before a veth exists; the gateway then lives on the VLAN's interface over the bridge.
  int gatewayIndex = br.index;
  if (c.vlan) {
    CNI_TRY(vlan::enableFiltering(*host, br.index), "bridge " + c.bridge);
    if (c.isGateway || c.isDefaultGateway)
      gatewayIndex = CNI_TRY(vlan::ensureGatewayLink(*host, br.index, c.bridge, uint16_t(*c.vlan)),
                             "VLAN gateway interface");
  }
  if (c.isGateway || c.isDefaultGateway) {
    for (const auto& ipc : ipam.ips) {
      if (!ipc.gateway) continue;
      auto gw = *ip::Prefix::make(toIp(*ipc.gateway), ipc.address.len);
      CNI_TRY(addr::add(*host, gatewayIndex, gw, {.noDad = true, .broadcast = true, .replace = true}),
              "gateway address on " + c.bridge);
      const char* key = ipc.address.addr.isV4() ? "net.ipv4.ip_forward" : "net.ipv6.conf.all.forwarding";
      auto self = netns::current();
      if (self) {
        auto cur = sysctl::get(*self, key);
        if (!cur || cur->find('1') != 0) CNI_TRY(sysctl::set(*self, key, "1"), std::string("sysctl ") + key);
      }
    }
  }

  std::string hostName = hostVethName(req.env.containerId, req.env.ifname);
  link::VethSpec v;
  v.link.name = hostName;
  v.link.mtu = uint32_t(c.mtu);
  v.link.mac = randomMac();
  v.link.master = br.index;
  v.link.up = true;
  v.link.ipv6LinkLocal = false;  // a bridge port
  v.peer.name = req.env.ifname;
  v.peer.netns = &*ns;
  v.peer.mtu = uint32_t(c.mtu);
  if (!req.mac.empty()) {
    auto m = link::Mac::parse(req.mac);
    if (!m) return fail(code::kInvalidConfig, fmt::format("bad MAC \"{}\"", req.mac));
    v.peer.mac = *m;
  } else {
    v.peer.mac = randomMac();
  }
  v.peer.up = true;
  auto made = link::create(*host, v, &cache);
  if (!made) {
    int cd = made.error().kind() == Error::Kind::kConflict ? code::kInterfaceExists : -1;
    return std::unexpected(failed(made.error(), "creating veth " + hostName, cd));
  }
  // From here on a failure removes the veth again (runPlugin releases the addresses).
  auto undo = [&](Failure f) -> Outcome<NetResult> {
    (void)link::remove(*host, hostName);
    return std::unexpected(std::move(f));
  };
  if (c.hairpinMode)
    if (auto r = link::setHairpin(*host, *made); !r) return undo(failed(r.error(), "veth " + hostName));
  if (c.vlan)
    if (auto r = vlan::setPortVlan(*host, *made, uint16_t(*c.vlan), c.preserveDefaultVlan); !r)
      return undo(failed(r.error(), "veth " + hostName));
  auto inner = link::index(*cs, req.env.ifname);
  if (!inner) return undo(failed(inner.error(), "container interface"));
  if (auto r = configure(*cs, *inner, ipam, c.isDefaultGateway); !r)
    return undo(failed(r.error(), "configuring " + req.env.ifname));
  if (auto r = attachNat(stateDir, req, ipam); !r) return undo(r.error());

  NetResult out;
  out.cniVersion = req.version;
  out.interfaces.push_back(iface(c.bridge, br.mac.str()));
  out.interfaces.push_back(iface(hostName, v.link.mac->str()));
  out.interfaces.push_back(iface(req.env.ifname, v.peer.mac->str(), req.env.netns.path));
  if (c.mtu) out.interfaces.back().mtu = c.mtu;
  for (auto ipc : ipam.ips) {
    ipc.interface = 2;
    out.ips.push_back(ipc);
  }
  out.routes = ipam.routes;
  if (c.isDefaultGateway)
    for (bool v4 : {true, false})
      for (const auto& ipc : ipam.ips)
        if (ipc.gateway && ipc.address.addr.isV4() == v4) {
          Route r;
          r.dst = *IpPrefix::parse(v4 ? "0.0.0.0/0" : "::/0");
          r.gw = ipc.gateway;
          out.routes.push_back(r);
          break;
        }
  out.dns = ipam.dns.empty() ? c.dns : ipam.dns;
  return out;
}

// ptp: a veth whose container end holds IP/32 (IPv4) with a link route to the gateway and
// every route via it; the host end holds the gateway (/32, shared by every ptp veth) and a
// host route to the container. No bridge, no L2 between containers.
Outcome<NetResult> addPtp(const std::string& stateDir, const Request& req, const NetResult& ipam) {
  const NetConf& c = req.conf;
  auto ns = openNetns(req);
  if (!ns) return std::unexpected(ns.error());
  nl::SocketCache cache;
  nl::Socket* host = CNI_TRY(cache.current(), "netlink");
  nl::Socket* cs = CNI_TRY(cache.get(*ns), "netlink in " + req.env.netns.path);
  if (auto there = link::get(*cs, req.env.ifname); there)
    return fail(code::kInterfaceExists,
                fmt::format("interface \"{}\" already exists in {}", req.env.ifname, req.env.netns.path));
  for (const auto& ipc : ipam.ips)
    if (!ipc.gateway) return fail(code::kInvalidConfig, "ptp needs a gateway for " + ipc.address.str());
  std::string hostName = hostVethName(req.env.containerId, req.env.ifname);
  link::VethSpec v;
  v.link.name = hostName;
  v.link.mtu = uint32_t(c.mtu);
  v.link.mac = randomMac();
  v.link.up = true;
  v.peer.name = req.env.ifname;
  v.peer.netns = &*ns;
  v.peer.mtu = uint32_t(c.mtu);
  v.peer.mac = randomMac();
  if (!req.mac.empty()) {
    auto m = link::Mac::parse(req.mac);
    if (!m) return fail(code::kInvalidConfig, fmt::format("bad MAC \"{}\"", req.mac));
    v.peer.mac = *m;
  }
  v.peer.up = true;
  auto made = link::create(*host, v, &cache);
  if (!made) {
    int cd = made.error().kind() == Error::Kind::kConflict ? code::kInterfaceExists : -1;
    return std::unexpected(failed(made.error(), "creating veth " + hostName, cd));
  }
  auto undo = [&](Failure f) -> Outcome<NetResult> {
    (void)link::remove(*host, hostName);
    return std::unexpected(std::move(f));
  };
  auto inner = link::index(*cs, req.env.ifname);
  if (!inner) return undo(failed(inner.error(), "container interface"));
  auto self = netns::current();
  for (const auto& ipc : ipam.ips) {
    bool v4 = ipc.address.addr.isV4();
    auto gw = toIp(*ipc.gateway);
    auto full = *ip::Prefix::make(toIp(ipc.address.addr), v4 ? 32 : 128);
    if (auto r = addr::add(*cs, *inner, full, {.noDad = true, .broadcast = false, .replace = true}); !r)
      return undo(failed(r.error(), "address " + ipc.address.str()));
    route::Route toGw;
    toGw.dst = *ip::Prefix::make(gw, v4 ? 32 : 128);
    toGw.dev = *inner;
    if (auto r = route::replace(*cs, toGw); !r) return undo(failed(r.error(), "route to the gateway"));
    route::Route subnet;
    subnet.dst = toIp(ipc.address.network());
    subnet.via = gw;
    subnet.dev = *inner;
    if (auto r = route::replace(*cs, subnet); !r) return undo(failed(r.error(), "subnet route"));
    if (auto r = addr::add(*host, *made, *ip::Prefix::make(gw, v4 ? 32 : 128), {.noDad = true, .broadcast = false, .replace = true}); !r)
      return undo(failed(r.error(), "gateway address on " + hostName));
    route::Route back;
    back.dst = full;
    back.dev = *made;
    if (auto r = route::replace(*host, back); !r) return undo(failed(r.error(), "host route to the container"));
    const char* key = v4 ? "net.ipv4.ip_forward" : "net.ipv6.conf.all.forwarding";
    if (self) {
      auto cur = sysctl::get(*self, key);
      if (!cur || cur->find('1') != 0)
        if (auto r = sysctl::set(*self, key, "1"); !r) return undo(failed(r.error(), key));
    }
    if (c.ipMasq && v4)
      if (auto r = natstate::masqueradeFrom(stateDir, ipc.address.network()); !r) return undo(r.error());
  }
  NetResult routesOnly;
  routesOnly.ips = ipam.ips;
  routesOnly.routes = ipam.routes;
  if (auto r = configureRoutes(*cs, *inner, routesOnly); !r) return undo(failed(r.error(), "routes"));

  NetResult out;
  out.cniVersion = req.version;
  out.interfaces.push_back(iface(hostName, v.link.mac->str()));
  out.interfaces.push_back(iface(req.env.ifname, v.peer.mac->str(), req.env.netns.path));
  if (c.mtu) out.interfaces.back().mtu = c.mtu;
  for (auto ipc : ipam.ips) {
    ipc.interface = 1;
    out.ips.push_back(ipc);
  }
  out.routes = ipam.routes;
  out.dns = ipam.dns.empty() ? c.dns : ipam.dns;
  return out;
}

// The interface a default route of the caller's netns leaves through.
Result<std::string> defaultRouteDev(nl::Socket& host) {
  auto routes = NETCTL_TRY(route::list(host, AF_INET));
  for (const auto& r : routes)
    if (r.dst.length() == 0 && r.dev) return NETCTL_TRY(link::get(host, r.dev)).name;
  return notFound("no default route to pick a macvlan master from");
}

Outcome<NetResult> addMacvlan(const Request& req, const NetResult& ipam) {
  const NetConf& c = req.conf;
  auto ns = openNetns(req);
  if (!ns) return std::unexpected(ns.error());
  nl::SocketCache cache;
  nl::Socket* host = CNI_TRY(cache.current(), "netlink");
  nl::Socket* cs = CNI_TRY(cache.get(*ns), "netlink in " + req.env.netns.path);
  if (auto there = link::get(*cs, req.env.ifname); there)
    return fail(code::kInterfaceExists,
                fmt::format("interface \"{}\" already exists in {}", req.env.ifname, req.env.netns.path));
  std::string master = c.master;
  if (master.empty()) master = CNI_TRY(defaultRouteDev(*host), "macvlan master");
  link::MacvlanSpec m;
  m.link.name = req.env.ifname;
  m.link.mtu = uint32_t(c.mtu);
  m.link.up = true;
  m.parent = master;
  m.netns = &*ns;
  const std::string& mode = c.macvlanMode;
  m.mode = mode == "private" ? link::MacvlanSpec::Mode::kPrivate
           : mode == "vepa"  ? link::MacvlanSpec::Mode::kVepa
           : mode == "passthru" ? link::MacvlanSpec::Mode::kPassthru
                                : link::MacvlanSpec::Mode::kBridge;
  link::Mac mac = randomMac();
  if (!req.mac.empty()) {
    auto p = link::Mac::parse(req.mac);
    if (!p) return fail(code::kInvalidConfig, fmt::format("bad MAC \"{}\"", req.mac));
    mac = *p;
  }
  if (m.mode != link::MacvlanSpec::Mode::kPassthru) m.link.mac = mac;
  auto made = link::create(*host, m, &cache);
  if (!made) {
    int cd = made.error().kind() == Error::Kind::kConflict ? code::kInterfaceExists : -1;
    return std::unexpected(failed(made.error(), "creating macvlan on " + master, cd));
  }
  auto info = link::get(*cs, req.env.ifname);
  if (!info) return std::unexpected(failed(info.error(), "container interface"));
  if (auto r = configure(*cs, info->index, ipam, true); !r) {
    (void)link::remove(*cs, info->index);
    return std::unexpected(failed(r.error(), "configuring " + req.env.ifname));
  }
  NetResult out;
  out.cniVersion = req.version;
  out.interfaces.push_back(iface(req.env.ifname, info->mac.str(), req.env.netns.path));
  if (c.mtu) out.interfaces.back().mtu = c.mtu;
  for (auto ipc : ipam.ips) {
    ipc.interface = 0;
    out.ips.push_back(ipc);
  }
  out.routes = ipam.routes;
  out.dns = ipam.dns.empty() ? c.dns : ipam.dns;
  return out;
}

// Deletes `ifname` in `ns` and returns once the kernel has unlisted it (see the top comment).
Result<void> removeUnlisted(nl::Socket& cs, const netns::Handle& ns, const std::string& ifname) {
  int index = NETCTL_TRY(link::index(cs, ifname));
  pid_t pid = ::fork();
  if (pid < 0) return link::remove(cs, index);
  if (pid == 0) {
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
    auto own = nl::Socket::openIn(ns);  // never share the parent's netlink socket
    if (!own) ::_exit(1);
    auto r = link::remove(*own, index);
    ::_exit(r || r.error().kind() == Error::Kind::kNotFound ? 0 : 1);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    auto still = link::get(cs, index);
    if (!still && still.error().kind() == Error::Kind::kNotFound) return {};  // unlisted: done
    int status = 0;
    pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
      // The child failed: repeat the request here to report the kernel's own reason.
      auto r = link::remove(cs, index);
      if (!r && r.error().kind() == Error::Kind::kNotFound) return {};
      return r;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      ::waitpid(pid, &status, 0);
      return link::get(cs, index) ? sysError(ETIMEDOUT, "removing " + ifname) : Result<void>{};
    }
    ::usleep(200);
  }
}

}  // namespace

std::string hostVethName(const std::string& containerId, const std::string& ifname) {
  // FNV-1a: stable across builds and processes (std::hash need not be).
  uint32_t h = 2166136261u;
  for (char ch : containerId + "/" + ifname) h = (h ^ uint8_t(ch)) * 16777619u;
  return fmt::format("veth{:08x}", h);
}

KernelBackend::KernelBackend(BackendOptions opts)
    : stateDir_(opts.stateDir.empty() ? defaultStateDir() : std::move(opts.stateDir)) {}

Outcome<NetResult> KernelBackend::add(const Request& req, const NetResult& ipam) {
  switch (req.conf.mode) {
    case PluginMode::kBridge: return addBridge(stateDir_, req, ipam);
    case PluginMode::kMacvlan:
      if (req.conf.ipMasq || !req.conf.portMappings.empty())
        return fail(code::kUnsupportedField, "ipMasq/portMappings are not supported in macvlan mode");
      return addMacvlan(req, ipam);
    case PluginMode::kPtp:
      if (!req.conf.portMappings.empty())
        return fail(code::kUnsupportedField, "portMappings are not supported in ptp mode");
      return addPtp(stateDir_, req, ipam);
  }
  return fail(code::kUnsupportedField, "unknown mode");
}

Outcome<void> KernelBackend::del(const Request& req) {
  // NAT first, from our own records (keyed by containerId/ifname): never from the live link.
  if (req.conf.mode == PluginMode::kBridge)
    if (auto r = natstate::detach(stateDir_, natId(req)); !r) return r;
  bool nsGone = req.env.netns.path.empty();
  if (!nsGone) {
    auto ns = netns::openPath(req.env.netns.path);
    if (ns) {
      auto cs = nl::Socket::openIn(*ns);
      if (!cs) return std::unexpected(failed(cs.error(), "netlink in " + req.env.netns.path));
      auto r = removeUnlisted(*cs, *ns, req.env.ifname);
      if (!r && r.error().kind() != Error::Kind::kNotFound)
        return std::unexpected(failed(r.error(), "removing " + req.env.ifname));
      if (r || req.conf.mode == PluginMode::kMacvlan) return {};
    } else {
      nsGone = true;
    }
  }
  if (req.conf.mode == PluginMode::kMacvlan) return {};
  // The netns (or the container end) is gone: the host end may still be there.
  auto host = nl::Socket::open();
  if (!host) return std::unexpected(failed(host.error(), "netlink"));
  auto r = link::remove(*host, hostVethName(req.env.containerId, req.env.ifname));
  if (!r && r.error().kind() != Error::Kind::kNotFound)
    return std::unexpected(failed(r.error(), "removing the host end"));
  return {};
}

Outcome<void> KernelBackend::check(const Request& req, const NetResult& prev) {
  auto ns = openNetns(req);
  if (!ns) return std::unexpected(ns.error());
  auto cs = nl::Socket::openIn(*ns);
  if (!cs) return std::unexpected(failed(cs.error(), "netlink in " + req.env.netns.path));
  auto info = link::get(*cs, req.env.ifname);
  if (!info)
    return fail(code::kCheckFailed, fmt::format("interface \"{}\" is missing in {}", req.env.ifname, req.env.netns.path));
  auto have = addr::list(*cs, 0, info->index);
  if (!have) return std::unexpected(failed(have.error(), "listing addresses"));
  for (const auto& ipc : prev.ips) {
    if (ipc.interface && (*ipc.interface < 0 || size_t(*ipc.interface) >= prev.interfaces.size() ||
                          prev.interfaces[size_t(*ipc.interface)].sandbox.empty() ||
                          prev.interfaces[size_t(*ipc.interface)].name != req.env.ifname))
      continue;  // another plugin's (a chain's loopback, say), or a host-side address
    auto want = toIp(ipc.address);
    bool found = std::any_of(have->begin(), have->end(), [&](auto& e) { return e.prefix == want; });
    if (!found)
      return fail(code::kCheckFailed, fmt::format("address {} is missing on {}", ipc.address.str(), req.env.ifname));
  }
  if (req.conf.mode == PluginMode::kBridge) {
    auto host = nl::Socket::open();
    if (!host) return std::unexpected(failed(host.error(), "netlink"));
    auto br = link::get(*host, req.conf.bridge);
    if (!br) return fail(code::kCheckFailed, fmt::format("bridge \"{}\" is missing", req.conf.bridge));
    auto hv = link::get(*host, hostVethName(req.env.containerId, req.env.ifname));
    if (!hv || hv->master != br->index)
      return fail(code::kCheckFailed, fmt::format("the host end of {} is missing or not on {}", req.env.ifname, req.conf.bridge));
  }
  return {};
}

Outcome<void> KernelBackend::status(const Request& req) {
  if (req.conf.mode == PluginMode::kMacvlan && !req.conf.master.empty()) {
    auto host = nl::Socket::open();
    if (!host) return std::unexpected(failed(host.error(), "netlink"));
    if (!link::get(*host, req.conf.master))
      return fail(code::kNotAvailable, fmt::format("macvlan master \"{}\" does not exist", req.conf.master));
  }
  return {};
}

Outcome<void> KernelBackend::gc(const Request& req, const std::vector<Attachment>& valid) {
  std::vector<std::string> keep;
  for (const auto& a : valid) keep.push_back(a.containerId + "/" + a.ifname);
  return natstate::gc(stateDir_, req.conf.name, keep);
}

}  // namespace netctl::cni
