// Where a lab's state lives under the state root, and the per-lab lock.
//   <root>/labs/<lab>/lock           flock'd by whoever changes the lab
//   <root>/labs/<lab>/journal        what exists (topology/journal.h)
//   <root>/labs/<lab>/topology.json  the resolved topology of the last `up`
#pragma once

#include <string>
#include <vector>

#include "netctl/base/result.h"
#include "netctl/base/unique_fd.h"

namespace netctl::state {

struct LabPaths {
  std::string dir;
  std::string lock;
  std::string journal;
  std::string topology;
};

LabPaths labPaths(const std::string& root, const std::string& lab);

// Labs that have a state directory, sorted by name.
Result<std::vector<std::string>> listLabs(const std::string& root);

// An exclusive flock on the lab's lock file, held until destroyed. Creates the lab directory.
// When another process holds it, acquire() fails with kConflict naming the lab, unless wait.
class LabLock {
 public:
  static Result<LabLock> acquire(const std::string& root, const std::string& lab, bool wait = false);

 private:
  explicit LabLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

// Removes the lab's state directory (after down). Missing is fine.
Result<void> removeLab(const std::string& root, const std::string& lab);

}  // namespace netctl::state
