// The mount namespace of a node, built in the child: private propagation, the rootfs (overlay
// or directory), the spec's mounts, /proc, /sys, /dev, pivot_root, masked and read-only paths.
// Every path inside the rootfs is resolved with openat2(RESOLVE_IN_ROOT) and mounted through
// /proc/self/fd/N, so a symlink in the rootfs cannot redirect a mount onto the host.
#pragma once

#include <string>
#include <vector>

#include "netctl/base/result.h"
#include "runtime/plan.h"

namespace netctl::runtime::mount_ns {

Result<void> makePrivateInChild();
Result<void> mountRootfsInChild(const Plan& plan);
// With a user namespace the overlay is mounted by the intermediate, with the host's
// credentials, in a mount namespace of its own: from inside a user namespace overlayfs refuses
// a lower layer with locked submounts (the host's /), and copy-up must be able to keep owners.
Result<void> mountRootfsBeforeUserNs(const Plan& plan);
Result<void> mountSpecMountsInChild(const Plan& plan);
Result<void> mountProcInChild(const Plan& plan);
Result<void> mountSysInChild(const Plan& plan);
Result<void> mountDevInChild(const Plan& plan);
// For a directory rootfs: bind the state dir's hosts, hostname and resolv.conf over /etc's
// (overlay roots got them in the upper layer, written by the parent).
Result<void> bindEtcFilesInChild(const Plan& plan);
Result<void> pivotRootInChild(const Plan& plan);
Result<void> maskPathsInChild(const std::vector<std::string>& paths);
Result<void> readonlyPathsInChild(const std::vector<std::string>& paths);
Result<void> remountRootReadonlyInChild();

}  // namespace netctl::runtime::mount_ns
