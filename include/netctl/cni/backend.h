// The CNI backend on netctl's engines: links, addresses and routes through the libmnl link
// engine, masquerade and the portMappings capability through the nftables NAT engine.
//
// A plugin is a short-lived process while the NAT engine keeps its state in memory, so the
// NAT state of the host netns (every CNI network's masquerade and every attachment's
// published ports) is persisted as JSON in <stateDir>/cni-nat.json, flock'd through
// <stateDir>/cni-nat.lock around every load-change-save, and handed back to a fresh Engine
// (setState) on each call. Only element ops run on the request path once a network is known.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "netctl/cni/plugin.h"

namespace netctl::cni {

struct BackendOptions {
  std::string stateDir;  // "" = $NETCTL_ROOT/cni, else /run/netctl/cni
};

class KernelBackend final : public Backend {
 public:
  explicit KernelBackend(BackendOptions opts = {});
  Outcome<NetResult> add(const Request& req, const NetResult& ipam) override;
  Outcome<void> del(const Request& req) override;
  Outcome<void> check(const Request& req, const NetResult& prev) override;
  Outcome<void> status(const Request& req) override;
  Outcome<void> gc(const Request& req, const std::vector<Attachment>& valid) override;

 private:
  std::string stateDir_;
};

// The host-side veth name of an attachment: "veth" + 8 hex digits of a hash of
// containerId/ifname, so DEL finds it without any record.
std::string hostVethName(const std::string& containerId, const std::string& ifname);

// The persisted NAT state (backend_nat.cc). Every function takes the flock, loads the JSON,
// rebuilds an Engine for the calling thread's netns from it, changes it and saves it.
namespace natstate {
struct Attach {
  std::string network, bridge;
  IpPrefix subnet4;                 // network address
  std::optional<IpPrefix> subnet6;
  bool masquerade = false;
  std::string id;                   // containerId/ifname
  std::optional<IpAddr> addr4, addr6;
  std::vector<PortMapping> ports;   // the portMappings capability
};
// Ensures the network (re-applies the table only when it is new or changed) and publishes the
// attachment's ports (one element batch).
Outcome<void> attach(const std::string& stateDir, const Attach& a);
// Unpublishes an attachment's ports from the records; succeeds when nothing is recorded.
Outcome<void> detach(const std::string& stateDir, const std::string& id);
// ptp's ipMasq: one NAT rule "masquerade what comes from `subnet`" (added once per subnet).
// It has no "not to the subnet" exception, so container-to-container traffic through the
// host is masqueraded too (the engine's rules match positively only).
Outcome<void> masqueradeFrom(const std::string& stateDir, const IpPrefix& subnet);
// Unpublishes every attachment of `network` whose id is not in `keep`.
Outcome<void> gc(const std::string& stateDir, const std::string& network, const std::vector<std::string>& keep);
}  // namespace natstate

}  // namespace netctl::cni
