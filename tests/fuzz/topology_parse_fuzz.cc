// Arbitrary bytes through the topology parser (both dialects, validation, address assignment,
// derived names and graph export): it must return an error or a lab, never crash or throw.
#include <cstddef>
#include <cstdint>
#include <string>

#include "netctl/topology/graph.h"
#include "netctl/topology/load.h"
#include "netctl/topology/names.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  netctl::topology::LoadOptions opts;
  opts.getenv = [](const std::string& name) -> std::optional<std::string> {
    if (name == "SET") return std::string("value");
    return std::nullopt;
  };
  auto loaded = netctl::topology::loadString(text, "fuzz.yaml", opts);
  if (!loaded) return 0;
  const auto& lab = loaded->lab;
  (void)netctl::topology::graph::dot(lab);
  (void)netctl::topology::graph::mermaid(lab);
  (void)netctl::topology::hostRequirements(lab);
  for (const auto& link : lab.links) (void)netctl::topology::names::vni(lab.name, link);
  return 0;
}
