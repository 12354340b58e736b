// The container spec: one typed struct, with every default declared here and nowhere else.
// A default-constructed Spec plus a name and a command is a secure lab node: all namespaces new
// (user excepted), the host's root as a read-only overlay lower layer with a private upper layer,
// Docker's capabilities plus NET_ADMIN and NET_RAW, Docker's masked and read-only paths,
// no_new_privs and netctl's default seccomp profile.
#pragma once

#include <memory>
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "netctl/base/result.h"
#include "netctl/runtime/cgroup.h"

namespace netctl::runtime {

// One line of /proc/PID/uid_map or gid_map.
struct IdMap {
  uint32_t inside = 0;
  uint32_t outside = 0;
  uint32_t count = 0;
};

struct UserNamespace {
  bool enabled = false;
  // Empty maps mean "0..65535 inside is 100000..165535 on the host".
  std::vector<IdMap> uidMap;
  std::vector<IdMap> gidMap;
};

// Which namespaces are new. The mount namespace is always new (the rootfs needs it).
struct Namespaces {
  bool pid = true;
  bool uts = true;
  bool ipc = true;
  bool net = true;
  bool cgroup = true;
  UserNamespace user;
};

enum class RootfsKind {
  kHost,       // overlay: lower = the host's root (read-only), upper = private to the node
  kLower,      // overlay: lower = path (read-only), upper = private to the node
  kDirectory,  // path used as is (writes land in it)
};

struct Rootfs {
  RootfsKind kind = RootfsKind::kHost;
  std::string path;       // for kLower and kDirectory
  bool readonly = false;  // remount the container's / read-only at the end
};

struct BindMount {
  std::string source;  // host path
  std::string target;  // path inside the container
  bool readonly = false;
};

struct TmpfsMount {
  std::string target;
  std::string options = "mode=1777";  // tmpfs mount data, e.g. "size=64m,mode=755"
};

struct Rlimit {
  int resource = 0;  // RLIMIT_*
  uint64_t soft = 0;
  uint64_t hard = 0;
};

enum class SeccompMode { kDefault, kUnconfined, kFile };

struct Seccomp {
  SeccompMode mode = SeccompMode::kDefault;
  std::string file;  // an OCI (linux.seccomp) or Docker JSON profile, for kFile
};

// Docker's lists (moby's defaults), plus /proc/interrupts and powercap as recent Docker masks.
std::vector<std::string> defaultMaskedPaths();
std::vector<std::string> defaultReadonlyPaths();
// Docker's 14 default capabilities plus NET_ADMIN (NET_RAW is already in Docker's set).
std::vector<std::string> defaultCapabilities();

struct Security {
  std::vector<std::string> capAdd;   // "NET_ADMIN" or "CAP_NET_ADMIN"; "ALL" adds all
  std::vector<std::string> capDrop;  // "ALL" drops all (then capAdd applies)
  Seccomp seccomp;
  std::vector<std::string> maskedPaths = defaultMaskedPaths();
  std::vector<std::string> readonlyPaths = defaultReadonlyPaths();
  bool noNewPrivileges = true;
};

// An extra /etc/hosts line.
struct HostEntry {
  std::string address;
  std::vector<std::string> names;
};

struct Spec {
  std::string name;      // [A-Za-z0-9][A-Za-z0-9_.-]*, at most 64 characters; required
  std::string hostname;  // default: name
  std::string command;   // absolute path, or a name looked up in PATH inside the container
  std::vector<std::string> args;
  std::vector<std::string> env = {
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"};
  std::string cwd = "/";
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> additionalGids;

  Namespaces namespaces;
  Rootfs rootfs;
  std::vector<BindMount> binds;
  // Every node gets its own /tmp and /run by default.
  std::vector<TmpfsMount> tmpfs = {{"/tmp", "mode=1777"}, {"/run", "mode=755"}};
  std::vector<Rlimit> rlimits;
  std::map<std::string, std::string> sysctls;  // net.* only, e.g. {"net.ipv4.ip_forward", "1"}

  cgroup::Limits limits;
  std::string cgroupParent;  // empty: cgroup::defaultParent()

  Security security;

  // /etc/hosts gets localhost lines, "<hostname>" on 127.0.1.1 and these. Shared: every node
  // of a lab lists the same entries, and a copy per node would make a lab's up O(nodes^2).
  std::shared_ptr<const std::vector<HostEntry>> hosts;
  // /etc/resolv.conf: empty means a copy of the host's.
  std::vector<std::string> nameservers;
  std::vector<std::string> searchDomains;
};

// Checks what can be checked without touching the system. kInvalidInput with the field named.
Result<void> validate(const Spec& spec);

// The capability set a spec asks for, as a bit mask (bit N = capability N).
Result<uint64_t> capabilityMask(const Security& security);
// "NET_ADMIN" / "CAP_NET_ADMIN" / "net_admin" -> 12; kInvalidInput when unknown.
Result<int> capabilityFromName(const std::string& name);
std::string capabilityName(int cap);  // 12 -> "CAP_NET_ADMIN"

// The text netctl writes as the node's /etc/hosts.
std::string hostsFileText(const std::string& hostname, const std::vector<HostEntry>& extra);

}  // namespace netctl::runtime
