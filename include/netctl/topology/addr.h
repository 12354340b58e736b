// IP addresses and prefixes as the topology model needs them: parse, print, contain, overlap.
// Self-contained on purpose, so the model does not depend on the netlink layer.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace netctl::topology {

struct IpAddress {
  int family = 0;                     // 4 or 6; 0 = unset
  std::array<uint8_t, 16> bytes{};    // v4 uses the first 4 bytes

  static std::optional<IpAddress> parse(std::string_view text);
  std::string str() const;
  int bits() const { return family == 4 ? 32 : 128; }
  bool operator==(const IpAddress&) const = default;
  auto operator<=>(const IpAddress&) const = default;
};

// An address with a prefix length ("10.0.0.1/30"); the host part is kept, network() clears it.
struct IpPrefix {
  IpAddress addr;
  int len = 0;

  // Requires "/len". With allowHostBits = false, "10.0.0.1/24" is rejected (a subnet must be a
  // network address).
  static std::optional<IpPrefix> parse(std::string_view text, bool allowHostBits = true);
  std::string str() const;
  IpPrefix network() const;
  bool contains(const IpAddress& a) const;
  bool overlaps(const IpPrefix& o) const;
  // The n-th address of the network (n = 1 is the usual gateway); nullopt past the end.
  std::optional<IpAddress> nth(uint64_t n) const;
  // The broadcast address (v4), or the last address (v6).
  IpAddress last() const;
  bool operator==(const IpPrefix&) const = default;
};

// A MAC address "aa:bb:cc:dd:ee:ff".
struct Mac {
  std::array<uint8_t, 6> bytes{};
  static std::optional<Mac> parse(std::string_view text);
  std::string str() const;
  bool operator==(const Mac&) const = default;
};

}  // namespace netctl::topology
