// NAT, port publishing and isolation of one network namespace, on nftables (DESIGN.md 4.2).
//
// netctl keeps its own state (networks, published ports, node NAT rules) and renders from it
// one table `inet netctl` (plus `bridge netctl` when a network turns inter-container traffic
// off), applied whole in one atomic, generation-checked netlink batch. Published ports live in
// map and set elements, so adding or removing a container's ports is one batch of element
// changes whose cost does not grow with the number of mappings. netctl never touches chains or
// tables it does not own; its base chains have policy accept and isolation is explicit drops.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "netctl/base/result.h"
#include "netctl/net/netns.h"
#include "netctl/net/nft/spec.h"

namespace netctl::nft {

// A bridge network with its subnets.
struct Network {
  std::string name;
  std::string bridge;                 // the bridge interface (the gateway lives on it)
  Prefix subnet4;                     // required
  std::optional<Prefix> subnet6;
  bool masquerade = true;             // SNAT traffic leaving through any other interface
  bool icc = true;                    // containers on the same bridge may talk
  bool internal = false;              // no way out (and nothing published)
  std::vector<std::string> links;     // names of networks this one may reach (symmetric)
};

// The published ports of one container on one network.
struct ContainerPorts {
  std::string id;        // the container (unique key)
  std::string network;   // Network::name
  Addr addr4;            // the container's IPv4 address
  std::optional<Addr> addr6;
  std::vector<PortMapping> ports;
};

// A NAT rule inside a node's namespace, as plain data. Empty fields match anything.
struct NatRule {
  enum class Action { kMasquerade, kSnat, kDnat };
  std::string iif, oif;            // kMasquerade/kSnat may use oif only; kDnat iif only
  std::optional<Prefix> src, dst;  // one family per rule (decided by src/dst/to)
  std::optional<Proto> proto;      // required with ports
  uint16_t dport = 0, dportEnd = 0;
  Action action = Action::kMasquerade;
  std::optional<Addr> to;          // snat/dnat target address
  uint16_t toPort = 0;             // dnat target port (0 = keep)
  std::string str() const;
  bool operator==(const NatRule&) const = default;
};

struct State {
  std::vector<Network> networks;
  std::vector<ContainerPorts> containers;
  std::vector<NatRule> natRules;
  bool empty() const { return networks.empty() && containers.empty() && natRules.empty(); }
};

// A sysctl netctl changed, with the value it had before, to restore on removeAll().
struct SysctlChange {
  std::string key, previous;
};

// What the kernel holds, read back with dumps (for tests and `inspect`).
struct TableView {
  bool exists = false;
  bool bridgeTableExists = false;        // `bridge netctl` (ICC off)
  std::map<std::string, int> chains;     // chain -> number of rules
  std::vector<std::string> sets;         // set and map names
  struct PortElement {
    int family = 0;                // AF_INET or AF_INET6
    std::optional<Addr> hostAddr;  // unset: every host address of the family
    Proto proto = Proto::kTcp;
    uint16_t hostPort = 0;
    Addr containerAddr;
    uint16_t containerPort = 0;
  };
  std::vector<PortElement> portmap;      // both families
  struct Published {
    Addr addr;
    Proto proto = Proto::kTcp;
    uint16_t port = 0;
  };
  std::vector<Published> published;      // both families
  std::vector<std::string> forwardIn;    // interface names in the ingress vmap
};

// The engine for one network namespace. Keeps the state and an nfnetlink socket opened
// inside the namespace. Use one Engine per namespace (a second one would replace the first
// one's table with its own state); it is not thread-safe.
class Engine {
 public:
  static Result<Engine> open(const netns::Handle& ns);
  Engine(Engine&&) noexcept;
  Engine& operator=(Engine&&) noexcept;
  ~Engine();

  // Network changes re-apply the whole table (networks change rarely).
  Result<void> ensureNetwork(const Network& net);
  Result<void> removeNetwork(const std::string& name);
  // One batch of element changes. A conflict with an existing mapping (of any container)
  // fails with kConflict naming both; nothing changes then.
  Result<void> addPorts(const ContainerPorts& c);
  Result<void> removePorts(const std::string& containerId);
  Result<void> addNatRules(const std::vector<NatRule>& rules);
  Result<void> removeNatRules(const std::vector<NatRule>& rules);
  // Renders the whole state and applies it in one atomic batch (also restores the table
  // after `nft flush ruleset`), and sets the sysctls it needs.
  Result<void> apply();
  // Deletes the tables, forgets the state and restores every sysctl it changed.
  Result<void> removeAll();

  const State& state() const;
  // Replaces the state without touching the kernel (e.g. loaded from disk); call apply().
  void setState(State s);
  const std::vector<SysctlChange>& sysctlChanges() const;
  void setSysctlChanges(std::vector<SysctlChange> changes);

  struct Impl;

 private:
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

Result<TableView> readBack(const netns::Handle& ns);

}  // namespace netctl::nft
