// The state a container leaves under <root>/containers/<name>/state.json, so that every verb
// (start, kill, wait, exec, delete) works from a later netctl process. Pids are stored with
// their start time, so a recycled pid is never mistaken for the node.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "netctl/base/result.h"
#include "netctl/base/unique_fd.h"

namespace netctl::runtime::record {

struct Record {
  std::string name;
  std::string bundleDir;
  std::string hostsFile;  // relative to bundleDir: upper/etc/hosts or etc/hosts
  pid_t initPid = 0;
  uint64_t initStart = 0;
  pid_t commandPid = 0;
  uint64_t commandStart = 0;
  std::string cgroupParent;
  // What exec needs to make its process look like the command.
  uint64_t capMask = 0;
  bool noNewPrivileges = true;
  std::string seccompHash;  // empty: unconfined
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
  std::vector<std::string> env;
  std::string cwd = "/";
  int joinFlags = 0;  // CLONE_NEW* of the namespaces the node has of its own
};

std::string containersDir(const std::string& root);
std::string bundleDirOf(const std::string& root, const std::string& name);

Result<void> write(const Record& record);
Result<Record> read(const std::string& root, const std::string& name);

// Field 22 of /proc/PID/stat; 0 when the process does not exist.
uint64_t startTimeOf(pid_t pid);
// A pidfd for pid if it is still the process that started at `start`; kNotFound otherwise.
Result<UniqueFd> openPidfd(pid_t pid, uint64_t start);
// Waits until the process of pidfd has exited; false on timeout (timeoutMs < 0: forever).
bool waitPidfd(int pidfd, int timeoutMs);

}  // namespace netctl::runtime::record
