// host-local compatible IPAM (see ipam.h for the on-disk format), and static IPAM.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "netctl/base/fs.h"
#include "netctl/base/unique_fd.h"
#include "netctl/cni/ipam.h"

namespace netctl::cni::ipam {

namespace {

constexpr std::string_view kLineBreak = "\r\n";
constexpr const char* kLastPrefix = "last_reserved_ip.";

std::unexpected<Failure> ioFail(std::string what, int err = errno) {
  return fail(code::kIoFailure, fmt::format("{}: {}", what, std::strerror(err)));
}

std::string trim(std::string_view s) {
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; };
  while (!s.empty() && ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && ws(s.back())) s.remove_suffix(1);
  return std::string(s);
}

// One network's directory, locked (flock LOCK_EX on `lock`) for the object's lifetime.
// flock locks belong to the open file description, so this excludes other threads of this
// process as well as other processes, including the reference host-local.
class LockedDir {
 public:
  static Outcome<std::optional<LockedDir>> open(const std::string& root, const std::string& network,
                                                bool create) {
    std::string path = root + "/" + network;
    if (create) {
      auto made = fs::makeDirs(path, 0755);
      if (!made) return fail(code::kIoFailure, made.error().what());
    }
    int dfd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
      if (!create && errno == ENOENT) return std::optional<LockedDir>();
      return ioFail(fmt::format("opening {}", path));
    }
    LockedDir d;
    d.path_ = path;
    d.dir_.reset(dfd);
    int lfd = ::openat(dfd, "lock", O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
    if (lfd < 0) return ioFail(fmt::format("opening {}/lock", path));
    d.lock_.reset(lfd);
    while (::flock(lfd, LOCK_EX) != 0) {
      if (errno != EINTR) return ioFail(fmt::format("locking {}/lock", path));
    }
    return std::optional<LockedDir>(std::move(d));
  }

  int fd() const { return dir_.get(); }
  const std::string& path() const { return path_; }

  // Creates the address file (O_EXCL). False when another owner holds it.
  Outcome<bool> reserve(const IpAddr& a, const Request& r, size_t setIndex) {
    std::string name = a.str();
    int f = ::openat(dir_.get(), name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (f < 0) {
      if (errno == EEXIST) return false;
      return ioFail(fmt::format("reserving {}/{}", path_, name));
    }
    UniqueFd file(f);
    std::string content = trim(r.containerId) + std::string(kLineBreak) + r.ifname;
    if (::write(f, content.data(), content.size()) != static_cast<ssize_t>(content.size())) {
      int err = errno;
      ::unlinkat(dir_.get(), name.c_str(), 0);
      return ioFail(fmt::format("writing {}/{}", path_, name), err);
    }
    auto lastName = fmt::format("{}{}", kLastPrefix, setIndex);
    // Overwrite in place and cut to length rather than O_TRUNC: on ext4 a truncate to zero
    // makes close() flush the file (auto_da_alloc), which cost ~7 ms per ADD. Readers hold the
    // lock, so nobody sees the file between the write and the ftruncate.
    int lf = ::openat(dir_.get(), lastName.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (lf >= 0) {
      UniqueFd last(lf);
      // Round-robin is best effort (host-local ignores this write's errors too).
      if (::pwrite(lf, name.data(), name.size(), 0) == static_cast<ssize_t>(name.size()))
        (void)!::ftruncate(lf, static_cast<off_t>(name.size()));
    }
    return true;
  }

  std::optional<IpAddr> lastReserved(size_t setIndex) const {
    auto text = readAt(fmt::format("{}{}", kLastPrefix, setIndex));
    if (!text) return std::nullopt;
    return IpAddr::parse(trim(*text));
  }

  std::optional<std::string> readAt(const std::string& name) const {
    int f = ::openat(dir_.get(), name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (f < 0) return std::nullopt;
    UniqueFd file(f);
    std::string out;
    char buf[512];
    for (;;) {
      ssize_t n = ::read(f, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
      // A short read of a regular file is its end: saves a read per file on every scan.
      if (static_cast<size_t>(n) < sizeof buf || out.size() > 4096) break;
    }
    return out;
  }

  // Every address file: name parsed as an address, content trimmed.
  Outcome<std::vector<std::pair<IpAddr, std::string>>> entries() const {
    std::vector<std::pair<IpAddr, std::string>> out;
    int dup = ::fcntl(dir_.get(), F_DUPFD_CLOEXEC, 0);
    if (dup < 0) return ioFail("dup");
    DIR* d = ::fdopendir(dup);
    if (!d) {
      ::close(dup);
      return ioFail(fmt::format("reading {}", path_));
    }
    ::rewinddir(d);
    while (auto* e = ::readdir(d)) {
      auto a = IpAddr::parse(e->d_name);
      if (!a || a->str() != e->d_name) continue;  // lock, last_reserved_ip.N, strangers
      auto content = readAt(e->d_name);
      if (!content) continue;
      out.emplace_back(*a, trim(*content));
    }
    ::closedir(d);
    return out;
  }

  bool remove(const IpAddr& a) { return ::unlinkat(dir_.get(), a.str().c_str(), 0) == 0; }

 private:
  LockedDir() = default;
  std::string path_;
  UniqueFd dir_;
  UniqueFd lock_;
};

// host-local's RangeIter: starts after the last reserved address of this range set (or at the
// first range's start), walks every range of the set once, wrapping, skipping gateways.
class RangeIter {
 public:
  RangeIter(const RangeSet& set, std::optional<IpAddr> last) : set_(set) {
    if (last) {
      for (size_t i = 0; i < set.size(); ++i) {
        if (set[i].contains(*last)) {
          idx_ = i;
          cur_ = *last;
          return;
        }
      }
    }
    start_ = set[0].rangeStart;
  }

  std::optional<std::pair<IpAddr, const Range*>> next() {
    for (;;) {
      const Range* r = &set_[idx_];
      if (!cur_) {
        cur_ = r->rangeStart;
        start_ = cur_;
        if (*cur_ == r->gateway) continue;
        return std::pair{*cur_, r};
      }
      if (*cur_ == r->rangeEnd) {
        idx_ = (idx_ + 1) % set_.size();
        r = &set_[idx_];
        cur_ = r->rangeStart;
      } else {
        cur_ = cur_->next();
      }
      if (!start_) {
        start_ = cur_;
      } else if (*cur_ == *start_) {
        return std::nullopt;
      }
      if (*cur_ == r->gateway) continue;
      return std::pair{*cur_, r};
    }
  }

 private:
  const RangeSet& set_;
  size_t idx_ = 0;
  std::optional<IpAddr> cur_;
  std::optional<IpAddr> start_;
};

const Range* rangeFor(const RangeSet& set, const IpAddr& a) {
  for (const auto& r : set)
    if (r.contains(a)) return &r;
  return nullptr;
}

void releaseOwned(LockedDir& dir, const Request& r) {
  auto all = dir.entries();
  if (!all) return;
  std::string match = trim(r.containerId) + std::string(kLineBreak) + r.ifname;
  bool found = false;
  for (const auto& [a, owner] : *all) {
    if (owner == match && dir.remove(a)) found = true;
  }
  if (found) return;
  for (const auto& [a, owner] : *all) {  // host-local's old format: the id alone
    if (owner == trim(r.containerId)) dir.remove(a);
  }
}

Outcome<Dns> dnsFor(const IpamConf& c) {
  if (c.resolvConf.empty()) return c.dns;
  auto text = fs::readFile(c.resolvConf);
  if (!text) return fail(code::kIoFailure, fmt::format("reading resolvConf: {}", text.error().what()));
  return parseResolvConf(*text);
}

Outcome<NetResult> allocateStatic(const IpamConf& c) {
  if (c.addresses.empty()) return fail(code::kInvalidConfig, "static IPAM has no \"addresses\"");
  NetResult res;
  for (const auto& a : c.addresses) res.ips.push_back(IpConfig{a.address, a.gateway, {}});
  res.routes = c.routes;
  res.dns = c.dns;
  return res;
}

}  // namespace

std::string dataDirFor(const IpamConf& c, const std::string& fallback) {
  if (!c.dataDir.empty()) return c.dataDir;
  return fallback.empty() ? std::string(kDefaultDataDir) : fallback;
}

Outcome<NetResult> allocate(const IpamConf& c, const Request& r) {
  if (c.type == "static") return allocateStatic(c);
  auto opened = LockedDir::open(r.dataDir, r.network, true);
  if (!opened) return std::unexpected(opened.error());
  LockedDir& dir = **opened;

  // The spec forbids a second ADD for the same attachment without a DEL.
  auto existing = dir.entries();
  if (!existing) return std::unexpected(existing.error());
  std::string owner = trim(r.containerId) + std::string(kLineBreak) + r.ifname;
  for (const auto& [a, who] : *existing) {
    if (who != owner) continue;
    for (const auto& set : c.ranges)
      if (rangeFor(set, a))
        return fail(code::kAddressUnavailable,
                    fmt::format("{} has been allocated to {}, duplicate allocation is not allowed", a.str(),
                                r.containerId));
  }

  auto dns = dnsFor(c);
  if (!dns) return std::unexpected(dns.error());
  NetResult res;
  res.routes = c.routes;
  res.dns = *dns;
  std::vector<IpAddr> requested = r.requested;
  std::vector<IpAddr> reserved;
  auto undo = [&] {
    for (const auto& a : reserved) dir.remove(a);
  };
  for (size_t i = 0; i < c.ranges.size(); ++i) {
    const RangeSet& set = c.ranges[i];
    std::optional<IpAddr> want;
    for (auto it = requested.begin(); it != requested.end(); ++it) {
      if (rangeFor(set, *it)) {
        want = *it;
        requested.erase(it);
        break;
      }
    }
    if (want) {
      const Range* range = rangeFor(set, *want);
      if (*want == range->gateway) {
        undo();
        return fail(code::kAddressUnavailable, fmt::format("requested ip {} is subnet's gateway", want->str()));
      }
      auto ok = dir.reserve(*want, r, i);
      if (!ok) {
        undo();
        return std::unexpected(ok.error());
      }
      if (!*ok) {
        undo();
        return fail(code::kAddressUnavailable,
                    fmt::format("requested IP address {} is not available in range set {}", want->str(),
                                rangeSetStr(set)));
      }
      reserved.push_back(*want);
      res.ips.push_back(IpConfig{IpPrefix{*want, range->subnet.len}, range->gateway, {}});
      continue;
    }
    RangeIter iter(set, dir.lastReserved(i));
    bool got = false;
    while (auto cand = iter.next()) {
      auto ok = dir.reserve(cand->first, r, i);
      if (!ok) {
        undo();
        return std::unexpected(ok.error());
      }
      if (!*ok) continue;
      reserved.push_back(cand->first);
      res.ips.push_back(IpConfig{IpPrefix{cand->first, cand->second->subnet.len}, cand->second->gateway, {}});
      got = true;
      break;
    }
    if (!got) {
      undo();
      return fail(code::kPoolExhausted,
                  fmt::format("failed to allocate for range {}: no IP addresses available in range set: {}", i,
                              rangeSetStr(set)));
    }
  }
  if (!requested.empty()) {
    undo();
    std::vector<std::string> left;
    for (const auto& a : requested) left.push_back(a.str());
    return fail(code::kAddressUnavailable,
                fmt::format("failed to allocate all requested IPs: {}", fmt::join(left, ", ")),
                "no range set contains them");
  }
  return res;
}

Outcome<void> release(const IpamConf& c, const Request& r) {
  if (c.type == "static") return {};
  auto opened = LockedDir::open(r.dataDir, r.network, false);
  if (!opened) return std::unexpected(opened.error());
  if (!*opened) return {};  // nothing was ever allocated here: DEL is idempotent
  releaseOwned(**opened, r);
  return {};
}

Outcome<void> check(const IpamConf& c, const Request& r) {
  if (c.type == "static") return {};
  auto opened = LockedDir::open(r.dataDir, r.network, false);
  if (!opened) return std::unexpected(opened.error());
  std::string owner = trim(r.containerId) + std::string(kLineBreak) + r.ifname;
  std::vector<bool> held(c.ranges.size(), false);
  if (*opened) {
    auto all = (*opened)->entries();
    if (!all) return std::unexpected(all.error());
    for (const auto& [a, who] : *all) {
      if (who != owner && who != trim(r.containerId)) continue;
      for (size_t i = 0; i < c.ranges.size(); ++i)
        if (rangeFor(c.ranges[i], a)) held[i] = true;
    }
  }
  for (size_t i = 0; i < held.size(); ++i)
    if (!held[i])
      return fail(code::kCheckFailed,
                  fmt::format("host-local: failed to find address added by container {} in range set {}",
                              r.containerId, rangeSetStr(c.ranges[i])));
  return {};
}

GcReport gc(const IpamConf& c, const std::string& dataDir, const std::string& network,
            const std::vector<Attachment>& valid) {
  GcReport rep;
  if (c.type == "static") return rep;
  auto opened = LockedDir::open(dataDir, network, false);
  if (!opened) {
    rep.errors.push_back(opened.error().msg);
    return rep;
  }
  if (!*opened) return rep;
  LockedDir& dir = **opened;
  auto all = dir.entries();
  if (!all) {
    rep.errors.push_back(all.error().msg);
    return rep;
  }
  std::set<Attachment> keep(valid.begin(), valid.end());
  std::set<std::string> keepIds;
  for (const auto& a : valid) keepIds.insert(a.containerId);
  for (const auto& [addr, who] : *all) {
    auto br = who.find(kLineBreak);
    bool live = br == std::string::npos
                    ? keepIds.contains(who)  // old format: the id alone
                    : keep.contains(Attachment{who.substr(0, br), who.substr(br + kLineBreak.size())});
    if (live) continue;
    if (dir.remove(addr)) {
      ++rep.released;
    } else {
      rep.errors.push_back(fmt::format("releasing {}: {}", addr.str(), std::strerror(errno)));
    }
  }
  return rep;
}

Outcome<std::vector<Reservation>> list(const std::string& dataDir, const std::string& network) {
  std::vector<Reservation> out;
  auto opened = LockedDir::open(dataDir, network, false);
  if (!opened) return std::unexpected(opened.error());
  if (!*opened) return out;
  auto all = (*opened)->entries();
  if (!all) return std::unexpected(all.error());
  for (const auto& [addr, who] : *all) {
    auto br = who.find(kLineBreak);
    if (br == std::string::npos) out.push_back({addr, who, ""});
    else out.push_back({addr, who.substr(0, br), who.substr(br + kLineBreak.size())});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.address < b.address; });
  return out;
}

Dns parseResolvConf(std::string_view text) {
  Dns d;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    std::vector<std::string> words;
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
      size_t s = i;
      while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
      if (i > s) words.emplace_back(line.substr(s, i - s));
    }
    if (words.empty() || words[0][0] == '#' || words[0][0] == ';') continue;
    if (words[0] == "nameserver" && words.size() > 1) d.nameservers.push_back(words[1]);
    else if (words[0] == "domain" && words.size() > 1) d.domain = words[1];
    else if (words[0] == "search") d.search.assign(words.begin() + 1, words.end());
    else if (words[0] == "options") d.options.insert(d.options.end(), words.begin() + 1, words.end());
  }
  return d;
}

}  // namespace netctl::cni::ipam
