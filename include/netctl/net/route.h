// Routes: add, delete, list, through an nl::Socket of the netns.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "netctl/base/result.h"
#include "netctl/net/ip.h"
#include "netctl/net/link.h"
#include "netctl/net/netlink.h"

namespace netctl::route {

inline constexpr uint32_t kMainTable = 254;  // RT_TABLE_MAIN

struct Route {
  ip::Prefix dst;                    // 0.0.0.0/0 or ::/0 for a default route
  std::optional<ip::Address> via;    // gateway; none: directly connected on dev
  link::Ref dev;                     // output device; may be empty when via is set
  uint32_t metric = 0;
  uint32_t table = kMainTable;
  std::optional<ip::Address> src;    // preferred source address
};

struct Entry {
  ip::Prefix dst;
  std::optional<ip::Address> via;
  int dev = 0;  // output ifindex
  uint32_t metric = 0;
  uint32_t table = kMainTable;
  uint8_t protocol = 0;  // RTPROT_*
  uint8_t scope = 0;     // RT_SCOPE_*
  uint8_t type = 0;      // RTN_*
  std::optional<ip::Address> src;
};

// Fails with EEXIST (kConflict) when the same route exists; replace() overwrites it.
Result<void> add(nl::Socket& s, const Route& r);
Result<void> replace(nl::Socket& s, const Route& r);
// kNotFound when there is no such route.
Result<void> remove(nl::Socket& s, const Route& r);
// The unicast routes of one family (AF_INET or AF_INET6) in `table`. One dump.
Result<std::vector<Entry>> list(nl::Socket& s, int family, uint32_t table = kMainTable);

}  // namespace netctl::route
