#include "cli/doctor_probes.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <cstring>
#include <set>

#include "netctl/base/unique_fd.h"

#include "netctl/net/link.h"
#include "netctl/net/netlink.h"
#include "netctl/net/netns.h"
#include "netctl/net/nft/nat.h"
#include "netctl/net/qdisc.h"

namespace netctl::cli::doctor {
namespace {

Check linkCheck(const std::string& kind, const Result<int>& made, bool required) {
  if (made) return {"net", kind, Status::kOk, "links can be created", required};
  bool lacking = made.error().kind() == Error::Kind::kUnsupported;
  return {"net", kind, lacking && !required ? Status::kWarn : Status::kMissing, made.error().what(), required};
}

// Creates one link of each kind in the scratch namespace behind s.
std::vector<Check> probeLinkKinds(nl::Socket& s) {
  std::vector<Check> checks;
  link::BridgeSpec bridge;
  bridge.link.name = "probe-br";
  checks.push_back(linkCheck("bridge", link::create(s, bridge), true));

  link::VethSpec veth;
  veth.link.name = "probe-v0";
  veth.peer.name = "probe-v1";
  auto vethMade = link::create(s, veth);
  checks.push_back(linkCheck("veth", vethMade, true));

  link::MacvlanSpec macvlan;
  macvlan.link.name = "probe-mv";
  macvlan.parent = "probe-v0";
  checks.push_back(vethMade ? linkCheck("macvlan", link::create(s, macvlan), false)
                            : Check{"net", "macvlan", Status::kWarn, "not probed: no veth to be its parent", false});

  link::VxlanSpec vxlan;
  vxlan.link.name = "probe-vx";
  vxlan.vni = 42;
  checks.push_back(linkCheck("vxlan", link::create(s, vxlan), false));

  link::DummySpec dummy;
  dummy.link.name = "probe-dm";
  checks.push_back(linkCheck("dummy", link::create(s, dummy), false));
  return checks;
}

// Applies a one-network table (masquerade, isolation, port maps) to the scratch namespace.
Check probeNat(const netns::Handle& scratch) {
  auto result = [&]() -> Result<void> {
    auto engine = NETCTL_TRY(nft::Engine::open(scratch));
    nft::Network net;
    net.name = "probe";
    net.bridge = "probe-br";
    net.subnet4 = NETCTL_TRY(nft::parsePrefix("10.255.255.0/24"));
    NETCTL_TRY(engine.ensureNetwork(net));
    return engine.removeAll();
  }();
  if (result) return {"net", "nftables NAT", Status::kOk, "masquerade, port maps and isolation work"};
  return {"net", "nftables NAT", Status::kMissing,
          result.error().what() + " (needs CONFIG_NF_TABLES, CONFIG_NFT_NAT, CONFIG_NFT_MASQ, CONFIG_NFT_CT)"};
}

}  // namespace

std::vector<Check> probeNetwork() {
  // Everything below lives in a namespace that vanishes with `scratch` and `s`.
  auto scratch = netns::createAnonymous();
  if (!scratch) return {{"net", "netns", Status::kMissing, scratch.error().what()}};
  auto s = nl::Socket::openIn(*scratch);
  if (!s) return {{"net", "netlink", Status::kMissing, s.error().what()}};
  std::vector<Check> checks = {{"net", "netns", Status::kOk, "network namespaces work"}};
  for (auto& c : probeLinkKinds(*s)) checks.push_back(std::move(c));
  checks.push_back(probeNat(*scratch));
  // Impairments: tbf shapes rates; netem adds delay, loss and the rest.
  for (const char* kind : {"tbf", "htb", "netem"}) {
    auto probed = qdisc::probeScratch(kind);
    std::string name = fmt::format("qdisc {}", kind);
    if (probed) {
      checks.push_back({"net", name, Status::kOk, "impairments can use it", false});
    } else {
      checks.push_back({"net", name, Status::kWarn, probed.error().what(), false});
    }
  }
  return checks;
}

namespace {

socklen_t toSockaddr(const topology::IpAddress& a, uint16_t port, sockaddr_storage& ss) {
  std::memset(&ss, 0, sizeof ss);
  if (a.family == 4) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    std::memcpy(&sin->sin_addr, a.bytes.data(), 4);
    return sizeof(sockaddr_in);
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(port);
  std::memcpy(&sin6->sin6_addr, a.bytes.data(), 16);
  return sizeof(sockaddr_in6);
}

std::string sourceOf(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "?";
  char buf[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET)
    ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&ss)->sin_addr, buf, sizeof buf);
  else
    ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&ss)->sin6_addr, buf, sizeof buf);
  return buf;
}

struct Probe {
  topology::VxlanPeer peer;
  UniqueFd fd;
  std::optional<Check> done;  // decided before the wait (no route, no socket)
  std::string source;
  UniqueFd ping;              // raw ICMP socket: is the peer there at all?
  uint16_t id = 0;
  bool replied = false;
};

uint16_t checksum(const uint8_t* p, size_t n) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < n; i += 2) sum += uint32_t(p[i]) << 8 | p[i + 1];
  if (n & 1) sum += uint32_t(p[n - 1]) << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// One echo request to the peer on a raw socket connected to it (so it sees only the peer's
// ICMP); the kernel fills the ICMPv6 checksum itself.
void sendPing(Probe& pr, const std::string& parent, uint16_t id) {
  bool v4 = pr.peer.address.family == 4;
  pr.ping = UniqueFd(::socket(v4 ? AF_INET : AF_INET6, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
                              v4 ? int(IPPROTO_ICMP) : int(IPPROTO_ICMPV6)));
  if (!pr.ping) return;
  if (!parent.empty())
    ::setsockopt(pr.ping.get(), SOL_SOCKET, SO_BINDTODEVICE, parent.c_str(),
                 static_cast<socklen_t>(parent.size()));
  sockaddr_storage ss;
  socklen_t len = toSockaddr(pr.peer.address, 0, ss);
  if (::connect(pr.ping.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) return;
  uint8_t pkt[16] = {};
  pkt[0] = v4 ? 8 : 128;  // echo request
  pkt[4] = static_cast<uint8_t>(id >> 8);
  pkt[5] = static_cast<uint8_t>(id);
  pkt[7] = 1;
  if (v4) {
    uint16_t c = checksum(pkt, sizeof pkt);
    pkt[2] = static_cast<uint8_t>(c >> 8);
    pkt[3] = static_cast<uint8_t>(c);
  }
  pr.id = id;
  (void)::send(pr.ping.get(), pkt, sizeof pkt, 0);
}

// Reads what the raw socket holds; true on the echo reply to `id`.
bool readPing(int fd, int family, uint16_t id) {
  uint8_t buf[512];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n <= 0) return false;
    size_t off = family == 4 ? size_t(buf[0] & 0x0f) * 4 : 0;  // v4 raw sockets get the IP header
    if (size_t(n) < off + 8) continue;
    const uint8_t* icmp = buf + off;
    if (icmp[0] == (family == 4 ? 0 : 129) && (uint16_t(icmp[4]) << 8 | icmp[5]) == id) return true;
  }
}

}  // namespace

std::vector<Check> probeUnderlay(const topology::Lab& part, bool upHere) {
  std::vector<Check> checks;
  const topology::Host* me = nullptr;
  for (const auto& h : part.hosts)
    if (h.name == part.localHost) me = &h;
  if (!me) return checks;
  // The peers this part tunnels to; every other host when it tunnels to none.
  std::vector<topology::VxlanPeer> peers;
  std::set<std::string> seen;
  auto add = [&](const topology::VxlanPeer& p) {
    if (seen.insert(p.host).second) peers.push_back(p);
  };
  for (const auto& n : part.networks)
    if (n.span)
      for (const auto& p : n.span->peers) add(p);
  for (const auto& l : part.links) {
    for (const auto& p : l.peers) add(p);
    if (l.remote)
      for (const auto& h : part.hosts)
        if (h.address && *h.address == *l.remote) add({h.name, *h.address, h.vxlanPort});
  }
  if (peers.empty())
    for (const auto& h : part.hosts)
      if (h.name != me->name && h.address) add({h.name, *h.address, h.vxlanPort});

  std::vector<Probe> probes;
  for (const auto& p : peers) {
    Probe pr{p, UniqueFd(::socket(p.address.family == 4 ? AF_INET : AF_INET6,
                                  SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)),
             std::nullopt, "", UniqueFd(), 0, false};
    std::string name = "host " + p.host;
    std::string where = fmt::format("{}:{}", p.address.str(), p.port);
    if (!pr.fd) {
      pr.done = Check{"underlay", name, Status::kMissing, fmt::format("socket: {}", std::strerror(errno)), false};
    } else if (!me->parent.empty() &&
               ::setsockopt(pr.fd.get(), SOL_SOCKET, SO_BINDTODEVICE, me->parent.c_str(),
                            static_cast<socklen_t>(me->parent.size())) != 0) {
      pr.done = Check{"underlay", name, Status::kMissing,
                      fmt::format("cannot use parent {}: {}", me->parent, std::strerror(errno)), false};
    } else {
      sockaddr_storage ss;
      socklen_t len = toSockaddr(p.address, p.port, ss);
      if (::connect(pr.fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) {
        pr.done = Check{"underlay", name, Status::kMissing,
                        fmt::format("no route to {}: {}", where, std::strerror(errno)), false};
      } else {
        pr.source = sourceOf(pr.fd.get());
        // flags 0: not a valid VXLAN header (the I flag is clear), so a listener drops it.
        uint8_t junk[8] = {};
        if (::send(pr.fd.get(), junk, sizeof junk, 0) < 0)
          pr.done = Check{"underlay", name, Status::kMissing,
                          fmt::format("sending to {}: {}", where, std::strerror(errno)), false};
      }
    }
    if (!pr.done) sendPing(pr, me->parent, static_cast<uint16_t>((::getpid() + probes.size()) & 0xffff));
    probes.push_back(std::move(pr));
  }
  // One shared second for the ICMP errors to come back.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  std::vector<std::optional<int>> errs(probes.size());
  for (;;) {
    std::vector<pollfd> fds;
    std::vector<size_t> which;  // probe index; + probes.size() for a ping socket
    for (size_t i = 0; i < probes.size(); ++i) {
      if (probes[i].done) continue;
      if (!errs[i]) {
        fds.push_back({probes[i].fd.get(), POLLIN | POLLERR, 0});
        which.push_back(i);
      }
      if (probes[i].ping && !probes[i].replied) {
        fds.push_back({probes[i].ping.get(), POLLIN, 0});
        which.push_back(i + probes.size());
      }
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (fds.empty() || left.count() <= 0) break;
    int n = ::poll(fds.data(), fds.size(), static_cast<int>(left.count()));
    if (n < 0 && errno != EINTR) break;
    for (size_t k = 0; k < fds.size(); ++k) {
      if (!fds[k].revents) continue;
      if (which[k] >= probes.size()) {
        Probe& pr = probes[which[k] - probes.size()];
        pr.replied = readPing(fds[k].fd, pr.peer.address.family, pr.id);
        continue;
      }
      char buf[64];
      if (::recv(fds[k].fd, buf, sizeof buf, MSG_DONTWAIT) < 0 && errno != EAGAIN) errs[which[k]] = errno;
      else errs[which[k]] = 0;
    }
  }
  for (size_t i = 0; i < probes.size(); ++i) {
    auto& pr = probes[i];
    if (pr.done) {
      checks.push_back(*pr.done);
      continue;
    }
    std::string name = "host " + pr.peer.host;
    std::string where = fmt::format("{}:{}", pr.peer.address.str(), pr.peer.port);
    if (errs[i] && *errs[i] == ECONNREFUSED)
      checks.push_back({"underlay", name, Status::kMissing,
                        fmt::format("{} answers port unreachable: no VXLAN device listens there (is "
                                    "the lab up on host {}?)", where, pr.peer.host), false});
    else if (errs[i] && *errs[i] != 0)
      checks.push_back({"underlay", name, Status::kMissing,
                        fmt::format("{}: {}", where, std::strerror(*errs[i])), false});
    else if (pr.replied)
      checks.push_back({"underlay", name, Status::kOk,
                        fmt::format("route to {} from {}; the peer answers ping and its VXLAN port "
                                    "gave no ICMP error within 1 s (open, or filtered, or the "
                                    "peer rate-limited its answer)", where, pr.source), false});
    else
      checks.push_back({"underlay", name, Status::kWarn,
                        fmt::format("route to {} from {}, but no answer to ping and no ICMP error "
                                    "within 1 s: the peer may be down, or filters ICMP",
                                    where, pr.source), false});
  }
  // This host's own port.
  UniqueFd fd(::socket(me->address && me->address->family == 6 ? AF_INET6 : AF_INET,
                       SOCK_DGRAM | SOCK_CLOEXEC, 0));
  topology::IpAddress any;
  any.family = me->address ? me->address->family : 4;
  sockaddr_storage ss;
  socklen_t len = toSockaddr(any, me->vxlanPort, ss);
  std::string name = fmt::format("port {}", me->vxlanPort);
  if (fd && ::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) == 0)
    checks.push_back({"underlay", name, upHere ? Status::kWarn : Status::kOk,
                      upHere ? "free, yet the lab is up here: its VXLAN devices do not listen"
                             : "free for this host's VXLAN devices", false});
  else if (errno == EADDRINUSE)
    checks.push_back({"underlay", name, upHere ? Status::kOk : Status::kWarn,
                      upHere ? "held by the lab's VXLAN devices"
                             : "in use by another program: this host's VXLAN devices cannot listen",
                      false});
  else
    checks.push_back({"underlay", name, Status::kWarn, std::strerror(errno), false});
  return checks;
}

}  // namespace netctl::cli::doctor
