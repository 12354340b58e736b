// nf_tables objects as netlink messages: tables, chains, sets, elements, and rules built from
// expressions (the nft VM program). Internal to src/net/nft.
#pragma once

#include <libnftnl/rule.h>
#include <libnftnl/set.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "netctl/net/nft/spec.h"
#include "netlink.h"

namespace netctl::nft {

inline constexpr const char* kTable = "netctl";

void addTable(Batch& b, int family, const std::string& name);
void deleteTable(Batch& b, int family, const std::string& name);

struct Hook {
  uint32_t num;  // NF_INET_*
  int32_t prio;
  const char* type;  // "filter" or "nat"
};
void addChain(Batch& b, int family, const std::string& name, std::optional<Hook> hook);

struct SetSpec {
  std::string name;
  uint32_t id = 0;
  uint32_t flags = 0;         // NFT_SET_*
  uint32_t keyType = 0;       // nft userspace datatype ids, so `nft list` prints them
  uint32_t keyLen = 0;
  uint32_t dataType = 0;      // for maps
  uint32_t dataLen = 0;
  std::vector<uint8_t> concat;  // field lengths of a concatenated key (interval sets)
  bool hostOrderKey = false;    // e.g. interface names: tells `nft list` how to print keys
};
void addSet(Batch& b, int family, const SetSpec& s);

// One element: key (and key_end for intervals), with data or a jump verdict for maps.
struct Element {
  std::vector<uint8_t> key, keyEnd, data;
  std::string jumpChain;
};
// NEWSETELEM / DELSETELEM messages for elems, split in chunks that fit a message.
void addElements(Batch& b, int family, const std::string& set, std::span<const Element> elems,
                 bool add);

// Builds one rule. Registers follow nft's conventions: 16-byte NFT_REG_1.., 4-byte
// NFT_REG32_00.. for concatenations.
class Rule {
 public:
  Rule(int family, const std::string& chain);
  Rule& nfproto(int family);
  Rule& l4proto(uint8_t proto);
  Rule& ifname(bool input, const std::string& name, bool equal = true);
  Rule& etherType(uint16_t type);  // bridge family: meta protocol
  Rule& addr(bool source, const Prefix& p, bool equal = true);
  Rule& dport(uint16_t lo, uint16_t hi);
  Rule& ctState(uint32_t mask);  // any of the NF_CT_STATE_BIT bits
  Rule& ctStatus(uint32_t mask);
  Rule& fibDaddrLocal();
  // key = daddr . l4proto . th dport into NFT_REG32_00.. (as nft builds a concatenation).
  Rule& loadAddrProtoPort(int family, bool source);
  // key = l4proto . th dport into NFT_REG32_00..
  Rule& loadProtoPort();
  Rule& lookup(const std::string& set, uint32_t setId, std::optional<uint32_t> dreg = {});
  Rule& natMapped(int type, int family);  // NAT to the addr . port a map lookup left in reg 1
  Rule& nat(int type, int family, const std::optional<Addr>& to, uint16_t port);
  Rule& masquerade();
  Rule& vmap(bool input, const std::string& set, uint32_t setId);
  Rule& accept();
  Rule& drop();
  Rule& counter();
  void emit(Batch& b, std::string what);

 private:
  void add(struct nftnl_expr* e);
  void cmp(uint32_t reg, uint32_t op, const void* data, uint32_t len);
  int family_;
  std::unique_ptr<nftnl_rule, void (*)(nftnl_rule*)> rule_;
};

// IFNAMSIZ-padded interface name, as meta iifname compares it.
std::vector<uint8_t> ifnameKey(const std::string& name);

}  // namespace netctl::nft
