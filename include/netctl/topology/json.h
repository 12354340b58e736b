// The resolved lab as JSON, and back: what `up` stores as <state>/labs/<lab>/topology.json, so
// `inspect`, `graph LAB` and `down` work with the lab file gone. Locations are not kept (a
// lab read back from JSON reports errors without line numbers); everything else round-trips.
#pragma once

#include <nlohmann/json.hpp>

#include "netctl/base/result.h"
#include "netctl/topology/model.h"

namespace netctl::topology {

nlohmann::json toJson(const Lab& lab);
// kInvalidInput when the document is not a lab this version wrote. Calls lab.reindex().
Result<Lab> fromJson(const nlohmann::json& doc);

}  // namespace netctl::topology
