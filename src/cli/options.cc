#include "cli/options.h"

#include <cstdio>
#include <sstream>

#include <nlohmann/json.hpp>

#include "netctl/base/fs.h"
#include "netctl/net/addr.h"
#include "netctl/net/netlink.h"
#include "netctl/topology/hosts.h"
#include "netctl/topology/state.h"

namespace netctl::cli {

Result<po::variables_map> parseVerbArgs(const std::string& verb, const std::vector<std::string>& args,
                                        const po::options_description& desc,
                                        const po::positional_options_description& positional) {
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(desc).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return invalidInput(fmt::format("{}: {}", verb, e.what()));
  }
  return vm;
}

Result<Output> parseOutput(const std::string& name) {
  if (name == "table" || name == "text") return Output::kTable;
  if (name == "json") return Output::kJson;
  if (name == "csv") return Output::kCsv;
  return invalidInput(fmt::format("--output: unknown format \"{}\" (expected table, json or csv)", name));
}

std::string helpText(const po::options_description& desc) {
  std::ostringstream out;
  out << desc;
  return out.str();
}

int reportError(const Error& error) {
  std::fprintf(stderr, "netctl: %s\n", error.what().c_str());
  return error.exitCode();
}

std::string runningAs(const std::string& root, const std::string& lab) {
  auto paths = state::labPaths(root, lab);
  for (const auto& file : {paths.topology, paths.dir + "/desired.json"}) {
    auto text = fs::readFile(file);
    if (!text) continue;
    auto doc = nlohmann::json::parse(*text, nullptr, false);
    if (doc.is_object()) return doc.value("local_host", std::string());
  }
  return {};
}

Result<topology::Lab> localPartHere(topology::Lab lab, const std::string& host, const std::string& root) {
  if (host.empty() && lab.hosts.empty()) return lab;
  std::string name = host;
  if (name.empty() && lab.hosts.size() == 1) name = lab.hosts.front().name;
  if (name.empty()) {
    // The host whose underlay address this machine (its network namespace) carries.
    auto sock = NETCTL_TRY(nl::Socket::open());
    auto entries = NETCTL_TRYC(addr::list(sock), "finding this machine's addresses");
    std::vector<topology::IpAddress> local;
    for (const auto& e : entries) {
      topology::IpAddress a;
      a.family = e.prefix.isV4() ? 4 : 6;
      const auto& ad = e.prefix.address();
      std::copy(ad.data(), ad.data() + ad.size(), a.bytes.begin());
      local.push_back(a);
    }
    name = NETCTL_TRY(topology::hosts::detect(lab, local));
  }
  std::string running = runningAs(root, lab.name);
  if (!running.empty() && running != name)
    return invalidInput(fmt::format("lab {} runs here as host {}'s part already; take it down first "
                                    "(netctl down {} --host {})",
                                    lab.name, running, lab.file, running));
  return topology::hosts::localPart(lab, name);
}

}  // namespace netctl::cli
