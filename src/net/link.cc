#include "netctl/net/link.h"

#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if_arp.h>

#include <cstring>
#include <map>

#include "net/rtattr.h"

namespace netctl::link {
namespace {

constexpr std::string_view kMarkPrefix = "netctl:";
// Skips the 64-bit counters: a dump of 1000 links stays small.
constexpr uint32_t kSkipStats = 1u << 3;  // RTEXT_FILTER_SKIP_STATS

const Common& commonOf(const Spec& spec) {
  return std::visit([](const auto& s) -> const Common& { return s.link; }, spec);
}

std::string_view kindOf(const Spec& spec) {
  struct V {
    std::string_view operator()(const BridgeSpec&) const { return "bridge"; }
    std::string_view operator()(const VethSpec&) const { return "veth"; }
    std::string_view operator()(const MacvlanSpec&) const { return "macvlan"; }
    std::string_view operator()(const VxlanSpec&) const { return "vxlan"; }
    std::string_view operator()(const DummySpec&) const { return "dummy"; }
  };
  return std::visit(V{}, spec);
}

// Addresses a link by index or name in a request's ifinfomsg/attributes.
void putRef(nl::Message& m, ifinfomsg* ifm, const Ref& ref) {
  if (ref.index) {
    ifm->ifi_index = ref.index;
  } else {
    m.putString(IFLA_IFNAME, ref.name);
  }
}

// "creating veth h1 (peer eth1 in netns /run/netns/lab1-r1) on bridge br0".
std::string describe(const Spec& spec, const nl::Socket& s) {
  const Common& c = commonOf(spec);
  std::string out = fmt::format("creating {} {}", kindOf(spec), c.name);
  if (auto* v = std::get_if<VethSpec>(&spec)) {
    out += fmt::format(" (peer {} in netns {})", v->peer.name, v->peer.netns ? v->peer.netns->name() : s.netnsName());
  } else if (auto* mv = std::get_if<MacvlanSpec>(&spec)) {
    out += fmt::format(" (on {}{})", mv->parent.str(), mv->netns ? " into netns " + mv->netns->name() : "");
  } else if (s.netnsName() != "current") {
    out += fmt::format(" in netns {}", s.netnsName());
  }
  if (!c.master.empty()) out += fmt::format(" on bridge {}", c.master.str());
  return out;
}

uint32_t macvlanMode(MacvlanSpec::Mode m) {
  switch (m) {
    case MacvlanSpec::Mode::kBridge: return MACVLAN_MODE_BRIDGE;
    case MacvlanSpec::Mode::kPrivate: return MACVLAN_MODE_PRIVATE;
    case MacvlanSpec::Mode::kVepa: return MACVLAN_MODE_VEPA;
    case MacvlanSpec::Mode::kPassthru: return MACVLAN_MODE_PASSTHRU;
  }
  return MACVLAN_MODE_BRIDGE;
}

// Resolved indexes a spec needs (master, parent), looked up before building the message.
struct Resolved {
  int master = 0;
  int parent = 0;
};

// Whether the link's own end comes up in the second phase (createMany) rather than in the
// create itself: after its IPv6 mode is set, or after its veth peer is up. A bridge port that
// comes up before its peer is enabled, then disabled once the kernel sees no carrier, then
// enabled again: three passes over all of the bridge's ports, and three kernel log lines.
bool upLate(const Spec& spec) {
  const Common& c = commonOf(spec);
  auto* v = std::get_if<VethSpec>(&spec);
  return c.up && (!c.ipv6LinkLocal || (v && v->peer.up));
}

void putCommon(nl::Message& m, ifinfomsg* ifm, const Spec& spec, int master) {
  const Common& c = commonOf(spec);
  m.putString(IFLA_IFNAME, c.name);
  if (c.mtu) m.putU32(IFLA_MTU, c.mtu);
  if (c.mac) m.putBytes(IFLA_ADDRESS, c.mac->bytes.data(), c.mac->bytes.size());
  if (master) m.putU32(IFLA_MASTER, static_cast<uint32_t>(master));
  if (!c.owner.empty()) m.putU32(IFLA_GROUP, ownerGroup(c.owner));
  if (c.up && !upLate(spec)) {
    ifm->ifi_flags |= IFF_UP;
    ifm->ifi_change |= IFF_UP;
  }
}

nl::Message buildCreate(const Spec& spec, const Resolved& r) {
  nl::Message m(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ECHO);
  auto* ifm = m.putHeader<ifinfomsg>();
  ifm->ifi_family = AF_UNSPEC;
  const Common& c = commonOf(spec);
  putCommon(m, ifm, spec, r.master);
  if (auto* mv = std::get_if<MacvlanSpec>(&spec)) {
    m.putU32(IFLA_LINK, static_cast<uint32_t>(r.parent));
    if (mv->netns) m.putU32(IFLA_NET_NS_FD, static_cast<uint32_t>(mv->netns->fd()));
  }
  nlattr* info = m.nestStart(IFLA_LINKINFO);
  m.putString(IFLA_INFO_KIND, kindOf(spec));
  if (auto* b = std::get_if<BridgeSpec>(&spec)) {
    nlattr* data = m.nestStart(IFLA_INFO_DATA);
    m.putU32(IFLA_BR_STP_STATE, b->stp ? 1 : 0);
    m.putU32(IFLA_BR_AGEING_TIME, b->ageingSeconds * 100);  // clock_t, in centiseconds
    if (!b->multicastSnooping) m.putU8(IFLA_BR_MCAST_SNOOPING, 0);
    // Only when asked: a kernel without CONFIG_BRIDGE_VLAN_FILTERING refuses the attribute
    // even when it says "off".
    if (b->vlanFiltering) m.putU8(IFLA_BR_VLAN_FILTERING, 1);
    m.nestEnd(data);
  } else if (auto* v = std::get_if<VethSpec>(&spec)) {
    nlattr* data = m.nestStart(IFLA_INFO_DATA);
    nlattr* peer = m.nestStart(VETH_INFO_PEER);
    // The peer's attributes follow its own ifinfomsg. Its IFF_UP cannot go there (see
    // createMany).
    m.putHeader<ifinfomsg>()->ifi_family = AF_UNSPEC;
    m.putString(IFLA_IFNAME, v->peer.name);
    if (v->peer.netns) m.putU32(IFLA_NET_NS_FD, static_cast<uint32_t>(v->peer.netns->fd()));
    uint32_t peerMtu = v->peer.mtu ? v->peer.mtu : c.mtu;
    if (peerMtu) m.putU32(IFLA_MTU, peerMtu);
    if (v->peer.mac) m.putBytes(IFLA_ADDRESS, v->peer.mac->bytes.data(), v->peer.mac->bytes.size());
    if (!c.owner.empty()) m.putU32(IFLA_GROUP, ownerGroup(c.owner));
    m.nestEnd(peer);
    m.nestEnd(data);
  } else if (auto* mv = std::get_if<MacvlanSpec>(&spec)) {
    nlattr* data = m.nestStart(IFLA_INFO_DATA);
    m.putU32(IFLA_MACVLAN_MODE, macvlanMode(mv->mode));
    m.nestEnd(data);
  } else if (auto* x = std::get_if<VxlanSpec>(&spec)) {
    nlattr* data = m.nestStart(IFLA_INFO_DATA);
    m.putU32(IFLA_VXLAN_ID, x->vni);
    if (x->remote) {
      m.putBytes(x->remote->isV4() ? IFLA_VXLAN_GROUP : IFLA_VXLAN_GROUP6, x->remote->data(), x->remote->size());
    }
    if (x->local) {
      m.putBytes(x->local->isV4() ? IFLA_VXLAN_LOCAL : IFLA_VXLAN_LOCAL6, x->local->data(), x->local->size());
    }
    if (r.parent) m.putU32(IFLA_VXLAN_LINK, static_cast<uint32_t>(r.parent));
    m.putU16Be(IFLA_VXLAN_PORT, x->dstPort);
    m.putU8(IFLA_VXLAN_LEARNING, x->learning ? 1 : 0);
    m.nestEnd(data);
  }
  m.nestEnd(info);
  return m;
}

// What the kernel tells about a link it created: its ifindex and, for a veth, its peer's.
struct Created {
  int index = 0;
  int peer = 0;
};

Created createdFrom(const nlmsghdr* nlh) {
  rtattr::Table<IFLA_MAX> tb(nlh, sizeof(ifinfomsg));
  Created c;
  c.index = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh))->ifi_index;
  c.peer = static_cast<int>(tb.u32(IFLA_LINK));
  return c;
}

// RTM_SETLINK by ifindex: IFF_UP if `up`, and the alias if non-empty.
nl::Message buildFinish(int index, bool up, std::string_view alias) {
  nl::Message m(RTM_SETLINK, 0);
  auto* ifm = m.putHeader<ifinfomsg>();
  ifm->ifi_family = AF_UNSPEC;
  ifm->ifi_index = index;
  if (up) {
    ifm->ifi_flags = IFF_UP;
    ifm->ifi_change = IFF_UP;
  }
  if (!alias.empty()) m.putString(IFLA_IFALIAS, alias);
  return m;
}

// RTM_SETLINK by ifindex: IPv6 address generation mode "none" (no link-local address). Sent
// before the message that brings the link up: the mode only acts on the next NETDEV_UP.
nl::Message buildNoLinkLocal(int index) {
  nl::Message m(RTM_SETLINK, 0);
  auto* ifm = m.putHeader<ifinfomsg>();
  ifm->ifi_family = AF_UNSPEC;
  ifm->ifi_index = index;
  nlattr* af = m.nestStart(IFLA_AF_SPEC);
  nlattr* v6 = m.nestStart(AF_INET6);
  m.putU8(IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE);
  m.nestEnd(v6);
  m.nestEnd(af);
  return m;
}

Result<void> validate(const Spec& spec) {
  const Common& c = commonOf(spec);
  auto checkName = [](const std::string& n, std::string_view what) -> Result<void> {
    if (n.empty() || n.size() >= IFNAMSIZ || n.find_first_of("/ \t\n:") != std::string::npos || n == "." || n == "..")
      return invalidInput(fmt::format("{} name \"{}\" is not a valid interface name (1-15 characters, no '/', ':' or spaces)", what, n));
    return {};
  };
  NETCTL_TRY(checkName(c.name, kindOf(spec)));
  if (auto* v = std::get_if<VethSpec>(&spec)) NETCTL_TRY(checkName(v->peer.name, "veth peer"));
  if (auto* mv = std::get_if<MacvlanSpec>(&spec); mv && mv->parent.empty())
    return invalidInput(fmt::format("macvlan {} needs a parent link", c.name));
  if (auto* x = std::get_if<VxlanSpec>(&spec)) {
    if (x->vni == 0 || x->vni > 0xffffff) return invalidInput(fmt::format("vxlan {}: vni {} is not in 1-16777215", c.name, x->vni));
    if (x->remote && x->remote->isMulticast() && x->parent.empty())
      return invalidInput(fmt::format("vxlan {}: a multicast group needs a parent device", c.name));
    if (x->remote && x->local && x->remote->family() != x->local->family())
      return invalidInput(fmt::format("vxlan {}: local and remote are of different families", c.name));
  }
  if (c.owner.size() + kMarkPrefix.size() >= IFALIASZ) return invalidInput(fmt::format("owner \"{}\" is too long", c.owner));
  return {};
}

Result<Info> parseInfo(const nlmsghdr* nlh) {
  auto* ifm = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
  Info info;
  info.index = ifm->ifi_index;
  info.flags = ifm->ifi_flags;
  rtattr::Table<IFLA_MAX> tb(nlh, sizeof(ifinfomsg));
  info.name = tb.str(IFLA_IFNAME);
  info.mtu = tb.u32(IFLA_MTU);
  info.master = static_cast<int>(tb.u32(IFLA_MASTER));
  info.link = static_cast<int>(tb.u32(IFLA_LINK));
  info.linkNetnsId = tb[IFLA_LINK_NETNSID] ? static_cast<int>(tb.u32(IFLA_LINK_NETNSID)) : -1;
  info.group = tb.u32(IFLA_GROUP);
  info.operstate = tb.u8(IFLA_OPERSTATE);
  info.alias = tb.str(IFLA_IFALIAS);
  if (const nlattr* a = tb[IFLA_ADDRESS]; a && mnl_attr_get_payload_len(a) == 6)
    std::memcpy(info.mac.bytes.data(), mnl_attr_get_payload(a), 6);
  if (const nlattr* props = tb[IFLA_PROP_LIST]) {
    mnl_attr_parse_nested(
        props,
        [](const nlattr* a, void* data) {
          if (mnl_attr_get_type(a) == IFLA_ALT_IFNAME && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
            static_cast<std::vector<std::string>*>(data)->emplace_back(mnl_attr_get_str(a));
          return MNL_CB_OK;
        },
        &info.altnames);
  }
  if (const nlattr* li = tb[IFLA_LINKINFO]) {
    rtattr::Table<IFLA_INFO_MAX> lt(li);
    info.kind = lt.str(IFLA_INFO_KIND);
  }
  return info;
}

nl::Message buildGet(const Ref& ref) {
  nl::Message m(RTM_GETLINK, 0);
  auto* ifm = m.putHeader<ifinfomsg>();
  ifm->ifi_family = AF_UNSPEC;
  putRef(m, ifm, ref);
  m.putU32(IFLA_EXT_MASK, kSkipStats);
  return m;
}

// A one-attribute RTM_SETLINK for `link`, filled in by `fill`.
template <typename F>
Result<void> setLink(nl::Socket& s, const Ref& link, std::string what, F&& fill) {
  nl::Message m(RTM_SETLINK, 0);
  auto* ifm = m.putHeader<ifinfomsg>();
  ifm->ifi_family = AF_UNSPEC;
  putRef(m, ifm, link);
  fill(m, ifm);
  nl::Status st = s.transact(m);
  if (!st.ok()) return std::unexpected(errorFor(st, "", std::move(what)));
  return {};
}

// Resolves name refs of every spec, once per distinct name.
class Resolver {
 public:
  explicit Resolver(nl::Socket& s) : s_(s) {}
  Result<int> operator()(const Ref& ref) {
    if (ref.empty()) return 0;
    if (ref.index) return ref.index;
    auto it = cache_.find(ref.name);
    if (it != cache_.end()) return it->second;
    int idx = NETCTL_TRY(index(s_, ref));
    cache_.emplace(ref.name, idx);
    return idx;
  }

 private:
  nl::Socket& s_;
  std::map<std::string, int> cache_;
};

Result<Resolved> resolve(Resolver& r, const Spec& spec) {
  Resolved out;
  out.master = NETCTL_TRYC(r(commonOf(spec).master), "looking up bridge {}", commonOf(spec).master.str());
  if (auto* mv = std::get_if<MacvlanSpec>(&spec))
    out.parent = NETCTL_TRYC(r(mv->parent), "looking up parent {}", mv->parent.str());
  if (auto* x = std::get_if<VxlanSpec>(&spec)) out.parent = NETCTL_TRYC(r(x->parent), "looking up parent {}", x->parent.str());
  return out;
}

// The second phase's requests for one netns, and the spec each is for.
struct Finish {
  std::vector<nl::Message> msgs;
  std::vector<size_t> slots;
};

// The ifalias that marks an owner's link ("" for no owner).
std::string markOf(std::string_view owner) {
  return owner.empty() ? std::string() : fmt::format("{}{}", kMarkPrefix, owner);
}

// The link's own end: its mark, its IPv6 mode, and its IFF_UP when that waited (upLate).
void finishOwnEnd(Finish& f, size_t slot, int index, const Spec& spec) {
  const Common& c = commonOf(spec);
  const bool lateUp = upLate(spec);
  if (c.up && !c.ipv6LinkLocal) {
    f.msgs.push_back(buildNoLinkLocal(index));
    f.slots.push_back(slot);
  }
  if (lateUp || !c.owner.empty()) {
    f.msgs.push_back(buildFinish(index, lateUp, markOf(c.owner)));
    f.slots.push_back(slot);
  }
}

}  // namespace

Result<Mac> Mac::parse(std::string_view text) {
  Mac mac;
  auto bad = [&] { return invalidInput(fmt::format("\"{}\" is not a MAC address (like 02:42:ac:11:00:02)", text)); };
  if (text.size() != 17) return bad();
  for (size_t i = 0; i < 6; ++i) {
    auto hex = [](char ch) -> int {
      if (ch >= '0' && ch <= '9') return ch - '0';
      if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
      if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
      return -1;
    };
    int hi = hex(text[i * 3]), lo = hex(text[i * 3 + 1]);
    if (hi < 0 || lo < 0 || (i < 5 && text[i * 3 + 2] != ':')) return bad();
    mac.bytes[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return mac;
}

std::string Mac::str() const {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5]);
}

bool Info::up() const { return flags & IFF_UP; }

std::string Info::owner() const {
  if (alias.starts_with(kMarkPrefix)) return alias.substr(kMarkPrefix.size());
  return {};
}

std::string_view configOption(std::string_view kind) {
  static const std::map<std::string_view, std::string_view> options = {
      {"bridge", "CONFIG_BRIDGE"}, {"veth", "CONFIG_VETH"},     {"macvlan", "CONFIG_MACVLAN"},
      {"vxlan", "CONFIG_VXLAN"},   {"dummy", "CONFIG_DUMMY"},   {"ipvlan", "CONFIG_IPVLAN"},
      {"vlan", "CONFIG_VLAN_8021Q"}, {"macvtap", "CONFIG_MACVTAP"}, {"vrf", "CONFIG_NET_VRF"},
  };
  auto it = options.find(kind);
  return it == options.end() ? std::string_view() : it->second;
}

Error errorFor(const nl::Status& st, std::string_view kind, std::string what) {
  // rtnl_newlink answers "Unknown device type" (EOPNOTSUPP) when no driver registered the kind
  // and loading its module failed.
  if (!kind.empty() && st.errnum == EOPNOTSUPP && st.extack.find("Unknown device type") != std::string::npos) {
    std::string_view option = configOption(kind);
    return Error(Error::Kind::kUnsupported, st.errnum,
                 fmt::format("{}: the kernel lacks {} support ({})", what, kind, option.empty() ? "its driver is not built" : option));
  }
  if (st.errnum == EXFULL) {
    // br_add_if: port numbers are 1..1023 (BR_MAX_PORTS 1024, port 0 reserved).
    return Error(Error::Kind::kConflict, st.errnum,
                 fmt::format("{}: the bridge is full: a Linux bridge holds at most 1023 ports{}", what,
                             st.extack.empty() ? "" : " (" + st.extack + ")"));
  }
  return nl::toError(st, std::move(what));
}

std::vector<Result<int>> createMany(nl::Socket& s, std::span<const Spec> specs, nl::SocketCache* others) {
  nl::SocketCache ownCache;
  nl::SocketCache& peerSockets = others ? *others : ownCache;
  std::vector<Result<int>> out(specs.size(), 0);
  std::vector<nl::Message> msgs;
  std::vector<size_t> slot;  // msgs[k] is for specs[slot[k]]
  Resolver resolver(s);
  for (size_t i = 0; i < specs.size(); ++i) {
    auto ok = validate(specs[i]);
    Result<Resolved> r = ok ? resolve(resolver, specs[i]) : std::unexpected(ok.error());
    if (!r) {
      out[i] = std::unexpected(std::move(r.error()).context(describe(specs[i], s)));
      continue;
    }
    msgs.push_back(buildCreate(specs[i], *r));
    slot.push_back(i);
  }
  std::vector<nl::Message*> ptrs;
  for (auto& m : msgs) ptrs.push_back(&m);
  std::vector<Created> created(msgs.size());
  auto statuses = s.transactAll(ptrs, [&](size_t k, const nlmsghdr* nlh) {
    if (nlh->nlmsg_type == RTM_NEWLINK && !created[k].index) created[k] = createdFrom(nlh);
  });

  // Phase two, for the links we did create (a failed create, EEXIST, must never touch a link
  // that is someone else's): the ownership mark, and a veth peer's IFF_UP and mark. The kernel
  // refuses IFF_UP in the peer's own ifinfomsg (veth_open runs before the pair is linked:
  // ENOTCONN), and RTM_SETLINK cannot address a link in another netns (IFLA_TARGET_NETNSID
  // there means "move it"), so a peer in another netns is set through a socket opened there,
  // one per netns, all of that netns's peers in one sendmsg.
  std::map<const netns::Handle*, Finish> fin;  // nullptr: the socket's own netns
  for (size_t k = 0; k < msgs.size(); ++k) {
    size_t i = slot[k];
    const Spec& spec = specs[i];
    const Common& c = commonOf(spec);
    if (!statuses[k].ok()) {
      auto* b = std::get_if<BridgeSpec>(&spec);
      if (b && b->vlanFiltering && statuses[k].errnum == EOPNOTSUPP && statuses[k].extack.empty()) {
        out[i] = std::unexpected(Error(Error::Kind::kUnsupported, EOPNOTSUPP,
                                       describe(spec, s) + ": the kernel lacks bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING)"));
      } else {
        out[i] = std::unexpected(errorFor(statuses[k], kindOf(spec), describe(spec, s)));
      }
      continue;
    }
    auto* mv = std::get_if<MacvlanSpec>(&spec);
    if (mv && mv->netns) {
      // Echoed in its netns, not to us: read its index there, and mark it there.
      auto other = peerSockets.get(*mv->netns);
      out[i] = other ? index(**other, c.name) : std::unexpected(other.error());
      if (!out[i]) {
        out[i].error().context(describe(spec, s) + ": created, but then");
        continue;
      }
      finishOwnEnd(fin[mv->netns], i, *out[i], spec);
      continue;
    }
    if (!created[k].index) {
      // A kernel that does not echo new links (before 6.3): ask.
      auto info = get(s, c.name);
      if (!info) {
        out[i] = std::unexpected(std::move(info.error()).context(describe(spec, s)));
        continue;
      }
      created[k] = Created{info->index, info->link};
    }
    out[i] = created[k].index;
    std::string mark = markOf(c.owner);
    if (auto* v = std::get_if<VethSpec>(&spec); v && (v->peer.up || !mark.empty() || !v->peer.ipv6LinkLocal)) {
      if (!created[k].peer) {
        out[i] = std::unexpected(Error(Error::Kind::kSystem, 0, describe(spec, s) + ": the kernel did not say the peer's ifindex"));
        continue;
      }
      if (!v->peer.ipv6LinkLocal) {
        fin[v->peer.netns].msgs.push_back(buildNoLinkLocal(created[k].peer));
        fin[v->peer.netns].slots.push_back(i);
      }
      fin[v->peer.netns].msgs.push_back(buildFinish(created[k].peer, v->peer.up, mark));
      fin[v->peer.netns].slots.push_back(i);
    }
    finishOwnEnd(fin[nullptr], i, created[k].index, spec);
  }
  auto flush = [&](const netns::Handle* ns, Finish& f) {
    nl::Socket* fs = &s;
    if (ns) {
      auto other = peerSockets.get(*ns);
      if (!other) {
        for (size_t i : f.slots)
          if (out[i]) out[i] = std::unexpected(Error(other.error()).context(describe(specs[i], s) + ": created, but then"));
        return;
      }
      fs = *other;
    }
    std::vector<nl::Message*> fptrs;
    for (auto& m : f.msgs) fptrs.push_back(&m);
    auto fst = fs->transactAll(fptrs);
    for (size_t k = 0; k < f.msgs.size(); ++k) {
      size_t i = f.slots[k];
      if (fst[k].ok() || !out[i]) continue;
      out[i] = std::unexpected(nl::toError(fst[k], describe(specs[i], s) + ": created, but setting its mark and state"));
    }
  };
  // The peers come up before their own ends (upLate): the other namespaces' batches go first,
  // the socket's own (nullptr) last, and within a netns a pair's peer comes before its own end.
  for (auto& [ns, f] : fin)
    if (ns) flush(ns, f);
  if (auto own = fin.find(nullptr); own != fin.end()) flush(nullptr, own->second);
  // A link left without its mark would never be cleaned up: take it away again.
  for (size_t k = 0; k < msgs.size(); ++k) {
    size_t i = slot[k];
    if (!out[i] && statuses[k].ok()) {
      auto* mv = std::get_if<MacvlanSpec>(&specs[i]);
      if (mv && mv->netns) {
        if (auto other = peerSockets.get(*mv->netns)) (void)remove(**other, commonOf(specs[i]).name);
      } else if (created[k].index) {
        (void)remove(s, created[k].index);
      }
    }
  }
  return out;
}

Result<int> create(nl::Socket& s, const Spec& spec, nl::SocketCache* others) {
  auto r = createMany(s, std::span<const Spec>(&spec, 1), others);
  return std::move(r[0]);
}

Result<Info> get(nl::Socket& s, const Ref& link) {
  nl::Message m = buildGet(link);
  std::optional<Result<Info>> info;
  nl::Status st = s.transact(m, [&](size_t, const nlmsghdr* nlh) {
    if (nlh->nlmsg_type == RTM_NEWLINK && !info) info = parseInfo(nlh);
  });
  if (!st.ok()) {
    if (st.errnum == ENODEV) return notFound(fmt::format("link {} does not exist in netns {}", link.str(), s.netnsName()));
    return std::unexpected(nl::toError(st, fmt::format("reading link {}", link.str())));
  }
  if (!info) return notFound(fmt::format("link {}: the kernel sent no answer", link.str()));
  return std::move(*info);
}

Result<int> index(nl::Socket& s, const Ref& link) {
  if (link.index) return link.index;
  auto info = NETCTL_TRY(get(s, link));
  return info.index;
}

Result<std::vector<Info>> list(nl::Socket& s) {
  nl::Message m(RTM_GETLINK, 0);
  m.putHeader<ifinfomsg>()->ifi_family = AF_UNSPEC;
  m.putU32(IFLA_EXT_MASK, kSkipStats);
  std::vector<Info> out;
  NETCTL_TRY(s.dump(m, fmt::format("listing the links of netns {}", s.netnsName()), [&] { out.clear(); },
                    [&](const nlmsghdr* nlh) {
                      if (nlh->nlmsg_type != RTM_NEWLINK) return;
                      if (auto info = parseInfo(nlh)) out.push_back(std::move(*info));
                    }));
  return out;
}

uint32_t ownerGroup(std::string_view owner) {
  uint32_t h = 2166136261u;  // FNV-1a of the mark
  for (char ch : fmt::format("{}{}", kMarkPrefix, owner)) h = (h ^ uint8_t(ch)) * 16777619u;
  return h | 0x10000u;
}

Result<std::vector<Info>> listOwned(nl::Socket& s, std::string_view owner) {
  auto all = NETCTL_TRY(list(s));
  std::vector<Info> out;
  for (auto& info : all)
    if (!owner.empty() && info.owner() == owner) out.push_back(std::move(info));
  return out;
}

Result<void> setUp(nl::Socket& s, const Ref& link, bool up) {
  return setLink(s, link, fmt::format("setting link {} {}", link.str(), up ? "up" : "down"), [&](nl::Message&, ifinfomsg* ifm) {
    ifm->ifi_change = IFF_UP;
    ifm->ifi_flags = up ? IFF_UP : 0;
  });
}

Result<void> setMtu(nl::Socket& s, const Ref& link, uint32_t mtu) {
  return setLink(s, link, fmt::format("setting the mtu of link {} to {}", link.str(), mtu),
                 [&](nl::Message& m, ifinfomsg*) { m.putU32(IFLA_MTU, mtu); });
}

Result<void> setMac(nl::Socket& s, const Ref& link, const Mac& mac) {
  return setLink(s, link, fmt::format("setting the mac of link {} to {}", link.str(), mac.str()),
                 [&](nl::Message& m, ifinfomsg*) { m.putBytes(IFLA_ADDRESS, mac.bytes.data(), mac.bytes.size()); });
}

Result<void> rename(nl::Socket& s, const Ref& link, std::string_view newName) {
  auto what = fmt::format("renaming link {} to {}", link.str(), newName);
  if (newName.empty() || newName.size() >= IFNAMSIZ) return invalidInput(fmt::format("{}: not a valid interface name", what));
  // IFLA_IFNAME carries the new name, so the link is addressed by index.
  int idx = NETCTL_TRYC(index(s, link), "{}", what);
  return setLink(s, idx, what, [&](nl::Message& m, ifinfomsg*) { m.putString(IFLA_IFNAME, newName); });
}

Result<void> setMaster(nl::Socket& s, const Ref& link, const Ref& master) {
  auto what = master.empty() ? fmt::format("detaching link {} from its bridge", link.str())
                             : fmt::format("attaching link {} to bridge {}", link.str(), master.str());
  int m = 0;
  if (!master.empty()) m = NETCTL_TRYC(index(s, master), "{}", what);
  return setLink(s, link, what, [&](nl::Message& msg, ifinfomsg*) { msg.putU32(IFLA_MASTER, static_cast<uint32_t>(m)); });
}

Result<void> setOwner(nl::Socket& s, const Ref& link, std::string_view owner) {
  std::string alias = markOf(owner);
  return setLink(s, link, fmt::format("marking link {} as owned by {}", link.str(), owner),
                 [&](nl::Message& m, ifinfomsg*) { m.putString(IFLA_IFALIAS, alias); });
}

Result<void> setHairpin(nl::Socket& s, const Ref& port, bool on) {
  // IFLA_BRPORT_MODE lives in the bridge family's protinfo of the port; that family finds the
  // port by ifindex only, never by name.
  auto what = fmt::format("setting hairpin mode {} on bridge port {}", on ? "on" : "off", port.str());
  int i = NETCTL_TRYC(index(s, port), "{}", what);
  return setLink(s, Ref(i), what,
                 [&](nl::Message& m, ifinfomsg* ifm) {
                   ifm->ifi_family = AF_BRIDGE;
                   nlattr* nest = m.nestStart(IFLA_PROTINFO | NLA_F_NESTED);
                   m.putU8(IFLA_BRPORT_MODE, on ? 1 : 0);
                   m.nestEnd(nest);
                 });
}

Result<void> setPromisc(nl::Socket& s, const Ref& link, bool on) {
  return setLink(s, link, fmt::format("setting promiscuous mode {} on link {}", on ? "on" : "off", link.str()),
                 [&](nl::Message&, ifinfomsg* ifm) {
                   ifm->ifi_change = IFF_PROMISC;
                   ifm->ifi_flags = on ? IFF_PROMISC : 0;
                 });
}

Result<void> addAltName(nl::Socket& s, const Ref& link, std::string_view altname) {
  nl::Message m(RTM_NEWLINKPROP, NLM_F_CREATE | NLM_F_EXCL | NLM_F_APPEND);
  auto* ifm = m.putHeader<ifinfomsg>();
  ifm->ifi_family = AF_UNSPEC;
  putRef(m, ifm, link);
  nlattr* props = m.nestStart(IFLA_PROP_LIST);
  m.putString(IFLA_ALT_IFNAME, altname);
  m.nestEnd(props);
  return s.request(m, fmt::format("adding altname {} to link {}", altname, link.str()));
}

Result<void> moveTo(nl::Socket& s, const Ref& link, const netns::Handle& ns) {
  return setLink(s, link, fmt::format("moving link {} to netns {}", link.str(), ns.name()),
                 [&](nl::Message& m, ifinfomsg*) { m.putU32(IFLA_NET_NS_FD, static_cast<uint32_t>(ns.fd())); });
}

Result<void> remove(nl::Socket& s, const Ref& link) {
  nl::Message m(RTM_DELLINK, 0);
  auto* ifm = m.putHeader<ifinfomsg>();
  ifm->ifi_family = AF_UNSPEC;
  putRef(m, ifm, link);
  nl::Status st = s.transact(m);
  if (st.errnum == ENODEV) return notFound(fmt::format("deleting link {}: it does not exist in netns {}", link.str(), s.netnsName()));
  if (!st.ok()) return std::unexpected(nl::toError(st, fmt::format("deleting link {}", link.str())));
  return {};
}

Result<size_t> removeOwned(nl::Socket& s, std::string_view owner) {
  if (owner.empty()) return size_t(0);
  auto all = NETCTL_TRY(list(s));
  uint32_t group = ownerGroup(owner);
  std::vector<const Info*> owned;
  bool groupIsOurs = true;
  size_t inGroup = 0;
  for (const Info& info : all) {
    bool ours = info.owner() == owner;
    if (ours) owned.push_back(&info);
    if (info.group == group) {
      ++inGroup;
      if (!ours) groupIsOurs = false;  // someone else's link, or a hash collision: spare it
    }
  }
  std::vector<nl::Message> msgs;
  std::vector<const Info*> one;  // what msgs[k] is about; nullptr for the whole group
  // The owner's bridges go down first: removing a port from a bridge that is up re-runs STP
  // port state selection over every other port, O(ports^2) for the whole teardown.
  for (const Info* info : owned) {
    if (info->kind != "bridge" || !info->up()) continue;
    nl::Message m(RTM_SETLINK, 0);
    auto* ifm = m.putHeader<ifinfomsg>();
    ifm->ifi_family = AF_UNSPEC;
    ifm->ifi_index = info->index;
    ifm->ifi_change = IFF_UP;
    msgs.push_back(std::move(m));
    one.push_back(info);
  }
  if (groupIsOurs && inGroup > 0) {
    nl::Message m(RTM_DELLINK, 0);
    m.putHeader<ifinfomsg>()->ifi_family = AF_UNSPEC;
    m.putU32(IFLA_GROUP, group);
    msgs.push_back(std::move(m));
    one.push_back(nullptr);
  }
  for (const Info* info : owned) {
    if (groupIsOurs && info->group == group) continue;
    nl::Message m(RTM_DELLINK, 0);
    auto* ifm = m.putHeader<ifinfomsg>();
    ifm->ifi_family = AF_UNSPEC;
    ifm->ifi_index = info->index;
    msgs.push_back(std::move(m));
    one.push_back(info);
  }
  std::vector<nl::Message*> ptrs;
  for (auto& m : msgs) ptrs.push_back(&m);
  auto st = s.transactAll(ptrs);
  for (size_t k = 0; k < st.size(); ++k) {
    // ENODEV: the other end of a veth pair deleted before took this one with it.
    if (st[k].ok() || st[k].errnum == ENODEV) continue;
    std::string what = !one[k]                  ? fmt::format("deleting the links of {} (group {})", owner, group)
                       : msgs[k].header()->nlmsg_type == RTM_SETLINK ? fmt::format("taking bridge {} of {} down", one[k]->name, owner)
                                                       : fmt::format("deleting link {} of {}", one[k]->name, owner);
    return std::unexpected(nl::toError(st[k], what));
  }
  return owned.size();
}

}  // namespace netctl::link
