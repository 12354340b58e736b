#include "objects.h"

#include <arpa/inet.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <cstring>

namespace netctl::nft {
namespace {

template <typename T, void (*Free)(T*)>
struct Owned {
  T* p;
  explicit Owned(T* x) : p(x) {}
  ~Owned() { Free(p); }
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;
};

void freeTable(nftnl_table* t) { nftnl_table_free(t); }
void freeChain(nftnl_chain* c) { nftnl_chain_free(c); }
void freeSet(nftnl_set* s) { nftnl_set_free(s); }
void freeRule(nftnl_rule* r) { nftnl_rule_free(r); }

uint8_t nfprotoOf(int family) { return family == AF_INET6 ? NFPROTO_IPV6 : NFPROTO_IPV4; }

}  // namespace

std::vector<uint8_t> ifnameKey(const std::string& name) {
  std::vector<uint8_t> k(IFNAMSIZ, 0);
  std::memcpy(k.data(), name.data(), std::min(name.size(), size_t(IFNAMSIZ - 1)));
  return k;
}

void addTable(Batch& b, int family, const std::string& name) {
  Owned<nftnl_table, freeTable> t(nftnl_table_alloc());
  nftnl_table_set_str(t.p, NFTNL_TABLE_NAME, name.c_str());
  nftnl_table_set_u32(t.p, NFTNL_TABLE_FAMILY, family);
  nlmsghdr* nlh = b.begin(NFT_MSG_NEWTABLE, family, NLM_F_CREATE);
  nftnl_table_nlmsg_build_payload(nlh, t.p);
  b.end(nlh, "creating table " + name);
}

void deleteTable(Batch& b, int family, const std::string& name) {
  Owned<nftnl_table, freeTable> t(nftnl_table_alloc());
  nftnl_table_set_str(t.p, NFTNL_TABLE_NAME, name.c_str());
  nftnl_table_set_u32(t.p, NFTNL_TABLE_FAMILY, family);
  nlmsghdr* nlh = b.begin(NFT_MSG_DELTABLE, family, 0);
  nftnl_table_nlmsg_build_payload(nlh, t.p);
  b.end(nlh, "deleting table " + name);
}

void addChain(Batch& b, int family, const std::string& name, std::optional<Hook> hook) {
  Owned<nftnl_chain, freeChain> c(nftnl_chain_alloc());
  nftnl_chain_set_str(c.p, NFTNL_CHAIN_TABLE, kTable);
  nftnl_chain_set_str(c.p, NFTNL_CHAIN_NAME, name.c_str());
  nftnl_chain_set_u32(c.p, NFTNL_CHAIN_FAMILY, family);
  if (hook) {
    nftnl_chain_set_u32(c.p, NFTNL_CHAIN_HOOKNUM, hook->num);
    nftnl_chain_set_s32(c.p, NFTNL_CHAIN_PRIO, hook->prio);
    nftnl_chain_set_str(c.p, NFTNL_CHAIN_TYPE, hook->type);
    // Our own base chains always accept: isolation is explicit drops, so a packet we do not
    // care about is left to the other tables.
    nftnl_chain_set_u32(c.p, NFTNL_CHAIN_POLICY, NF_ACCEPT);
  }
  nlmsghdr* nlh = b.begin(NFT_MSG_NEWCHAIN, family, NLM_F_CREATE);
  nftnl_chain_nlmsg_build_payload(nlh, c.p);
  b.end(nlh, "creating chain " + name);
}

void addSet(Batch& b, int family, const SetSpec& spec) {
  Owned<nftnl_set, freeSet> s(nftnl_set_alloc());
  nftnl_set_set_str(s.p, NFTNL_SET_TABLE, kTable);
  nftnl_set_set_str(s.p, NFTNL_SET_NAME, spec.name.c_str());
  nftnl_set_set_u32(s.p, NFTNL_SET_FAMILY, family);
  nftnl_set_set_u32(s.p, NFTNL_SET_ID, spec.id);
  nftnl_set_set_u32(s.p, NFTNL_SET_FLAGS, spec.flags);
  nftnl_set_set_u32(s.p, NFTNL_SET_KEY_TYPE, spec.keyType);
  nftnl_set_set_u32(s.p, NFTNL_SET_KEY_LEN, spec.keyLen);
  if (spec.flags & NFT_SET_MAP) {
    nftnl_set_set_u32(s.p, NFTNL_SET_DATA_TYPE, spec.dataType);
    if (spec.dataType != NFT_DATA_VERDICT) nftnl_set_set_u32(s.p, NFTNL_SET_DATA_LEN, spec.dataLen);
  }
  if (!spec.concat.empty())
    nftnl_set_set_data(s.p, NFTNL_SET_DESC_CONCAT, spec.concat.data(), uint32_t(spec.concat.size()));
  if (spec.hostOrderKey) {
    // nft's own convention (userdata, ignored by the kernel): without it `nft list` prints
    // string keys byte-swapped, i.e. empty.
    constexpr uint32_t kByteorderHost = 1;
    nftnl_udata_buf* ud = nftnl_udata_buf_alloc(64);
    nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER, kByteorderHost);
    nftnl_set_set_data(s.p, NFTNL_SET_USERDATA, nftnl_udata_buf_data(ud), nftnl_udata_buf_len(ud));
    nftnl_udata_buf_free(ud);
  }
  nlmsghdr* nlh = b.begin(NFT_MSG_NEWSET, family, NLM_F_CREATE);
  nftnl_set_nlmsg_build_payload(nlh, s.p);
  b.end(nlh, "creating set " + spec.name);
}

void addElements(Batch& b, int family, const std::string& set, std::span<const Element> elems,
                 bool add) {
  constexpr size_t kChunk = 256;
  for (size_t i = 0; i < elems.size(); i += kChunk) {
    Owned<nftnl_set, freeSet> s(nftnl_set_alloc());
    nftnl_set_set_str(s.p, NFTNL_SET_TABLE, kTable);
    nftnl_set_set_str(s.p, NFTNL_SET_NAME, set.c_str());
    nftnl_set_set_u32(s.p, NFTNL_SET_FAMILY, family);
    size_t maxLen = 256;
    for (size_t j = i; j < std::min(elems.size(), i + kChunk); ++j) {
      const Element& el = elems[j];
      nftnl_set_elem* e = nftnl_set_elem_alloc();
      nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, el.key.data(), uint32_t(el.key.size()));
      if (!el.keyEnd.empty())
        nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY_END, el.keyEnd.data(), uint32_t(el.keyEnd.size()));
      if (!el.data.empty())
        nftnl_set_elem_set(e, NFTNL_SET_ELEM_DATA, el.data.data(), uint32_t(el.data.size()));
      if (!el.jumpChain.empty()) {
        nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, uint32_t(NFT_JUMP));
        nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN, el.jumpChain.c_str());
      }
      nftnl_set_elem_add(s.p, e);
      maxLen += 96 + el.key.size() + el.keyEnd.size() + el.data.size() + el.jumpChain.size();
    }
    nlmsghdr* nlh = b.begin(add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM, family,
                            add ? NLM_F_CREATE : 0, maxLen);
    nftnl_set_elems_nlmsg_build_payload(nlh, s.p);
    b.end(nlh, fmt::format("{} elements of {}", add ? "adding" : "deleting", set));
  }
}

Rule::Rule(int family, const std::string& chain) : family_(family), rule_(nftnl_rule_alloc(), freeRule) {
  nftnl_rule_set_str(rule_.get(), NFTNL_RULE_TABLE, kTable);
  nftnl_rule_set_str(rule_.get(), NFTNL_RULE_CHAIN, chain.c_str());
  nftnl_rule_set_u32(rule_.get(), NFTNL_RULE_FAMILY, family);
}

void Rule::add(nftnl_expr* e) { nftnl_rule_add_expr(rule_.get(), e); }

void Rule::cmp(uint32_t reg, uint32_t op, const void* data, uint32_t len) {
  nftnl_expr* e = nftnl_expr_alloc("cmp");
  nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, reg);
  nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
  nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
  add(e);
}

static nftnl_expr* metaExpr(uint32_t key, uint32_t dreg) {
  nftnl_expr* e = nftnl_expr_alloc("meta");
  nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
  nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
  return e;
}

static nftnl_expr* payloadExpr(uint32_t base, uint32_t offset, uint32_t len, uint32_t dreg) {
  nftnl_expr* e = nftnl_expr_alloc("payload");
  nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
  nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
  nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
  nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
  return e;
}

Rule& Rule::nfproto(int family) {
  add(metaExpr(NFT_META_NFPROTO, NFT_REG_1));
  uint8_t v = nfprotoOf(family);
  cmp(NFT_REG_1, NFT_CMP_EQ, &v, 1);
  return *this;
}

Rule& Rule::l4proto(uint8_t proto) {
  add(metaExpr(NFT_META_L4PROTO, NFT_REG_1));
  cmp(NFT_REG_1, NFT_CMP_EQ, &proto, 1);
  return *this;
}

Rule& Rule::ifname(bool input, const std::string& name, bool equal) {
  add(metaExpr(input ? NFT_META_IIFNAME : NFT_META_OIFNAME, NFT_REG_1));
  auto key = ifnameKey(name);
  cmp(NFT_REG_1, equal ? NFT_CMP_EQ : NFT_CMP_NEQ, key.data(), uint32_t(key.size()));
  return *this;
}

Rule& Rule::etherType(uint16_t type) {
  add(metaExpr(NFT_META_PROTOCOL, NFT_REG_1));
  uint16_t t = htons(type);
  cmp(NFT_REG_1, NFT_CMP_EQ, &t, 2);
  return *this;
}

Rule& Rule::addr(bool source, const Prefix& p, bool equal) {
  if (family_ == NFPROTO_INET) nfproto(p.addr.family);
  bool v6 = p.addr.family == AF_INET6;
  uint32_t len = v6 ? 16 : 4;
  uint32_t offset = v6 ? (source ? 8 : 24) : (source ? 12 : 16);
  add(payloadExpr(NFT_PAYLOAD_NETWORK_HEADER, offset, len, NFT_REG_1));
  if (p.len < int(len * 8)) {
    Addr mask;
    mask.family = p.addr.family;
    for (uint32_t i = 0; i < len; ++i) {
      int bits = std::clamp(p.len - int(i) * 8, 0, 8);
      mask.bytes[i] = uint8_t(0xff00 >> bits);
    }
    uint8_t zero[16] = {};
    nftnl_expr* e = nftnl_expr_alloc("bitwise");
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
    nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask.bytes.data(), len);
    nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
    add(e);
  }
  Addr first = p.first();
  cmp(NFT_REG_1, equal ? NFT_CMP_EQ : NFT_CMP_NEQ, first.bytes.data(), len);
  return *this;
}

Rule& Rule::dport(uint16_t lo, uint16_t hi) {
  add(payloadExpr(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG_1));
  uint16_t l = htons(lo), h = htons(hi);
  if (lo == hi) {
    cmp(NFT_REG_1, NFT_CMP_EQ, &l, 2);
  } else {
    // Network byte order compares correctly as bytes.
    cmp(NFT_REG_1, NFT_CMP_GTE, &l, 2);
    cmp(NFT_REG_1, NFT_CMP_LTE, &h, 2);
  }
  return *this;
}

static void ctMaskNonZero(Rule& r, nftnl_rule* rule, uint32_t key, uint32_t mask) {
  (void)r;
  nftnl_expr* ct = nftnl_expr_alloc("ct");
  nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_KEY, key);
  nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_DREG, NFT_REG_1);
  nftnl_rule_add_expr(rule, ct);
  uint32_t zero = 0;
  nftnl_expr* bw = nftnl_expr_alloc("bitwise");
  nftnl_expr_set_u32(bw, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
  nftnl_expr_set_u32(bw, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
  nftnl_expr_set_u32(bw, NFTNL_EXPR_BITWISE_LEN, 4);
  nftnl_expr_set(bw, NFTNL_EXPR_BITWISE_MASK, &mask, 4);
  nftnl_expr_set(bw, NFTNL_EXPR_BITWISE_XOR, &zero, 4);
  nftnl_rule_add_expr(rule, bw);
  nftnl_expr* c = nftnl_expr_alloc("cmp");
  nftnl_expr_set_u32(c, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
  nftnl_expr_set_u32(c, NFTNL_EXPR_CMP_OP, NFT_CMP_NEQ);
  nftnl_expr_set(c, NFTNL_EXPR_CMP_DATA, &zero, 4);
  nftnl_rule_add_expr(rule, c);
}

Rule& Rule::ctState(uint32_t mask) {
  ctMaskNonZero(*this, rule_.get(), NFT_CT_STATE, mask);
  return *this;
}

Rule& Rule::ctStatus(uint32_t mask) {
  ctMaskNonZero(*this, rule_.get(), NFT_CT_STATUS, mask);
  return *this;
}

Rule& Rule::fibDaddrLocal() {
  nftnl_expr* e = nftnl_expr_alloc("fib");
  nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
  nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
  nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
  add(e);
  uint32_t local = RTN_LOCAL;
  cmp(NFT_REG_1, NFT_CMP_EQ, &local, 4);
  return *this;
}

Rule& Rule::loadAddrProtoPort(int family, bool source) {
  bool v6 = family == AF_INET6;
  uint32_t len = v6 ? 16 : 4;
  uint32_t offset = v6 ? (source ? 8 : 24) : (source ? 12 : 16);
  add(payloadExpr(NFT_PAYLOAD_NETWORK_HEADER, offset, len, NFT_REG32_00));
  add(metaExpr(NFT_META_L4PROTO, v6 ? NFT_REG32_04 : NFT_REG32_01));
  add(payloadExpr(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, v6 ? NFT_REG32_05 : NFT_REG32_02));
  return *this;
}

Rule& Rule::loadProtoPort() {
  add(metaExpr(NFT_META_L4PROTO, NFT_REG32_00));
  add(payloadExpr(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG32_01));
  return *this;
}

Rule& Rule::lookup(const std::string& set, uint32_t setId, std::optional<uint32_t> dreg) {
  nftnl_expr* e = nftnl_expr_alloc("lookup");
  nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
  nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set.c_str());
  nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, setId);
  if (dreg) nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, *dreg);
  add(e);
  return *this;
}

Rule& Rule::natMapped(int type, int family) {
  bool v6 = family == AF_INET6;
  nftnl_expr* e = nftnl_expr_alloc("nat");
  nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, type);
  nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, nfprotoOf(family));
  nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
  // The map's data is addr . port: the port follows the address in the 4-byte registers.
  nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, v6 ? NFT_REG32_04 : NFT_REG32_01);
  add(e);
  return *this;
}

Rule& Rule::nat(int type, int family, const std::optional<Addr>& to, uint16_t port) {
  if (to) {
    nftnl_expr* imm = nftnl_expr_alloc("immediate");
    nftnl_expr_set_u32(imm, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
    nftnl_expr_set(imm, NFTNL_EXPR_IMM_DATA, to->bytes.data(), uint32_t(to->size()));
    add(imm);
  }
  if (port) {
    uint16_t p = htons(port);
    nftnl_expr* imm = nftnl_expr_alloc("immediate");
    nftnl_expr_set_u32(imm, NFTNL_EXPR_IMM_DREG, NFT_REG_2);
    nftnl_expr_set(imm, NFTNL_EXPR_IMM_DATA, &p, 2);
    add(imm);
  }
  nftnl_expr* e = nftnl_expr_alloc("nat");
  nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, type);
  nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, nfprotoOf(family));
  if (to) nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
  if (port) nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG_2);
  add(e);
  return *this;
}

Rule& Rule::masquerade() {
  add(nftnl_expr_alloc("masq"));
  return *this;
}

Rule& Rule::vmap(bool input, const std::string& set, uint32_t setId) {
  add(metaExpr(input ? NFT_META_IIFNAME : NFT_META_OIFNAME, NFT_REG_1));
  return lookup(set, setId, NFT_REG_VERDICT);
}

static void verdict(nftnl_rule* r, int v) {
  nftnl_expr* e = nftnl_expr_alloc("immediate");
  nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
  nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, uint32_t(v));
  nftnl_rule_add_expr(r, e);
}

Rule& Rule::accept() {
  verdict(rule_.get(), NF_ACCEPT);
  return *this;
}

Rule& Rule::drop() {
  verdict(rule_.get(), NF_DROP);
  return *this;
}

Rule& Rule::counter() {
  add(nftnl_expr_alloc("counter"));
  return *this;
}

void Rule::emit(Batch& b, std::string what) {
  nlmsghdr* nlh = b.begin(NFT_MSG_NEWRULE, family_, NLM_F_APPEND | NLM_F_CREATE, 8192);
  nftnl_rule_nlmsg_build_payload(nlh, rule_.get());
  b.end(nlh, std::move(what));
}

}  // namespace netctl::nft
