// IP addresses and prefixes (IPv4 and IPv6) as small value types: parse, format, compare,
// contain. Shared by links, NAT, topologies and CNI IPAM, so parsing is strict: no leading
// zeros, no stray text, prefix lengths in range.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "netctl/base/result.h"

namespace netctl::ip {

class Address {
 public:
  Address() = default;  // 0.0.0.0
  static Address v4(std::array<uint8_t, 4> bytes);
  static Address v6(std::array<uint8_t, 16> bytes);
  // Raw network-order bytes: 4 (AF_INET) or 16 (AF_INET6); kInvalidInput on another size.
  static Result<Address> fromBytes(int family, const void* data, size_t size);
  // "10.0.0.1", "fd00::1". No prefix length, no zone.
  static Result<Address> parse(std::string_view text);

  int family() const { return v6_ ? 10 /*AF_INET6*/ : 2 /*AF_INET*/; }
  bool isV4() const { return !v6_; }
  bool isV6() const { return v6_; }
  int bits() const { return v6_ ? 128 : 32; }
  size_t size() const { return v6_ ? 16 : 4; }
  const uint8_t* data() const { return bytes_.data(); }
  bool isUnspecified() const;  // 0.0.0.0 or ::
  bool isMulticast() const;    // 224.0.0.0/4 or ff00::/8
  bool isLinkLocal() const;    // 169.254.0.0/16 or fe80::/10

  // The address n further on (n may be negative); kInvalidInput when it leaves the family's
  // range. IPAM walks a subnet with it.
  Result<Address> offset(int64_t n) const;

  std::string str() const;
  auto operator<=>(const Address&) const = default;
  bool operator==(const Address&) const = default;

 private:
  friend class Prefix;
  bool v6_ = false;
  std::array<uint8_t, 16> bytes_{};  // v4 uses the first 4
};

class Prefix {
 public:
  Prefix() = default;  // 0.0.0.0/0
  // kInvalidInput when length exceeds the family's bits.
  static Result<Prefix> make(const Address& addr, int length);
  // "10.0.0.1/30", "fd00::1/64"; a bare address means a host prefix (/32, /128). The address
  // part is kept as written (an interface address), network() clears the host bits.
  static Result<Prefix> parse(std::string_view text);
  static Prefix anyV4() { return Prefix(); }       // 0.0.0.0/0 (default route)
  static Prefix anyV6();                           // ::/0

  const Address& address() const { return addr_; }
  int length() const { return len_; }
  int family() const { return addr_.family(); }
  bool isV4() const { return addr_.isV4(); }

  Prefix network() const;      // host bits cleared: 10.0.0.1/30 -> 10.0.0.0/30
  Address first() const { return network().address(); }
  Address last() const;        // all host bits set (the IPv4 broadcast address)
  bool isNetwork() const { return network().addr_ == addr_; }
  bool contains(const Address& a) const;
  bool contains(const Prefix& p) const;  // p lies wholly inside this prefix
  bool overlaps(const Prefix& p) const;

  std::string str() const;  // "10.0.0.1/30"
  auto operator<=>(const Prefix&) const = default;
  bool operator==(const Prefix&) const = default;

 private:
  Address addr_;
  int len_ = 0;
};

}  // namespace netctl::ip

template <>
struct fmt::formatter<netctl::ip::Address> : fmt::formatter<std::string_view> {
  auto format(const netctl::ip::Address& a, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(a.str(), ctx);
  }
};
template <>
struct fmt::formatter<netctl::ip::Prefix> : fmt::formatter<std::string_view> {
  auto format(const netctl::ip::Prefix& p, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(p.str(), ctx);
  }
};
