// netctl up FILE: validate, plan (desired minus current), apply; see topology/lab.h.
#include <unistd.h>

#include <cstdio>

#include "cli/options.h"
#include "cli/verbs.h"
#include "netctl/topology/lab.h"
#include "netctl/topology/load.h"

namespace netctl::cli {

int runUp(const GlobalOptions& global, const std::vector<std::string>& args) {
  po::options_description desc("netctl up FILE [--host NAME] [--dry-run] [--strict-images] [--jobs N]");
  desc.add_options()("help,h", "show this help")("file", po::value<std::string>(), "the lab file")(
      "dry-run", "print the plan, change nothing")(
      "strict-images", "an image that is not a local directory is an error")(
      "host", po::value<std::string>(),
      "multi-host lab: bring up the nodes placed on this host (default: the host whose underlay "
      "address is on this machine)")(
      "jobs,j", po::value<int>()->default_value(0), "parallel workers (default: CPUs)");
  po::positional_options_description pos;
  pos.add("file", 1);
  auto vm = parseVerbArgs("up", args, desc, pos);
  if (!vm) return reportError(vm.error());
  if (vm->count("help")) {
    std::printf("%s", helpText(desc).c_str());
    return 0;
  }
  if (!vm->count("file")) return reportError(invalidInput("up: a lab file is required").error());
  auto loaded = topology::loadFile((*vm)["file"].as<std::string>());
  if (!loaded) return reportError(loaded.error());
  for (const auto& w : loaded->warnings) std::fprintf(stderr, "netctl: warning: %s\n", w.str().c_str());
  auto lab = localPartHere(std::move(loaded->lab),
                           vm->count("host") ? (*vm)["host"].as<std::string>() : "", global.root);
  if (!lab) return reportError(lab.error());
  lab::UpOptions o;
  o.root = global.root;
  o.dryRun = vm->count("dry-run") > 0;
  o.strictImages = vm->count("strict-images") > 0;
  o.jobs = (*vm)["jobs"].as<int>();
  o.progress = ::isatty(STDOUT_FILENO);
  auto r = lab::up(*lab, o);
  if (!r) {
    auto e = r.error();
    e.context(lab->localHost.empty() ? fmt::format("up {}", lab->name)
                                     : fmt::format("up {} (host {})", lab->name, lab->localHost));
    return reportError(e);
  }
  return 0;
}

}  // namespace netctl::cli
