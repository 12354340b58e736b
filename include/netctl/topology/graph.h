// Graph export of a lab: nodes, networks (as their own vertices) and links, as dot, mermaid or
// SVG text. The lab is turned into vertices and edges once (build); each format only prints
// them. SVG is laid out here (nodes on a circle) because the product spawns no Graphviz; for a
// layered layout, `netctl graph --format dot | dot -Tsvg` gives one.
#pragma once

#include <string>
#include <vector>

#include "netctl/topology/model.h"

namespace netctl::topology::graph {

enum class Shape { kNode, kNetwork, kHost, kCloud, kPoint };

struct Vertex {
  std::string id;                  // "r1", "net:lan", "host", "vxlan:10.0.0.2", ...
  std::vector<std::string> label;  // lines
  Shape shape = Shape::kNode;
  std::string group;
};

struct Edge {
  std::string a, b;  // vertex ids
  std::string tail;  // at a: "eth1 10.0.0.1/30"
  std::string head;  // at b
  std::string label; // on the middle
};

struct Graph {
  std::string name;
  std::vector<Vertex> vertices;  // networks, nodes, then the link-only vertices, in file order
  std::vector<Edge> edges;
};

Graph build(const Lab& lab);

std::string dot(const Lab& lab);
std::string mermaid(const Lab& lab);
std::string svg(const Lab& lab);

}  // namespace netctl::topology::graph
