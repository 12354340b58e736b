#include "netctl/net/route.h"

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "net/rtattr.h"

namespace netctl::route {
namespace {

std::string describe(const Route& r) {
  std::string out = r.dst.length() == 0 ? std::string("default") : r.dst.network().str();
  if (r.via) out += " via " + r.via->str();
  if (!r.dev.empty()) out += " dev " + r.dev.str();
  if (r.metric) out += fmt::format(" metric {}", r.metric);
  if (r.table != kMainTable) out += fmt::format(" table {}", r.table);
  return out;
}

Result<nl::Message> build(nl::Socket& s, uint16_t type, uint16_t flags, const Route& r) {
  if (r.via && r.via->family() != r.dst.family())
    return invalidInput(fmt::format("route {}: gateway and destination are of different families", describe(r)));
  if (!r.via && r.dev.empty()) return invalidInput(fmt::format("route {}: needs a gateway or a device", describe(r)));
  int oif = 0;
  if (!r.dev.empty()) oif = NETCTL_TRY(link::index(s, r.dev));
  nl::Message m(type, flags);
  auto* rtm = m.putHeader<rtmsg>();
  rtm->rtm_family = static_cast<uint8_t>(r.dst.family());
  rtm->rtm_dst_len = static_cast<uint8_t>(r.dst.length());
  rtm->rtm_table = r.table < 256 ? static_cast<uint8_t>(r.table) : static_cast<uint8_t>(RT_TABLE_UNSPEC);
  if (type == RTM_NEWROUTE) {
    rtm->rtm_protocol = RTPROT_STATIC;
    rtm->rtm_scope = r.via ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
    rtm->rtm_type = RTN_UNICAST;
  } else {
    rtm->rtm_scope = RT_SCOPE_NOWHERE;  // delete whatever scope it has
  }
  m.putU32(RTA_TABLE, r.table);
  if (r.dst.length() > 0) {
    ip::Address net = r.dst.network().address();
    m.putBytes(RTA_DST, net.data(), net.size());
  }
  if (r.via) m.putBytes(RTA_GATEWAY, r.via->data(), r.via->size());
  if (oif) m.putU32(RTA_OIF, static_cast<uint32_t>(oif));
  if (r.metric) m.putU32(RTA_PRIORITY, r.metric);
  if (r.src) m.putBytes(RTA_PREFSRC, r.src->data(), r.src->size());
  return m;
}

Result<void> send(nl::Socket& s, uint16_t type, uint16_t flags, const Route& r, std::string what) {
  auto m = NETCTL_TRYC(build(s, type, flags, r), "{}", what);
  nl::Status st = s.transact(m);
  if (type == RTM_DELROUTE && st.errnum == ESRCH) return notFound(fmt::format("{}: no such route", what));
  if (!st.ok()) return std::unexpected(nl::toError(st, std::move(what)));
  return {};
}

}  // namespace

Result<void> add(nl::Socket& s, const Route& r) {
  return send(s, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, r, fmt::format("adding route {}", describe(r)));
}

Result<void> replace(nl::Socket& s, const Route& r) {
  return send(s, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, r, fmt::format("replacing route {}", describe(r)));
}

Result<void> remove(nl::Socket& s, const Route& r) {
  return send(s, RTM_DELROUTE, 0, r, fmt::format("deleting route {}", describe(r)));
}

Result<std::vector<Entry>> list(nl::Socket& s, int family, uint32_t table) {
  nl::Message m(RTM_GETROUTE, 0);
  m.putHeader<rtmsg>()->rtm_family = static_cast<uint8_t>(family);
  std::vector<Entry> out;
  NETCTL_TRY(s.dump(m, fmt::format("listing the routes of netns {}", s.netnsName()), [&] { out.clear(); },
                    [&](const nlmsghdr* nlh) {
                      if (nlh->nlmsg_type != RTM_NEWROUTE) return;
                      auto* rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(nlh));
                      if (rtm->rtm_family != family || rtm->rtm_type != RTN_UNICAST || (rtm->rtm_flags & RTM_F_CLONED)) return;
                      rtattr::Table<RTA_MAX> tb(nlh, sizeof(rtmsg));
                      uint32_t t = tb[RTA_TABLE] ? tb.u32(RTA_TABLE) : rtm->rtm_table;
                      if (t != table) return;
                      auto addrOf = [&](int type) -> std::optional<ip::Address> {
                        const nlattr* a = tb[type];
                        if (!a) return std::nullopt;
                        auto r = ip::Address::fromBytes(family, mnl_attr_get_payload(a), mnl_attr_get_payload_len(a));
                        return r ? std::optional<ip::Address>(*r) : std::nullopt;
                      };
                      Entry e;
                      ip::Address dst = addrOf(RTA_DST).value_or(family == AF_INET ? ip::Address() : ip::Address::v6({}));
                      auto prefix = ip::Prefix::make(dst, rtm->rtm_dst_len);
                      if (!prefix) return;
                      e.dst = *prefix;
                      e.via = addrOf(RTA_GATEWAY);
                      e.src = addrOf(RTA_PREFSRC);
                      e.dev = static_cast<int>(tb.u32(RTA_OIF));
                      e.metric = tb.u32(RTA_PRIORITY);
                      e.table = t;
                      e.protocol = rtm->rtm_protocol;
                      e.scope = rtm->rtm_scope;
                      e.type = rtm->rtm_type;
                      out.push_back(std::move(e));
                    }));
  return out;
}

}  // namespace netctl::route
