// Plain values of the NAT engine: addresses, prefixes, protocols, and the port-publishing spec
// `[host_ip:]host_port[-end]:container_port[-end][/tcp|udp|sctp]`. Pure logic, no kernel.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "netctl/base/result.h"

namespace netctl::nft {

// An IPv4 or IPv6 address in network byte order (v4 uses the first 4 bytes).
struct Addr {
  int family = 0;  // AF_INET or AF_INET6; 0 = unset
  std::array<uint8_t, 16> bytes{};

  size_t size() const { return family == 10 /*AF_INET6*/ ? 16 : 4; }
  bool isAny() const;  // 0.0.0.0 or ::
  std::string str() const;
  bool operator==(const Addr&) const = default;
  auto operator<=>(const Addr&) const = default;
};

struct Prefix {
  Addr addr;
  int len = 0;
  std::string str() const;
  bool contains(const Addr& a) const;
  // The first and last address the prefix covers.
  Addr first() const;
  Addr last() const;
  bool operator==(const Prefix&) const = default;
};

Result<Addr> parseAddr(std::string_view text);
// "10.0.0.0/24", "fd00::/64"; a bare address is a host prefix. Host bits must be zero.
Result<Prefix> parsePrefix(std::string_view text);

enum class Proto : uint8_t { kTcp = 6, kUdp = 17, kSctp = 132 };
std::string_view protoName(Proto p);
Result<Proto> parseProto(std::string_view text);

// One published port range: host [hostAddr]:hostPort..hostPortEnd -> container
// containerPort..(containerPort + hostPortEnd - hostPort). hostAddr unset = every host
// address of both families (0.0.0.0 and ::); an explicit 0.0.0.0 or :: = every address of
// that family only.
struct PortMapping {
  std::optional<Addr> hostAddr;
  uint16_t hostPort = 0;
  uint16_t hostPortEnd = 0;  // == hostPort for a single port
  uint16_t containerPort = 0;
  Proto proto = Proto::kTcp;

  uint16_t count() const { return uint16_t(hostPortEnd - hostPort + 1); }
  // Canonical spec text, e.g. "127.0.0.1:8080-8081:80-81/tcp", "[::1]:53:53/udp".
  std::string str() const;
  bool operator==(const PortMapping&) const = default;
};

// Parses one spec. Errors are kInvalidInput and quote the spec.
Result<PortMapping> parsePortMapping(std::string_view spec);
Result<std::vector<PortMapping>> parsePortMappings(const std::vector<std::string>& specs);

// True when two mappings would claim the same host address, protocol and port: ranges
// overlap and the addresses are equal, or one of them covers every address of the family.
bool overlaps(const PortMapping& a, const PortMapping& b);

}  // namespace netctl::nft
