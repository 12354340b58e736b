// Shared pieces of up (apply.cc) and down (teardown.cc): a bounded worker pool, the journal
// with the test fault hook, and conversions from the model to the link engine's types.
#pragma once

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <thread>
#include <vector>

#include "netctl/base/result.h"
#include "netctl/net/ip.h"
#include "netctl/net/link.h"
#include "netctl/net/netlink.h"
#include "netctl/topology/addr.h"
#include "netctl/topology/journal.h"

namespace netctl::lab {

inline int cpuCount() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

// How many workers may fork at once. A worker forks (an exec command; the nodes' inits come
// from spawners forked before the workers start) and the child then allocates: glibc's
// malloc takes its locks around fork(), so that is safe; gcc 12's ASan allocator does not
// (LLVM added it in release 18), and a child forked while another worker held the allocator's
// lock hangs in its first allocation. Sanitizer builds fork one at a time.
inline int forkingJobs(int jobs) {
#if defined(__SANITIZE_ADDRESS__)
  (void)jobs;
  return 1;
#else
  return jobs;
#endif
}

// Runs fn(i, cache) for every i in [0, n) on at most `jobs` threads (the caller's included),
// each with its own netlink sockets. Stops handing out work after the first failure and
// returns the failure of the lowest index.
template <typename Fn>
Result<void> parallel(size_t n, int jobs, Fn&& fn) {
  if (n == 0) return {};
  std::vector<std::optional<Error>> errors(n);
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  auto worker = [&] {
    nl::SocketCache cache;
    for (;;) {
      size_t i = next.fetch_add(1);
      if (i >= n || failed.load()) break;
      auto r = fn(i, cache);
      if (!r) {
        errors[i] = std::move(r).error();
        failed = true;
      }
    }
  };
  size_t threads = std::min<size_t>(n, static_cast<size_t>(std::max(1, jobs)));
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  for (auto& e : errors)
    if (e) return std::unexpected(std::move(*e));
  return {};
}

// The journal, counting steps for the test-only fault hook.
class Journal {
 public:
  explicit Journal(journal::Writer w) : w_(std::move(w)) {
    if (const char* s = std::getenv("NETCTL_TEST_DIE_AFTER_STEP")) dieAfter_ = std::atol(s);
  }
  Result<void> record(const std::vector<journal::Entry>& entries) {
    NETCTL_TRYC(w_.record(entries), "writing the journal {}", w_.path());
    long n = ++steps_;
    if (dieAfter_ > 0 && n == dieAfter_) ::kill(::getpid(), SIGKILL);
    return {};
  }
  Result<void> record(journal::Entry e) { return record(std::vector<journal::Entry>{std::move(e)}); }

 private:
  journal::Writer w_;
  std::atomic<long> steps_{0};
  long dieAfter_ = 0;
};

inline ip::Address toIp(const topology::IpAddress& a) {
  auto r = ip::Address::fromBytes(a.family == 4 ? 2 : 10, a.bytes.data(), a.family == 4 ? 4 : 16);
  return r ? *r : ip::Address();
}
inline ip::Prefix toIp(const topology::IpPrefix& p) {
  auto r = ip::Prefix::make(toIp(p.addr), p.len);
  return r ? *r : ip::Prefix();
}
inline link::Mac toMac(const topology::Mac& m) { return link::Mac{m.bytes}; }

// NETCTL_LAB_TIMING=1 prints how long each phase took (for benchmarks and slow machines).
struct Timer {
  explicit Timer(const char* verb) : verb(verb) {}
  const char* verb;
  bool on = std::getenv("NETCTL_LAB_TIMING") != nullptr;
  std::chrono::steady_clock::time_point t = std::chrono::steady_clock::now();
  void lap(const char* what) {
    if (!on) return;
    auto now = std::chrono::steady_clock::now();
    std::fprintf(stderr, "%s: %s: %lld ms\n", verb, what,
                 (long long)std::chrono::duration_cast<std::chrono::milliseconds>(now - t).count());
    t = now;
  }
};

// Tears down what the journal of `lab` records (the lock is held by the caller). With
// keepDir the state directory (and its lock file) stays, empty of everything else.
Result<void> teardownLocked(const std::string& root, const std::string& lab, bool keepDir);

}  // namespace netctl::lab
