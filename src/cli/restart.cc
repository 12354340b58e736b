// netctl restart LAB NODE: stop, then start.
#include <cstdio>

#include "cli/options.h"
#include "cli/verbs.h"
#include "netctl/topology/live.h"

namespace netctl::cli {

int runRestart(const GlobalOptions& global, const std::vector<std::string>& args) {
  const char* usage = "usage: netctl restart LAB NODE\n";
  if (args.size() == 1 && (args[0] == "-h" || args[0] == "--help")) return std::printf("%s", usage), 0;
  if (args.size() != 2) return reportError(invalidInput(fmt::format("restart: expected LAB NODE\n{}", usage)).error());
  auto r = live::restartNode(global.root, args[0], args[1]);
  if (!r) return reportError(r.error());
  return 0;
}

}  // namespace netctl::cli
