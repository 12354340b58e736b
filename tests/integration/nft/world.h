// The little world the NAT tests run in (inside the sandbox, which plays the host):
//   outside ns --veth-- host (up0 203.0.113.1) ; bridges brA/brB/brC hold container netns.
// Links and addresses are made with `ip` (tests may run it; the product never does). Traffic
// is a TCP/UDP echo that answers with the peer address it saw, so a test sees NAT at work.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "netctl/base/result.h"
#include "netctl/base/unique_fd.h"
#include "netctl/net/netns.h"
#include "netctl/net/sysctl.h"
#include "support/sandbox.h"

namespace netctl::nfttest {

// Runs a shell command (test-only); returns its exit code; output goes to the test log.
inline int sh(const std::string& cmd) {
  int rc = std::system((cmd + " >/dev/null 2>&1").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

inline std::string shOut(const std::string& cmd) {
  std::string out;
  FILE* f = ::popen(cmd.c_str(), "r");
  if (!f) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  ::pclose(f);
  return out;
}

inline sockaddr_storage sockaddrOf(const std::string& addr, uint16_t port, socklen_t* len) {
  sockaddr_storage ss{};
  if (addr.find(':') != std::string::npos) {
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(port);
    ::inet_pton(AF_INET6, addr.c_str(), &s6->sin6_addr);
    *len = sizeof(sockaddr_in6);
  } else {
    auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
    s4->sin_family = AF_INET;
    s4->sin_port = htons(port);
    ::inet_pton(AF_INET, addr.c_str(), &s4->sin_addr);
    *len = sizeof(sockaddr_in);
  }
  return ss;
}

inline std::string peerString(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET6) {
    auto* s6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    ::inet_ntop(AF_INET6, &s6->sin6_addr, buf, sizeof buf);
    std::string s = buf;
    if (s.starts_with("::ffff:")) s = s.substr(7);
    return s;
  }
  ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&ss)->sin_addr, buf, sizeof buf);
  return buf;
}

// A TCP and UDP echo on one port in one netns; replies "peer=<address it saw>".
class Echo {
 public:
  Echo(const netns::Handle& ns, uint16_t port) {
    auto made = netns::runIn(ns, [&]() -> Result<void> {
      int one = 1;
      tcp_.reset(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
      udp_.reset(::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
      int zero = 0;
      for (int fd : {tcp_.get(), udp_.get()}) {
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);  // v4 and v6
        sockaddr_in6 a{};
        a.sin6_family = AF_INET6;
        a.sin6_port = htons(port);
        a.sin6_addr = in6addr_any;
        if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) return errnoError("bind");
      }
      if (::listen(tcp_.get(), 16) < 0) return errnoError("listen");
      return {};
    });
    ok_ = made.has_value();
    int p[2];
    if (::pipe2(p, O_CLOEXEC) == 0) {
      stopR_.reset(p[0]);
      stopW_.reset(p[1]);
    }
    if (ok_) thread_ = std::thread([this] { serve(); });
  }
  ~Echo() {
    if (thread_.joinable()) {
      (void)!::write(stopW_.get(), "x", 1);
      thread_.join();
    }
  }
  bool ok() const { return ok_; }

 private:
  void serve() {
    for (;;) {
      pollfd fds[3] = {{tcp_.get(), POLLIN, 0}, {udp_.get(), POLLIN, 0}, {stopR_.get(), POLLIN, 0}};
      if (::poll(fds, 3, -1) < 0) continue;
      if (fds[2].revents) return;
      if (fds[0].revents & POLLIN) {
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        UniqueFd c(::accept4(tcp_.get(), reinterpret_cast<sockaddr*>(&ss), &len, SOCK_CLOEXEC));
        if (c) {
          char buf[64];
          pollfd pf{c.get(), POLLIN, 0};
          if (::poll(&pf, 1, 1000) > 0) (void)!::read(c.get(), buf, sizeof buf);
          std::string reply = "peer=" + peerString(ss);
          (void)!::write(c.get(), reply.data(), reply.size());
        }
      }
      if (fds[1].revents & POLLIN) {
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        char buf[64];
        if (::recvfrom(udp_.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&ss), &len) >= 0) {
          std::string reply = "peer=" + peerString(ss);
          ::sendto(udp_.get(), reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&ss), len);
        }
      }
    }
  }

  bool ok_ = false;
  UniqueFd tcp_, udp_, stopR_, stopW_;
  std::thread thread_;
};

// Asks an echo over TCP from inside ns; returns the reply ("peer=...") or "" on failure.
inline std::string askTcp(const netns::Handle& ns, const std::string& addr, uint16_t port,
                          int timeoutMs = 2000) {
  auto fd = netns::runIn(ns, [&]() -> Result<UniqueFd> {
    int family = addr.find(':') != std::string::npos ? AF_INET6 : AF_INET;
    UniqueFd s(::socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!s) return errnoError("socket");
    return s;
  });
  if (!fd) return "";
  socklen_t len;
  auto sa = sockaddrOf(addr, port, &len);
  if (::connect(fd->get(), reinterpret_cast<sockaddr*>(&sa), len) < 0 && errno != EINPROGRESS) return "";
  pollfd pf{fd->get(), POLLOUT, 0};
  if (::poll(&pf, 1, timeoutMs) <= 0) return "";
  int err = 0;
  socklen_t el = sizeof err;
  ::getsockopt(fd->get(), SOL_SOCKET, SO_ERROR, &err, &el);
  if (err) return "";
  (void)!::write(fd->get(), "hi", 2);
  std::string out;
  for (;;) {
    pollfd rp{fd->get(), POLLIN, 0};
    if (::poll(&rp, 1, timeoutMs) <= 0) return out;
    char buf[128];
    ssize_t n = ::read(fd->get(), buf, sizeof buf);
    if (n <= 0) return out;
    out.append(buf, size_t(n));
  }
}

// Asks an echo over UDP from inside ns (three tries); returns the reply or "".
// srcPort pins the client's port, so that two asks are the same conntrack flow.
inline std::string askUdp(const netns::Handle& ns, const std::string& addr, uint16_t port,
                          int timeoutMs = 700, uint16_t srcPort = 0) {
  auto fd = netns::runIn(ns, [&]() -> Result<UniqueFd> {
    int family = addr.find(':') != std::string::npos ? AF_INET6 : AF_INET;
    UniqueFd s(::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!s) return errnoError("socket");
    if (srcPort) {
      int one = 1;
      ::setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      socklen_t l;
      auto local = sockaddrOf(family == AF_INET6 ? "::" : "0.0.0.0", srcPort, &l);
      if (::bind(s.get(), reinterpret_cast<sockaddr*>(&local), l) < 0) return errnoError("bind");
    }
    return s;
  });
  if (!fd) return "";
  socklen_t len;
  auto sa = sockaddrOf(addr, port, &len);
  if (::connect(fd->get(), reinterpret_cast<sockaddr*>(&sa), len) < 0) return "";
  for (int i = 0; i < 3; ++i) {
    (void)!::send(fd->get(), "hi", 2, 0);
    pollfd rp{fd->get(), POLLIN, 0};
    if (::poll(&rp, 1, timeoutMs) > 0) {
      char buf[128];
      ssize_t n = ::recv(fd->get(), buf, sizeof buf, 0);
      if (n > 0) return std::string(buf, size_t(n));
    }
  }
  return "";
}

inline bool ping(const std::string& nsName, const std::string& addr) {
  std::string in = nsName.empty() ? "" : "ip netns exec " + nsName + " ";
  return sh(in + "ping -c1 -W1 " + addr) == 0;
}

struct Container {
  std::string name, addr;
  netns::Handle ns;
};

// Creates netns `name`, a veth whose peer is eth0 in it, attached to bridge, with addr/24 and
// a default route via gw. Returns the handle.
inline Result<netns::Handle> addContainer(const std::string& name, const std::string& bridge,
                                          const std::string& addrWithLen, const std::string& gw,
                                          const std::string& addr6 = "", const std::string& gw6 = "") {
  auto ns = netns::createNamed(sandbox::info().stateRoot, name);
  if (!ns) return ns;
  // No DAD on the links made here (link-local addresses included): a tentative address
  // would delay the first IPv6 packets by a second or two.
  (void)sysctl::set(*ns, "net.ipv6.conf.default.accept_dad", "0");
  std::string host = "v" + name;
  int rc = sh("ip link add " + host + " type veth peer name eth0 netns " + name) |
           sh("ip link set " + host + " master " + bridge + " up") |
           sh("ip -n " + name + " link set lo up") | sh("ip -n " + name + " link set eth0 up") |
           sh("ip -n " + name + " addr add " + addrWithLen + " dev eth0") |
           sh("ip -n " + name + " route add default via " + gw);
  if (!addr6.empty())
    rc |= sh("ip -n " + name + " addr add " + addr6 + " dev eth0 nodad") |
          sh("ip -n " + name + " -6 route add default via " + gw6);
  if (rc) return sysError(EIO, "setting up container " + name + " with ip");
  return ns;
}

inline int addBridge(const std::string& br, const std::string& addrWithLen, const std::string& addr6 = "") {
  int rc = sh("ip link add " + br + " type bridge") | sh("ip addr add " + addrWithLen + " dev " + br) |
           sh("ip link set " + br + " up");
  if (!addr6.empty()) rc |= sh("ip addr add " + addr6 + " dev " + br + " nodad");
  return rc;
}

}  // namespace netctl::nfttest
