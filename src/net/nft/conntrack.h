// Conntrack entries that would keep a new UDP port mapping from working. Internal.
#pragma once

#include <cstdint>
#include <vector>

#include "netctl/base/result.h"
#include "netlink.h"

namespace netctl::nft::conntrack {

// Deletes the UDP conntrack entries (both families) whose original destination port is one
// of ports: they were created before the mapping and would bypass its DNAT.
Result<void> flushUdp(Socket& sock, const std::vector<uint16_t>& ports);

}  // namespace netctl::nft::conntrack
