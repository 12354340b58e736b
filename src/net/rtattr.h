// Private to src/net: a table of a message's (or a nest's) attributes by type, on libmnl.
// Attributes of a type beyond MAX are ignored (newer kernels add types).
#pragma once

#include <libmnl/libmnl.h>

#include <array>
#include <cstdint>
#include <string>

namespace netctl::rtattr {

template <int MAX>
class Table {
 public:
  Table(const nlmsghdr* nlh, size_t headerSize) { mnl_attr_parse(nlh, static_cast<unsigned>(headerSize), &Table::collect, this); }
  explicit Table(const nlattr* nest) { mnl_attr_parse_nested(nest, &Table::collect, this); }

  const nlattr* operator[](int type) const { return type >= 0 && type <= MAX ? tb_[type] : nullptr; }
  uint8_t u8(int type) const {
    const nlattr* a = (*this)[type];
    return a && mnl_attr_get_payload_len(a) >= 1 ? mnl_attr_get_u8(a) : 0;
  }
  uint32_t u32(int type) const {
    const nlattr* a = (*this)[type];
    return a && mnl_attr_get_payload_len(a) >= 4 ? mnl_attr_get_u32(a) : 0;
  }
  std::string str(int type) const {
    const nlattr* a = (*this)[type];
    if (!a) return {};
    // Not trusting a terminating NUL: take the bytes up to the first one.
    const char* p = static_cast<const char*>(mnl_attr_get_payload(a));
    size_t n = mnl_attr_get_payload_len(a);
    size_t len = 0;
    while (len < n && p[len] != '\0') ++len;
    return std::string(p, len);
  }

 private:
  static int collect(const nlattr* attr, void* data) {
    auto* self = static_cast<Table*>(data);
    int type = mnl_attr_get_type(attr);
    if (type >= 0 && type <= MAX) self->tb_[type] = attr;
    return MNL_CB_OK;
  }
  std::array<const nlattr*, MAX + 1> tb_{};
};

}  // namespace netctl::rtattr
