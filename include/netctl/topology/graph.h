// Graph export of a lab: nodes, networks (as their own vertices) and links as text.
// SVG is not produced here: laying out a graph means running Graphviz, and the product spawns
// no process; `netctl graph --format dot | dot -Tsvg` gives one.
#pragma once

#include <string>

#include "netctl/topology/model.h"

namespace netctl::topology::graph {

std::string dot(const Lab& lab);
std::string mermaid(const Lab& lab);

}  // namespace netctl::topology::graph
