#include "cli/options.h"

#include <cstdio>
#include <sstream>

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

}  // namespace netctl::cli
