#include "netctl/topology/names.h"

#include <fmt/format.h>

namespace netctl::topology::names {
namespace {

std::string tagged(char tag, uint64_t h) {
  // 12 hex digits = 48 bits of the hash; "nc" + tag + 12 = 15 characters, IFNAMSIZ - 1.
  return fmt::format("nc{}{:012x}", tag, h & 0xffffffffffffULL);
}

}  // namespace

uint64_t hash(std::initializer_list<std::string_view> parts) {
  uint64_t h = 0xcbf29ce484222325ULL;
  bool first = true;
  for (auto p : parts) {
    if (!first) h *= 0x100000001b3ULL;  // a NUL separator keeps ("ab","c") from ("a","bc")
    first = false;
    for (unsigned char c : p) {
      h ^= c;
      h *= 0x100000001b3ULL;
    }
  }
  // A final avalanche so that names differing in the last byte differ in every digit.
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

std::string netns(std::string_view lab, std::string_view node) {
  return fmt::format("{}-{}", lab, node);
}

std::string hostVeth(std::string_view lab, std::string_view node, std::string_view iface) {
  return tagged('v', hash({"veth", lab, node, iface}));
}

std::string bridge(std::string_view lab, std::string_view network) {
  return tagged('b', hash({"bridge", lab, network}));
}

std::string scratch(std::string_view lab, std::string_view node, std::string_view iface) {
  return tagged('x', hash({"scratch", lab, node, iface}));
}

Mac mac(std::string_view lab, std::string_view node, std::string_view iface) {
  uint64_t h = hash({"mac", lab, node, iface});
  Mac m;
  for (int i = 0; i < 6; ++i) m.bytes[i] = static_cast<uint8_t>(h >> (8 * i));
  // Locally administered (bit 1 set), unicast (bit 0 clear).
  m.bytes[0] = static_cast<uint8_t>((m.bytes[0] & 0xfc) | 0x02);
  return m;
}

std::string linkId(const Link& link) {
  std::string id;
  for (const auto& ep : link.endpoints) {
    if (!id.empty()) id += "--";
    id += ep.str();
  }
  if (link.endpoints.size() == 1) id += fmt::format("--{}", linkTypeName(link.type));
  return id;
}

uint32_t vni(std::string_view lab, const Link& link) {
  uint64_t h = hash({"vni", lab, linkId(link)});
  uint32_t v = static_cast<uint32_t>(h % 16777215ULL) + 1;  // 1..2^24-1
  return v;
}

}  // namespace netctl::topology::names
