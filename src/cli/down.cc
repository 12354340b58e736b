// netctl down FILE|LAB [--all]: remove everything a lab's journal records.
#include <cstdio>

#include "cli/options.h"
#include "cli/verbs.h"
#include "netctl/base/fs.h"
#include "netctl/topology/lab.h"
#include "netctl/topology/load.h"

namespace netctl::cli {

int runDown(const GlobalOptions& global, const std::vector<std::string>& args) {
  po::options_description desc("netctl down FILE|LAB [--host NAME] | --all");
  desc.add_options()("help,h", "show this help")("lab", po::value<std::string>(), "lab file or name")(
      "all", "take down every lab")(
      "host", po::value<std::string>(),
      "multi-host lab: the part here must be this host's (the other hosts' parts are theirs)");
  po::positional_options_description pos;
  pos.add("lab", 1);
  auto vm = parseVerbArgs("down", args, desc, pos);
  if (!vm) return reportError(vm.error());
  if (vm->count("help")) {
    std::printf("%s", helpText(desc).c_str());
    return 0;
  }
  std::vector<std::string> names;
  if (vm->count("all")) {
    auto all = lab::labs(global.root);
    if (!all) return reportError(all.error());
    names = *all;
  } else if (vm->count("lab")) {
    std::string arg = (*vm)["lab"].as<std::string>();
    // A file names its lab; the file may be gone, then the argument is the lab's name.
    if (fs::exists(arg) && (arg.find('/') != std::string::npos || arg.ends_with(".yaml") ||
                            arg.ends_with(".yml"))) {
      topology::LoadOptions lo;
      lo.validate = false;
      auto loaded = topology::loadFile(arg, lo);
      if (!loaded) return reportError(loaded.error());
      names.push_back(loaded->lab.name);
    } else {
      names.push_back(arg);
    }
  } else {
    return reportError(invalidInput("down: a lab file or name (or --all) is required").error());
  }
  if (vm->count("host")) {
    // Each host holds only its own part, so there is nothing else to remove here; refusing a
    // mismatch keeps a wrong --host from taking down the part another host name ran here.
    std::string host = (*vm)["host"].as<std::string>();
    for (const auto& name : names) {
      std::string running = runningAs(global.root, name);
      if (!running.empty() && running != host)
        return reportError(invalidInput(fmt::format("down {}: this machine runs host {}'s part, not "
                                                    "host {}'s", name, running, host)).error());
    }
  }
  int rc = 0;
  for (const auto& name : names) {
    auto r = lab::down(global.root, name);
    if (!r) {
      auto e = r.error();
      e.context(fmt::format("down {}", name));
      rc = reportError(e);
    } else {
      std::printf("lab %s: down\n", name.c_str());
    }
  }
  return rc;
}

}  // namespace netctl::cli
