// The NAT half of the CNI backend: netctl's nftables state for the host netns, persisted as
// JSON between plugin calls (see backend.h). One file for the whole netns, not one per network,
// because the engine renders one table from the state of every network: an Engine that knew
// only one network would drop the others' rules on its next full apply.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "netctl/base/fs.h"
#include "netctl/cni/backend.h"
#include "netctl/net/netns.h"
#include "netctl/net/nft/nat.h"

namespace netctl::cni::natstate {
namespace {

using nlohmann::json;

nft::Addr toNft(const IpAddr& a) {
  nft::Addr n;
  n.family = a.family;
  n.bytes = a.bytes;
  return n;
}
nft::Prefix toNft(const IpPrefix& p) { return nft::Prefix{toNft(p.network().addr), p.len}; }

json toJson(const nft::State& s) {
  json j;
  j["networks"] = json::array();
  for (const auto& n : s.networks) {
    json o = {{"name", n.name}, {"bridge", n.bridge}, {"subnet4", n.subnet4.str()}, {"masquerade", n.masquerade}};
    if (n.subnet6) o["subnet6"] = n.subnet6->str();
    j["networks"].push_back(o);
  }
  j["natRules"] = json::array();
  for (const auto& r : s.natRules) {
    // CNI produces source masquerades only; other rules are not persisted here.
    if (r.action != nft::NatRule::Action::kMasquerade || !r.src) continue;
    json o = {{"src", r.src->str()}};
    if (!r.oif.empty()) o["oif"] = r.oif;
    j["natRules"].push_back(o);
  }
  j["containers"] = json::array();
  for (const auto& c : s.containers) {
    json o = {{"id", c.id}, {"network", c.network}, {"addr4", c.addr4.str()}, {"ports", json::array()}};
    if (c.addr6) o["addr6"] = c.addr6->str();
    for (const auto& p : c.ports) o["ports"].push_back(p.str());
    j["containers"].push_back(o);
  }
  return j;
}

Result<nft::State> fromJson(const std::string& text) {
  nft::State s;
  if (text.empty()) return s;
  json j;
  try {
    j = json::parse(text);
    for (const auto& o : j.at("networks")) {
      nft::Network n;
      n.name = o.at("name").get<std::string>();
      n.bridge = o.at("bridge").get<std::string>();
      n.subnet4 = NETCTL_TRY(nft::parsePrefix(o.at("subnet4").get<std::string>()));
      if (o.contains("subnet6")) n.subnet6 = NETCTL_TRY(nft::parsePrefix(o.at("subnet6").get<std::string>()));
      n.masquerade = o.at("masquerade").get<bool>();
      s.networks.push_back(std::move(n));
    }
    for (const auto& o : j.value("natRules", json::array())) {
      nft::NatRule r;
      r.src = NETCTL_TRY(nft::parsePrefix(o.at("src").get<std::string>()));
      r.oif = o.value("oif", "");
      s.natRules.push_back(std::move(r));
    }
    for (const auto& o : j.at("containers")) {
      nft::ContainerPorts c;
      c.id = o.at("id").get<std::string>();
      c.network = o.at("network").get<std::string>();
      c.addr4 = NETCTL_TRY(nft::parseAddr(o.at("addr4").get<std::string>()));
      if (o.contains("addr6")) c.addr6 = NETCTL_TRY(nft::parseAddr(o.at("addr6").get<std::string>()));
      for (const auto& p : o.at("ports")) c.ports.push_back(NETCTL_TRY(nft::parsePortMapping(p.get<std::string>())));
      s.containers.push_back(std::move(c));
    }
  } catch (const json::exception& e) {
    return invalidInput(fmt::format("corrupt NAT state: {}", e.what()));
  }
  return s;
}

// The flock'd state file; the Engine (an nfnetlink socket) is opened only when the kernel
// must change, so a DEL or ADD without published ports costs a file read, not a socket.
class Locked {
 public:
  static Result<Locked> open(const std::string& dir, bool create) {
    Locked l;
    l.path_ = dir + "/cni-nat.json";
    if (!create && !fs::exists(l.path_)) return l;
    NETCTL_TRY(fs::makeDirs(dir, 0700));
    l.lock_ = NETCTL_TRY(fs::open(dir + "/cni-nat.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    while (::flock(l.lock_.get(), LOCK_EX) != 0)
      if (errno != EINTR) return errnoError("locking " + dir + "/cni-nat.lock");
    std::string text;
    if (fs::exists(l.path_)) text = NETCTL_TRY(fs::readFile(l.path_));
    l.state_ = NETCTL_TRYC(fromJson(text), "{}", l.path_);
    l.loaded_ = true;
    return l;
  }
  bool loaded() const { return loaded_; }
  const nft::State& state() const { return engine_ ? engine_->state() : state_; }
  Result<nft::Engine*> engine() {
    if (!engine_) {
      auto self = NETCTL_TRY(netns::current());
      engine_.emplace(NETCTL_TRY(nft::Engine::open(self)));
      engine_->setState(state_);
    }
    return &*engine_;
  }
  Result<void> save() { return fs::writeFileAtomic(path_, toJson(state()).dump()); }

 private:
  std::string path_;
  UniqueFd lock_;
  bool loaded_ = false;
  nft::State state_;
  std::optional<nft::Engine> engine_;
};

Failure failed(const Error& e, std::string what) {
  Failure f = failureFrom(e);
  f.msg = what + ": " + f.msg;
  return f;
}

}  // namespace

Outcome<void> attach(const std::string& stateDir, const Attach& a) {
  auto l = Locked::open(stateDir, true);
  if (!l) return std::unexpected(failed(l.error(), "loading NAT state"));
  nft::Network net;
  net.name = a.network;
  net.bridge = a.bridge;
  net.subnet4 = toNft(a.subnet4);
  if (a.subnet6) net.subnet6 = toNft(*a.subnet6);
  net.masquerade = a.masquerade;
  const auto& st = l->state();
  auto known = std::find_if(st.networks.begin(), st.networks.end(), [&](auto& n) { return n.name == net.name; });
  bool same = known != st.networks.end() && known->bridge == net.bridge && known->subnet4 == net.subnet4 &&
              known->subnet6 == net.subnet6 && known->masquerade == net.masquerade;
  // A network is rendered once; later ADDs only touch elements.
  auto engine = [&]() -> Outcome<nft::Engine*> {
    auto e = l->engine();
    if (!e) return std::unexpected(failed(e.error(), "nftables"));
    return *e;
  };
  if (!same) {
    auto e = engine();
    if (!e) return std::unexpected(e.error());
    if (auto r = (*e)->ensureNetwork(net); !r) return std::unexpected(failed(r.error(), "nftables"));
    if (auto r = l->save(); !r) return std::unexpected(failed(r.error(), "saving NAT state"));
  }
  if (a.ports.empty()) return {};
  if (!a.addr4) return fail(code::kInvalidConfig, "portMappings need an IPv4 address");
  nft::ContainerPorts c;
  c.id = a.id;
  c.network = a.network;
  c.addr4 = toNft(*a.addr4);
  if (a.addr6) c.addr6 = toNft(*a.addr6);
  for (const auto& p : a.ports) {
    nft::PortMapping m;
    if (p.hostIP && !p.hostIP->bytes.empty()) m.hostAddr = toNft(*p.hostIP);
    if (p.hostIP && (p.hostIP->str() == "0.0.0.0" || p.hostIP->str() == "::")) m.hostAddr.reset();
    m.hostPort = m.hostPortEnd = uint16_t(p.hostPort);
    m.containerPort = uint16_t(p.containerPort);
    auto proto = nft::parseProto(p.protocol);
    if (!proto) return fail(code::kInvalidConfig, "portMappings: " + proto.error().what());
    m.proto = *proto;
    c.ports.push_back(m);
  }
  auto e = engine();
  if (!e) return std::unexpected(e.error());
  (void)(*e)->removePorts(c.id);  // a repeated ADD replaces the old mapping
  if (auto r = (*e)->addPorts(c); !r) return std::unexpected(failed(r.error(), "publishing ports"));
  if (auto r = l->save(); !r) return std::unexpected(failed(r.error(), "saving NAT state"));
  return {};
}

Outcome<void> masqueradeFrom(const std::string& stateDir, const IpPrefix& subnet) {
  auto l = Locked::open(stateDir, true);
  if (!l) return std::unexpected(failed(l.error(), "loading NAT state"));
  nft::NatRule r;
  r.src = toNft(subnet);
  const auto& rules = l->state().natRules;
  if (std::find(rules.begin(), rules.end(), r) != rules.end()) return {};
  auto e = l->engine();
  if (!e) return std::unexpected(failed(e.error(), "nftables"));
  if (auto a = (*e)->addNatRules({r}); !a) return std::unexpected(failed(a.error(), "nftables"));
  if (auto a = l->save(); !a) return std::unexpected(failed(a.error(), "saving NAT state"));
  return {};
}

Outcome<void> detach(const std::string& stateDir, const std::string& id) {
  auto l = Locked::open(stateDir, false);
  if (!l) return std::unexpected(failed(l.error(), "loading NAT state"));
  if (!l->loaded()) return {};
  const auto& cs = l->state().containers;
  if (std::none_of(cs.begin(), cs.end(), [&](auto& c) { return c.id == id; })) return {};
  auto e = l->engine();
  if (!e) return std::unexpected(failed(e.error(), "nftables"));
  if (auto r = (*e)->removePorts(id); !r) return std::unexpected(failed(r.error(), "unpublishing ports"));
  if (auto r = l->save(); !r) return std::unexpected(failed(r.error(), "saving NAT state"));
  return {};
}

Outcome<void> gc(const std::string& stateDir, const std::string& network, const std::vector<std::string>& keep) {
  auto l = Locked::open(stateDir, false);
  if (!l) return std::unexpected(failed(l.error(), "loading NAT state"));
  if (!l->loaded()) return {};
  std::vector<std::string> stale;
  for (const auto& c : l->state().containers)
    if (c.network == network && std::find(keep.begin(), keep.end(), c.id) == keep.end()) stale.push_back(c.id);
  if (stale.empty()) return {};
  auto e = l->engine();
  if (!e) return std::unexpected(failed(e.error(), "nftables"));
  for (const auto& id : stale)
    if (auto r = (*e)->removePorts(id); !r) return std::unexpected(failed(r.error(), "unpublishing ports"));
  if (auto r = l->save(); !r) return std::unexpected(failed(r.error(), "saving NAT state"));
  return {};
}

}  // namespace netctl::cni::natstate
