#include "netctl/topology/addr.h"

#include <arpa/inet.h>

#include <algorithm>

#include <fmt/format.h>

namespace netctl::topology {

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.empty() || text.size() > 45) return std::nullopt;
  std::string s(text);
  IpAddress a;
  if (s.find(':') != std::string::npos) {
    if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) != 1) return std::nullopt;
    a.family = 6;
  } else {
    // inet_pton(AF_INET) accepts only the dotted quad, which is what we want (no "10.1").
    if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) != 1) return std::nullopt;
    a.family = 4;
  }
  return a;
}

std::string IpAddress::str() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (family == 4) inet_ntop(AF_INET, bytes.data(), buf, sizeof buf);
  else if (family == 6) inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf);
  return buf;
}

std::optional<IpPrefix> IpPrefix::parse(std::string_view text, bool allowHostBits) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto a = IpAddress::parse(text.substr(0, slash));
  if (!a) return std::nullopt;
  auto lenText = text.substr(slash + 1);
  if (lenText.empty() || lenText.size() > 3) return std::nullopt;
  int len = 0;
  for (char c : lenText) {
    if (c < '0' || c > '9') return std::nullopt;
    len = len * 10 + (c - '0');
  }
  if (len > a->bits()) return std::nullopt;
  IpPrefix p{*a, len};
  if (!allowHostBits && !(p.network().addr == p.addr)) return std::nullopt;
  return p;
}

std::string IpPrefix::str() const { return fmt::format("{}/{}", addr.str(), len); }

IpPrefix IpPrefix::network() const {
  IpPrefix p = *this;
  int nbytes = addr.bits() / 8;
  for (int i = 0; i < nbytes; ++i) {
    int keep = len - i * 8;
    if (keep >= 8) continue;
    p.addr.bytes[i] &= keep <= 0 ? 0 : static_cast<uint8_t>(0xff << (8 - keep));
  }
  return p;
}

bool IpPrefix::contains(const IpAddress& a) const {
  if (a.family != addr.family) return false;
  IpPrefix other{a, len};
  return other.network().addr == network().addr;
}

bool IpPrefix::overlaps(const IpPrefix& o) const {
  if (o.addr.family != addr.family) return false;
  int shorter = std::min(len, o.len);
  return IpPrefix{addr, shorter}.network().addr == IpPrefix{o.addr, shorter}.network().addr;
}

std::optional<IpAddress> IpPrefix::nth(uint64_t n) const {
  int hostBits = addr.bits() - len;
  if (hostBits < 64 && n >= (uint64_t{1} << hostBits)) return std::nullopt;
  IpAddress a = network().addr;
  int nbytes = addr.bits() / 8;
  unsigned carry = 0;
  for (int i = nbytes - 1; i >= 0; --i) {
    unsigned v = a.bytes[i] + static_cast<unsigned>(n & 0xff) + carry;
    a.bytes[i] = static_cast<uint8_t>(v);
    carry = v >> 8;
    n >>= 8;
  }
  return a;
}

IpAddress IpPrefix::last() const {
  IpAddress a = network().addr;
  int nbytes = addr.bits() / 8;
  for (int i = 0; i < nbytes; ++i) {
    int keep = len - i * 8;
    if (keep >= 8) continue;
    a.bytes[i] |= keep <= 0 ? 0xff : static_cast<uint8_t>(0xff >> keep);
  }
  return a;
}

std::optional<Mac> Mac::parse(std::string_view text) {
  if (text.size() != 17) return std::nullopt;
  Mac m;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (int i = 0; i < 6; ++i) {
    int hi = hex(text[i * 3]), lo = hex(text[i * 3 + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    if (i < 5 && text[i * 3 + 2] != ':') return std::nullopt;
    m.bytes[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return m;
}

std::string Mac::str() const {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", bytes[0], bytes[1], bytes[2],
                     bytes[3], bytes[4], bytes[5]);
}

}  // namespace netctl::topology
