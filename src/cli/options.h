// Shared helpers of the verbs: parsing a verb's options, reporting errors, choosing output.
#pragma once

#include <boost/program_options.hpp>
#include <string>
#include <vector>

#include "netctl/base/result.h"
#include "netctl/topology/model.h"

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

// Multi-host labs (topology/hosts.h): the part of `lab` that runs here. `host` names it; empty
// means the lab's only host, else the host whose underlay address is on this machine. Refuses
// a host other than the one this machine's state root already runs the lab as. A lab without
// hosts and no `host` is returned as is.
Result<topology::Lab> localPartHere(topology::Lab lab, const std::string& host, const std::string& root);
// The host a running lab's part here was brought up as ("" when it is not multi-host, or not up).
std::string runningAs(const std::string& root, const std::string& lab);

}  // namespace netctl::cli
