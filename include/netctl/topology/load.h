// Reading a lab file: YAML -> the typed model (model.h), for both dialects, then validation.
// A file with a top-level `topology:` key is containerlab's dialect; anything else is native.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "netctl/base/result.h"
#include "netctl/topology/model.h"

namespace netctl::topology {

struct LoadOptions {
  // Environment for containerlab `${VAR}` expansion; unset = the process environment.
  std::function<std::optional<std::string>(const std::string&)> getenv;
  // Run validate() after decoding (the default). Off only for tools that want the raw model.
  bool validate = true;
};

struct Loaded {
  Lab lab;
  std::vector<Diagnostic> warnings;  // keys that cannot apply here, unset variables, ...
};

// Errors are kInvalidInput with the message "file:line:col: path: reason" (Diagnostic::str()),
// except a file that cannot be read (kNotFound / kSystem).
Result<Loaded> loadFile(const std::string& path, const LoadOptions& opts = {});
Result<Loaded> loadString(std::string_view yaml, const std::string& file,
                          const LoadOptions& opts = {});

// Every validation error of a decoded lab, in a stable order (empty = valid). `validate`
// returns the first as an Error; `netctl validate` may print them all.
std::vector<Diagnostic> check(const Lab& lab);
Result<void> validate(const Lab& lab);

// Conflicts between `lab` and labs already running on this machine (read back from their
// topology.json; a lab of the same name is skipped, it is the one being updated): overlapping
// subnets, host ports published twice, and host-netns interface names used twice. Each
// Diagnostic points into `lab`'s file.
std::vector<Diagnostic> checkAgainst(const Lab& lab, const std::vector<const Lab*>& running);

// What the planner must verify against the running kernel before creating anything (the
// model never looks at the host): a parent interface that must exist, a kernel feature that
// must be present. Turn a failed one into an error with lab.at(req.loc, req.path, ...).
struct HostRequirement {
  enum class What { kInterfaceExists, kInterfaceAbsent, kKernelFeature } what;
  std::string name;  // interface name, or feature: "veth", "bridge", "macvlan", "vxlan", "dummy",
                     // "netem", "tbf"
  std::string path;
  Loc loc;
};
std::vector<HostRequirement> hostRequirements(const Lab& lab);

// Error for a Diagnostic, kind kInvalidInput.
Error toError(const Diagnostic& d);

}  // namespace netctl::topology
