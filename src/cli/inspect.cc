// netctl inspect [LAB] [--output table|json|csv] [--interfaces]
#include <cstdio>

#include "cli/options.h"
#include "cli/verbs.h"
#include "netctl/topology/inspect.h"
#include "netctl/topology/lab.h"

namespace netctl::cli {
namespace {

std::string joined(const nlohmann::json& arr) {
  std::string s;
  for (const auto& x : arr) s += (s.empty() ? "" : ",") + x.get<std::string>();
  return s;
}

std::string csvField(std::string s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

void printTable(const nlohmann::json& lab, bool interfaces) {
  if (lab.contains("host"))
    std::printf("lab %s (this host: %s)\n\n", lab["name"].get<std::string>().c_str(),
                lab["host"].get<std::string>().c_str());
  else
    std::printf("lab %s\n\n", lab["name"].get<std::string>().c_str());
  std::printf("%-16s %-8s %-8s %-32s %s\n", "NODE", "STATE", "PID", "ADDRESSES", "PORTS");
  for (const auto& n : lab["nodes"]) {
    std::printf("%-16s %-8s %-8d %-32s %s\n", n["name"].get<std::string>().c_str(),
                n["state"].get<std::string>().c_str(), n["pid"].get<int>(), joined(n["addresses"]).c_str(),
                joined(n["ports"]).c_str());
    if (interfaces && n.contains("interfaces"))
      for (const auto& i : n["interfaces"])
        std::printf("    %-12s %-17s mtu %-6u %-4s %s\n", i["name"].get<std::string>().c_str(),
                    i["mac"].get<std::string>().c_str(), i["mtu"].get<unsigned>(),
                    i["state"].get<std::string>().c_str(), joined(i["addresses"]).c_str());
  }
  if (lab.contains("placement")) {
    // Multi-host: where every node of the lab runs.
    std::printf("\n%-16s %s\n", "NODE", "HOST");
    for (const auto& [node, host] : lab["placement"].items())
      std::printf("%-16s %s%s\n", node.c_str(), host.get<std::string>().c_str(),
                  host == lab["host"] ? " (here)" : "");
  }
  std::printf("\n%-40s %-8s %s\n", "LINK", "TYPE", "ENDPOINTS");
  for (const auto& l : lab["links"])
    std::printf("%-40s %-8s %s%s\n", l["id"].get<std::string>().c_str(), l["type"].get<std::string>().c_str(),
                joined(l["endpoints"]).c_str(),
                l.contains("remotes") ? (" -> " + joined(l["remotes"]) + " vni " +
                                         std::to_string(l["vni"].get<uint32_t>())).c_str()
                                      : "");
  std::printf("\n%-16s %-8s %-16s %-20s %s\n", "NETWORK", "DRIVER", "DEVICE", "SUBNET", "GATEWAY");
  for (const auto& n : lab["networks"])
    std::printf("%-16s %-8s %-16s %-20s %s\n", n["name"].get<std::string>().c_str(),
                n["driver"].get<std::string>().c_str(), n["bridge"].get<std::string>().c_str(),
                n["subnet"].get<std::string>().c_str(), n["gateway"].get<std::string>().c_str());
}

}  // namespace

int runInspect(const GlobalOptions& global, const std::vector<std::string>& args) {
  po::options_description desc("netctl inspect [LAB] [--output table|json|csv] [--interfaces]");
  desc.add_options()("help,h", "show this help")("lab", po::value<std::string>(), "lab name")(
      "output,o", po::value<std::string>()->default_value("table"), "table, json or csv")(
      "interfaces", "each node's interfaces, read from the kernel");
  po::positional_options_description pos;
  pos.add("lab", 1);
  auto vm = parseVerbArgs("inspect", args, desc, pos);
  if (!vm) return reportError(vm.error());
  if (vm->count("help")) {
    std::printf("%s", helpText(desc).c_str());
    return 0;
  }
  auto output = parseOutput((*vm)["output"].as<std::string>());
  if (!output) return reportError(output.error());
  bool interfaces = vm->count("interfaces") > 0;
  std::vector<std::string> names;
  if (vm->count("lab")) {
    names.push_back((*vm)["lab"].as<std::string>());
  } else {
    auto all = lab::labs(global.root);
    if (!all) return reportError(all.error());
    names = *all;
  }
  nlohmann::json labs = nlohmann::json::array();
  for (const auto& name : names) {
    auto j = lab::inspect(global.root, name, interfaces);
    if (!j) {
      if (!vm->count("lab") && j.error().kind() == Error::Kind::kNotFound) continue;
      return reportError(j.error());
    }
    labs.push_back(std::move(*j));
  }
  if (*output == Output::kJson) {
    std::printf("%s\n", (vm->count("lab") ? labs.at(0) : labs).dump(2).c_str());
  } else if (*output == Output::kCsv) {
    std::printf("lab,node,state,pid,addresses,ports\n");
    for (const auto& l : labs)
      for (const auto& n : l["nodes"])
        std::printf("%s,%s,%s,%d,%s,%s\n", csvField(l["name"]).c_str(), csvField(n["name"]).c_str(),
                    csvField(n["state"]).c_str(), n["pid"].get<int>(), csvField(joined(n["addresses"])).c_str(),
                    csvField(joined(n["ports"])).c_str());
  } else {
    for (const auto& l : labs) printTable(l, interfaces);
  }
  return 0;
}

}  // namespace netctl::cli
