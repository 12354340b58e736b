// `netctl cni` and CNI_COMMAND: netctl as a CNI plugin (docs/cni.md). The protocol half lives
// in src/cni/plugin.cc, the kernel half in src/cni/backend.cc; this only wires them to the
// process. The binary answers under whatever type name it was installed as (a link or copy
// named after the conflist's "type"), so argv[0]'s basename counts as "netctl" too.
#include <errno.h>

#include <string>
#include <vector>

#include "cli/verbs.h"
#include "netctl/cni/backend.h"
#include "netctl/cni/plugin.h"

namespace netctl::cli {

int runCni(const GlobalOptions& global, const std::vector<std::string>& args) {
  if (!args.empty() && (args[0] == "-h" || args[0] == "--help")) {
    std::printf(
        "usage: netctl cni   (or any name, with CNI_COMMAND set)\n\n"
        "Runs as a CNI plugin: reads CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_ARGS\n"
        "and CNI_PATH from the environment and the network configuration from stdin, and prints\n"
        "the result or the error as JSON on stdout. See docs/cni.md.\n");
    return 0;
  }
  // Logs go to stderr; stdout carries only the CNI JSON.
  log::setup(global.verbosity, global.logFormat);
  cni::BackendOptions bo;
  if (!global.root.empty()) bo.stateDir = global.root + "/cni";
  cni::KernelBackend backend(bo);
  cni::Options opts;
  opts.extraTypeNames = {program_invocation_short_name};
  return cni::runFromProcess(backend, opts);
}

}  // namespace netctl::cli
