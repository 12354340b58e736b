// The host's NAT state shared by all labs (network.cc).
#pragma once

#include <string>
#include <vector>

#include "netctl/base/result.h"
#include "netctl/topology/model.h"

namespace netctl::lab {

// The bridge device of a lab network.
std::string bridgeName(const topology::Lab& lab, const topology::Network& n);
// Every lab's desired topology (desired.json) but `except`'s.
Result<std::vector<topology::Lab>> desiredLabs(const std::string& root, const std::string& except);
// Rebuilds the host's `inet netctl` table from every other lab plus `desired` (nullptr: the
// lab goes away); removes the table and restores sysctls when nothing is left.
Result<void> syncHostNat(const std::string& root, const std::string& lab,
                         const topology::Lab* desired);

}  // namespace netctl::lab
