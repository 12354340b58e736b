// cgroups of a node: detection of the layout (v1, v2, hybrid), creation with limits, attach,
// listing, and removal. On hybrid machines the v1 controllers carry the limits (as runc does);
// the process is also placed in the unified (cgroup2) tree, without controllers, when possible.
//
// Parents: a non-absolute parent is relative to the CALLING process's own cgroup in each
// hierarchy (read from /proc/self/cgroup), so nothing is created outside our own subtree; an
// absolute parent ("/netctl") starts at the hierarchy root.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "netctl/base/result.h"

namespace netctl::cgroup {

enum class Mode { kV1, kV2, kHybrid };

// Default member initializers let callers write Limits{.pids = 5} under -Wextra.
struct Limits {
  std::optional<uint64_t> memoryBytes{};  // v1 memory.limit_in_bytes, v2 memory.max
  std::optional<double> cpus{};           // as quota/period: 1.5 = one and a half CPUs
  std::optional<uint64_t> cpuWeight{};    // 1..10000 (v2 cpu.weight; v1 cpu.shares mapped as runc)
  std::optional<uint64_t> pids{};         // pids.max
  std::string cpuset{};                   // cpuset.cpus, e.g. "0-1"; empty = inherit
};

// The mode, from the mounted hierarchies (the same source Group uses, see describe()).
Result<Mode> detect();

struct Layout;

// $NETCTL_CGROUP_PARENT when set, otherwise "netctl".
std::string defaultParent();

// A node's cgroup in every hierarchy it joins: cgroup2, and on v1 those of its limits plus
// devices (Docker's device rules; on v2 a BPF program, device_rules.h), freezer and
// name=systemd (joins() in cgroup.cc says why). Movable, not copyable. The destructor does NOT
// destroy the cgroup: a node outlives the `netctl up` that created it, and `down` reopens it
// with open() and calls destroy().
class Group {
 public:
  // Makes the group (and any missing parent) in every hierarchy it joins and writes the limits,
  // all before any process can be attached. On error nothing it made is left behind; the message
  // names the file and the value the kernel refused. An existing group is kConflict.
  // On hybrid the v1 controllers carry the limits; the unified tree only mirrors placement,
  // best effort.
  static Result<Group> create(const std::string& parent, const std::string& name,
                              const Limits& limits);
  // An existing one (kNotFound when the group is absent from the hierarchies).
  static Result<Group> open(const std::string& parent, const std::string& name);

  // Moves pid into the group in each of its hierarchies (0 = the caller). Allocates nothing
  // unless it fails, so a child forked from a threaded process may call it on itself.
  Result<void> attach(pid_t pid) const;
  // A node's init joins in two halves, neither of them waiting on the global threadgroup lock
  // whose writers may wait for an RCU grace period (milliseconds, on every write to cgroup.procs
  // once the lock has been idle):
  //   attachUnifiedFromParent(pid): the cgroup2 tree (v2, or hybrid's mirror) by cgroup.procs,
  //     which does take the lock, while the init is busy with its namespaces and mounts;
  //   joinLegacyInChild(): the calling, single-threaded process into every v1 hierarchy by
  //     writing "0" to `tasks`; a thread moving itself skips the lock. Allocates nothing
  //     unless it fails.
  Result<void> attachUnifiedFromParent(pid_t pid) const;
  Result<void> joinLegacyInChild() const;
  // The pids inside (from the first hierarchy that carries limits), sorted.
  Result<std::vector<pid_t>> pids() const;
  // SIGKILLs what is inside, waits until it is empty (bounded), removes the directory in every
  // hierarchy. Succeeds when already gone. The parent is left in place.
  Result<void> destroy();
  // The directories, for diagnostics.
  std::vector<std::string> paths() const;

  // The same with a layout read once by the caller (describe()), so creating many groups
  // does not re-read mountinfo each time; tests also use it to drive the v2 code on the
  // unified tree of a hybrid machine.
  static Result<Group> create(const Layout& layout, const std::string& parent,
                              const std::string& name, const Limits& limits);
  static Result<Group> open(const Layout& layout, const std::string& parent,
                            const std::string& name);

  // The directory of the given v1 controller ("memory", "cpu", ...) or, on v2, the one
  // directory; empty when the controller is not available.
  std::string pathFor(std::string_view controller) const;

  Group(Group&&) noexcept = default;
  Group& operator=(Group&&) noexcept = default;
  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;
  ~Group() = default;

 private:
  Group() = default;
  struct Dir {
    std::string path;                      // absolute directory of the group
    std::string procs;                     // path + "/cgroup.procs", made once for attach()
    std::string tasks;                     // path + "/tasks" (v1), for joinLegacyInChild()
    std::vector<std::string> controllers;  // controllers of this hierarchy ("" for unified)
    bool unified = false;                  // a cgroup2 hierarchy
  };
  enum class Part { kAll, kUnified, kLegacy };
  Result<void> attachTo(pid_t pid, Part part) const;
  Mode mode_ = Mode::kV2;
  std::vector<Dir> dirs_;
};

// The layout, for `netctl doctor`.
struct Hierarchy {
  std::string mountPoint;                // "/sys/fs/cgroup/memory", "/sys/fs/cgroup/unified"
  bool unified = false;                  // cgroup2
  std::vector<std::string> controllers;  // v1: from the mount options (incl. "name=systemd");
                                         // v2: cgroup.controllers of the root
  std::string ownPath;                   // this process's cgroup in it, relative to mountPoint
                                         // ("/" or "/a/b"); "" when outside the mount's view
};
struct Layout {
  Mode mode = Mode::kV2;
  std::vector<Hierarchy> hierarchies;
};
Result<Layout> describe();

std::string_view modeName(Mode mode);  // "v1", "v2", "hybrid"

// Pure helpers, exposed for unit tests.
namespace detail {
struct ProcEntry {
  int id = 0;                            // hierarchy id (0 for cgroup2)
  std::vector<std::string> controllers;  // empty for cgroup2
  std::string path;
};
struct MountEntry {
  std::string mountPoint;
  std::string root;                      // the root of the mount inside the hierarchy
  bool unified = false;
  std::vector<std::string> controllers;  // v1 controllers from the super options
};
Result<std::vector<ProcEntry>> parseProcCgroup(std::string_view text);
Result<std::vector<MountEntry>> parseMountinfo(std::string_view text);
// The layout from the two files' text plus the root cgroup.controllers of the unified mount
// (empty when none); mode is v2 when only cgroup2 is mounted with controllers, hybrid when v1
// controllers and a cgroup2 mount coexist, v1 otherwise.
Result<Layout> layoutFrom(std::string_view procCgroup, std::string_view mountinfo,
                          std::string_view unifiedControllers);
// runc's mapping of cpu.weight (1..10000) to v1 cpu.shares (2..262144).
uint64_t weightToShares(uint64_t weight);
// {quota, period} microseconds for a number of CPUs, period 100000.
std::pair<int64_t, uint64_t> cpusToQuota(double cpus);
}  // namespace detail

}  // namespace netctl::cgroup
