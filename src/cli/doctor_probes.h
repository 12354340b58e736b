// The checks of `netctl doctor`, and the network probes (link kinds, nftables NAT), which run
// in a scratch network namespace.
#pragma once

#include <string>
#include <vector>

namespace netctl::cli::doctor {

enum class Status { kOk, kMissing, kWarn };

struct Check {
  std::string area;    // "net", "runtime"
  std::string name;
  Status status;
  std::string detail;  // what works, or the missing kernel option and what it disables
  bool required = true;
};

std::vector<Check> probeNetwork();

}  // namespace netctl::cli::doctor
