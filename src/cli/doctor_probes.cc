#include "cli/doctor_probes.h"

#include "netctl/net/link.h"
#include "netctl/net/netlink.h"
#include "netctl/net/netns.h"
#include "netctl/net/nft/nat.h"
#include "netctl/net/qdisc.h"

namespace netctl::cli::doctor {
namespace {

Check linkCheck(const std::string& kind, const Result<int>& made, bool required) {
  if (made) return {"net", kind, Status::kOk, "links can be created", required};
  bool lacking = made.error().kind() == Error::Kind::kUnsupported;
  return {"net", kind, lacking && !required ? Status::kWarn : Status::kMissing, made.error().what(), required};
}

// Creates one link of each kind in the scratch namespace behind s.
std::vector<Check> probeLinkKinds(nl::Socket& s) {
  std::vector<Check> checks;
  link::BridgeSpec bridge;
  bridge.link.name = "probe-br";
  checks.push_back(linkCheck("bridge", link::create(s, bridge), true));

  link::VethSpec veth;
  veth.link.name = "probe-v0";
  veth.peer.name = "probe-v1";
  auto vethMade = link::create(s, veth);
  checks.push_back(linkCheck("veth", vethMade, true));

  link::MacvlanSpec macvlan;
  macvlan.link.name = "probe-mv";
  macvlan.parent = "probe-v0";
  checks.push_back(vethMade ? linkCheck("macvlan", link::create(s, macvlan), false)
                            : Check{"net", "macvlan", Status::kWarn, "not probed: no veth to be its parent", false});

  link::VxlanSpec vxlan;
  vxlan.link.name = "probe-vx";
  vxlan.vni = 42;
  checks.push_back(linkCheck("vxlan", link::create(s, vxlan), false));

  link::DummySpec dummy;
  dummy.link.name = "probe-dm";
  checks.push_back(linkCheck("dummy", link::create(s, dummy), false));
  return checks;
}

// Applies a one-network table (masquerade, isolation, port maps) to the scratch namespace.
Check probeNat(const netns::Handle& scratch) {
  auto result = [&]() -> Result<void> {
    auto engine = NETCTL_TRY(nft::Engine::open(scratch));
    nft::Network net;
    net.name = "probe";
    net.bridge = "probe-br";
    net.subnet4 = NETCTL_TRY(nft::parsePrefix("10.255.255.0/24"));
    NETCTL_TRY(engine.ensureNetwork(net));
    return engine.removeAll();
  }();
  if (result) return {"net", "nftables NAT", Status::kOk, "masquerade, port maps and isolation work"};
  return {"net", "nftables NAT", Status::kMissing,
          result.error().what() + " (needs CONFIG_NF_TABLES, CONFIG_NFT_NAT, CONFIG_NFT_MASQ, CONFIG_NFT_CT)"};
}

}  // namespace

std::vector<Check> probeNetwork() {
  // Everything below lives in a namespace that vanishes with `scratch` and `s`.
  auto scratch = netns::createAnonymous();
  if (!scratch) return {{"net", "netns", Status::kMissing, scratch.error().what()}};
  auto s = nl::Socket::openIn(*scratch);
  if (!s) return {{"net", "netlink", Status::kMissing, s.error().what()}};
  std::vector<Check> checks = {{"net", "netns", Status::kOk, "network namespaces work"}};
  for (auto& c : probeLinkKinds(*s)) checks.push_back(std::move(c));
  checks.push_back(probeNat(*scratch));
  // Impairments: tbf shapes rates; netem adds delay, loss and the rest.
  for (const char* kind : {"tbf", "htb", "netem"}) {
    auto probed = qdisc::probeScratch(kind);
    std::string name = fmt::format("qdisc {}", kind);
    if (probed) {
      checks.push_back({"net", name, Status::kOk, "impairments can use it", false});
    } else {
      checks.push_back({"net", name, Status::kWarn, probed.error().what(), false});
    }
  }
  return checks;
}

}  // namespace netctl::cli::doctor
