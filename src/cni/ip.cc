#include "netctl/cni/ip.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace netctl::cni {

std::optional<IpAddr> IpAddr::parse(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  std::string s(text);
  IpAddr a;
  if (s.find(':') == std::string::npos) {
    if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) != 1) return std::nullopt;
    a.family = AF_INET;
  } else {
    if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) != 1) return std::nullopt;
    a.family = AF_INET6;
  }
  return a;
}

std::string IpAddr::str() const {
  if (!valid()) return {};
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(family, bytes.data(), buf, sizeof buf);
  return buf;
}

IpAddr IpAddr::next() const {
  IpAddr r = *this;
  for (int i = bits() / 8 - 1; i >= 0; --i) {
    if (++r.bytes[i] != 0) break;
  }
  return r;
}

std::optional<IpPrefix> IpPrefix::parse(std::string_view text, bool allowBare) {
  auto slash = text.find('/');
  IpPrefix p;
  auto a = IpAddr::parse(text.substr(0, slash));
  if (!a) return std::nullopt;
  p.addr = *a;
  if (slash == std::string_view::npos) {
    if (!allowBare) return std::nullopt;
    p.len = a->bits();
    return p;
  }
  auto lenText = text.substr(slash + 1);
  if (lenText.empty() || lenText.size() > 3) return std::nullopt;
  auto [ptr, ec] = std::from_chars(lenText.data(), lenText.data() + lenText.size(), p.len);
  if (ec != std::errc() || ptr != lenText.data() + lenText.size()) return std::nullopt;
  if (p.len < 0 || p.len > a->bits()) return std::nullopt;
  return p;
}

std::string IpPrefix::str() const { return addr.str() + "/" + std::to_string(len); }

IpPrefix IpPrefix::network() const {
  IpPrefix r = *this;
  for (int i = 0; i < addr.bits() / 8; ++i) {
    int keep = std::min(8, std::max(0, len - i * 8));
    uint8_t mask = keep == 0 ? 0 : static_cast<uint8_t>(0xff << (8 - keep));
    r.addr.bytes[i] &= mask;
  }
  return r;
}

IpAddr IpPrefix::broadcast() const {
  IpAddr r = network().addr;
  for (int i = 0; i < addr.bits() / 8; ++i) {
    int keep = std::min(8, std::max(0, len - i * 8));
    uint8_t mask = keep == 0 ? 0 : static_cast<uint8_t>(0xff << (8 - keep));
    r.bytes[i] |= static_cast<uint8_t>(~mask);
  }
  return r;
}

bool IpPrefix::contains(const IpAddr& a) const {
  if (a.family != addr.family) return false;
  IpPrefix probe{a, len};
  return probe.network().addr == network().addr;
}

}  // namespace netctl::cni
