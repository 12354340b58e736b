// A lab named on the command line, as a topology file or as the name of a lab that is up.
#pragma once

#include <string>

#include "netctl/base/result.h"
#include "netctl/topology/model.h"

namespace netctl::cli {

// A path to an existing file is loaded (and validated); anything else is the name of a lab
// whose resolved topology is read back from the state root.
Result<topology::Lab> loadLabArg(const std::string& arg, const std::string& root);

}  // namespace netctl::cli
