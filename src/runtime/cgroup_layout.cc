// Where the cgroup hierarchies are and where this process sits in each: parsed from
// /proc/self/mountinfo and /proc/self/cgroup, so nothing depends on the usual mount names.
#include <sys/stat.h>

#include <algorithm>
#include <mutex>
#include <optional>
#include <map>
#include <set>

#include "netctl/base/fs.h"
#include "netctl/runtime/cgroup.h"

namespace netctl::cgroup {
namespace detail {
namespace {

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t pos = text.find(sep, start);
    out.push_back(text.substr(start, pos == std::string_view::npos ? pos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(std::string_view in) {
  auto oct = [](char c) { return c >= '0' && c <= '7'; };
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '\\' && i + 3 < in.size() &&
        oct(in[i + 1]) && oct(in[i + 2]) && oct(in[i + 3])) {
      out.push_back(static_cast<char>((in[i + 1] - '0') * 64 + (in[i + 2] - '0') * 8 + (in[i + 3] - '0')));
      i += 3;
      continue;
    }
    out.push_back(in[i]);
  }
  return out;
}

// The v1 subsystems the kernel knows; the other super options of a cgroup mount (rw, xattr,
// noprefix, clone_children, release_agent=...) are not controllers.
bool isV1Controller(std::string_view opt) {
  static const std::set<std::string_view> known = {
      "cpuset", "cpu", "cpuacct", "io", "blkio", "memory", "devices", "freezer", "net_cls",
      "perf_event", "net_prio", "hugetlb", "pids", "rdma", "misc", "debug"};
  return known.contains(opt) || opt.starts_with("name=");
}

std::string key(const std::vector<std::string>& controllers) {
  std::vector<std::string> sorted = controllers;
  std::sort(sorted.begin(), sorted.end());
  std::string out;
  for (const auto& c : sorted) out += c + ",";
  return out;
}

// ownPath relative to the mount's root ("/" when equal); nullopt when it lies outside.
std::optional<std::string> relativeTo(const std::string& root, const std::string& path) {
  if (root == "/" || root.empty()) return path.empty() ? "/" : path;
  if (path == root) return "/";
  if (path.starts_with(root) && path[root.size()] == '/') return path.substr(root.size());
  return std::nullopt;
}

}  // namespace

Result<std::vector<ProcEntry>> parseProcCgroup(std::string_view text) {
  std::vector<ProcEntry> out;
  for (auto line : split(text, '\n')) {
    if (line.empty()) continue;
    size_t first = line.find(':');
    size_t second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos)
      return invalidInput(fmt::format("malformed /proc/self/cgroup line \"{}\"", line));
    ProcEntry e;
    auto idText = line.substr(0, first);
    if (idText.empty() || !std::all_of(idText.begin(), idText.end(), ::isdigit))
      return invalidInput(fmt::format("malformed /proc/self/cgroup line \"{}\"", line));
    e.id = std::stoi(std::string(idText));
    auto ctrls = line.substr(first + 1, second - first - 1);
    if (!ctrls.empty())
      for (auto c : split(ctrls, ',')) e.controllers.emplace_back(c);
    e.path = std::string(line.substr(second + 1));  // a path may itself hold ':'
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::vector<MountEntry>> parseMountinfo(std::string_view text) {
  std::vector<MountEntry> out;
  for (auto line : split(text, '\n')) {
    if (line.empty()) continue;
    size_t dash = line.find(" - ");
    if (dash == std::string_view::npos)
      return invalidInput(fmt::format("malformed mountinfo line \"{}\"", line));
    auto head = split(line.substr(0, dash), ' ');
    auto tail = split(line.substr(dash + 3), ' ');
    if (head.size() < 6 || tail.size() < 3)
      return invalidInput(fmt::format("malformed mountinfo line \"{}\"", line));
    std::string_view fstype = tail[0];
    if (fstype != "cgroup" && fstype != "cgroup2") continue;
    MountEntry m;
    m.root = unescape(head[3]);
    m.mountPoint = unescape(head[4]);
    m.unified = fstype == "cgroup2";
    if (!m.unified)
      for (auto opt : split(tail[2], ','))
        if (isV1Controller(opt)) m.controllers.emplace_back(opt);
    out.push_back(std::move(m));
  }
  return out;
}

Result<Layout> layoutFrom(std::string_view procCgroup, std::string_view mountinfo,
                          std::string_view unifiedControllers) {
  auto procs = NETCTL_TRYC(parseProcCgroup(procCgroup), "parsing /proc/self/cgroup");
  auto mounts = NETCTL_TRYC(parseMountinfo(mountinfo), "parsing /proc/self/mountinfo");

  // One hierarchy may be mounted several times (bind mounts, or a mount hidden under a newer
  // one); the last mount listed is the one on top, so later entries replace earlier ones.
  std::map<std::string, MountEntry> byHierarchy;
  std::vector<std::string> order;
  for (auto& m : mounts) {
    if (!m.unified && m.controllers.empty()) continue;
    std::string k = m.unified ? "" : key(m.controllers);
    if (!byHierarchy.contains(k)) order.push_back(k);
    byHierarchy[k] = std::move(m);
  }

  Layout layout;
  bool v1Controllers = false, v2 = false;
  for (const auto& k : order) {
    const MountEntry& m = byHierarchy[k];
    const ProcEntry* own = nullptr;
    for (const auto& p : procs) {
      bool match = m.unified ? (p.id == 0 && p.controllers.empty())
                             : (!p.controllers.empty() && key(p.controllers) == k);
      if (match) own = &p;
    }
    if (!own) continue;  // a hierarchy this process is not part of (another namespace's)
    Hierarchy h;
    h.mountPoint = m.mountPoint;
    h.unified = m.unified;
    if (m.unified) {
      for (auto c : split(unifiedControllers, ' ')) {
        while (!c.empty() && (c.back() == '\n' || c.back() == ' ')) c.remove_suffix(1);
        if (!c.empty()) h.controllers.emplace_back(c);
      }
      v2 = true;
    } else {
      h.controllers = m.controllers;
      for (const auto& c : m.controllers)
        if (!c.starts_with("name=")) v1Controllers = true;
    }
    auto rel = relativeTo(m.root, own->path);
    h.ownPath = rel ? *rel : "";
    layout.hierarchies.push_back(std::move(h));
  }
  if (v1Controllers && v2) layout.mode = Mode::kHybrid;
  else if (v1Controllers) layout.mode = Mode::kV1;
  else if (v2) layout.mode = Mode::kV2;
  else return unsupported("no cgroup hierarchy is mounted (CONFIG_CGROUPS, or mount cgroup2)");
  return layout;
}

uint64_t weightToShares(uint64_t weight) {
  if (weight == 0) return 0;
  return 2 + ((weight - 1) * 262142) / 9999;
}

std::pair<int64_t, uint64_t> cpusToQuota(double cpus) {
  constexpr uint64_t kPeriod = 100000;
  auto quota = static_cast<int64_t>(cpus * static_cast<double>(kPeriod) + 0.5);
  return {std::max<int64_t>(quota, 1000), kPeriod};  // the kernel's minimum quota is 1 ms
}

}  // namespace detail

std::string_view modeName(Mode mode) {
  switch (mode) {
    case Mode::kV1: return "v1";
    case Mode::kV2: return "v2";
    case Mode::kHybrid: return "hybrid";
  }
  return "?";
}

// The runtimes use a statfs test (notes/runtime.md 2.1); the mounts say the same on a normal
// machine, and using them keeps detect() and what Group does in agreement everywhere else.
Result<Mode> detect() {
  auto layout = NETCTL_TRY(describe());
  return layout.mode;
}

namespace {

Result<Layout> readLayout(const std::string& procCgroup) {
  auto mountinfo = NETCTL_TRY(fs::readFile("/proc/self/mountinfo"));
  std::string unifiedControllers;
  auto mounts = NETCTL_TRYC(detail::parseMountinfo(mountinfo), "parsing /proc/self/mountinfo");
  for (const auto& m : mounts)
    if (m.unified) {
      auto text = fs::readFile(m.mountPoint + "/cgroup.controllers");
      if (text) unifiedControllers = *text;
    }
  return detail::layoutFrom(procCgroup, mountinfo, unifiedControllers);
}

}  // namespace

// Cached per process: reading mountinfo costs O(mounts), and a lab of N nodes pins N netns
// files, so re-reading it for every container made up and down O(N^2). The cache is keyed on
// what the layout depends on that can change under us: our own cgroup (/proc/self/cgroup, a
// few lines) and our mount namespace.
Result<Layout> describe() {
  static std::mutex mu;
  static std::optional<std::pair<std::string, Layout>> cached;
  auto procCgroup = NETCTL_TRY(fs::readFile("/proc/self/cgroup"));
  struct stat st {};
  std::string key = procCgroup;
  if (::stat("/proc/self/ns/mnt", &st) == 0) key += fmt::format("\nmnt:{}", st.st_ino);
  std::lock_guard g(mu);
  if (cached && cached->first == key) return cached->second;
  auto layout = NETCTL_TRY(readLayout(procCgroup));
  cached.emplace(key, layout);
  return layout;
}

}  // namespace netctl::cgroup
