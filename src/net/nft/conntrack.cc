#include "conntrack.h"

#include <arpa/inet.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

namespace netctl::nft::conntrack {
namespace {

nlmsghdr* header(char* buf, uint16_t msg, uint16_t flags, int family, uint32_t seq) {
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | msg;
  nlh->nlmsg_flags = NLM_F_REQUEST | flags;
  nlh->nlmsg_seq = seq;
  auto* g = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  g->nfgen_family = uint8_t(family);
  g->version = NFNETLINK_V0;
  g->res_id = 0;
  return nlh;
}

template <typename F>
void forEach(const char* begin, const char* end, F&& f) {
  int len = int(end - begin);
  for (auto* a = reinterpret_cast<const nlattr*>(begin); mnl_attr_ok(a, len);) {
    f(a);
    len -= int(MNL_ALIGN(a->nla_len));
    a = reinterpret_cast<const nlattr*>(reinterpret_cast<const char*>(a) + MNL_ALIGN(a->nla_len));
  }
}

template <typename F>
void forEachNested(const nlattr* nest, F&& f) {
  auto* begin = static_cast<const char*>(mnl_attr_get_payload(nest));
  forEach(begin, reinterpret_cast<const char*>(nest) + nest->nla_len, f);
}

// The CTA_TUPLE_ORIG nest of a UDP entry to one of ports, copied whole, or empty.
std::vector<char> matchingTuple(const nlmsghdr* nlh, const std::vector<uint16_t>& ports) {
  const nlattr* orig = nullptr;
  forEach(static_cast<const char*>(mnl_nlmsg_get_payload_offset(nlh, sizeof(nfgenmsg))),
          static_cast<const char*>(mnl_nlmsg_get_payload_tail(nlh)), [&](const nlattr* a) {
            if (mnl_attr_get_type(a) == CTA_TUPLE_ORIG) orig = a;
          });
  if (!orig) return {};
  uint8_t proto = 0;
  uint16_t dport = 0;
  forEachNested(orig, [&](const nlattr* t) {
    if (mnl_attr_get_type(t) != CTA_TUPLE_PROTO) return;
    forEachNested(t, [&](const nlattr* p) {
      if (mnl_attr_get_type(p) == CTA_PROTO_NUM) proto = mnl_attr_get_u8(p);
      if (mnl_attr_get_type(p) == CTA_PROTO_DST_PORT) dport = ntohs(mnl_attr_get_u16(p));
    });
  });
  if (proto != IPPROTO_UDP || std::find(ports.begin(), ports.end(), dport) == ports.end()) return {};
  // A sized copy, not the (first, last) constructor: g++ 12 at -O3 misreads that one as freeing
  // a pointer into the message (-Wfree-nonheap-object).
  std::vector<char> tuple(orig->nla_len);
  std::memcpy(tuple.data(), orig, tuple.size());
  return tuple;
}

}  // namespace

Result<void> flushUdp(Socket& sock, const std::vector<uint16_t>& ports) {
  for (int family : {AF_INET, AF_INET6}) {
    std::vector<std::vector<char>> doomed;
    char buf[256];
    nlmsghdr* req = header(buf, IPCTNL_MSG_CT_GET, NLM_F_DUMP, family, sock.nextSeq());
    NETCTL_TRYC(sock.request(req, [&](const nlmsghdr* nlh) {
                  auto tuple = matchingTuple(nlh, ports);
                  if (!tuple.empty()) doomed.push_back(std::move(tuple));
                  return MNL_CB_OK;
                }),
                "listing conntrack entries");
    for (const auto& tuple : doomed) {
      std::vector<char> msg(512 + tuple.size());
      nlmsghdr* del = header(msg.data(), IPCTNL_MSG_CT_DELETE, NLM_F_ACK, family, sock.nextSeq());
      std::memcpy(static_cast<char*>(mnl_nlmsg_get_payload_tail(del)), tuple.data(), tuple.size());
      del->nlmsg_len += MNL_ALIGN(uint32_t(tuple.size()));
      auto r = sock.request(del, [](const nlmsghdr*) { return MNL_CB_OK; });
      // Gone meanwhile (timed out, or deleted by someone else) is what we wanted.
      if (!r && r.error().errnum() != ENOENT) return withContext(std::unexpected(r.error()), "deleting a conntrack entry");
    }
  }
  return {};
}

}  // namespace netctl::nft::conntrack
