// The host's NAT tables are shared by every lab (one `inet netctl` table per netns, one Engine
// state), so they are rebuilt from the union of every lab's desired topology (desired.json,
// written before anything of an `up` is created) under one machine-wide lock. The previous
// values of the global sysctls the engine changes are saved before its first apply and given
// back to it, so the last lab's `down` restores them even if an earlier process was killed.
#include "network.h"

#include <fcntl.h>
#include <sys/file.h>

#include <set>

#include <nlohmann/json.hpp>

#include "netctl/base/fs.h"
#include "netctl/net/nft/nat.h"
#include "netctl/net/sysctl.h"
#include "netctl/topology/json.h"
#include "netctl/topology/names.h"
#include "netctl/topology/plan.h"
#include "netctl/topology/state.h"

namespace netctl::lab {
namespace {

using nlohmann::json;
using namespace topology;

nft::Addr toAddr(const IpAddress& a) {
  nft::Addr r;
  r.family = a.family == 4 ? 2 : 10;
  r.bytes = a.bytes;
  return r;
}
nft::Prefix toPrefix(const IpPrefix& p) { return nft::Prefix{toAddr(p.network().addr), p.len}; }

const char* kGlobalSysctls[] = {"net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding"};

void addLab(const Lab& lab, nft::State& st) {
  for (const auto& n : lab.networks) {
    if (n.driver != NetworkDriver::kBridge || !n.subnet) continue;
    nft::Network net;
    net.bridge = bridgeName(lab, n);
    net.name = net.bridge;
    net.subnet4 = toPrefix(*n.subnet);
    if (n.ipv6) net.subnet6 = toPrefix(*n.ipv6);
    net.masquerade = n.nat && !n.internal;
    net.icc = n.icc;
    net.internal = n.internal;
    st.networks.push_back(std::move(net));
  }
  for (const auto& node : lab.nodes) {
    if (node.ports.empty()) continue;
    const Attachment* att = nullptr;
    for (const auto& a : node.networks) {
      const Network* n = lab.network(a.network);
      if (n && n->driver == NetworkDriver::kBridge && a.ip) {
        att = &a;
        break;
      }
    }
    if (!att) continue;
    nft::ContainerPorts c;
    c.id = names::netns(lab.name, node.name);
    c.network = bridgeName(lab, *lab.network(att->network));
    c.addr4 = toAddr(*att->ip);
    if (att->ip6) c.addr6 = toAddr(*att->ip6);
    for (const auto& p : node.ports) {
      nft::PortMapping m;
      if (p.hostIp) m.hostAddr = toAddr(*p.hostIp);
      m.hostPort = p.hostPort;
      m.hostPortEnd = p.hostPortEnd ? p.hostPortEnd : p.hostPort;
      m.containerPort = p.containerPort;
      m.proto = p.proto == Proto::kUdp ? nft::Proto::kUdp
                : p.proto == Proto::kSctp ? nft::Proto::kSctp : nft::Proto::kTcp;
      c.ports.push_back(m);
    }
    st.containers.push_back(std::move(c));
  }
}

}  // namespace

std::string bridgeName(const Lab& lab, const Network& n) {
  return n.kernelName.empty() ? names::bridge(lab.name, n.name) : n.kernelName;
}

Result<std::vector<Lab>> desiredLabs(const std::string& root, const std::string& except) {
  std::vector<Lab> out;
  auto names = NETCTL_TRY(state::listLabs(root));
  for (const auto& name : names) {
    if (name == except) continue;
    std::string path = state::labPaths(root, name).dir + "/desired.json";
    auto text = fs::readFile(path);
    if (!text) continue;  // a lab dir without a desired topology holds nothing shared
    json doc = json::parse(*text, nullptr, false);
    if (doc.is_discarded()) continue;
    auto lab = fromJson(doc);
    if (lab) out.push_back(std::move(*lab));
  }
  return out;
}

Result<void> syncHostNat(const std::string& root, const std::string& labName, const Lab* desired) {
  const std::string what = "updating the host's NAT tables";
  NETCTL_TRYC(fs::makeDirs(root), "{}", what);
  UniqueFd lockFd(::open((root + "/nft.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!lockFd) return withContext(errnoError("opening nft.lock"), what);
  while (::flock(lockFd.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return withContext(errnoError("locking nft.lock"), what);
  }
  auto others = NETCTL_TRYC(desiredLabs(root, labName), "{}", what);
  nft::State st;
  for (const auto& l : others) addLab(l, st);
  if (desired) addLab(*desired, st);

  auto host = NETCTL_TRYC(netns::current(), "{}", what);
  const std::string sysctlFile = root + "/nft-sysctls.json";
  std::vector<nft::SysctlChange> saved;
  if (auto text = fs::readFile(sysctlFile)) {
    json doc = json::parse(*text, nullptr, false);
    if (doc.is_array())
      for (const auto& c : doc) saved.push_back({c.value("key", ""), c.value("previous", "")});
  }
  auto engine = NETCTL_TRYC(nft::Engine::open(host), "{}", what);
  if (st.empty()) {
    engine.setSysctlChanges(saved);
    NETCTL_TRYC(engine.removeAll(), "{}", what);
    ::unlink(sysctlFile.c_str());
    return {};
  }
  if (saved.empty()) {
    // Recorded before the engine touches them: a kill in between still restores them.
    for (const char* key : kGlobalSysctls) {
      auto v = sysctl::get(host, key);
      if (v) saved.push_back({key, *v});
    }
    json doc = json::array();
    for (const auto& c : saved) doc.push_back({{"key", c.key}, {"previous", c.previous}});
    NETCTL_TRYC(fs::writeFileAtomic(sysctlFile, doc.dump()), "{}", what);
  }
  engine.setSysctlChanges(saved);
  engine.setState(std::move(st));
  NETCTL_TRYC(engine.apply(), "{}", what);
  // Keep the first-seen previous value of each key (the engine may add per-bridge ones).
  json doc = json::array();
  std::set<std::string> seen;
  for (const auto& c : saved) {
    seen.insert(c.key);
    doc.push_back({{"key", c.key}, {"previous", c.previous}});
  }
  for (const auto& c : engine.sysctlChanges())
    if (!seen.count(c.key)) doc.push_back({{"key", c.key}, {"previous", c.previous}});
  NETCTL_TRYC(fs::writeFileAtomic(sysctlFile, doc.dump()), "{}", what);
  return {};
}

}  // namespace netctl::lab
