#include "netctl/base/fs.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

namespace netctl::fs {

Result<UniqueFd> open(const std::string& path, int flags, mode_t mode) {
  return openAt(AT_FDCWD, path, flags, mode);
}

Result<UniqueFd> openAt(int dirfd, const std::string& path, int flags, mode_t mode) {
  int fd = ::openat(dirfd, path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return errnoError(fmt::format("opening {}", path));
  return UniqueFd(fd);
}

Result<std::string> readFile(const std::string& path) {
  auto fd = NETCTL_TRY(open(path, O_RDONLY));
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errnoError(fmt::format("reading {}", path));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Result<void> writeFile(const std::string& path, std::string_view data, int flags) {
  return writeFileAt(AT_FDCWD, path, data, flags);
}

Result<void> writeFileAt(int dirfd, const std::string& path, std::string_view data, int flags) {
  auto fd = NETCTL_TRY(openAt(dirfd, path, O_WRONLY | flags, 0644));
  ssize_t n = ::write(fd.get(), data.data(), data.size());
  if (n < 0) return errnoError(fmt::format("writing {}", path));
  if (static_cast<size_t>(n) != data.size()) return sysError(EIO, fmt::format("short write to {}", path));
  return {};
}

Result<void> writeFileAtomic(const std::string& path, std::string_view data) {
  std::string tmp = path + ".tmp";
  NETCTL_TRY(writeFile(tmp, data, O_CREAT | O_TRUNC));
  if (::rename(tmp.c_str(), path.c_str()) != 0) return errnoError(fmt::format("renaming {} to {}", tmp, path));
  return {};
}

Result<void> makeDirs(const std::string& path, mode_t mode) {
  if (path.empty()) return {};
  for (size_t pos = 1;; ++pos) {
    pos = path.find('/', pos);
    std::string prefix = path.substr(0, pos);
    if (::mkdir(prefix.c_str(), mode) != 0 && errno != EEXIST)
      return errnoError(fmt::format("creating directory {}", prefix));
    if (pos == std::string::npos) break;
  }
  return {};
}

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

MountGuard& MountGuard::operator=(MountGuard&& other) noexcept {
  if (this != &other) {
    reset();
    target_ = std::exchange(other.target_, {});
  }
  return *this;
}

void MountGuard::reset() {
  if (!target_.empty()) ::umount2(target_.c_str(), MNT_DETACH);
  target_.clear();
}

}  // namespace netctl::fs
