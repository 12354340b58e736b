// The receiver counts from its own clock: bytes read after the warmup, until the sender's EOF
// (so the time a shaper needs to drain its queue is counted too).
#include "support/goodput.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

#include "netctl/base/unique_fd.h"

namespace netctl::testing {

double goodput(const netns::Handle& nsFrom, const netns::Handle& nsTo, const std::string& addr,
               std::chrono::milliseconds warmup, std::chrono::milliseconds duration) {
  // A socket belongs to the netns it was made in; the threads that use it need not enter it.
  auto socketIn = [](const netns::Handle& ns) {
    auto fd = netns::runIn(ns, []() -> Result<UniqueFd> {
      return UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    });
    return fd ? std::move(*fd) : UniqueFd();
  };
  UniqueFd listener = socketIn(nsTo), sender = socketIn(nsFrom);
  int one = 1;
  ::setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(5201);
  if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&sin), sizeof sin) != 0 || ::listen(listener.get(), 1) != 0)
    return ADD_FAILURE() << "listen: " << std::strerror(errno), 0;
  std::atomic<double> measured{0};
  std::thread receiver([&] {
    UniqueFd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!conn.valid()) return;
    std::vector<char> buf(256 * 1024);
    auto start = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point t0{};
    uint64_t bytes = 0;
    for (;;) {
      ssize_t n = ::read(conn.get(), buf.data(), buf.size());
      if (n <= 0) break;
      auto now = std::chrono::steady_clock::now();
      if (now - start < warmup) continue;
      if (t0 == std::chrono::steady_clock::time_point{}) {
        t0 = now;
        continue;
      }
      bytes += static_cast<uint64_t>(n);
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (secs > 0) measured = static_cast<double>(bytes) * 8 / secs;
  });
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(5201);
  ::inet_pton(AF_INET, addr.c_str(), &dst.sin_addr);
  if (::connect(sender.get(), reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0) {
    ADD_FAILURE() << "connect: " << std::strerror(errno);
    ::shutdown(listener.get(), SHUT_RDWR);
    receiver.join();
    return 0;
  }
  std::vector<char> data(64 * 1024, 'x');
  auto end = std::chrono::steady_clock::now() + warmup + duration;
  while (std::chrono::steady_clock::now() < end)
    if (::write(sender.get(), data.data(), data.size()) < 0) break;
  sender.reset();  // EOF: the receiver stops its clock once the shaper has drained the queue
  receiver.join();
  return measured;
}

}  // namespace netctl::testing
