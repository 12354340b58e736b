// IPAM for the CNI plugin: host-local compatible allocation on disk, and static addresses.
//
// host-local's on-disk format (containernetworking-plugins 1.1.1, verified against
// /usr/lib/cni/host-local): <dataDir>/<network>/ holds one file per reserved address, named by
// the address text ("10.99.0.2", "2001:db8::2"), content "<containerID>\r\n<ifname>", created
// with O_EXCL; last_reserved_ip.<range set index> holds the address handed out last (no
// newline); an empty `lock` file is flock(LOCK_EX)ed around every operation. The reference
// host-local and netctl can therefore share one dataDir, concurrently.
#pragma once

#include <string>
#include <vector>

#include "netctl/cni/config.h"
#include "netctl/cni/protocol.h"
#include "netctl/cni/result.h"

namespace netctl::cni::ipam {

inline constexpr const char* kDefaultDataDir = "/var/lib/cni/networks";

struct Request {
  std::string dataDir;       // root; the network's directory is dataDir/network
  std::string network;       // NetConf::name
  std::string containerId;
  std::string ifname;
  std::vector<IpAddr> requested;  // specific addresses (CNI_ARGS IP, args.cni.ips, runtimeConfig.ips)
};

// The data root for a config: ipam.dataDir if set, else `fallback` (the caller's root).
std::string dataDirFor(const IpamConf& c, const std::string& fallback);

// ADD: one address per range set (or the static ones). The result is IPAM's abbreviated
// result: ips without `interface`, routes, dns. Errors: pool exhausted -> 101, a requested
// address taken or outside every range -> 103, an id+ifname that already holds an address in
// these ranges -> 103, I/O -> 5. On failure nothing stays reserved.
Outcome<NetResult> allocate(const IpamConf& c, const Request& r);
// DEL: releases every address held by containerId+ifname (or, host-local's old format, by
// containerId alone). Succeeds when there is nothing to release or no directory at all.
Outcome<void> release(const IpamConf& c, const Request& r);
// CHECK: host-local: containerId+ifname holds an address in every range set (else 105).
Outcome<void> check(const IpamConf& c, const Request& r);

// GC: releases every reservation of `network` whose (containerId, ifname) is not in `valid`.
// Returns the number of addresses released. Keeps going on errors and reports them together.
struct GcReport {
  int released = 0;
  std::vector<std::string> errors;
};
GcReport gc(const IpamConf& c, const std::string& dataDir, const std::string& network,
            const std::vector<Attachment>& valid);

// The reservations on disk for a network: address -> "id\r\nifname" owner (for tests, tools).
struct Reservation {
  IpAddr address;
  std::string containerId;
  std::string ifname;
};
Outcome<std::vector<Reservation>> list(const std::string& dataDir, const std::string& network);

// Parses resolv.conf text into Dns (nameserver, domain, search, options lines).
Dns parseResolvConf(std::string_view text);

}  // namespace netctl::cni::ipam
