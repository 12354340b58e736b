// Fuzz target: arbitrary bytes as a CNI network configuration (stdin of a plugin), as a
// conflist, as a result (prevResult) and as CNI_ARGS. Nothing may crash; whatever parses must
// render and re-parse.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "netctl/cni/config.h"
#include "netctl/cni/plugin.h"
#include "netctl/cni/result.h"

using namespace netctl::cni;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);

  auto conf = parseNetConf(text);
  if (conf) {
    if (conf->prevResult) {
      for (auto v : kSupportedVersions) {
        auto rendered = renderResult(*conf->prevResult, v);
        auto again = parseResult(nlohmann::json::parse(rendered), v);
        if (!again) std::abort();  // what we print we must read back
      }
      (void)validateResult(*conf->prevResult);
    }
  } else if (conf.error().msg.empty()) {
    std::abort();  // every failure says what failed
  }

  auto list = parseConfList(text);
  if (list)
    for (size_t i = 0; i < list->plugins.size(); ++i) (void)parseNetConf(requestConfig(*list, i));

  auto j = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (!j.is_discarded())
    for (auto v : kSupportedVersions) (void)convertResult(j, v);

  (void)parseCniArgs(text);
  (void)parseNetns(text);
  (void)versionReply(text);
  return 0;
}
