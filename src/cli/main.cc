// netctl's entry point: global options, then one verb (src/cli/<verb>.cc).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "cli/options.h"
#include "cli/verbs.h"

namespace netctl::cli {
namespace {

void printUsage(FILE* out) {
  std::fprintf(out,
               "usage: netctl [-v] [--log-format text|json] [--root DIR] VERB [ARGS...]\n\n"
               "verbs:\n");
  for (const auto& verb : verbs()) std::fprintf(out, "  %-10s %s\n", verb.name, verb.summary);
  std::fprintf(out, "\nRun `netctl VERB --help` for a verb's options.\n");
}

int run(int argc, char** argv) {
  // A runtime calls plugins with CNI_COMMAND set, under the conflist's type name.
  if (std::getenv("CNI_COMMAND")) return runCni(GlobalOptions{}, {});
  GlobalOptions global;
  if (const char* root = std::getenv("NETCTL_ROOT")) global.root = root;
  if (global.root.empty()) global.root = "/run/netctl";

  std::string logFormat = "text";
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; ++i) {
    std::string arg = argv[i];
    if (arg == "-v" || arg == "--verbose") {
      ++global.verbosity;
    } else if (arg == "-vv") {
      global.verbosity += 2;
    } else if ((arg == "--log-format" || arg == "--root") && i + 1 < argc) {
      (arg == "--root" ? global.root : logFormat) = argv[++i];
    } else if (arg == "-h" || arg == "--help") {
      printUsage(stdout);
      return 0;
    } else if (arg == "--version") {
      std::printf("netctl %s\n", NETCTL_VERSION);
      return 0;
    } else {
      return reportError(invalidInput(fmt::format("unknown global option {}", arg)).error());
    }
  }
  auto format = log::parseFormat(logFormat);
  if (!format) return reportError(format.error());
  global.logFormat = *format;
  log::setup(global.verbosity, global.logFormat);

  if (i >= argc) {
    printUsage(stderr);
    return 2;
  }
  std::string name = argv[i];
  std::vector<std::string> args(argv + i + 1, argv + argc);
  for (const auto& verb : verbs()) {
    if (name == verb.name) return verb.run(global, args);
  }
  return reportError(invalidInput(fmt::format("unknown verb \"{}\" (see netctl --help)", name)).error());
}

}  // namespace
}  // namespace netctl::cli

int main(int argc, char** argv) { return netctl::cli::run(argc, argv); }
