#include "cli/lab_arg.h"

#include <nlohmann/json.hpp>

#include "netctl/base/fs.h"
#include "netctl/topology/json.h"
#include "netctl/topology/load.h"
#include "netctl/topology/state.h"

namespace netctl::cli {

Result<topology::Lab> loadLabArg(const std::string& arg, const std::string& root) {
  if (fs::exists(arg)) {
    auto loaded = NETCTL_TRY(topology::loadFile(arg));
    return std::move(loaded.lab);
  }
  auto paths = state::labPaths(root, arg);
  if (!fs::exists(paths.topology))
    return notFound(fmt::format("{} is neither a topology file nor a lab that is up", arg));
  auto text = NETCTL_TRYC(fs::readFile(paths.topology), "lab {}", arg);
  auto doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return invalidInput(fmt::format("{}: not valid JSON", paths.topology));
  return NETCTL_TRYC(topology::fromJson(doc), "lab {}", arg);
}

}  // namespace netctl::cli
