// The port-publishing spec parser and the address helpers it needs. Pure logic.
#include "netctl/net/nft/spec.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>

namespace netctl::nft {
namespace {

Result<uint16_t> parsePort(std::string_view text, std::string_view spec) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size())
    return invalidInput(fmt::format("port spec '{}': '{}' is not a port number", spec, text));
  if (value == 0 || value > 65535)
    return invalidInput(fmt::format("port spec '{}': port {} is out of range 1-65535", spec, value));
  return uint16_t(value);
}

// "8080" or "8080-8090".
Result<std::pair<uint16_t, uint16_t>> parseRange(std::string_view text, std::string_view spec) {
  size_t dash = text.find('-');
  if (dash == std::string_view::npos) {
    uint16_t p = NETCTL_TRY(parsePort(text, spec));
    return std::pair{p, p};
  }
  uint16_t lo = NETCTL_TRY(parsePort(text.substr(0, dash), spec));
  uint16_t hi = NETCTL_TRY(parsePort(text.substr(dash + 1), spec));
  if (hi < lo)
    return invalidInput(fmt::format("port spec '{}': range {} ends before it starts", spec, text));
  return std::pair{lo, hi};
}

bool isAnyOfFamily(const PortMapping& m, int family) {
  return !m.hostAddr || (m.hostAddr->family == family && m.hostAddr->isAny());
}

}  // namespace

bool Addr::isAny() const {
  for (size_t i = 0; i < size(); ++i)
    if (bytes[i]) return false;
  return true;
}

std::string Addr::str() const {
  if (family == 0) return "";
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(family, bytes.data(), buf, sizeof buf);
  return buf;
}

Result<Addr> parseAddr(std::string_view text) {
  std::string s(text);
  Addr a;
  if (::inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) {
    a.family = AF_INET;
    return a;
  }
  if (::inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) {
    a.family = AF_INET6;
    return a;
  }
  return invalidInput(fmt::format("'{}' is not an IPv4 or IPv6 address", text));
}

std::string Prefix::str() const { return fmt::format("{}/{}", addr.str(), len); }

Addr Prefix::first() const {
  Addr a = addr;
  for (size_t i = 0; i < a.size(); ++i) {
    int bits = std::clamp(len - int(i) * 8, 0, 8);
    a.bytes[i] &= uint8_t(0xff00 >> bits);
  }
  return a;
}

Addr Prefix::last() const {
  Addr a = addr;
  for (size_t i = 0; i < a.size(); ++i) {
    int bits = std::clamp(len - int(i) * 8, 0, 8);
    a.bytes[i] |= uint8_t(0xff >> bits);
  }
  return a;
}

bool Prefix::contains(const Addr& a) const {
  if (a.family != addr.family) return false;
  Prefix p{a, len};
  return p.first() == first();
}

Result<Prefix> parsePrefix(std::string_view text) {
  size_t slash = text.find('/');
  Addr a = NETCTL_TRY(parseAddr(text.substr(0, slash)));
  int maxLen = int(a.size()) * 8;
  int len = maxLen;
  if (slash != std::string_view::npos) {
    auto lenText = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(lenText.data(), lenText.data() + lenText.size(), len);
    if (lenText.empty() || ec != std::errc() || end != lenText.data() + lenText.size() || len < 0 ||
        len > maxLen)
      return invalidInput(fmt::format("'{}': bad prefix length", text));
  }
  Prefix p{a, len};
  if (p.first() != a)
    return invalidInput(fmt::format("'{}': host bits are set (did you mean {}?)", text,
                                    Prefix{p.first(), len}.str()));
  return p;
}

std::string_view protoName(Proto p) {
  switch (p) {
    case Proto::kTcp: return "tcp";
    case Proto::kUdp: return "udp";
    case Proto::kSctp: return "sctp";
  }
  return "?";
}

Result<Proto> parseProto(std::string_view text) {
  if (text == "tcp") return Proto::kTcp;
  if (text == "udp") return Proto::kUdp;
  if (text == "sctp") return Proto::kSctp;
  return invalidInput(fmt::format("'{}' is not a protocol (tcp, udp or sctp)", text));
}

std::string PortMapping::str() const {
  std::string out;
  if (hostAddr) out = hostAddr->family == AF_INET6 ? fmt::format("[{}]:", hostAddr->str())
                                                  : hostAddr->str() + ":";
  if (hostPortEnd != hostPort) {
    out += fmt::format("{}-{}:{}-{}", hostPort, hostPortEnd, containerPort,
                       containerPort + (hostPortEnd - hostPort));
  } else {
    out += fmt::format("{}:{}", hostPort, containerPort);
  }
  return out + "/" + std::string(protoName(proto));
}

Result<PortMapping> parsePortMapping(std::string_view spec) {
  PortMapping m;
  std::string_view rest = spec;
  // Protocol suffix.
  if (size_t slash = rest.rfind('/'); slash != std::string_view::npos) {
    auto proto = parseProto(rest.substr(slash + 1));
    if (!proto) return invalidInput(fmt::format("port spec '{}': {}", spec, proto.error().message()));
    m.proto = *proto;
    rest = rest.substr(0, slash);
  }
  // Host address: "[v6]:" or "v4:" when there are three colon-separated parts.
  if (rest.starts_with('[')) {
    size_t close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':')
      return invalidInput(fmt::format("port spec '{}': expected '[ipv6]:host_port:container_port'", spec));
    auto a = parseAddr(rest.substr(1, close - 1));
    if (!a || a->family != AF_INET6)
      return invalidInput(fmt::format("port spec '{}': '{}' is not an IPv6 address", spec,
                                      rest.substr(1, close - 1)));
    static const Addr kLoopback6 = *parseAddr("::1");
    if (*a == kLoopback6)
      return invalidInput(fmt::format("port spec '{}': ports cannot be published on [::1] (IPv6 has no "
                                      "route_localnet: the kernel never routes ::1 off lo); use "
                                      "127.0.0.1, [::] or a real address", spec));
    m.hostAddr = *a;
    rest = rest.substr(close + 2);
  } else {
    size_t colons = std::count(rest.begin(), rest.end(), ':');
    if (colons == 2) {
      size_t first = rest.find(':');
      auto a = parseAddr(rest.substr(0, first));
      if (!a || a->family != AF_INET)
        return invalidInput(fmt::format("port spec '{}': '{}' is not an IPv4 address (write IPv6 "
                                        "host addresses in brackets)", spec, rest.substr(0, first)));
      m.hostAddr = *a;
      rest = rest.substr(first + 1);
    } else if (colons != 1) {
      return invalidInput(fmt::format(
          "port spec '{}': expected [host_ip:]host_port[-end]:container_port[/tcp|udp|sctp]", spec));
    }
  }
  size_t colon = rest.find(':');
  if (colon == std::string_view::npos || rest.find(':', colon + 1) != std::string_view::npos)
    return invalidInput(fmt::format(
        "port spec '{}': expected [host_ip:]host_port[-end]:container_port[/tcp|udp|sctp]", spec));
  auto [hLo, hHi] = NETCTL_TRY(parseRange(rest.substr(0, colon), spec));
  auto [cLo, cHi] = NETCTL_TRY(parseRange(rest.substr(colon + 1), spec));
  if (cLo != cHi && cHi - cLo != hHi - hLo)
    return invalidInput(fmt::format("port spec '{}': host range has {} ports but container range "
                                    "has {}", spec, hHi - hLo + 1, cHi - cLo + 1));
  if (cLo == cHi && hLo != hHi)
    return invalidInput(fmt::format("port spec '{}': a host range needs a container range of the "
                                    "same size (e.g. {}-{}:{}-{})", spec, hLo, hHi, cLo,
                                    cLo + (hHi - hLo) > 65535 ? 65535 : cLo + (hHi - hLo)));
  if (int(cLo) + (hHi - hLo) > 65535)
    return invalidInput(fmt::format("port spec '{}': container range passes 65535", spec));
  m.hostPort = hLo;
  m.hostPortEnd = hHi;
  m.containerPort = cLo;
  return m;
}

Result<std::vector<PortMapping>> parsePortMappings(const std::vector<std::string>& specs) {
  std::vector<PortMapping> out;
  for (const auto& s : specs) {
    PortMapping m = NETCTL_TRY(parsePortMapping(s));
    for (const auto& prev : out)
      if (overlaps(prev, m))
        return conflict(fmt::format("port spec '{}' collides with '{}'", m.str(), prev.str()));
    out.push_back(m);
  }
  return out;
}

bool overlaps(const PortMapping& a, const PortMapping& b) {
  if (a.proto != b.proto) return false;
  if (a.hostPortEnd < b.hostPort || b.hostPortEnd < a.hostPort) return false;
  if (!a.hostAddr || !b.hostAddr) return true;
  if (a.hostAddr->family != b.hostAddr->family) return false;
  int f = a.hostAddr->family;
  return *a.hostAddr == *b.hostAddr || isAnyOfFamily(a, f) || isAnyOfFamily(b, f);
}

}  // namespace netctl::nft
