// `netctl inspect`: what a running lab is made of, from its stored topology, the runtime's
// node states and (with interfaces) the kernel, read inside each node's netns.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "netctl/base/result.h"

namespace netctl::lab {

// {"name", "nodes": [{"name","state","pid","netns","addresses":[],"ports":[],
//   "interfaces":[{"name","mac","mtu","state","addresses":[]}]}], "links": [{"id","type",
//   "endpoints":[]}], "networks": [{"name","driver","bridge","subnet","gateway"}]}
// kNotFound when the lab has no stored topology.
Result<nlohmann::json> inspect(const std::string& root, const std::string& lab, bool interfaces);

}  // namespace netctl::lab
