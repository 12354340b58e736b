#include "netctl/net/ip.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

namespace netctl::ip {
namespace {

// Sets the bits of bytes[0..size) past the first `keep` bits to `value`.
void fillHostBits(uint8_t* bytes, size_t size, int keep, bool value) {
  for (size_t i = 0; i < size; ++i) {
    int bitStart = static_cast<int>(i) * 8;
    uint8_t hostMask;
    if (keep >= bitStart + 8) continue;
    if (keep <= bitStart) {
      hostMask = 0xff;
    } else {
      hostMask = static_cast<uint8_t>(0xff >> (keep - bitStart));
    }
    bytes[i] = value ? (bytes[i] | hostMask) : (bytes[i] & ~hostMask);
  }
}

}  // namespace

Address Address::v4(std::array<uint8_t, 4> bytes) {
  Address a;
  std::copy(bytes.begin(), bytes.end(), a.bytes_.begin());
  return a;
}

Address Address::v6(std::array<uint8_t, 16> bytes) {
  Address a;
  a.v6_ = true;
  a.bytes_ = bytes;
  return a;
}

Result<Address> Address::fromBytes(int family, const void* data, size_t size) {
  Address a;
  if (family == AF_INET && size == 4) {
    std::memcpy(a.bytes_.data(), data, 4);
  } else if (family == AF_INET6 && size == 16) {
    a.v6_ = true;
    std::memcpy(a.bytes_.data(), data, 16);
  } else {
    return invalidInput(fmt::format("an address of family {} with {} bytes", family, size));
  }
  return a;
}

Result<Address> Address::parse(std::string_view text) {
  // inet_pton needs a NUL-terminated string; addresses are short.
  if (text.empty() || text.size() > INET6_ADDRSTRLEN)
    return invalidInput(fmt::format("\"{}\" is not an IP address", text));
  char buf[INET6_ADDRSTRLEN + 1];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  Address a;
  // glibc's inet_pton rejects leading zeros and trailing text for IPv4, which is what we want
  // ("010.0.0.1" is octal to some tools and decimal to others).
  if (text.find(':') == std::string_view::npos) {
    if (::inet_pton(AF_INET, buf, a.bytes_.data()) == 1) return a;
  } else if (::inet_pton(AF_INET6, buf, a.bytes_.data()) == 1) {
    a.v6_ = true;
    return a;
  }
  return invalidInput(fmt::format("\"{}\" is not an IP address", text));
}

bool Address::isUnspecified() const {
  return std::all_of(bytes_.begin(), bytes_.begin() + size(), [](uint8_t b) { return b == 0; });
}

bool Address::isMulticast() const { return v6_ ? bytes_[0] == 0xff : (bytes_[0] & 0xf0) == 0xe0; }

bool Address::isLinkLocal() const {
  return v6_ ? (bytes_[0] == 0xfe && (bytes_[1] & 0xc0) == 0x80) : (bytes_[0] == 169 && bytes_[1] == 254);
}

Result<Address> Address::offset(int64_t n) const {
  // Add (or subtract) |n| byte by byte from the end, detecting a carry out of the top byte.
  Address out = *this;
  bool negative = n < 0;
  uint64_t magnitude = negative ? (n == INT64_MIN ? uint64_t{1} << 63 : static_cast<uint64_t>(-n))
                                : static_cast<uint64_t>(n);
  int carry = 0;
  for (int i = static_cast<int>(size()) - 1; i >= 0; --i) {
    int delta = static_cast<int>(magnitude & 0xff) + carry;
    magnitude >>= 8;
    int v = out.bytes_[i];
    if (negative) {
      v -= delta;
      carry = v < 0 ? 1 : 0;
      if (v < 0) v += 256;
    } else {
      v += delta;
      carry = v > 255 ? 1 : 0;
      if (v > 255) v -= 256;
    }
    out.bytes_[i] = static_cast<uint8_t>(v);
    if (magnitude == 0 && carry == 0) return out;
  }
  return invalidInput(fmt::format("{} {:+} leaves the address range", str(), n));
}

std::string Address::str() const {
  char buf[INET6_ADDRSTRLEN];
  ::inet_ntop(v6_ ? AF_INET6 : AF_INET, bytes_.data(), buf, sizeof buf);
  return buf;
}

Result<Prefix> Prefix::make(const Address& addr, int length) {
  if (length < 0 || length > addr.bits())
    return invalidInput(fmt::format("prefix length {} is out of range for {} (0-{})", length, addr.str(), addr.bits()));
  Prefix p;
  p.addr_ = addr;
  p.len_ = length;
  return p;
}

Prefix Prefix::anyV6() {
  Prefix p;
  p.addr_ = Address::v6({});
  return p;
}

Result<Prefix> Prefix::parse(std::string_view text) {
  auto slash = text.find('/');
  auto addr = NETCTL_TRYC(Address::parse(text.substr(0, slash)), "parsing prefix \"{}\"", text);
  if (slash == std::string_view::npos) return make(addr, addr.bits());
  std::string_view len = text.substr(slash + 1);
  // Digits only, no sign, no leading zeros beyond "0", at most 3 digits.
  if (len.empty() || len.size() > 3 || !std::all_of(len.begin(), len.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      (len.size() > 1 && len[0] == '0'))
    return invalidInput(fmt::format("\"{}\": \"{}\" is not a prefix length", text, len));
  int n = 0;
  for (char c : len) n = n * 10 + (c - '0');
  return make(addr, n);
}

Prefix Prefix::network() const {
  Prefix p = *this;
  fillHostBits(p.addr_.bytes_.data(), addr_.size(), len_, false);
  return p;
}

Address Prefix::last() const {
  Address a = addr_;
  fillHostBits(a.bytes_.data(), a.size(), len_, true);
  return a;
}

bool Prefix::contains(const Address& a) const {
  if (a.family() != family()) return false;
  Prefix other = *this;
  other.addr_ = a;
  return other.network().addr_ == network().addr_;
}

bool Prefix::contains(const Prefix& p) const { return p.family() == family() && p.len_ >= len_ && contains(p.addr_); }

bool Prefix::overlaps(const Prefix& p) const { return contains(p) || p.contains(*this); }

std::string Prefix::str() const { return fmt::format("{}/{}", addr_.str(), len_); }

}  // namespace netctl::ip
