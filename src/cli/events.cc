// netctl events LAB [--output text|json] [--duration SECONDS]: a live stream of link up/down,
// address and node state changes, until interrupted (or for SECONDS).
#include <csignal>
#include <cstdio>

#include "cli/options.h"
#include "cli/verbs.h"
#include "netctl/topology/live.h"

namespace netctl::cli {
namespace {
std::atomic<bool> gStop{false};
extern "C" void onSignal(int) { gStop.store(true); }
}  // namespace

int runEvents(const GlobalOptions& global, const std::vector<std::string>& args) {
  po::options_description desc("netctl events LAB [--output text|json] [--duration SECONDS]");
  desc.add_options()("help,h", "show this help")("lab", po::value<std::string>(), "lab name")(
      "output,o", po::value<std::string>()->default_value("text"), "text or json (JSON lines)")(
      "duration", po::value<double>(), "stop after this many seconds");
  po::positional_options_description pos;
  pos.add("lab", 1);
  auto vm = parseVerbArgs("events", args, desc, pos);
  if (!vm) return reportError(vm.error());
  if (vm->count("help")) return std::printf("%s", helpText(desc).c_str()), 0;
  if (!vm->count("lab")) return reportError(invalidInput("events: expected LAB").error());
  auto output = parseOutput((*vm)["output"].as<std::string>());
  if (!output) return reportError(output.error());
  live::EventOptions o;
  o.json = *output == Output::kJson;
  if (vm->count("duration")) o.seconds = (*vm)["duration"].as<double>();
  o.stop = &gStop;
  struct sigaction sa{};
  sa.sa_handler = onSignal;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  std::string lab = (*vm)["lab"].as<std::string>();
  auto r = live::streamEvents(global.root, lab, o);
  if (!r) return reportError(r.error().context(fmt::format("events {}", lab)));
  return 0;
}

}  // namespace netctl::cli
