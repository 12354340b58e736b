#include "netctl/base/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace netctl::log {

Result<Format> parseFormat(const std::string& name) {
  if (name == "text") return Format::kText;
  if (name == "json") return Format::kJson;
  return invalidInput(fmt::format("--log-format: unknown format \"{}\" (expected text or json)", name));
}

void setup(int verbosity, Format format) {
  auto logger = spdlog::stderr_logger_mt("netctl");
  if (format == Format::kJson) {
    // One object per line; %v is escaped by the callers that log user text (names are plain).
    logger->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","msg":"%v"})");
  } else {
    logger->set_pattern("netctl: %^%l%$: %v");
  }
  logger->set_level(verbosity >= 2   ? spdlog::level::trace
                    : verbosity == 1 ? spdlog::level::debug
                                     : spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

}  // namespace netctl::log
