// Helpers of the net integration tests: independent read-back through `ip -j` and traffic
// through `ping`, run as child processes (tests may; the product never does).
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "netctl/net/link.h"
#include "netctl/net/netlink.h"
#include "netctl/net/netns.h"
#include "support/sandbox.h"

namespace netctl::testing {

inline link::Mac mac(const char* s) { return link::Mac::parse(s).value(); }

// Designated initializers would be shorter, but g++ 12 warns (-Wmissing-field-initializers)
// about every member they leave at its default.
inline link::Common common(std::string name, uint32_t mtu = 0, std::optional<link::Mac> mac = std::nullopt, link::Ref master = {},
                    bool up = false, std::string owner = "") {
  link::Common c;
  c.name = std::move(name);
  c.mtu = mtu;
  c.mac = mac;
  c.master = std::move(master);
  c.up = up;
  c.owner = std::move(owner);
  return c;
}

inline link::VethSpec::Peer peer(std::string name, const netns::Handle* ns = nullptr, uint32_t mtu = 0,
                          std::optional<link::Mac> mac = std::nullopt, bool up = false) {
  link::VethSpec::Peer p;
  p.name = std::move(name);
  p.netns = ns;
  p.mtu = mtu;
  p.mac = mac;
  p.up = up;
  return p;
}

// Runs a shell command; returns its exit code and stdout.
inline std::pair<int, std::string> run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen((cmd + " 2>/dev/null").c_str(), "r");
  if (!p) return {-1, out};
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// `ip [-n ns] -j <args>` parsed; null when ip failed (e.g. the link does not exist).
inline nlohmann::json ipJson(const std::string& ns, const std::string& args) {
  auto [rc, out] = run(fmt::format("ip {} -j {}", ns.empty() ? "" : "-n " + ns, args));
  if (rc != 0) return nullptr;
  try {
    return nlohmann::json::parse(out);
  } catch (const std::exception&) {
    return nullptr;
  }
}

// One link as `ip -j -d link show dev NAME` sees it, or null when it does not exist.
inline nlohmann::json ipLink(const std::string& ns, const std::string& name) {
  auto j = ipJson(ns, "-d link show dev " + name);
  if (!j.is_array() || j.empty()) return nullptr;
  return j[0];
}

inline bool hasFlag(const nlohmann::json& link, const std::string& flag) {
  for (const auto& f : link.value("flags", nlohmann::json::array()))
    if (f == flag) return true;
  return false;
}

// One echo request, one second to answer; tried up to `tries` times, because the first packet
// may wait on neighbour discovery while the machine is busy (other tests, netns teardown).
inline bool ping(const std::string& fromNs, const std::string& addr, int tries = 3) {
  for (int i = 0; i < tries; ++i)
    if (run(fmt::format("ip netns exec {} ping -c1 -W1 {}", fromNs, addr)).first == 0) return true;
  return false;
}

// Named network namespaces for one test, removed (with every link in them) at the end.
class Namespaces {
 public:
  ~Namespaces() {
    for (const auto& n : names_) (void)netns::removeNamed(sandbox::info().stateRoot, n);
  }
  netns::Handle& add(const std::string& name) {
    auto h = netns::createNamed(sandbox::info().stateRoot, name);
    if (!h) {
      std::fprintf(stderr, "creating netns %s: %s\n", name.c_str(), h.error().what().c_str());
      std::abort();
    }
    names_.push_back(name);
    handles_.push_back(std::make_unique<netns::Handle>(std::move(*h)));
    return *handles_.back();
  }

 private:
  std::vector<std::string> names_;
  std::vector<std::unique_ptr<netns::Handle>> handles_;
};

}  // namespace netctl::testing
