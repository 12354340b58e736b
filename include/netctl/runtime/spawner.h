// A process that creates containers for a caller that had better not fork. A fork costs in
// proportion to what the forking process has mapped, and each page the parent writes while a
// child still shares it is copied, with a TLB shootdown when the parent runs threads on other
// CPUs. A lab's up is such a parent: megabytes of lab model, and worker threads writing their
// heaps (netlink, journal) while each new node's init still shares those pages, until its
// command execs. A spawner is forked once, before the workers start, with the specs already in
// its memory; the workers name a spec by its index, and the spawner forks the init.
//
//   auto sp = Spawner::start(rt, specs);   // the caller is still single-threaded
//   pid_t init = sp->create(i).value();    // rt.create(specs[i]), done in the spawner
#pragma once

#include <sys/types.h>

#include <vector>

#include "netctl/base/process.h"
#include "netctl/base/result.h"
#include "netctl/base/unique_fd.h"
#include "netctl/runtime/container.h"

namespace netctl::runtime {

class Spawner {
 public:
  // Forks the spawner. Call it while the process runs one thread. `specs` is the spawner's own
  // copy from then on: later changes in the caller do not reach it.
  static Result<Spawner> start(const Runtime& rt, const std::vector<Spec>& specs);
  Spawner(Spawner&&) noexcept = default;
  Spawner& operator=(Spawner&&) = delete;
  ~Spawner();  // the spawner exits when its socket closes, and is reaped here

  // rt.create(specs[index]) in the spawner: the node's init pid, or the create's error. One
  // request at a time: a caller with several workers starts a spawner for each.
  Result<pid_t> create(size_t index);

 private:
  Spawner(UniqueFd sock, pid_t pid) : sock_(std::move(sock)), child_(pid) {}
  UniqueFd sock_;
  ChildProcess child_;
};

}  // namespace netctl::runtime
