#include "netctl/net/sysctl.h"

#include <fcntl.h>
#include <unistd.h>

#include "netctl/base/fs.h"

namespace netctl::sysctl {
namespace {

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

Result<std::string> readIn(const netns::Handle& ns, const std::string& path) {
  return netns::runIn(ns, [&] { return fs::readFile(path); });
}

}  // namespace

std::string procPath(std::string_view key) {
  // net.ipv4.conf.<ifname>.<knob>: the interface name may contain dots; it sits between the
  // third separator and the last one.
  std::string k(key);
  std::string out = "/proc/sys/";
  bool perInterface = k.starts_with("net.ipv4.conf.") || k.starts_with("net.ipv6.conf.") ||
                      k.starts_with("net.ipv4.neigh.") || k.starts_with("net.ipv6.neigh.");
  if (perInterface) {
    size_t third = k.find('.', k.find('.', k.find('.') + 1) + 1);
    size_t last = k.rfind('.');
    std::string head = k.substr(0, third);
    for (char& c : head) c = c == '.' ? '/' : c;
    return out + head + "/" + k.substr(third + 1, last - third - 1) + "/" + k.substr(last + 1);
  }
  for (char& c : k) c = c == '.' ? '/' : c;
  return out + k;
}

Result<std::string> get(const netns::Handle& ns, std::string_view key) {
  auto value = NETCTL_TRYC(readIn(ns, procPath(key)), "reading sysctl {} in netns {}", key, ns.name());
  return trim(std::move(value));
}

Result<std::string> set(const netns::Handle& ns, std::string_view key, std::string_view value) {
  const std::string path = procPath(key);
  auto where = fmt::format("setting sysctl {}={} in netns {}", key, value, ns.name());
  auto previous = NETCTL_TRYC(readIn(ns, path), "{}", where);
  NETCTL_TRYC(netns::runIn(ns, [&] { return fs::writeFile(path, value); }), "{}", where);
  return trim(std::move(previous));
}

}  // namespace netctl::sysctl
