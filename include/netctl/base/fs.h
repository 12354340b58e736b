// Small file helpers shared by every layer: whole-file reads and writes, fd-relative opens,
// and a guard that undoes a mount.
#pragma once

#include <string>
#include <string_view>

#include "netctl/base/result.h"
#include "netctl/base/unique_fd.h"

namespace netctl::fs {

Result<UniqueFd> open(const std::string& path, int flags, mode_t mode = 0);
Result<UniqueFd> openAt(int dirfd, const std::string& path, int flags, mode_t mode = 0);
Result<std::string> readFile(const std::string& path);
// Writes the whole string in one write(2), as kernel files (sysctls, cgroup knobs) expect.
Result<void> writeFile(const std::string& path, std::string_view data, int flags = 0);
Result<void> writeFileAt(int dirfd, const std::string& path, std::string_view data, int flags = 0);
// Writes to a temporary file beside path and renames it over path.
Result<void> writeFileAtomic(const std::string& path, std::string_view data);
// mkdir -p. Existing directories are fine.
Result<void> makeDirs(const std::string& path, mode_t mode = 0755);
bool exists(const std::string& path);

// Unmounts (MNT_DETACH) its target on destruction unless released.
class MountGuard {
 public:
  MountGuard() = default;
  explicit MountGuard(std::string target) : target_(std::move(target)) {}
  MountGuard(MountGuard&& other) noexcept : target_(std::move(other.target_)) { other.target_.clear(); }
  MountGuard& operator=(MountGuard&& other) noexcept;
  MountGuard(const MountGuard&) = delete;
  MountGuard& operator=(const MountGuard&) = delete;
  ~MountGuard() { reset(); }

  const std::string& target() const { return target_; }
  std::string release() { return std::exchange(target_, {}); }
  void reset();

 private:
  std::string target_;
};

}  // namespace netctl::fs
