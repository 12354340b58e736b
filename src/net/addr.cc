#include "netctl/net/addr.h"

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "net/rtattr.h"

namespace netctl::addr {
namespace {

nl::Message build(uint16_t type, uint16_t flags, int index, const ip::Prefix& p, const Options& opts) {
  nl::Message m(type, flags);
  auto* ifa = m.putHeader<ifaddrmsg>();
  ifa->ifa_family = static_cast<uint8_t>(p.family());
  ifa->ifa_prefixlen = static_cast<uint8_t>(p.length());
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = static_cast<uint32_t>(index);
  const ip::Address& a = p.address();
  m.putBytes(IFA_LOCAL, a.data(), a.size());
  m.putBytes(IFA_ADDRESS, a.data(), a.size());
  if (type == RTM_NEWADDR) {
    if (p.isV4() && opts.broadcast && p.length() < 31) {
      ip::Address brd = p.last();
      m.putBytes(IFA_BROADCAST, brd.data(), brd.size());
    }
    if (!p.isV4() && opts.noDad) m.putU32(IFA_FLAGS, IFA_F_NODAD);
  }
  return m;
}

}  // namespace

Result<void> add(nl::Socket& s, const link::Ref& link, const ip::Prefix& prefix, const Options& opts) {
  auto what = fmt::format("adding address {} to link {}", prefix.str(), link.str());
  int index = NETCTL_TRYC(link::index(s, link), "{}", what);
  uint16_t flags = NLM_F_CREATE | (opts.replace ? NLM_F_REPLACE : NLM_F_EXCL);
  nl::Message m = build(RTM_NEWADDR, flags, index, prefix, opts);
  return s.request(m, what);
}

Result<void> remove(nl::Socket& s, const link::Ref& link, const ip::Prefix& prefix) {
  auto what = fmt::format("deleting address {} from link {}", prefix.str(), link.str());
  int index = NETCTL_TRYC(link::index(s, link), "{}", what);
  nl::Message m = build(RTM_DELADDR, 0, index, prefix, {});
  nl::Status st = s.transact(m);
  if (st.errnum == EADDRNOTAVAIL) return notFound(fmt::format("{}: the link does not carry it", what));
  if (!st.ok()) return std::unexpected(nl::toError(st, what));
  return {};
}

Result<std::vector<Entry>> list(nl::Socket& s, int family, int linkIndex) {
  nl::Message m(RTM_GETADDR, 0);
  m.putHeader<ifaddrmsg>()->ifa_family = static_cast<uint8_t>(family);
  std::vector<Entry> out;
  NETCTL_TRY(s.dump(m, fmt::format("listing the addresses of netns {}", s.netnsName()), [&] { out.clear(); },
                    [&](const nlmsghdr* nlh) {
                      if (nlh->nlmsg_type != RTM_NEWADDR) return;
                      auto* ifa = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(nlh));
                      if (linkIndex && static_cast<int>(ifa->ifa_index) != linkIndex) return;
                      if (family && ifa->ifa_family != family) return;
                      rtattr::Table<IFA_MAX> tb(nlh, sizeof(ifaddrmsg));
                      // IFA_LOCAL is the interface's own address; IPv6 sends only IFA_ADDRESS.
                      const nlattr* a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
                      if (!a) return;
                      auto addr = ip::Address::fromBytes(ifa->ifa_family, mnl_attr_get_payload(a), mnl_attr_get_payload_len(a));
                      if (!addr) return;
                      auto prefix = ip::Prefix::make(*addr, ifa->ifa_prefixlen);
                      if (!prefix) return;
                      Entry e;
                      e.index = static_cast<int>(ifa->ifa_index);
                      e.prefix = *prefix;
                      e.scope = ifa->ifa_scope;
                      e.flags = tb[IFA_FLAGS] ? tb.u32(IFA_FLAGS) : ifa->ifa_flags;
                      e.label = tb.str(IFA_LABEL);
                      out.push_back(std::move(e));
                    }));
  return out;
}

}  // namespace netctl::addr
