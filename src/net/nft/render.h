// Renders netctl's NAT state into nf_tables messages: the whole table (atomic replace) or the
// element changes of one container. Internal to src/net/nft.
#pragma once

#include <vector>

#include "netctl/net/nft/nat.h"
#include "objects.h"

namespace netctl::nft {

// Names of the sets and maps (also read back by readBack and the tests).
// Published ports on every host address: proto . port -> container addr . port.
inline constexpr const char* kAnyPort4 = "anyport4";
inline constexpr const char* kAnyPort6 = "anyport6";
// Published ports on one host address: host addr . proto . port -> container addr . port.
inline constexpr const char* kHostPort4 = "hostport4";
inline constexpr const char* kHostPort6 = "hostport6";
inline constexpr const char* kPublished4 = "published4";
inline constexpr const char* kPublished6 = "published6";
inline constexpr const char* kFwdIn = "fwd_in";
inline constexpr const char* kFwdOut = "fwd_out";

struct PortElements {
  std::vector<Element> any4, any6, host4, host6, pub4, pub6;
};
// The elements of one container's mappings. kInvalidInput when a mapping needs an address
// family the container lacks.
Result<PortElements> portElements(const ContainerPorts& c);
void emitPortElements(Batch& b, const PortElements& e, bool add);

// Deletes netctl's tables if they exist (create-then-delete keeps it one atomic batch on any
// kernel). withBridge: also the `bridge netctl` table.
void deleteTables(Batch& b, bool withBridge);
// Appends the complete desired ruleset (after deleteTables in the same batch).
Result<void> renderAll(Batch& b, const State& s, bool bridgeFamily);

}  // namespace netctl::nft
