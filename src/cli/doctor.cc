// netctl doctor: what this machine supports for netctl.
#include "cli/options.h"
#include "cli/verbs.h"

namespace netctl::cli {

int runDoctor(const GlobalOptions&, const std::vector<std::string>&) {
  return reportError(unsupported("doctor: not built yet").error());
}

}  // namespace netctl::cli
