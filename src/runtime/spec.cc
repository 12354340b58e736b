#include "netctl/runtime/spec.h"

#include <linux/capability.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace netctl::runtime {
namespace {

// Index = capability number (linux/capability.h).
constexpr std::array<const char*, CAP_LAST_CAP + 1> kCapNames = {
    "CHOWN",           "DAC_OVERRIDE",     "DAC_READ_SEARCH", "FOWNER",        "FSETID",
    "KILL",            "SETGID",           "SETUID",          "SETPCAP",       "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE", "NET_BROADCAST",   "NET_ADMIN",       "NET_RAW",       "IPC_LOCK",
    "IPC_OWNER",       "SYS_MODULE",       "SYS_RAWIO",       "SYS_CHROOT",    "SYS_PTRACE",
    "SYS_PACCT",       "SYS_ADMIN",        "SYS_BOOT",        "SYS_NICE",      "SYS_RESOURCE",
    "SYS_TIME",        "SYS_TTY_CONFIG",   "MKNOD",           "LEASE",         "AUDIT_WRITE",
    "AUDIT_CONTROL",   "SETFCAP",          "MAC_OVERRIDE",    "MAC_ADMIN",     "SYSLOG",
    "WAKE_ALARM",      "BLOCK_SUSPEND",    "AUDIT_READ",      "PERFMON",       "BPF",
    "CHECKPOINT_RESTORE"};

bool validName(const std::string& name) {
  if (name.empty() || name.size() > 64 || !std::isalnum(static_cast<unsigned char>(name[0])))
    return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

bool cleanAbsolute(const std::string& path) {
  if (path.empty() || path[0] != '/') return false;
  // No ".." component: targets are resolved inside the rootfs and must not climb out.
  for (size_t pos = 0; pos != std::string::npos;) {
    size_t next = path.find('/', pos + 1);
    std::string part = path.substr(pos + 1, next == std::string::npos ? next : next - pos - 1);
    if (part == "..") return false;
    pos = next;
  }
  return true;
}

Result<void> checkMaps(const std::vector<IdMap>& maps, const char* what) {
  for (const auto& m : maps) {
    if (m.count == 0) return invalidInput(fmt::format("user namespace {}: a range of 0 ids", what));
    if (uint64_t{m.inside} + m.count > (uint64_t{1} << 32) ||
        uint64_t{m.outside} + m.count > (uint64_t{1} << 32))
      return invalidInput(fmt::format("user namespace {}: range past 2^32", what));
  }
  return {};
}

}  // namespace

std::vector<std::string> defaultMaskedPaths() {
  return {"/proc/asound",        "/proc/acpi",        "/proc/interrupts", "/proc/kcore",
          "/proc/keys",          "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
          "/proc/sched_debug",   "/proc/scsi",        "/sys/firmware",
          "/sys/devices/virtual/powercap"};
}

std::vector<std::string> defaultReadonlyPaths() {
  return {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
}

std::vector<std::string> defaultCapabilities() {
  return {"CHOWN",  "DAC_OVERRIDE", "FSETID",           "FOWNER",     "MKNOD",
          "NET_RAW", "SETGID",      "SETUID",           "SETFCAP",    "SETPCAP",
          "NET_BIND_SERVICE",       "SYS_CHROOT",       "KILL",       "AUDIT_WRITE",
          "NET_ADMIN"};
}

Result<int> capabilityFromName(const std::string& name) {
  std::string upper;
  for (char c : name) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper.rfind("CAP_", 0) == 0) upper = upper.substr(4);
  for (size_t i = 0; i < kCapNames.size(); ++i)
    if (upper == kCapNames[i]) return static_cast<int>(i);
  return invalidInput(fmt::format("unknown capability {}", name));
}

std::string capabilityName(int cap) {
  if (cap < 0 || cap > CAP_LAST_CAP) return fmt::format("CAP_{}", cap);
  return fmt::format("CAP_{}", kCapNames[static_cast<size_t>(cap)]);
}

Result<uint64_t> capabilityMask(const Security& security) {
  constexpr uint64_t kAll = (uint64_t{1} << (CAP_LAST_CAP + 1)) - 1;
  uint64_t mask = 0;
  for (const auto& name : defaultCapabilities()) mask |= uint64_t{1} << NETCTL_TRY(capabilityFromName(name));
  for (const auto& name : security.capDrop) {
    if (name == "ALL" || name == "all") {
      mask = 0;
      continue;
    }
    mask &= ~(uint64_t{1} << NETCTL_TRYC(capabilityFromName(name), "cap_drop"));
  }
  for (const auto& name : security.capAdd) {
    if (name == "ALL" || name == "all") {
      mask = kAll;
      continue;
    }
    mask |= uint64_t{1} << NETCTL_TRYC(capabilityFromName(name), "cap_add");
  }
  return mask;
}

Result<void> validate(const Spec& spec) {
  if (!validName(spec.name))
    return invalidInput(fmt::format("name \"{}\": use letters, digits, _ . - (at most 64, starting "
                                    "with a letter or digit)", spec.name));
  if (spec.command.empty()) return invalidInput("command: empty");
  if (spec.hostname.size() > 64) return invalidInput("hostname: longer than 64 characters");
  if (!cleanAbsolute(spec.cwd)) return invalidInput(fmt::format("cwd {}: not a clean absolute path", spec.cwd));
  if (spec.rootfs.kind != RootfsKind::kHost && !cleanAbsolute(spec.rootfs.path))
    return invalidInput(fmt::format("rootfs {}: not a clean absolute path", spec.rootfs.path));
  for (const auto& b : spec.binds) {
    if (!cleanAbsolute(b.source) || !cleanAbsolute(b.target))
      return invalidInput(fmt::format("bind {}:{}: paths must be clean and absolute", b.source, b.target));
  }
  for (const auto& t : spec.tmpfs) {
    if (!cleanAbsolute(t.target)) return invalidInput(fmt::format("tmpfs {}: not a clean absolute path", t.target));
    if (t.options.find_first_of("\n\0", 0, 2) != std::string::npos)
      return invalidInput(fmt::format("tmpfs {}: bad options", t.target));
  }
  for (const auto& p : spec.security.maskedPaths)
    if (!cleanAbsolute(p)) return invalidInput(fmt::format("masked path {}: not clean and absolute", p));
  for (const auto& p : spec.security.readonlyPaths)
    if (!cleanAbsolute(p)) return invalidInput(fmt::format("read-only path {}: not clean and absolute", p));
  for (const auto& [key, value] : spec.sysctls) {
    if (key.rfind("net.", 0) != 0 || key.find("..") != std::string::npos || key.find('/') != std::string::npos)
      return invalidInput(fmt::format("sysctl {}: only net.* sysctls are per node", key));
  }
  for (const auto& r : spec.rlimits) {
    if (r.resource < 0 || r.resource >= RLIMIT_NLIMITS) return invalidInput(fmt::format("rlimit {}: unknown", r.resource));
    if (r.soft > r.hard) return invalidInput(fmt::format("rlimit {}: soft above hard", r.resource));
  }
  if (spec.security.seccomp.mode == SeccompMode::kFile && spec.security.seccomp.file.empty())
    return invalidInput("seccomp: a file profile without a file");
  NETCTL_TRY(checkMaps(spec.namespaces.user.uidMap, "uid map"));
  NETCTL_TRY(checkMaps(spec.namespaces.user.gidMap, "gid map"));
  NETCTL_TRY(capabilityMask(spec.security));
  if (spec.limits.cpus && *spec.limits.cpus <= 0) return invalidInput("cpus: must be positive");
  return {};
}

std::string hostsFileText(const std::string& hostname, const std::vector<HostEntry>& extra) {
  std::string text = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n";
  text.reserve(text.size() + 40 * extra.size());
  if (!hostname.empty()) text += fmt::format("127.0.1.1\t{}\n", hostname);
  for (const auto& e : extra) {
    text += e.address;
    for (const auto& n : e.names) text += "\t" + n;
    text += "\n";
  }
  return text;
}

}  // namespace netctl::runtime
