// netctl stop|start|restart LAB NODE: the node's processes end or run again; its links stay
// (stop parks its interfaces in its pinned netns, start brings them back as they were).
#include <cstdio>

#include "cli/options.h"
#include "cli/verbs.h"
#include "netctl/topology/live.h"

namespace netctl::cli {
namespace {

using NodeOp = Result<void> (*)(const std::string& root, const std::string& lab, const std::string& node);

int runNodeOp(const char* verb, NodeOp op, const GlobalOptions& global, const std::vector<std::string>& args) {
  std::string usage = fmt::format("usage: netctl {} LAB NODE\n", verb);
  if (args.size() == 1 && (args[0] == "-h" || args[0] == "--help")) return std::printf("%s", usage.c_str()), 0;
  if (args.size() != 2) return reportError(invalidInput(fmt::format("{}: expected LAB NODE\n{}", verb, usage)).error());
  auto r = op(global.root, args[0], args[1]);
  if (!r) return reportError(r.error());
  return 0;
}

}  // namespace

int runStop(const GlobalOptions& g, const std::vector<std::string>& a) { return runNodeOp("stop", live::stopNode, g, a); }
int runStart(const GlobalOptions& g, const std::vector<std::string>& a) { return runNodeOp("start", live::startNode, g, a); }
int runRestart(const GlobalOptions& g, const std::vector<std::string>& a) { return runNodeOp("restart", live::restartNode, g, a); }

}  // namespace netctl::cli
