// sysctls of one network namespace (net.*). /proc/sys/net shows the namespace of the thread
// that opens the file, so each access opens it from inside the namespace.
#pragma once

#include <string>
#include <string_view>

#include "netctl/base/result.h"
#include "netctl/net/netns.h"

namespace netctl::sysctl {

// key in dotted form, e.g. "net.ipv4.ip_forward" or "net.ipv4.conf.br0.route_localnet".
Result<std::string> get(const netns::Handle& ns, std::string_view key);
// Sets key and returns its previous value, so a caller can record it and restore it later.
Result<std::string> set(const netns::Handle& ns, std::string_view key, std::string_view value);
// "/proc/sys/net/ipv4/ip_forward" for "net.ipv4.ip_forward". Interface names may hold dots,
// so only the separators before the interface part of a conf/neigh key are converted.
std::string procPath(std::string_view key);

}  // namespace netctl::sysctl
