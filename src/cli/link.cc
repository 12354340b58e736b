// netctl link down|up LAB NODE:IFACE: both ends of the link go down or up; the lab's state
// records it, so a later `up` keeps the link down.
#include <cstdio>

#include "cli/options.h"
#include "cli/verbs.h"
#include "netctl/topology/live.h"

namespace netctl::cli {

int runLink(const GlobalOptions& global, const std::vector<std::string>& args) {
  const char* usage = "usage: netctl link down|up LAB NODE:IFACE\n";
  if (args.size() == 1 && (args[0] == "-h" || args[0] == "--help")) return std::printf("%s", usage), 0;
  if (args.size() != 3 || (args[0] != "down" && args[0] != "up"))
    return reportError(invalidInput(fmt::format("link: expected down|up LAB NODE:IFACE\n{}", usage)).error());
  auto at = live::parseIfaceRef(args[2]);
  if (!at) return reportError(at.error().context("link"));
  auto r = live::setLinkState(global.root, args[1], *at, args[0] == "up");
  if (!r) return reportError(r.error().context(fmt::format("link {} {}", args[0], args[1])));
  return 0;
}

}  // namespace netctl::cli
