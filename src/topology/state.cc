#include "netctl/topology/state.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>

#include "netctl/base/fs.h"

namespace netctl::state {

LabPaths labPaths(const std::string& root, const std::string& lab) {
  std::string dir = fmt::format("{}/labs/{}", root, lab);
  return {dir, dir + "/lock", dir + "/journal", dir + "/topology.json"};
}

Result<std::vector<std::string>> listLabs(const std::string& root) {
  std::vector<std::string> labs;
  std::string dir = root + "/labs";
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    if (errno == ENOENT) return labs;
    return errnoError(fmt::format("listing {}", dir));
  }
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != ".." && e->d_type == DT_DIR) labs.push_back(name);
  }
  ::closedir(d);
  std::sort(labs.begin(), labs.end());
  return labs;
}

Result<LabLock> LabLock::acquire(const std::string& root, const std::string& lab, bool wait) {
  auto paths = labPaths(root, lab);
  NETCTL_TRYC(fs::makeDirs(paths.dir, 0700), "lab {}", lab);
  auto fd = NETCTL_TRYC(fs::open(paths.lock, O_RDWR | O_CREAT, 0600), "lab {}", lab);
  if (::flock(fd.get(), LOCK_EX | (wait ? 0 : LOCK_NB)) != 0) {
    if (errno == EWOULDBLOCK)
      return conflict(fmt::format("lab {} is being changed by another netctl process", lab));
    return errnoError(fmt::format("locking lab {}", lab));
  }
  return LabLock(std::move(fd));
}

Result<void> removeLab(const std::string& root, const std::string& lab) {
  auto paths = labPaths(root, lab);
  // live.json: what the live verbs recorded (topology/live.h).
  for (const auto& file : {paths.journal, paths.topology, paths.dir + "/live.json", paths.lock}) {
    if (::unlink(file.c_str()) != 0 && errno != ENOENT) return errnoError(fmt::format("removing {}", file));
  }
  if (::rmdir(paths.dir.c_str()) != 0 && errno != ENOENT)
    return errnoError(fmt::format("removing lab directory {}", paths.dir));
  return {};
}

}  // namespace netctl::state
