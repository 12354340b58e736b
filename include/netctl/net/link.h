// Links: create bridges, veth pairs, macvlans, vxlans and dummies from small typed specs; change,
// read, list and delete them. Everything goes through an nl::Socket of the netns the links live
// in (a veth's peer and a macvlan may be created straight into another netns).
//
// Ownership mark: every link created with a non-empty `owner` carries the ifalias
// "netctl:<owner>". An alias rather than an altname because an altname must be unique in its
// netns (one lab owns many links there) while an alias may repeat; the kernel ignores
// IFLA_IFALIAS in RTM_NEWLINK, so create() pipelines an RTM_SETLINK with it in the same
// sendmsg (no extra round trip). listOwned() finds the marked links with one dump.
// The owner also picks the links' interface group (IFLA_GROUP, ownerGroup()), set in the create
// itself: removeOwned() deletes a whole group with one request, which the kernel unregisters
// as one batch (one set of RCU grace periods instead of one per link).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "netctl/base/result.h"
#include "netctl/net/ip.h"
#include "netctl/net/netlink.h"
#include "netctl/net/netns.h"

namespace netctl::link {

struct Mac {
  std::array<uint8_t, 6> bytes{};
  static Result<Mac> parse(std::string_view text);  // "02:42:ac:11:00:02"
  std::string str() const;
  bool operator==(const Mac&) const = default;
};

// A link in the socket's netns, by ifindex (no lookup) or by name (one RTM_GETLINK when an
// index is needed). Empty: none.
struct Ref {
  int index = 0;
  std::string name;
  Ref() = default;
  Ref(int i) : index(i) {}                        // NOLINT: implicit on purpose
  Ref(std::string n) : name(std::move(n)) {}      // NOLINT
  Ref(const char* n) : name(n) {}                 // NOLINT
  bool empty() const { return index == 0 && name.empty(); }
  std::string str() const { return name.empty() ? fmt::format("ifindex {}", index) : name; }
};

// What every kind has. mtu 0 and no mac: the kernel's default.
struct Common {
  std::string name;
  uint32_t mtu = 0;
  std::optional<Mac> mac;
  Ref master;         // a bridge in the same netns to join
  bool up = false;
  std::string owner;  // non-empty: mark with ifalias "netctl:<owner>"
  // false: IPv6 address generation mode "none" before it comes up (as for a veth peer,
  // below). A bridge port needs no address of its own; without one the host's IPv6 routing
  // table stays small, and bringing up or deleting N ports costs no DAD or MLD.
  bool ipv6LinkLocal = true;
};

struct BridgeSpec {
  Common link;
  bool stp = false;
  uint32_t ageingSeconds = 300;
  bool vlanFiltering = false;
  // IGMP/MLD snooping, on by default as in the kernel and Docker. Off, the bridge floods
  // multicast to every port like a hub, and a port coming up costs no pass over every other
  // port's multicast timers (a lab's bridge of 1000 ports: O(ports^2) in all).
  bool multicastSnooping = true;
};

struct VethSpec {
  Common link;  // the end in the socket's netns
  struct Peer {
    std::string name;
    const netns::Handle* netns = nullptr;  // nullptr: same netns as the first end
    uint32_t mtu = 0;                      // 0: the first end's mtu
    std::optional<Mac> mac;
    bool up = false;
    // false: IPv6 address generation mode "none" before it comes up, so it gets no link-local
    // address and sends no DAD, MLD or router solicitation. On a bridge every such multicast
    // floods to all ports, which makes attaching N containers cost O(N^2).
    bool ipv6LinkLocal = true;
  } peer;
};

struct MacvlanSpec {
  enum class Mode { kBridge, kPrivate, kVepa, kPassthru };
  Common link;
  Ref parent;                            // in the socket's netns
  Mode mode = Mode::kBridge;
  const netns::Handle* netns = nullptr;  // create it straight into this netns (a container's)
};

struct VxlanSpec {
  Common link;
  uint32_t vni = 0;
  std::optional<ip::Address> local;
  std::optional<ip::Address> remote;  // unicast peer, or a multicast group (then needs parent)
  uint16_t dstPort = 4789;
  Ref parent;  // underlay device
  bool learning = true;
};

struct DummySpec {
  Common link;
};

using Spec = std::variant<BridgeSpec, VethSpec, MacvlanSpec, VxlanSpec, DummySpec>;

// Creates the link in one RTM_NEWLINK (veth: the peer straight in its netns; name, mtu, mac,
// master and IFF_UP of the first end, name, netns, mtu and mac of the peer) and returns its
// ifindex. The marks, the peer's IFF_UP and the IFF_UP of an end without an IPv6 link-local
// follow in RTM_SETLINKs batched per netns (the kernel cannot bring a veth peer up inside the
// create: ENOTCONN). A veth's peer carries the mark too. Errors name the link and the kernel's
// reason; a kind the kernel lacks is kUnsupported naming the CONFIG_ option; EXFULL says a
// bridge holds at most 1023 ports.
// `others` gives the sockets for the other netns a spec reaches into (veth peers, macvlans);
// without it they are opened for the call.
Result<int> create(nl::Socket& s, const Spec& spec, nl::SocketCache* others = nullptr);
// Creates many links, packing requests into few sendmsg calls; one result per spec, in order.
// Refs by name are resolved before sending (ifindex refs cost nothing).
std::vector<Result<int>> createMany(nl::Socket& s, std::span<const Spec> specs, nl::SocketCache* others = nullptr);

struct Info {
  int index = 0;
  std::string name;
  std::string kind;  // "bridge", "veth", ... ("" for a device without IFLA_LINKINFO, like lo)
  int master = 0;    // 0: none
  int link = 0;      // IFLA_LINK: a veth's peer, a macvlan's or vxlan's parent (maybe in another netns)
  int linkNetnsId = -1;  // IFLA_LINK_NETNSID: the netns id (in ours) of `link`'s netns; -1: ours
  uint32_t mtu = 0;
  Mac mac;
  uint32_t flags = 0;     // IFF_*
  uint8_t operstate = 0;  // IF_OPER_*
  std::vector<std::string> altnames;
  std::string alias;
  uint32_t group = 0;  // IFLA_GROUP
  bool up() const;                    // IFF_UP
  std::string owner() const;          // the "<owner>" of alias "netctl:<owner>", or ""
};

// kNotFound when there is no such link.
Result<Info> get(nl::Socket& s, const Ref& link);
// Every link of the socket's netns, one dump.
Result<std::vector<Info>> list(nl::Socket& s);
// The interface group of the links `owner` creates: a hash of the mark, never 0 (the default
// group) and above the small numbers people pick by hand.
uint32_t ownerGroup(std::string_view owner);
// The links that carry the mark of `owner`, one dump.
Result<std::vector<Info>> listOwned(nl::Socket& s, std::string_view owner);
// The ifindex of a named link (Ref with an index returns it as is).
Result<int> index(nl::Socket& s, const Ref& link);

Result<void> setUp(nl::Socket& s, const Ref& link, bool up = true);
Result<void> setMtu(nl::Socket& s, const Ref& link, uint32_t mtu);
Result<void> setMac(nl::Socket& s, const Ref& link, const Mac& mac);
Result<void> rename(nl::Socket& s, const Ref& link, std::string_view newName);
// An empty master detaches the link from its bridge (nomaster).
Result<void> setMaster(nl::Socket& s, const Ref& link, const Ref& master);
Result<void> setOwner(nl::Socket& s, const Ref& link, std::string_view owner);
// Bridge port hairpin mode: frames may leave by the port they came in on, so a container
// reaches its own network's published port through the host's address (hairpin NAT).
Result<void> setHairpin(nl::Socket& s, const Ref& port, bool on = true);
Result<void> setPromisc(nl::Socket& s, const Ref& link, bool on = true);
Result<void> addAltName(nl::Socket& s, const Ref& link, std::string_view altname);
// Moves a link into another netns (it goes down and loses its master there).
Result<void> moveTo(nl::Socket& s, const Ref& link, const netns::Handle& ns);
// kNotFound when it is already gone. Deleting either end of a veth deletes both.
Result<void> remove(nl::Socket& s, const Ref& link);
// Deletes every link of the socket's netns that carries the mark of `owner` and returns how
// many went: one dump, then one RTM_DELLINK for the owner's whole group when every link in
// that group is the owner's (else, and for marked links outside the group, one deletion per
// link, pipelined; each of those costs the kernel an RCU grace period, ~17 ms).
Result<size_t> removeOwned(nl::Socket& s, std::string_view owner);

// The Error for a failed link request: maps "Unknown device type" to kUnsupported naming the
// kernel option, and EXFULL to the bridge port limit. Exposed for unit tests.
Error errorFor(const nl::Status& st, std::string_view kind, std::string what);
// "CONFIG_VETH" for "veth", ... ("" when unknown).
std::string_view configOption(std::string_view kind);

}  // namespace netctl::link
