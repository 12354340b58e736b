// Network namespace handles: open one by path, pid or fd; create a named one under the state
// root (bind-mounted, and linked from /run/netns so `ip netns` sees it); run code inside one on
// the calling thread and come back.
#pragma once

#include <sys/types.h>

#include <string>
#include <type_traits>
#include <utility>

#include "netctl/base/result.h"
#include "netctl/base/unique_fd.h"

namespace netctl::netns {

class Handle {
 public:
  Handle() = default;
  Handle(UniqueFd fd, std::string name) : fd_(std::move(fd)), name_(std::move(name)) {}

  int fd() const { return fd_.get(); }
  bool valid() const { return fd_.valid(); }
  // For messages: the netns name, path or "pid N".
  const std::string& name() const { return name_; }
  Result<Handle> dup() const;
  // The kernel's identity of the namespace (st_ino of the nsfs inode).
  Result<ino_t> inode() const;

 private:
  UniqueFd fd_;
  std::string name_;
};

Result<Handle> openPath(const std::string& path);
Result<Handle> openPid(pid_t pid);
Result<Handle> current();
Result<Handle> fromFd(int fd);  // dups fd

// A new, empty, unnamed network namespace that lives as long as the returned handle (and
// anything opened inside it). For probes and scratch work that must not touch the caller's own.
Result<Handle> createAnonymous();

// Named namespaces live as files in a directory that is a (shared) mount point of its own:
// <stateRoot>/netns by default, or a directory per lab. Each is linked as /run/netns/<name>, so
// `ip netns` sees it.
std::string namedPath(const std::string& stateRoot, const std::string& name);  // <root>/netns/<name>
// Creates a new, empty network namespace (lo down) pinned at <dir>/<name> and linked as
// /run/netns/<name>. kConflict when the name is taken.
Result<Handle> createIn(const std::string& dir, const std::string& name);
// Pins an existing namespace (a container's) as <dir>/<name>, linked as /run/netns/<name>.
Result<void> pinIn(const std::string& dir, const std::string& name, const Handle& ns);
// Unpins and unlinks one. The kernel frees it (and every link in it) once nothing else holds
// it. Succeeds when it is already gone.
Result<void> removeIn(const std::string& dir, const std::string& name);
// Unpins every namespace of dir with ONE unmount, so the kernel frees them together in one
// cleanup batch instead of one by one, then removes their links, files and dir.
Result<void> removeAllIn(const std::string& dir);
// createIn / removeIn in <stateRoot>/netns.
Result<Handle> createNamed(const std::string& stateRoot, const std::string& name);
Result<void> removeNamed(const std::string& stateRoot, const std::string& name);

// Puts the calling thread into a network namespace until destroyed, then back into the one
// it was in. Sockets opened meanwhile stay bound to the namespace they were opened in.
class ScopedEnter {
 public:
  static Result<ScopedEnter> enter(const Handle& ns);
  ScopedEnter(ScopedEnter&& other) noexcept : original_(std::move(other.original_)) {}
  ScopedEnter& operator=(ScopedEnter&&) = delete;
  ~ScopedEnter();

 private:
  explicit ScopedEnter(UniqueFd original) : original_(std::move(original)) {}
  UniqueFd original_;
};

// Runs fn() inside ns on the calling thread; fn returns a Result.
template <typename F>
auto runIn(const Handle& ns, F&& fn) -> std::invoke_result_t<F> {
  auto entered = ScopedEnter::enter(ns);
  if (!entered) return std::unexpected(std::move(entered).error());
  return std::forward<F>(fn)();
}

}  // namespace netctl::netns
