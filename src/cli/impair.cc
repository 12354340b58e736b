// netctl impair set|show|reset LAB [NODE:IFACE] [--rate R --delay D --loss P ...] [--output json]
// `set` changes only the parameters it is given (on that interface's egress); `reset` removes
// the impairment; `show` reads what the kernel has, for one interface or the whole lab.
#include <cstdio>

#include "cli/options.h"
#include "cli/verbs.h"
#include "netctl/topology/live.h"

namespace netctl::cli {
namespace {

struct Param {
  const char* name;
  const char* help;
};
const Param kParams[] = {
    {"rate", "shaper rate in bits/s (tbf): 50mbit, 40gbit"},
    {"burst", "bucket size in bytes (default 2 ms of rate, >= 16k)"},
    {"delay", "netem delay: 20ms"},
    {"jitter", "netem jitter (needs delay): 5ms"},
    {"correlation", "delay correlation, percent"},
    {"delay-correlation", "the same as --correlation"},
    {"distribution", "jitter shape: normal, pareto, paretonormal, uniform"},
    {"loss", "packet loss, percent"},
    {"loss-correlation", "loss correlation, percent"},
    {"corrupt", "corrupted packets, percent"},
    {"duplicate", "duplicated packets, percent"},
    {"reorder", "reordered packets, percent (needs delay)"},
    {"reorder-correlation", "reorder correlation, percent"},
    {"limit", "netem queue, packets"},
};

std::string cell(const nlohmann::json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) return fmt::format("{}%", v.get<double>());
  return v.dump();
}

void printTable(const std::vector<live::ImpairRow>& rows) {
  std::printf("%-24s %-10s %-10s %-9s %-9s %-8s %-8s %-8s %-8s %s\n", "INTERFACE", "QDISC", "RATE", "DELAY",
              "JITTER", "LOSS", "CORRUPT", "DUP", "REORDER", "LIMIT");
  for (const auto& r : rows) {
    auto j = live::toJson(r);
    std::string rate = r.state.impairment.rate ? qdisc::formatRate(*r.state.impairment.rate) : "-";
    std::printf("%-24s %-10s %-10s %-9s %-9s %-8s %-8s %-8s %-8s %s\n", r.where.str().c_str(),
                cell(j["qdisc"]).c_str(), rate.c_str(), cell(j["delay"]).c_str(), cell(j["jitter"]).c_str(),
                cell(j["packet_loss"]).c_str(), cell(j["corruption"]).c_str(), cell(j["duplicate"]).c_str(),
                cell(j["reorder"]).c_str(), cell(j["limit"]).c_str());
  }
}

}  // namespace

int runImpair(const GlobalOptions& global, const std::vector<std::string>& args) {
  po::options_description desc(
      "netctl impair set|show|reset LAB [NODE:IFACE] [options]\n"
      "  set changes only the parameters given; rates in bits (50mbit, 10gbit), durations with a\n"
      "  unit (20ms), percentages (0.5 or 0.5%)");
  desc.add_options()("help,h", "show this help")("action", po::value<std::string>(), "set, show or reset")(
      "lab", po::value<std::string>(), "lab name")("iface", po::value<std::string>(), "NODE:IFACE")(
      "output,o", po::value<std::string>()->default_value("table"), "show: table or json");
  for (const auto& p : kParams) desc.add_options()(p.name, po::value<std::string>(), p.help);
  po::positional_options_description pos;
  pos.add("action", 1).add("lab", 1).add("iface", 1);
  auto vm = parseVerbArgs("impair", args, desc, pos);
  if (!vm) return reportError(vm.error());
  if (vm->count("help")) return std::printf("%s", helpText(desc).c_str()), 0;
  if (!vm->count("action") || !vm->count("lab"))
    return reportError(invalidInput("impair: expected set|show|reset LAB [NODE:IFACE]").error());
  std::string action = (*vm)["action"].as<std::string>(), lab = (*vm)["lab"].as<std::string>();
  std::optional<live::IfaceRef> at;
  if (vm->count("iface")) {
    auto r = live::parseIfaceRef((*vm)["iface"].as<std::string>());
    if (!r) return reportError(r.error().context("impair"));
    at = *r;
  }
  std::vector<std::pair<std::string, std::string>> flags;
  for (const auto& p : kParams)
    if (vm->count(p.name)) flags.emplace_back(p.name, (*vm)[p.name].as<std::string>());

  if (action == "show") {
    auto output = parseOutput((*vm)["output"].as<std::string>());
    if (!output) return reportError(output.error());
    auto rows = live::impairShow(global.root, lab, at);
    if (!rows) return reportError(rows.error().context(fmt::format("impair show {}", lab)));
    if (*output == Output::kJson) {
      nlohmann::json arr = nlohmann::json::array();
      for (const auto& r : *rows) arr.push_back(live::toJson(r));
      std::printf("%s\n", arr.dump(2).c_str());
    } else {
      printTable(*rows);
    }
    return 0;
  }
  if (action != "set" && action != "reset")
    return reportError(invalidInput(fmt::format("impair: unknown action \"{}\" (set, show or reset)", action)).error());
  if (!at) return reportError(invalidInput(fmt::format("impair {}: NODE:IFACE is required", action)).error());
  if (action == "reset") {
    auto r = live::impairReset(global.root, lab, *at);
    if (!r) return reportError(r.error().context(fmt::format("impair reset {}", lab)));
    return 0;
  }
  auto changes = live::parseImpairFlags(flags);
  if (!changes) return reportError(changes.error().context("impair set"));
  if (flags.empty()) return reportError(invalidInput("impair set: nothing to set (--rate, --delay, --loss, ...)").error());
  auto r = live::impairSet(global.root, lab, *at, *changes);
  if (!r) return reportError(r.error().context(fmt::format("impair set {}", lab)));
  return 0;
}

}  // namespace netctl::cli
