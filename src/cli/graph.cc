// netctl graph FILE|LAB --format dot|mermaid|svg: the lab's nodes, networks and links as text.
#include <cstdio>

#include "cli/lab_arg.h"
#include "cli/options.h"
#include "cli/verbs.h"
#include "netctl/topology/graph.h"

namespace netctl::cli {

int runGraph(const GlobalOptions& global, const std::vector<std::string>& args) {
  po::options_description desc("netctl graph FILE|LAB [--format dot|mermaid|svg]");
  desc.add_options()("help,h", "show this help")("lab", po::value<std::string>(), "topology file or lab name")(
      "format,f", po::value<std::string>()->default_value("dot"), "dot, mermaid or svg");
  po::positional_options_description positional;
  positional.add("lab", 1);
  auto vm = parseVerbArgs("graph", args, desc, positional);
  if (!vm) return reportError(vm.error());
  if (vm->count("help")) return std::printf("%s", helpText(desc).c_str()), 0;
  if (!vm->count("lab")) return reportError(invalidInput("graph: which topology file or lab?").error());

  const auto format = (*vm)["format"].as<std::string>();
  std::string (*render)(const topology::Lab&) = nullptr;
  if (format == "dot") render = topology::graph::dot;
  if (format == "mermaid") render = topology::graph::mermaid;
  if (format == "svg") render = topology::graph::svg;
  if (!render)
    return reportError(invalidInput(fmt::format("graph: --format: unknown format \"{}\" (expected dot, mermaid or svg)", format)).error());

  auto lab = loadLabArg((*vm)["lab"].as<std::string>(), global.root);
  if (!lab) return reportError(lab.error());
  std::fputs(render(*lab).c_str(), stdout);
  return 0;
}

}  // namespace netctl::cli
