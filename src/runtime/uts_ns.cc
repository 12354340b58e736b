#include <unistd.h>

#include "runtime/steps.h"

namespace netctl::runtime::uts_ns {

Result<void> setHostnameInChild(const std::string& hostname) {
  if (::sethostname(hostname.data(), hostname.size()) != 0) return errnoError(fmt::format("sethostname {}", hostname));
  return {};
}

}  // namespace netctl::runtime::uts_ns
