// Small IP address and prefix values for the CNI layer (IPAM arithmetic, result parsing).
// Kept here rather than in net so that the protocol half builds and tests without netlink.
#pragma once

#include <sys/socket.h>

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace netctl::cni {

struct IpAddr {
  int family = 0;                     // AF_INET, AF_INET6; 0 = unset
  std::array<uint8_t, 16> bytes{};    // network order; IPv4 uses the first 4 bytes

  static std::optional<IpAddr> parse(std::string_view text);
  std::string str() const;            // canonical text (inet_ntop), "" when unset
  bool valid() const { return family != 0; }
  bool isV4() const { return family == AF_INET; }
  int bits() const { return isV4() ? 32 : 128; }
  IpAddr next() const;                // +1, wrapping
  auto operator<=>(const IpAddr&) const = default;
};

struct IpPrefix {
  IpAddr addr;  // as written (host bits may be set: "10.0.0.2/24" is an address with its mask)
  int len = 0;

  // "addr/len". A bare address is accepted only when allowBare (then len = full length).
  static std::optional<IpPrefix> parse(std::string_view text, bool allowBare = false);
  std::string str() const;
  IpPrefix network() const;           // host bits cleared
  IpAddr broadcast() const;           // all host bits set
  bool contains(const IpAddr& a) const;
  auto operator<=>(const IpPrefix&) const = default;
};

}  // namespace netctl::cni
