#include <grp.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "netctl/base/fs.h"
#include "runtime/steps.h"

namespace netctl::runtime::user_ns {
namespace {

std::vector<IdMap> withDefault(const std::vector<IdMap>& maps) {
  if (!maps.empty()) return maps;
  return {IdMap{0, 100000, 65536}};
}

std::string mapText(const std::vector<IdMap>& maps) {
  std::string text;
  for (const auto& m : maps) text += fmt::format("{} {} {}\n", m.inside, m.outside, m.count);
  return text;
}

}  // namespace

std::vector<IdMap> uidMapOf(const UserNamespace& user) { return withDefault(user.uidMap); }
std::vector<IdMap> gidMapOf(const UserNamespace& user) { return withDefault(user.gidMap); }

int64_t hostIdOf(const std::vector<IdMap>& maps, uint32_t inside) {
  for (const auto& m : maps) {
    if (inside >= m.inside && inside - m.inside < m.count) return int64_t{m.outside} + (inside - m.inside);
  }
  return -1;
}

Result<void> writeIdMapsFromParent(pid_t pid, const UserNamespace& user) {
  // gid_map first, then uid_map, as crun and nsjail do. The writer is root in the parent
  // namespace, so setgroups stays allowed and the command can have supplementary groups.
  NETCTL_TRYC(fs::writeFile(fmt::format("/proc/{}/gid_map", pid), mapText(gidMapOf(user))), "writing the gid map");
  NETCTL_TRYC(fs::writeFile(fmt::format("/proc/{}/uid_map", pid), mapText(uidMapOf(user))), "writing the uid map");
  return {};
}

Result<void> becomeRootInChild() {
  if (::setresgid(0, 0, 0) != 0) return errnoError("setresgid(0) in the user namespace");
  if (::setresuid(0, 0, 0) != 0) return errnoError("setresuid(0) in the user namespace");
  return {};
}

Result<void> switchUserInChild(uid_t uid, gid_t gid, const std::vector<gid_t>& groups) {
  if (::setgroups(groups.size(), groups.data()) != 0) return errnoError("setgroups");
  if (::setresgid(gid, gid, gid) != 0) return errnoError(fmt::format("setresgid({})", gid));
  // Keep the permitted set across the uid change; caps::applyInChild sets the final sets after.
  if (uid != 0 && ::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return errnoError("PR_SET_KEEPCAPS");
  if (::setresuid(uid, uid, uid) != 0) return errnoError(fmt::format("setresuid({})", uid));
  return {};
}

}  // namespace netctl::runtime::user_ns
