// The CNI invocation protocol: spec versions, error codes and error JSON, and the environment
// variables a runtime passes (CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_ARGS,
// CNI_PATH). See /work/shared/notes/cni.md part A.
#pragma once

#include <sys/types.h>

#include <array>
#include <expected>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "netctl/base/result.h"
#include "netctl/cni/ip.h"

namespace netctl::cni {

// ---- versions -------------------------------------------------------------------------------
inline constexpr std::array<std::string_view, 5> kSupportedVersions = {"0.3.0", "0.3.1", "0.4.0",
                                                                       "1.0.0", "1.1.0"};
inline constexpr std::string_view kLatestVersion = "1.1.0";

struct Version {
  int major = 0, minor = 0, patch = 0;
  static std::optional<Version> parse(std::string_view text);  // "X.Y.Z", digits only
  auto operator<=>(const Version&) const = default;
};
bool isSupportedVersion(std::string_view text);
// The highest supported version among `candidates` (a conflist's cniVersions), or "".
std::string highestSupported(const std::vector<std::string>& candidates);
// True when `version` >= `atLeast` (both well formed; false otherwise).
bool versionAtLeast(std::string_view version, std::string_view atLeast);

// ---- errors ---------------------------------------------------------------------------------
namespace code {
inline constexpr int kIncompatibleVersion = 1;
inline constexpr int kUnsupportedField = 2;
inline constexpr int kUnknownContainer = 3;
inline constexpr int kInvalidEnv = 4;
inline constexpr int kIoFailure = 5;
inline constexpr int kDecodeFailure = 6;
inline constexpr int kInvalidConfig = 7;
inline constexpr int kInvalidNetns = 8;  // the library's ErrInvalidNetNS: CNI_NETNS is our own netns
inline constexpr int kTryAgainLater = 11;
inline constexpr int kNotAvailable = 50;
inline constexpr int kLimitedConnectivity = 51;
// netctl's own (>= 100)
inline constexpr int kInternal = 100;           // any failure without a better code
inline constexpr int kPoolExhausted = 101;      // no free address in a range set
inline constexpr int kInterfaceExists = 102;    // CNI_IFNAME already exists in the netns
inline constexpr int kAddressUnavailable = 103; // a requested address is taken or outside the ranges
inline constexpr int kKernelUnsupported = 104;  // the kernel lacks a needed feature
inline constexpr int kCheckFailed = 105;        // CHECK found state missing or different
}  // namespace code

// A CNI error: printed as {"cniVersion", "code", "msg", "details"} on stdout.
struct Failure {
  int code = code::kInternal;
  std::string msg;
  std::string details;
};
template <typename T = void>
using Outcome = std::expected<T, Failure>;

inline std::unexpected<Failure> fail(int c, std::string msg, std::string details = {}) {
  return std::unexpected(Failure{c, std::move(msg), std::move(details)});
}
// A netctl::Error as a CNI failure. code < 0 picks one from the error's kind
// (kInvalidInput -> 7, kUnsupported -> 104, else 100).
Failure failureFrom(const Error& e, int c = -1);
std::string renderError(const Failure& f, std::string_view version);

// ---- environment ----------------------------------------------------------------------------
enum class Command { kAdd, kDel, kCheck, kStatus, kVersion, kGc };
std::string_view commandName(Command c);

// CNI_ARGS: "K1=V1;K2=V2". Unknown keys fail unless IgnoreUnknown is 1/true.
struct CniArgs {
  bool ignoreUnknown = false;
  std::vector<IpAddr> ips;         // IP=a[,b] (a "/len" suffix is accepted and dropped)
  std::string mac;                 // MAC=, normalised to lower case
  std::string podNamespace;        // K8S_POD_NAMESPACE
  std::string podName;             // K8S_POD_NAME
  std::string podInfraContainerId; // K8S_POD_INFRA_CONTAINER_ID
  std::string podUid;              // K8S_POD_UID
  std::vector<std::pair<std::string, std::string>> pairs;  // everything, in order
};
Outcome<CniArgs> parseCniArgs(std::string_view text);

// What CNI_NETNS names.
struct NetnsRef {
  enum class Kind { kNone, kNamed, kProcPid, kPath } kind = Kind::kNone;
  std::string path;  // as given
  std::string name;  // kNamed: NAME of /run/netns/NAME (or /var/run/netns/NAME)
  pid_t pid = 0;     // kProcPid: PID of /proc/PID/ns/net
};
Outcome<NetnsRef> parseNetns(std::string_view path);

struct Env {
  Command command = Command::kVersion;
  std::string containerId;
  NetnsRef netns;
  std::string ifname;
  CniArgs args;
  std::vector<std::string> path;  // CNI_PATH split on ':'
  bool netnsOverride = false;     // CNI_NETNS_OVERRIDE set: allow the plugin's own netns
};

using EnvMap = std::map<std::string, std::string>;
EnvMap processEnv();  // the CNI_* variables of this process
// Validates per command as the spec and skel do: missing required variables -> code 4 naming
// them; bad container id / ifname -> 4; unknown command -> 4; bad CNI_ARGS -> 4.
Outcome<Env> parseEnv(const EnvMap& vars);

// Name rules shared with the config parser.
bool validContainerId(std::string_view id);     // ^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$
bool validIfname(std::string_view name);         // 1..15 bytes, no '/', ':', space, not . or ..
bool validMac(std::string_view mac);             // 6 hex octets, ':' separated
std::string lowerMac(std::string_view mac);

}  // namespace netctl::cni
