#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/steps.h"

namespace netctl::runtime::caps {

Result<void> dropBoundingInChild(uint64_t mask) {
  // Needs CAP_SETPCAP in the effective set: done while still root, before the uid switch.
  for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
    if (mask & (uint64_t{1} << cap)) continue;
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL)
      return errnoError(fmt::format("dropping capability {} from the bounding set", capabilityName(cap)));
  }
  return {};
}

Result<void> applyInChild(uint64_t mask) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  for (int i = 0; i < 2; ++i) {
    auto word = static_cast<uint32_t>(mask >> (32 * i));
    data[i].effective = data[i].permitted = data[i].inheritable = word;
  }
  if (::syscall(SYS_capset, &header, data) != 0) return errnoError("capset");
  // Ambient caps let a non-root command keep the set across execve; root gets it from the
  // bounding set anyway.
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) return errnoError("clearing ambient capabilities");
  for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
    if (!(mask & (uint64_t{1} << cap))) continue;
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0 && errno != EINVAL)
      return errnoError(fmt::format("raising ambient capability {}", capabilityName(cap)));
  }
  return {};
}

Result<void> setNoNewPrivsInChild() {
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return errnoError("PR_SET_NO_NEW_PRIVS");
  return {};
}

}  // namespace netctl::runtime::caps
