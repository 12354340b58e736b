// The CNI plugin entry point: runPlugin() reads the environment and stdin, validates them as
// the spec and the reference skeleton do, answers VERSION itself, runs IPAM (host-local or
// static) itself, and calls a Backend for the network work of ADD, DEL, CHECK, STATUS and GC.
// It prints the result (in the request's version) or the error JSON on stdout and returns the
// process exit code (0 or 1).
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "netctl/cni/config.h"
#include "netctl/cni/ipam.h"
#include "netctl/cni/protocol.h"
#include "netctl/cni/result.h"

namespace netctl::cni {

// Everything a backend needs for one call, parsed and validated.
struct Request {
  Command command = Command::kAdd;
  std::string version;  // the request's cniVersion: the result is rendered in it
  Env env;
  NetConf conf;
  std::string ipamDataDir;          // the host-local root in use ("" without host-local IPAM)
  std::string mac;                  // requested container MAC: runtimeConfig.mac > args.cni.mac > CNI_ARGS MAC
  std::vector<IpAddr> requestedIps; // args.cni.ips > runtimeConfig.ips > CNI_ARGS IP
  // DEL and CHECK: the addresses host-local holds for this containerId+ifname, read before
  // anything is released, so teardown (NAT, routes) need not trust the live interface or an
  // empty prevResult.
  std::vector<IpAddr> heldIps;
};

class Backend {
 public:
  virtual ~Backend() = default;
  // ADD: create CNI_IFNAME in CNI_NETNS and wire it. `ipam` is IPAM's abbreviated result
  // (ips without `interface`, routes, dns; empty ips for L2 only). Return the full result:
  // interfaces (host side and container side; every sandbox interface with a valid MAC) and
  // ips with `interface` set. On failure runPlugin releases the addresses again.
  virtual Outcome<NetResult> add(const Request& req, const NetResult& ipam) = 0;
  // DEL: undo ADD from prevResult / own records; succeed when things are already gone
  // (CNI_NETNS may be empty or gone). runPlugin releases the IPAM addresses after it.
  virtual Outcome<void> del(const Request& req) = 0;
  // CHECK: prevResult is guaranteed present (req.conf.prevResult). IPAM is checked before.
  virtual Outcome<void> check(const Request& req, const NetResult& prev) = 0;
  // STATUS (1.1.0): fail with code 50/51 when ADD cannot be serviced.
  virtual Outcome<void> status(const Request&) { return {}; }
  // GC (1.1.0): remove state of attachments not in `valid` (IPAM is done by runPlugin).
  virtual Outcome<void> gc(const Request&, const std::vector<Attachment>& valid) {
    (void)valid;
    return {};
  }
};

struct Options {
  std::string dataDir = ipam::kDefaultDataDir;  // host-local root when ipam.dataDir is unset
  std::vector<std::string> extraTypeNames;      // type names that also mean "netctl"
  bool requireNetnsExists = true;               // ADD/CHECK: CNI_NETNS must exist (else code 3)
  std::string about = "netctl CNI plugin";      // printed when CNI_COMMAND is empty
};

// The whole plugin invocation. `env` holds the CNI_* variables (processEnv() for the real ones).
int runPlugin(const EnvMap& env, std::string_view stdinText, std::ostream& out, Backend& backend,
              const Options& opts = {});

// runPlugin for the real process: the CNI_* environment, all of stdin (not read for VERSION
// when stdin is a terminal), stdout. A failed stdin read is error code 5. For main().
int runFromProcess(Backend& backend, const Options& opts = {});

// The VERSION answer for a request's stdin (echoes a well-formed cniVersion, else the latest).
std::string versionReply(std::string_view stdinText);

}  // namespace netctl::cni
