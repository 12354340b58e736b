// Seccomp profiles: an OCI (linux.seccomp) or Docker JSON profile compiled to classic BPF with
// libseccomp. A profile is compiled once and then reused by its hash: from memory within a
// process, and from <stateRoot>/seccomp/<hash>.bpf across processes (netctl exec, the next
// `netctl up`). Compiling Docker's profile costs ~16 ms, more than starting a whole container.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "netctl/base/result.h"

namespace netctl::seccomp {

// A compiled filter: the bytes of a struct sock_filter array.
struct Program {
  std::string hash;                        // the cache key (hex); empty: no filter
  std::shared_ptr<const std::string> bpf;  // null: unconfined
  bool empty() const { return !bpf || bpf->empty(); }
};

// netctl's default profile (configs/seccomp/default.json, built into the library).
std::string_view defaultProfile();

// Parses and compiles a profile. capMask (bit N = capability N) decides the Docker-style
// "includes": {"caps": [...]} / "excludes" rules. Not cached.
Result<Program> compile(std::string_view profileJson, uint64_t capMask);

// compile() through the caches. stateRoot empty: memory only.
Result<Program> load(std::string_view profileJson, uint64_t capMask, const std::string& stateRoot);
// A program compiled earlier, by hash, from the file cache (for exec into a running node).
Result<Program> loadCached(const std::string& hash, const std::string& stateRoot);

// How many compilations this process did (for tests proving the cache works).
uint64_t compileCount();

// Installs the filter on the calling thread. Needs no_new_privs or CAP_SYS_ADMIN.
Result<void> applyInChild(const Program& program);

}  // namespace netctl::seccomp
