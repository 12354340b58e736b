#include "runtime/record.h"

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "netctl/base/fs.h"

namespace netctl::runtime::record {

std::string containersDir(const std::string& root) { return root + "/containers"; }
std::string bundleDirOf(const std::string& root, const std::string& name) {
  return fmt::format("{}/{}", containersDir(root), name);
}

Result<void> write(const Record& r) {
  nlohmann::json j = {{"name", r.name},          {"hostsFile", r.hostsFile},
                      {"initPid", r.initPid},    {"initStart", r.initStart},
                      {"commandPid", r.commandPid}, {"commandStart", r.commandStart},
                      {"cgroupParent", r.cgroupParent}, {"capMask", r.capMask},
                      {"noNewPrivileges", r.noNewPrivileges}, {"seccompHash", r.seccompHash},
                      {"uid", r.uid},            {"gid", r.gid},
                      {"groups", r.groups},      {"env", r.env},
                      {"cwd", r.cwd},            {"joinFlags", r.joinFlags}};
  return fs::writeFileAtomic(r.bundleDir + "/state.json", j.dump(1) + "\n");
}

Result<Record> read(const std::string& root, const std::string& name) {
  Record r;
  r.bundleDir = bundleDirOf(root, name);
  auto text = fs::readFile(r.bundleDir + "/state.json");
  if (!text) {
    if (text.error().errnum() == ENOENT) return notFound(fmt::format("no container {}", name));
    return std::unexpected(std::move(text).error());
  }
  try {
    auto j = nlohmann::json::parse(*text);
    r.name = j.at("name").get<std::string>();
    r.hostsFile = j.at("hostsFile").get<std::string>();
    r.initPid = j.at("initPid").get<pid_t>();
    r.initStart = j.at("initStart").get<uint64_t>();
    r.commandPid = j.at("commandPid").get<pid_t>();
    r.commandStart = j.at("commandStart").get<uint64_t>();
    r.cgroupParent = j.at("cgroupParent").get<std::string>();
    r.capMask = j.at("capMask").get<uint64_t>();
    r.noNewPrivileges = j.at("noNewPrivileges").get<bool>();
    r.seccompHash = j.at("seccompHash").get<std::string>();
    r.uid = j.at("uid").get<uid_t>();
    r.gid = j.at("gid").get<gid_t>();
    r.groups = j.at("groups").get<std::vector<gid_t>>();
    r.env = j.at("env").get<std::vector<std::string>>();
    r.cwd = j.at("cwd").get<std::string>();
    r.joinFlags = j.at("joinFlags").get<int>();
  } catch (const std::exception& e) {
    return invalidInput(fmt::format("{}/state.json: {}", r.bundleDir, e.what()));
  }
  return r;
}

uint64_t startTimeOf(pid_t pid) {
  auto stat = fs::readFile(fmt::format("/proc/{}/stat", pid));
  if (!stat) return 0;
  // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
  auto close = stat->rfind(')');
  if (close == std::string::npos) return 0;
  size_t pos = close + 2;
  // A zombie has exited: for every verb it is gone.
  if (pos < stat->size() && ((*stat)[pos] == 'Z' || (*stat)[pos] == 'X')) return 0;
  for (int field = 3; field < 22 && pos != std::string::npos; ++field) pos = stat->find(' ', pos) + 1;
  return std::strtoull(stat->c_str() + pos, nullptr, 10);
}

Result<UniqueFd> openPidfd(pid_t pid, uint64_t start) {
  if (pid <= 0) return notFound("no such process");
  UniqueFd fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!fd) {
    if (errno == ESRCH) return notFound(fmt::format("pid {} is gone", pid));
    return errnoError(fmt::format("pidfd_open({})", pid));
  }
  // Checked after opening: the pidfd now pins this very process, so no later reuse can fool us.
  if (startTimeOf(pid) != start) return notFound(fmt::format("pid {} is gone", pid));
  return fd;
}

bool waitPidfd(int pidfd, int timeoutMs) {
  pollfd p{pidfd, POLLIN, 0};
  for (;;) {
    int rc = ::poll(&p, 1, timeoutMs);
    if (rc > 0) return true;
    if (rc == 0) return false;
    if (errno != EINTR) return true;
  }
}

}  // namespace netctl::runtime::record
