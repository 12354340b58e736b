#include "netctl/runtime/seccomp.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "netctl/base/fs.h"
#include "netctl/runtime/spec.h"

namespace netctl::seccomp {
namespace {

using Json = nlohmann::json;

std::atomic<uint64_t> g_compiles{0};
std::mutex g_mutex;
std::map<std::string, Program> g_memory;  // hash -> program

// A context owner, so every error path releases libseccomp's state.
struct Ctx {
  scmp_filter_ctx ctx = nullptr;
  ~Ctx() {
    if (ctx) seccomp_release(ctx);
  }
};

Result<uint32_t> actionOf(const std::string& name, int errnoRet) {
  if (name == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
  if (name == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(static_cast<uint16_t>(errnoRet));
  if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
  if (name == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
  if (name == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
  if (name == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
  if (name == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(static_cast<uint16_t>(errnoRet));
  return invalidInput(fmt::format("unsupported action {}", name));
}

Result<scmp_compare> opOf(const std::string& name) {
  if (name == "SCMP_CMP_NE") return SCMP_CMP_NE;
  if (name == "SCMP_CMP_LT") return SCMP_CMP_LT;
  if (name == "SCMP_CMP_LE") return SCMP_CMP_LE;
  if (name == "SCMP_CMP_EQ") return SCMP_CMP_EQ;
  if (name == "SCMP_CMP_GE") return SCMP_CMP_GE;
  if (name == "SCMP_CMP_GT") return SCMP_CMP_GT;
  if (name == "SCMP_CMP_MASKED_EQ") return SCMP_CMP_MASKED_EQ;
  return invalidInput(fmt::format("unsupported comparison {}", name));
}

// Docker's "includes"/"excludes": {"caps": [...], "arches": [...]}. minKernel is ignored (every
// kernel netctl supports is newer than the ones Docker's profile distinguishes).
bool capsHeld(const Json& list, uint64_t capMask) {
  for (const auto& c : list) {
    auto cap = runtime::capabilityFromName(c.get<std::string>());
    if (!cap || !(capMask & (uint64_t{1} << *cap))) return false;
  }
  return true;
}

bool ruleApplies(const Json& rule, uint64_t capMask) {
  if (auto inc = rule.find("includes"); inc != rule.end() && inc->is_object()) {
    if (auto caps = inc->find("caps"); caps != inc->end() && !capsHeld(*caps, capMask)) return false;
  }
  if (auto exc = rule.find("excludes"); exc != rule.end() && exc->is_object()) {
    if (auto caps = exc->find("caps"); caps != exc->end() && !caps->empty() && capsHeld(*caps, capMask))
      return false;
  }
  return true;
}

Result<void> addRule(scmp_filter_ctx ctx, const Json& rule, uint32_t defaultAction) {
  int errnoRet = rule.value("errnoRet", 1);
  uint32_t action = NETCTL_TRY(actionOf(rule.value("action", std::string()), errnoRet));
  if (action == defaultAction) return {};  // libseccomp refuses rules equal to the default
  std::vector<scmp_arg_cmp> cmps;
  if (auto args = rule.find("args"); args != rule.end() && args->is_array()) {
    for (const auto& a : *args) {
      scmp_arg_cmp cmp{};
      cmp.arg = a.value("index", 0u);
      cmp.op = NETCTL_TRY(opOf(a.value("op", std::string())));
      cmp.datum_a = a.value("value", uint64_t{0});
      cmp.datum_b = a.value("valueTwo", uint64_t{0});
      cmps.push_back(cmp);
    }
  }
  std::vector<std::string> names;
  if (auto n = rule.find("names"); n != rule.end()) names = n->get<std::vector<std::string>>();
  if (auto n = rule.find("name"); n != rule.end()) names.push_back(n->get<std::string>());
  for (const auto& name : names) {
    int nr = seccomp_syscall_resolve_name(name.c_str());
    if (nr == __NR_SCMP_ERROR) continue;  // not a syscall of this architecture
    int rc = seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned>(cmps.size()), cmps.data());
    if (rc < 0) return withContext(sysError(-rc, "adding the rule"), fmt::format("syscall {}", name));
  }
  return {};
}

// Part of the cache key: a change in how the filter is laid out must not reuse old programs.
constexpr std::string_view kLayout = "binary-tree";

std::string hashOf(std::string_view text, uint64_t capMask) {
  // FNV-1a over the profile, the capability mask and libseccomp's version: a cache key, not a
  // security boundary (the file cache also keeps and compares the profile text itself).
  uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](const void* data, size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ULL;
  };
  mix(text.data(), text.size());
  mix(&capMask, sizeof capMask);
  const scmp_version* v = seccomp_version();
  mix(v, sizeof *v);
  mix(kLayout.data(), kLayout.size());
  return fmt::format("{:016x}", h);
}

std::string cacheDir(const std::string& stateRoot) { return stateRoot + "/seccomp"; }

}  // namespace

uint64_t compileCount() { return g_compiles.load(); }

Result<Program> compile(std::string_view profileJson, uint64_t capMask) {
  Json profile;
  try {
    profile = Json::parse(profileJson);
  } catch (const std::exception& e) {
    return invalidInput(fmt::format("parsing the profile: {}", e.what()));
  }
  if (!profile.is_object()) return invalidInput("the profile is not a JSON object");
  // Docker profiles wrap nothing; OCI config.json carries it as linux.seccomp.
  if (profile.contains("linux") && profile["linux"].contains("seccomp")) profile = profile["linux"]["seccomp"];
  ++g_compiles;
  try {
    int defaultErrno = profile.value("defaultErrnoRet", 1);
    uint32_t defaultAction =
        NETCTL_TRYC(actionOf(profile.value("defaultAction", std::string()), defaultErrno), "defaultAction");
    Ctx ctx;
    ctx.ctx = seccomp_init(defaultAction);
    if (!ctx.ctx) return sysError(EINVAL, "seccomp_init");
    // no_new_privs is the runtime's decision, not the filter's.
    seccomp_attr_set(ctx.ctx, SCMP_FLTATR_CTL_NNP, 0);
    // A binary tree of syscall numbers, not a linear list: a syscall in the node then runs a
    // few instructions instead of ~100, and so does the kernel when it installs the filter
    // (it runs the filter once per syscall number and architecture to build its cache).
    seccomp_attr_set(ctx.ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    std::vector<std::string> arches;
    if (auto a = profile.find("architectures"); a != profile.end()) arches = a->get<std::vector<std::string>>();
    if (auto m = profile.find("archMap"); m != profile.end()) {
      for (const auto& entry : *m) {
        arches.push_back(entry.value("architecture", std::string()));
        for (const auto& sub : entry.value("subArchitectures", std::vector<std::string>{})) arches.push_back(sub);
      }
    }
    for (auto name : arches) {
      if (name.rfind("SCMP_ARCH_", 0) == 0) name = name.substr(10);
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      uint32_t token = seccomp_arch_resolve_name(name.c_str());
      if (token == 0 || token == seccomp_arch_native()) continue;
      int rc = seccomp_arch_add(ctx.ctx, token);
      if (rc < 0 && rc != -EEXIST) return withContext(sysError(-rc, "adding the architecture"), name);
    }
    if (auto rules = profile.find("syscalls"); rules != profile.end()) {
      size_t index = 0;
      for (const auto& rule : *rules) {
        if (ruleApplies(rule, capMask))
          NETCTL_TRYC(addRule(ctx.ctx, rule, defaultAction), "syscalls[{}]", index);
        ++index;
      }
    }
    UniqueFd mem(::memfd_create("seccomp-bpf", MFD_CLOEXEC));
    if (!mem) return errnoError("memfd_create");
    if (int rc = seccomp_export_bpf(ctx.ctx, mem.get()); rc < 0) return sysError(-rc, "exporting the BPF");
    off_t size = ::lseek(mem.get(), 0, SEEK_END);
    std::string bpf(static_cast<size_t>(size), '\0');
    if (::pread(mem.get(), bpf.data(), bpf.size(), 0) != size) return errnoError("reading the BPF back");
    return Program{hashOf(profileJson, capMask), std::make_shared<const std::string>(std::move(bpf))};
  } catch (const std::exception& e) {
    return invalidInput(fmt::format("reading the profile: {}", e.what()));
  }
}

Result<Program> load(std::string_view profileJson, uint64_t capMask, const std::string& stateRoot) {
  std::string hash = hashOf(profileJson, capMask);
  {
    std::lock_guard lock(g_mutex);
    if (auto it = g_memory.find(hash); it != g_memory.end()) return it->second;
  }
  Program program;
  std::string dir = cacheDir(stateRoot);
  if (!stateRoot.empty()) {
    auto text = fs::readFile(fmt::format("{}/{}.json", dir, hash));
    auto bpf = fs::readFile(fmt::format("{}/{}.bpf", dir, hash));
    if (text && bpf && *text == profileJson && !bpf->empty())
      program = Program{hash, std::make_shared<const std::string>(std::move(*bpf))};
  }
  if (program.empty()) {
    program = NETCTL_TRY(compile(profileJson, capMask));
    if (!stateRoot.empty()) {
      // The cache is an optimisation: a read-only state root only costs a compile next time.
      // The state root must stay traversable (0711) for user-namespaced nodes.
      if (fs::makeDirs(stateRoot, 0711) && fs::makeDirs(dir, 0700)) {
        (void)fs::writeFileAtomic(fmt::format("{}/{}.json", dir, hash), profileJson);
        (void)fs::writeFileAtomic(fmt::format("{}/{}.bpf", dir, hash), *program.bpf);
      }
    }
  }
  std::lock_guard lock(g_mutex);
  g_memory.emplace(hash, program);
  return program;
}

Result<Program> loadCached(const std::string& hash, const std::string& stateRoot) {
  if (hash.empty()) return Program{};
  {
    std::lock_guard lock(g_mutex);
    if (auto it = g_memory.find(hash); it != g_memory.end()) return it->second;
  }
  auto bpf = NETCTL_TRYC(fs::readFile(fmt::format("{}/{}.bpf", cacheDir(stateRoot), hash)),
                         "loading the seccomp filter {} from the cache", hash);
  if (bpf.empty() || bpf.size() % sizeof(sock_filter) != 0)
    return invalidInput(fmt::format("seccomp cache {}: not a BPF program", hash));
  return Program{hash, std::make_shared<const std::string>(std::move(bpf))};
}

Result<void> applyInChild(const Program& program) {
  if (program.empty()) return {};
  sock_fprog prog{};
  prog.len = static_cast<unsigned short>(program.bpf->size() / sizeof(sock_filter));
  prog.filter = reinterpret_cast<sock_filter*>(const_cast<char*>(program.bpf->data()));
  if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
    return errnoError("installing the seccomp filter");
  return {};
}

}  // namespace netctl::seccomp
