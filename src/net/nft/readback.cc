// Reads netctl's tables back from the kernel with dumps (tests, `inspect`): what exists, not
// what netctl believes.
#include <arpa/inet.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <sys/socket.h>

#include <cstring>

#include "netctl/net/nft/nat.h"
#include "netlink.h"
#include "render.h"

namespace netctl::nft {
namespace {

Result<bool> tableExists(Socket& sock, int family) {
  char buf[512];
  nftnl_table* t = nftnl_table_alloc();
  nftnl_table_set_str(t, NFTNL_TABLE_NAME, kTable);
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, uint16_t(family), NLM_F_ACK, sock.nextSeq());
  nftnl_table_nlmsg_build_payload(nlh, t);
  nftnl_table_free(t);
  auto r = sock.request(nlh, [](const nlmsghdr*) { return MNL_CB_OK; });
  if (!r) {
    if (r.error().errnum() == ENOENT || r.error().errnum() == EAFNOSUPPORT ||
        r.error().errnum() == EOPNOTSUPP)
      return false;
    return std::unexpected(r.error());
  }
  return true;
}

Addr addrFrom(const uint8_t* p, int family) {
  Addr a;
  a.family = family;
  std::memcpy(a.bytes.data(), p, a.size());
  return a;
}

uint16_t portAt(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return ntohs(v);
}

struct Elem {
  std::vector<uint8_t> key, keyEnd, data;
};

Result<std::vector<Elem>> elements(Socket& sock, const std::string& set) {
  std::vector<char> buf(4096);
  nftnl_set* s = nftnl_set_alloc();
  nftnl_set_set_str(s, NFTNL_SET_TABLE, kTable);
  nftnl_set_set_str(s, NFTNL_SET_NAME, set.c_str());
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_GETSETELEM, NFPROTO_INET, NLM_F_DUMP,
                                        sock.nextSeq());
  nftnl_set_elems_nlmsg_build_payload(nlh, s);
  auto r = sock.request(nlh, [&](const nlmsghdr* reply) {
    nftnl_set_elems_nlmsg_parse(reply, s);
    return MNL_CB_OK;
  });
  std::vector<Elem> out;
  if (r) {
    nftnl_set_elem_foreach(
        s,
        [](nftnl_set_elem* e, void* data) {
          auto* v = static_cast<std::vector<Elem>*>(data);
          Elem el;
          auto grab = [&](uint16_t attr, std::vector<uint8_t>& to) {
            if (!nftnl_set_elem_is_set(e, attr)) return;
            uint32_t len = 0;
            auto* p = static_cast<const uint8_t*>(nftnl_set_elem_get(e, attr, &len));
            to.assign(p, p + len);
          };
          grab(NFTNL_SET_ELEM_KEY, el.key);
          grab(NFTNL_SET_ELEM_KEY_END, el.keyEnd);
          grab(NFTNL_SET_ELEM_DATA, el.data);
          v->push_back(std::move(el));
          return 0;
        },
        &out);
  }
  nftnl_set_free(s);
  if (!r) return std::unexpected(r.error());
  return out;
}

}  // namespace

Result<TableView> readBack(const netns::Handle& ns) {
  Socket sock = NETCTL_TRY(Socket::open(ns));
  TableView v;
  v.exists = NETCTL_TRY(tableExists(sock, NFPROTO_INET));
  v.bridgeTableExists = NETCTL_TRY(tableExists(sock, NFPROTO_BRIDGE));
  if (!v.exists) return v;

  char buf[1024];
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, NFPROTO_INET, NLM_F_DUMP, sock.nextSeq());
  NETCTL_TRYC(sock.request(nlh, [&](const nlmsghdr* reply) {
                nftnl_chain* c = nftnl_chain_alloc();
                if (nftnl_chain_nlmsg_parse(reply, c) == 0 &&
                    std::string(nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE)) == kTable)
                  v.chains[nftnl_chain_get_str(c, NFTNL_CHAIN_NAME)] = 0;
                nftnl_chain_free(c);
                return MNL_CB_OK;
              }),
              "listing chains");

  nftnl_rule* rq = nftnl_rule_alloc();
  nftnl_rule_set_str(rq, NFTNL_RULE_TABLE, kTable);
  nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_INET, NLM_F_DUMP, sock.nextSeq());
  nftnl_rule_nlmsg_build_payload(nlh, rq);
  nftnl_rule_free(rq);
  NETCTL_TRYC(sock.request(nlh, [&](const nlmsghdr* reply) {
                nftnl_rule* r = nftnl_rule_alloc();
                if (nftnl_rule_nlmsg_parse(reply, r) == 0 &&
                    std::string(nftnl_rule_get_str(r, NFTNL_RULE_TABLE)) == kTable)
                  v.chains[nftnl_rule_get_str(r, NFTNL_RULE_CHAIN)]++;
                nftnl_rule_free(r);
                return MNL_CB_OK;
              }),
              "listing rules");

  nftnl_set* sq = nftnl_set_alloc();
  nftnl_set_set_str(sq, NFTNL_SET_TABLE, kTable);
  nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSET, NFPROTO_INET, NLM_F_DUMP, sock.nextSeq());
  nftnl_set_nlmsg_build_payload(nlh, sq);
  nftnl_set_free(sq);
  NETCTL_TRYC(sock.request(nlh, [&](const nlmsghdr* reply) {
                nftnl_set* s = nftnl_set_alloc();
                if (nftnl_set_nlmsg_parse(reply, s) == 0) v.sets.push_back(nftnl_set_get_str(s, NFTNL_SET_NAME));
                nftnl_set_free(s);
                return MNL_CB_OK;
              }),
              "listing sets");

  auto has = [&](const char* name) { return std::find(v.sets.begin(), v.sets.end(), name) != v.sets.end(); };
  for (int family : {AF_INET, AF_INET6}) {
    bool v6 = family == AF_INET6;
    size_t alen = v6 ? 16 : 4;
    if (const char* m = v6 ? kHostPort6 : kHostPort4; has(m)) {
      for (const auto& e : NETCTL_TRYC(elements(sock, m), "listing {}", m)) {
        if (e.key.size() < alen + 8 || e.data.size() < alen + 2) continue;
        TableView::PortElement p;
        p.family = family;
        p.hostAddr = addrFrom(e.key.data(), family);
        p.proto = Proto(e.key[alen]);
        p.hostPort = portAt(e.key.data() + alen + 4);
        p.containerAddr = addrFrom(e.data.data(), family);
        p.containerPort = portAt(e.data.data() + alen);
        v.portmap.push_back(p);
      }
    }
    if (const char* m = v6 ? kAnyPort6 : kAnyPort4; has(m)) {
      for (const auto& e : NETCTL_TRYC(elements(sock, m), "listing {}", m)) {
        if (e.key.size() < 8 || e.data.size() < alen + 2) continue;
        TableView::PortElement p;
        p.family = family;
        p.proto = Proto(e.key[0]);
        p.hostPort = portAt(e.key.data() + 4);
        p.containerAddr = addrFrom(e.data.data(), family);
        p.containerPort = portAt(e.data.data() + alen);
        v.portmap.push_back(p);
      }
    }
    if (const char* s = v6 ? kPublished6 : kPublished4; has(s)) {
      for (const auto& e : NETCTL_TRYC(elements(sock, s), "listing {}", s)) {
        if (e.key.size() < alen + 8) continue;
        v.published.push_back({addrFrom(e.key.data(), family), Proto(e.key[alen]),
                               portAt(e.key.data() + alen + 4)});
      }
    }
  }
  if (has(kFwdIn))
    for (const auto& e : NETCTL_TRYC(elements(sock, kFwdIn), "listing {}", kFwdIn))
      v.forwardIn.emplace_back(reinterpret_cast<const char*>(e.key.data()),
                               strnlen(reinterpret_cast<const char*>(e.key.data()), e.key.size()));
  return v;
}

}  // namespace netctl::nft
