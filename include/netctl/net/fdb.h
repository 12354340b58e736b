// Forwarding-database entries of VXLAN devices (RTM_NEWNEIGH, AF_BRIDGE, NTF_SELF): where a
// VXLAN device sends the frames for a MAC. The all-zero MAC is the default destination, used for
// broadcast, multicast and unknown unicast; several all-zero entries make the device send one
// copy to each (head-end replication), which joins a bridge across hosts without multicast in
// the underlay. Entries are permanent (NUD_PERMANENT | NUD_NOARP): the kernel keeps them while
// the device is down and across a move to another netns, and never ages them out.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "netctl/base/result.h"
#include "netctl/net/ip.h"
#include "netctl/net/link.h"
#include "netctl/net/netlink.h"

namespace netctl::fdb {

struct Remote {
  link::Mac mac;      // all-zero: the default (flooding) destination
  ip::Address dst;    // the peer's underlay address
  uint16_t port = 0;  // the peer's UDP port; 0: the device's own port
};

// Appends one entry to the VXLAN device `dev` (NLM_F_APPEND: entries for the same MAC add up).
// Appending an entry that exists already succeeds.
Result<void> append(nl::Socket& s, const link::Ref& dev, const Remote& remote);
// Removes one entry. Whether removing an absent one fails depends on the kernel (6.x accepts
// it while the MAC has other destinations); callers should not rely on either.
Result<void> remove(nl::Socket& s, const link::Ref& dev, const Remote& remote);
// The device's entries that have a remote destination (one dump, filtered by the kernel).
Result<std::vector<Remote>> list(nl::Socket& s, const link::Ref& dev);

}  // namespace netctl::fdb
