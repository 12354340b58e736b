#include "netctl/net/fdb.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_bridge.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstring>

#include "net/rtattr.h"

namespace netctl::fdb {
namespace {

std::string describe(const char* verb, const link::Ref& dev, const Remote& r) {
  return fmt::format("{} FDB entry {} dst {}{} on {}", verb, r.mac.str(), r.dst.str(),
                     r.port ? fmt::format(" port {}", r.port) : std::string(), dev.str());
}

nl::Message entry(uint16_t type, uint16_t flags, int ifindex, const Remote& r) {
  nl::Message m(type, flags);
  auto* ndm = m.putHeader<ndmsg>();
  ndm->ndm_family = AF_BRIDGE;
  ndm->ndm_ifindex = ifindex;
  ndm->ndm_flags = NTF_SELF;  // the VXLAN device's own table, not a bridge master's
  ndm->ndm_state = NUD_PERMANENT | NUD_NOARP;
  m.putBytes(NDA_LLADDR, r.mac.bytes.data(), r.mac.bytes.size());
  m.putBytes(NDA_DST, r.dst.data(), r.dst.size());
  if (r.port) m.putU16Be(NDA_PORT, r.port);
  return m;
}

}  // namespace

Result<void> append(nl::Socket& s, const link::Ref& dev, const Remote& r) {
  int ifindex = NETCTL_TRYC(link::index(s, dev), "{}", describe("appending", dev, r));
  auto m = entry(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_APPEND, ifindex, r);
  auto st = s.transact(m);
  if (st.ok() || st.errnum == EEXIST) return {};
  return std::unexpected(nl::toError(st, describe("appending", dev, r)));
}

Result<void> remove(nl::Socket& s, const link::Ref& dev, const Remote& r) {
  int ifindex = NETCTL_TRYC(link::index(s, dev), "{}", describe("removing", dev, r));
  auto m = entry(RTM_DELNEIGH, 0, ifindex, r);
  return s.request(m, describe("removing", dev, r));
}

Result<std::vector<Remote>> list(nl::Socket& s, const link::Ref& dev) {
  int ifindex = NETCTL_TRY(link::index(s, dev));
  nl::Message m(RTM_GETNEIGH, 0);
  auto* ndm = m.putHeader<ndmsg>();
  ndm->ndm_family = AF_BRIDGE;
  m.putU32(NDA_IFINDEX, static_cast<uint32_t>(ifindex));
  std::vector<Remote> out;
  NETCTL_TRY(s.dump(m, fmt::format("listing the FDB of {}", dev.str()), [&] { out.clear(); },
                    [&](const nlmsghdr* nlh) {
                      const auto* hdr = static_cast<const ndmsg*>(mnl_nlmsg_get_payload(nlh));
                      if (hdr->ndm_ifindex != ifindex) return;
                      rtattr::Table<NDA_MAX> tb(nlh, sizeof(ndmsg));
                      const nlattr* mac = tb[NDA_LLADDR];
                      const nlattr* dst = tb[NDA_DST];
                      if (!mac || !dst || mnl_attr_get_payload_len(mac) != 6) return;
                      size_t n = mnl_attr_get_payload_len(dst);
                      auto addr = ip::Address::fromBytes(n == 4 ? AF_INET : AF_INET6,
                                                         mnl_attr_get_payload(dst), n);
                      if (!addr) return;
                      Remote r;
                      std::memcpy(r.mac.bytes.data(), mnl_attr_get_payload(mac), 6);
                      r.dst = *addr;
                      if (const nlattr* p = tb[NDA_PORT]; p && mnl_attr_get_payload_len(p) == 2)
                        r.port = ntohs(mnl_attr_get_u16(p));
                      out.push_back(std::move(r));
                    }));
  return out;
}

}  // namespace netctl::fdb
