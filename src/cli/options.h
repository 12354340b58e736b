// Shared helpers of the verbs: parsing a verb's options, reporting errors, choosing output.
#pragma once

#include <boost/program_options.hpp>
#include <string>
#include <vector>

#include "netctl/base/result.h"

namespace netctl::cli {

namespace po = boost::program_options;

enum class Output { kTable, kJson, kCsv };

// Parses args against desc (and positional names); invalid usage is kInvalidInput.
Result<po::variables_map> parseVerbArgs(const std::string& verb, const std::vector<std::string>& args,
                                        const po::options_description& desc,
                                        const po::positional_options_description& positional = {});
Result<Output> parseOutput(const std::string& name);
std::string helpText(const po::options_description& desc);

// Prints "netctl: <error>" on stderr and returns the error's exit code.
int reportError(const Error& error);

}  // namespace netctl::cli
