// A node's cgroup across the hierarchies: creation with limits, attach, listing, removal.
// cgroupfs driver only (no systemd): the hosts we target have no systemd as PID 1.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <thread>

#include "netctl/base/fs.h"
#include "netctl/runtime/cgroup.h"
#include "runtime/device_rules.h"

namespace netctl::cgroup {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto kEmptyTimeout = 2s;   // how long destroy() waits for the processes to go
constexpr auto kRmdirTimeout = 1s;   // EBUSY right after the last task left

bool has(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Writes one knob; the error names the file and the value so "cpuset 99" reads as such.
Result<void> writeKnob(const std::string& dir, std::string_view file, std::string_view value) {
  std::string path = dir + "/" + std::string(file);
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errnoError(fmt::format("opening {}", path));
  ssize_t n = ::write(fd, value.data(), value.size());
  int saved = errno;
  ::close(fd);
  if (n < 0) return sysError(saved, fmt::format("writing \"{}\" to {}", value, path));
  if (static_cast<size_t>(n) != value.size())
    return sysError(EIO, fmt::format("short write of \"{}\" to {}", value, path));
  return {};
}

Result<std::string> readKnob(const std::string& dir, std::string_view file) {
  return fs::readFile(dir + "/" + std::string(file));
}

Result<std::vector<pid_t>> readProcs(const std::string& dir) {
  auto text = NETCTL_TRY(readKnob(dir, "cgroup.procs"));
  std::vector<pid_t> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    if (end > pos) out.push_back(static_cast<pid_t>(std::strtol(text.c_str() + pos, nullptr, 10)));
    pos = end + 1;
  }
  return out;
}

// The sub-cgroups below dir, deepest first (so they can be removed in that order).
void descendants(const std::string& dir, std::vector<std::string>& out) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  std::vector<std::string> children;
  while (dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (n == "." || n == "..") continue;
    if (e->d_type == DT_DIR) children.push_back(dir + "/" + std::string(n));
  }
  ::closedir(d);
  for (const auto& c : children) {
    descendants(c, out);
    out.push_back(c);
  }
}

// Splits a parent like "netctl/lab1" into its components; "." and ".." are refused so a
// relative parent can never climb out of our own cgroup.
Result<std::vector<std::string>> components(const std::string& path, std::string_view what) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string::npos) end = path.size();
    std::string part = path.substr(pos, end - pos);
    if (part == "." || part == "..")
      return invalidInput(fmt::format("cgroup {} \"{}\" may not contain \".\" or \"..\"", what, path));
    if (!part.empty()) out.push_back(std::move(part));
    pos = end + 1;
  }
  return out;
}

struct Target {
  std::string base;                 // where our creation starts (own cgroup, or mount root)
  std::vector<std::string> levels;  // base/p1, base/p1/p2, ..., the group directory last
  const Hierarchy* hierarchy = nullptr;
};

// The hierarchies a group lives in for this mode: every v1 hierarchy on v1 and hybrid (the
// limits go there, as runc does), plus the unified one on hybrid (placement only) and v2.
Result<std::vector<Target>> targets(const Layout& layout, const std::string& parent,
                                    const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
    return invalidInput(fmt::format("invalid cgroup name \"{}\"", name));
  auto parts = NETCTL_TRY(components(parent, "parent"));
  bool absolute = parent.starts_with('/');
  std::vector<Target> out;
  for (const auto& h : layout.hierarchies) {
    if (layout.mode == Mode::kV2 && !h.unified) continue;
    if (layout.mode == Mode::kV1 && h.unified) continue;
    Target t;
    t.hierarchy = &h;
    if (absolute) {
      t.base = h.mountPoint;
    } else {
      if (h.ownPath.empty())
        return unsupported(fmt::format("our own cgroup is not visible under {}", h.mountPoint));
      t.base = h.mountPoint + (h.ownPath == "/" ? "" : h.ownPath);
    }
    std::string dir = t.base;
    for (const auto& p : parts) t.levels.push_back(dir += "/" + p);
    t.levels.push_back(dir + "/" + name);
    out.push_back(std::move(t));
  }
  if (out.empty()) return unsupported("no usable cgroup hierarchy");
  return out;
}

// v1 cpuset: a new cgroup starts with empty cpuset.cpus and cpuset.mems and attaching to it
// fails with ENOSPC, so every level below our base gets its parent's values copied down.
Result<void> initCpuset(const Target& t) {
  std::string parent = t.base;
  for (const auto& dir : t.levels) {
    for (std::string_view file : {"cpuset.cpus", "cpuset.mems"}) {
      auto mine = NETCTL_TRY(readKnob(dir, file));
      if (!trim(mine).empty()) continue;
      auto theirs = trim(NETCTL_TRY(readKnob(parent, file)));
      if (!theirs.empty()) NETCTL_TRY(writeKnob(dir, file, theirs));
    }
    parent = dir;
  }
  return {};
}

// v2: a controller is usable in a cgroup only when every ancestor enabled it in
// cgroup.subtree_control. Our own cgroup holds us, so enabling there fails with EBUSY unless
// it already is; the error says so.
Result<void> enableV2(const Target& t, const std::vector<std::string>& needed) {
  std::string dir = t.base;
  for (const auto& next : t.levels) {
    auto enabled = trim(NETCTL_TRY(readKnob(dir, "cgroup.subtree_control")));
    for (const auto& c : needed) {
      std::string list = " " + enabled + " ";
      if (list.find(" " + c + " ") != std::string::npos) continue;
      auto r = writeKnob(dir, "cgroup.subtree_control", "+" + c);
      if (!r) {
        if (r.error().errnum() == EBUSY)
          r.error().context("(the cgroup holds processes: run netctl from a leaf cgroup that "
                            "delegates its controllers, or use an absolute parent)");
        return r;
      }
    }
    dir = next;
  }
  return {};
}

Result<void> validate(const Limits& l) {
  if (l.memoryBytes && *l.memoryBytes < 4096)
    return invalidInput(fmt::format("memory limit {} bytes is below one page (4096)", *l.memoryBytes));
  if (l.cpus && (!std::isfinite(*l.cpus) || *l.cpus <= 0 || *l.cpus > 1e6))
    return invalidInput(fmt::format("cpus {} must be a positive number of CPUs", *l.cpus));
  if (l.cpuWeight && (*l.cpuWeight < 1 || *l.cpuWeight > 10000))
    return invalidInput(fmt::format("cpu weight {} is outside 1..10000", *l.cpuWeight));
  return {};
}

// The controllers the limits need.
std::vector<std::string> needed(const Limits& l) {
  std::vector<std::string> out;
  if (l.memoryBytes) out.push_back("memory");
  if (l.cpus || l.cpuWeight) out.push_back("cpu");
  if (l.pids) out.push_back("pids");
  if (!l.cpuset.empty()) out.push_back("cpuset");
  return out;
}

// The v1 hierarchies a group joins: those of its limits, plus devices (device_rules.h),
// freezer (destroy freezes before it kills) and name=systemd (the init system's tracking).
// Every join and removal costs, and some grow with the number of nodes: each cpuset write is
// checked against every sibling cpuset and rebuilds the scheduler domains, and a memory cgroup,
// when it goes, walks the LRU lists of every superblock on the machine (each node mounts
// several). So memory, cpu (with cpuacct), pids and cpuset are joined for a limit only; blkio,
// net_cls, perf_event, hugetlb, rdma and misc carry nothing a node sets.
//
// Hybrid's unified tree carries no limits; a node is placed there only so that stopping the
// caller's unit (an init system tracks processes there) does not reach it. When the caller
// sits at that tree's root there is no unit to leave, and the placement, a cgroup.procs write
// that may wait for an RCU grace period (up to ~20 ms here), is not made.
bool joins(Mode mode, const Hierarchy& h, const std::vector<std::string>& need) {
  if (h.unified) return mode != Mode::kHybrid || (!h.ownPath.empty() && h.ownPath != "/");
  for (const auto& c : h.controllers) {
    if (has(need, c)) return true;
    if (c == "cpuacct" && has(need, "cpu")) return true;  // a CPU limit comes with its usage
    for (std::string_view always : {"devices", "freezer", "name=systemd"})
      if (c == always) return true;
  }
  return false;
}

void removeMade(const std::vector<std::string>& made) {
  for (auto it = made.rbegin(); it != made.rend(); ++it) ::rmdir(it->c_str());
}

Result<void> rmdirRetry(const std::string& dir) {
  auto deadline = Clock::now() + kRmdirTimeout;
  for (;;) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return {};
    if (errno != EBUSY || Clock::now() > deadline)
      return errnoError(fmt::format("removing cgroup {}", dir));
    std::this_thread::sleep_for(10ms);
  }
}

}  // namespace

std::string defaultParent() {
  const char* env = std::getenv("NETCTL_CGROUP_PARENT");
  return env && *env ? env : "netctl";
}

Result<Group> Group::create(const std::string& parent, const std::string& name,
                            const Limits& limits) {
  auto layout = NETCTL_TRYC(describe(), "cgroup {}", name);
  return create(layout, parent, name, limits);
}

Result<Group> Group::create(const Layout& layout, const std::string& parent,
                            const std::string& name, const Limits& limits) {
  NETCTL_TRYC(validate(limits), "cgroup {}", name);
  auto ts = NETCTL_TRYC(targets(layout, parent, name), "cgroup {}", name);
  auto need = needed(limits);
  std::erase_if(ts, [&](const Target& t) { return !joins(layout.mode, *t.hierarchy, need); });

  // Every needed controller must exist somewhere before anything is made.
  for (const auto& c : need) {
    bool found = false;
    for (const auto& t : ts)
      if (has(t.hierarchy->controllers, c) && (layout.mode == Mode::kV2 || !t.hierarchy->unified))
        found = true;
    if (!found) {
      std::string_view option = c == "memory" ? "CONFIG_MEMCG"
                                : c == "cpu"  ? "CONFIG_CGROUP_SCHED"
                                : c == "pids" ? "CONFIG_CGROUP_PIDS"
                                              : "CONFIG_CPUSETS";
      return withContext(unsupported(fmt::format(
                             "no {} controller in the {} hierarchies ({}, or it is bound elsewhere)",
                             c, modeName(layout.mode), option)),
                         fmt::format("cgroup {}", name));
    }
  }

  Group g;
  g.mode_ = layout.mode;
  std::vector<std::string> made;
  auto fail = [&](Error e) -> Result<Group> {
    removeMade(made);
    e.context(fmt::format("cgroup {}", name));
    return std::unexpected(std::move(e));
  };

  for (const auto& t : ts) {
    bool optional = layout.mode == Mode::kHybrid && t.hierarchy->unified;
    bool ok = true;
    int restarts = 0;
    for (size_t i = 0; i < t.levels.size() && ok; ++i) {
      const auto& dir = t.levels[i];
      if (::mkdir(dir.c_str(), 0755) == 0) {
        made.push_back(dir);
        continue;
      }
      int err = errno;
      bool last = i + 1 == t.levels.size();
      if (err == EEXIST && !last) continue;
      // A parallel create() that failed may have just removed a shared parent it had made.
      if (err == ENOENT && i > 0 && restarts++ < 3) {
        i = static_cast<size_t>(-1);
        continue;
      }
      if (optional) { ok = false; break; }  // hybrid: the unified placement is best effort
      if (err == EEXIST) return fail(conflict(fmt::format("{} exists already", dir)).error());
      return fail(sysError(err, fmt::format("creating {}", dir)).error());
    }
    if (!ok) continue;
    Dir d;
    d.path = t.levels.back();
    d.procs = d.path + "/cgroup.procs";
    d.tasks = d.path + "/tasks";
    d.unified = t.hierarchy->unified;
    d.controllers = t.hierarchy->controllers;
    if (!d.unified && has(d.controllers, "cpuset"))
      if (auto r = initCpuset(t); !r) return fail(r.error());
    if (!d.unified && has(d.controllers, "devices"))
      if (auto r = device_rules::writeV1(d.path); !r) return fail(r.error());
    if (layout.mode == Mode::kV2) {
      if (auto r = enableV2(t, need); !r) return fail(r.error());
      if (auto r = device_rules::attachV2(d.path); !r) return fail(r.error());
    }
    g.dirs_.push_back(std::move(d));
  }

  // The limits, before any process can be attached.
  auto write = [&](std::string_view controller, std::string_view file, std::string value) -> Result<void> {
    std::string dir = g.pathFor(controller);
    return writeKnob(dir, file, value);
  };
  bool v2 = layout.mode == Mode::kV2;
  Result<void> r;
  if (limits.memoryBytes) {
    r = write("memory", v2 ? "memory.max" : "memory.limit_in_bytes", std::to_string(*limits.memoryBytes));
    if (!r) return fail(r.error());
  }
  if (limits.cpus) {
    auto [quota, period] = detail::cpusToQuota(*limits.cpus);
    if (v2) {
      r = write("cpu", "cpu.max", fmt::format("{} {}", quota, period));
    } else {
      r = write("cpu", "cpu.cfs_period_us", std::to_string(period));
      if (r) r = write("cpu", "cpu.cfs_quota_us", std::to_string(quota));
    }
    if (!r) return fail(r.error());
  }
  if (limits.cpuWeight) {
    r = v2 ? write("cpu", "cpu.weight", std::to_string(*limits.cpuWeight))
           : write("cpu", "cpu.shares", std::to_string(detail::weightToShares(*limits.cpuWeight)));
    if (!r) return fail(r.error());
  }
  if (limits.pids) {
    r = write("pids", "pids.max", std::to_string(*limits.pids));
    if (!r) return fail(r.error());
  }
  if (!limits.cpuset.empty()) {
    r = write("cpuset", "cpuset.cpus", limits.cpuset);
    if (!r) return fail(r.error());
  }
  return g;
}

Result<Group> Group::open(const std::string& parent, const std::string& name) {
  auto layout = NETCTL_TRYC(describe(), "cgroup {}", name);
  return open(layout, parent, name);
}

Result<Group> Group::open(const Layout& layout, const std::string& parent, const std::string& name) {
  auto ts = NETCTL_TRYC(targets(layout, parent, name), "cgroup {}", name);
  Group g;
  g.mode_ = layout.mode;
  for (const auto& t : ts) {
    struct stat st {};
    if (::stat(t.levels.back().c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
    const std::string& path = t.levels.back();
    g.dirs_.push_back(Dir{path, path + "/cgroup.procs", path + "/tasks", t.hierarchy->controllers,
                          t.hierarchy->unified});
  }
  if (g.dirs_.empty())
    return notFound(fmt::format("cgroup {} does not exist under {}", name, ts.front().levels.back()));
  return g;
}

namespace {

// pid as decimal text in buf, without allocating (forked children call this).
std::string_view pidText(pid_t pid, char (&buf)[24]) {
  char* end = buf + sizeof buf;
  char* p = end;
  auto v = static_cast<unsigned long>(pid < 0 ? 0 : pid);
  do *--p = static_cast<char>('0' + v % 10); while ((v /= 10) != 0);
  return {p, static_cast<size_t>(end - p)};
}

// Writes text to one file; 0 or the errno.
int writeOnce(const std::string& file, std::string_view text) {
  int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  int err = ::write(fd, text.data(), text.size()) < 0 ? errno : 0;
  ::close(fd);
  return err;
}

}  // namespace

Result<void> Group::attachTo(pid_t pid, Part part) const {
  char buf[24];
  std::string_view text = pidText(pid, buf);
  for (const auto& d : dirs_) {
    if ((part == Part::kUnified && !d.unified) || (part == Part::kLegacy && d.unified)) continue;
    const std::string& file = part == Part::kLegacy ? d.tasks : d.procs;
    int err = writeOnce(file, text);
    // Hybrid: the unified tree only mirrors placement, so failing there is not fatal.
    if (err != 0 && !(mode_ == Mode::kHybrid && d.unified))
      return sysError(err, fmt::format("attaching pid {}: writing \"{}\" to {}", pid, text, file));
  }
  return {};
}

Result<void> Group::attach(pid_t pid) const { return attachTo(pid, Part::kAll); }
Result<void> Group::attachUnifiedFromParent(pid_t pid) const { return attachTo(pid, Part::kUnified); }
Result<void> Group::joinLegacyInChild() const { return attachTo(0, Part::kLegacy); }

Result<std::vector<pid_t>> Group::pids() const {
  if (dirs_.empty()) return std::vector<pid_t>{};
  const Dir* pick = &dirs_.front();
  for (const auto& d : dirs_)
    if (!d.unified || mode_ == Mode::kV2) { pick = &d; break; }
  auto out = NETCTL_TRY(readProcs(pick->path));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<void> Group::destroy() {
  // The usual case, a node whose pid namespace is gone: every directory is empty, and one rmdir
  // each is all it takes. A directory that still holds a process (EBUSY) or a sub-cgroup
  // (ENOTEMPTY) stays for the full pass below.
  std::erase_if(dirs_, [](const Dir& d) { return ::rmdir(d.path.c_str()) == 0 || errno == ENOENT; });
  if (dirs_.empty()) return {};
  // Every directory left (and any sub-cgroup someone made inside), deepest first.
  std::vector<std::string> all;
  for (const auto& d : dirs_) {
    if (!fs::exists(d.path)) continue;
    descendants(d.path, all);
    all.push_back(d.path);
  }
  auto collect = [&]() -> Result<std::vector<pid_t>> {
    std::vector<pid_t> out;
    for (const auto& dir : all) {
      auto p = readProcs(dir);
      if (!p) {
        if (p.error().errnum() == ENOENT) continue;
        return std::unexpected(p.error());
      }
      out.insert(out.end(), p->begin(), p->end());
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    // Never kill ourselves: if we are inside, the caller made a mistake; say so.
    if (std::binary_search(out.begin(), out.end(), ::getpid()))
      return conflict("the calling process is inside the cgroup it is destroying");
    return out;
  };
  auto killAll = [](const std::vector<pid_t>& ps) {
    for (pid_t p : ps) ::kill(p, SIGKILL);
  };

  auto first = NETCTL_TRYC(collect(), "destroying cgroup {}", paths().empty() ? "" : paths().front());
  if (!first.empty()) {
    // v2 (and the unified tree of hybrid): cgroup.kill kills the whole subtree at once.
    for (const auto& d : dirs_)
      if (d.unified && fs::exists(d.path + "/cgroup.kill")) (void)writeKnob(d.path, "cgroup.kill", "1");
    // v1: freeze so nothing forks while we kill, kill, thaw (the frozen die on thaw).
    std::string freezer;
    for (const auto& d : dirs_)
      if (!d.unified && has(d.controllers, "freezer") && fs::exists(d.path)) freezer = d.path;
    if (!freezer.empty() && writeKnob(freezer, "freezer.state", "FROZEN")) {
      auto until = Clock::now() + 500ms;
      while (Clock::now() < until) {
        auto s = readKnob(freezer, "freezer.state");
        if (!s || trim(*s) == "FROZEN") break;
        std::this_thread::sleep_for(1ms);
      }
      if (auto ps = collect()) killAll(*ps);
      (void)writeKnob(freezer, "freezer.state", "THAWED");
    } else {
      killAll(first);
    }
    // Kill again until empty: covers forks that raced the first pass.
    auto deadline = Clock::now() + kEmptyTimeout;
    for (;;) {
      auto ps = NETCTL_TRYC(collect(), "destroying cgroup {}", paths().front());
      if (ps.empty()) break;
      if (Clock::now() > deadline)
        return sysError(EBUSY, fmt::format("cgroup {} still holds {} process(es) after {} s",
                                           paths().front(), ps.size(), kEmptyTimeout.count()));
      killAll(ps);
      std::this_thread::sleep_for(5ms);
    }
  }
  for (const auto& dir : all) NETCTL_TRY(rmdirRetry(dir));
  dirs_.clear();
  return {};
}

std::vector<std::string> Group::paths() const {
  std::vector<std::string> out;
  for (const auto& d : dirs_) out.push_back(d.path);
  return out;
}

std::string Group::pathFor(std::string_view controller) const {
  for (const auto& d : dirs_) {
    if (mode_ == Mode::kV2 && d.unified) return d.path;
    if (!d.unified && has(d.controllers, controller)) return d.path;
  }
  return "";
}

}  // namespace netctl::cgroup
