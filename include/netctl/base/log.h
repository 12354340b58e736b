// Logging setup. netctl is quiet by default (warnings and errors only, on stderr); -v shows
// debug logs; --log-format json prints one JSON object per line for machines.
#pragma once

#include <string>

#include "netctl/base/result.h"

namespace netctl::log {

enum class Format { kText, kJson };

Result<Format> parseFormat(const std::string& name);
// verbosity 0: warnings; 1: info and debug; 2 and more: trace.
void setup(int verbosity, Format format);

}  // namespace netctl::log
