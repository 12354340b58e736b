// TCP goodput between two network namespaces, measured by the tests that shape links.
#pragma once

#include <chrono>
#include <string>

#include "netctl/net/netns.h"

namespace netctl::testing {

// Bytes per second x 8 that a TCP stream from `from` to addr:5201 (listened on in `to`)
// delivers, counted at the receiver after `warmup` (slow start and a shaper's first burst are
// not the rate) for about `duration`. 0, with a test failure, when it could not run.
double goodput(const netns::Handle& from, const netns::Handle& to, const std::string& addr,
               std::chrono::milliseconds warmup, std::chrono::milliseconds duration);

}  // namespace netctl::testing
