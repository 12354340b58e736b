// Interface addresses (IPv4 and IPv6): add, delete, list, through an nl::Socket of the netns.
#pragma once

#include <cstdint>
#include <vector>

#include "netctl/base/result.h"
#include "netctl/net/ip.h"
#include "netctl/net/link.h"
#include "netctl/net/netlink.h"

namespace netctl::addr {

struct Options {
  // IPv6: usable at once, without duplicate address detection (a lab assigns addresses itself;
  // DAD would hold the address "tentative" for a second or more).
  bool noDad = true;
  // IPv4: set the broadcast address to the prefix's last address (as `ip addr add ... brd +`).
  bool broadcast = true;
  // Replace instead of failing with EEXIST when the address is already there.
  bool replace = false;
};

struct Entry {
  int index = 0;     // the link's ifindex
  ip::Prefix prefix; // address and prefix length, as assigned ("10.0.0.1/24")
  uint8_t scope = 0; // RT_SCOPE_*
  uint32_t flags = 0;  // IFA_F_*
  std::string label;
};

// `prefix` is the interface address with its prefix length: 10.0.0.1/24 adds 10.0.0.1 and the
// connected route to 10.0.0.0/24.
Result<void> add(nl::Socket& s, const link::Ref& link, const ip::Prefix& prefix, const Options& opts = {});
// kNotFound when the link does not carry the address.
Result<void> remove(nl::Socket& s, const link::Ref& link, const ip::Prefix& prefix);
// family AF_UNSPEC for both; link index 0 for every link. One dump.
Result<std::vector<Entry>> list(nl::Socket& s, int family = 0, int linkIndex = 0);

}  // namespace netctl::addr
