// The small per-namespace steps of the launcher, named for the side of the fork they run on.
// The order in which they run is in contain.cc.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "netctl/base/result.h"
#include "netctl/runtime/spec.h"

namespace netctl::runtime {

namespace user_ns {
// The maps a spec asks for, with the default (0..65535 -> 100000..165535) filled in.
std::vector<IdMap> uidMapOf(const UserNamespace& user);
std::vector<IdMap> gidMapOf(const UserNamespace& user);
// The host id of an id inside (itself when there is no user namespace); -1 when unmapped.
int64_t hostIdOf(const std::vector<IdMap>& maps, uint32_t inside);
Result<void> writeIdMapsFromParent(pid_t pid, const UserNamespace& user);
// After the maps exist: become root of the new namespace (the creds were still the host's).
Result<void> becomeRootInChild();
// The command's own uid, gid and groups (keeping capabilities across the switch).
Result<void> switchUserInChild(uid_t uid, gid_t gid, const std::vector<gid_t>& groups);
}  // namespace user_ns

namespace caps {
// The bounding set becomes `mask`. Needs CAP_SETPCAP: call before the uid switch.
Result<void> dropBoundingInChild(uint64_t mask);
// Inheritable, permitted, effective and ambient sets become `mask` (after the uid switch).
Result<void> applyInChild(uint64_t mask);
Result<void> setNoNewPrivsInChild();
}  // namespace caps

namespace uts_ns {
Result<void> setHostnameInChild(const std::string& hostname);
}  // namespace uts_ns

namespace net_ns {
// Joins the netns the parent made (newNetnsOnThread) while the init made its mounts.
Result<void> enterInChild(int fd);
// lo up and the spec's net.* sysctls, written through /proc/sys of the node's own netns.
Result<void> setUpInChild(const Spec& spec);
}  // namespace net_ns

}  // namespace netctl::runtime
