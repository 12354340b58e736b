// netctl validate FILE: decode and check a topology without touching the machine. Prints
// every error (not only the first) as file:line:col: path: reason, and the warnings.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/options.h"
#include "cli/verbs.h"
#include "netctl/topology/load.h"

namespace netctl::cli {

int runValidate(const GlobalOptions&, const std::vector<std::string>& args) {
  po::options_description desc("netctl validate FILE [--output table|json]");
  desc.add_options()("help,h", "show this help")("file", po::value<std::string>(), "topology file")(
      "output,o", po::value<std::string>()->default_value("table"), "table or json");
  po::positional_options_description positional;
  positional.add("file", 1);
  auto vm = parseVerbArgs("validate", args, desc, positional);
  if (!vm) return reportError(vm.error());
  if (vm->count("help")) return std::printf("%s", helpText(desc).c_str()), 0;
  if (!vm->count("file")) return reportError(invalidInput("validate: which topology file?").error());
  auto output = parseOutput((*vm)["output"].as<std::string>());
  if (!output) return reportError(output.error());

  const auto file = (*vm)["file"].as<std::string>();
  topology::LoadOptions opts;
  opts.validate = false;  // decode, then report every problem at once
  auto loaded = topology::loadFile(file, opts);
  if (!loaded) return reportError(loaded.error());
  auto problems = topology::check(loaded->lab);

  if (*output == Output::kJson) {
    auto list = [](const std::vector<topology::Diagnostic>& ds) {
      auto out = nlohmann::json::array();
      for (const auto& d : ds)
        out.push_back({{"file", d.file}, {"line", d.loc.line}, {"column", d.loc.col}, {"path", d.path},
                       {"message", d.message}});
      return out;
    };
    nlohmann::json out = {{"file", file}, {"valid", problems.empty()}, {"errors", list(problems)},
                          {"warnings", list(loaded->warnings)}};
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    for (const auto& w : loaded->warnings) std::fprintf(stderr, "warning: %s\n", w.str().c_str());
    for (const auto& p : problems) std::fprintf(stderr, "%s\n", p.str().c_str());
    const auto& lab = loaded->lab;
    if (problems.empty())
      std::printf("%s: lab %s is valid: %zu nodes, %zu links, %zu networks\n", file.c_str(), lab.name.c_str(),
                  lab.nodes.size(), lab.links.size(), lab.networks.size());
  }
  return problems.empty() ? 0 : 2;
}

}  // namespace netctl::cli
