#include "netctl/net/monitor.h"

#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <ctime>
#include <map>
#include <set>

#include "net/rtattr.h"
#include "netctl/net/addr.h"
#include "netctl/net/ip.h"
#include "netctl/net/link.h"
#include "netctl/net/netlink.h"

namespace netctl::monitor {
namespace {

constexpr size_t kRecvSize = 64 * 1024;
constexpr uint64_t kStopTag = ~0ULL;

struct LinkState {
  std::string name;
  bool adminUp = false;
  bool carrier = false;
  bool up() const { return adminUp && carrier; }
};

using AddrKey = std::pair<int, std::string>;  // ifindex, "10.0.0.1/24"

std::string jsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) out += fmt::format("\\u{:04x}", c);
        else out += c;
    }
  }
  return out + "\"";
}


bool isLinkKind(Kind k) { return k == Kind::kLinkAdded || k == Kind::kLinkRemoved || k == Kind::kLinkUp || k == Kind::kLinkDown; }

}  // namespace

std::string timeText(std::chrono::system_clock::time_point t, bool full) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  time_t secs = static_cast<time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  if (full)
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                       tm.tm_min, tm.tm_sec, us % 1000000);
  return fmt::format("{:02}:{:02}:{:02}.{:06}", tm.tm_hour, tm.tm_min, tm.tm_sec, us % 1000000);
}

struct Monitor::Source {
  std::string name;
  netns::Handle ns;
  UniqueFd fd;
  std::map<int, LinkState> links;
  std::set<AddrKey> addrs;
};

std::string_view kindName(Kind k) {
  switch (k) {
    case Kind::kLinkAdded: return "link-added";
    case Kind::kLinkRemoved: return "link-removed";
    case Kind::kLinkUp: return "link-up";
    case Kind::kLinkDown: return "link-down";
    case Kind::kAddressAdded: return "address-added";
    case Kind::kAddressRemoved: return "address-removed";
  }
  return "unknown";
}

std::string toJsonLine(const Event& e) {
  std::string out = fmt::format(R"({{"time":"{}","netns":{},"event":"{}","ifname":{},"ifindex":{})", timeText(e.time, true),
                                jsonString(e.netns), kindName(e.kind), jsonString(e.ifname), e.index);
  if (isLinkKind(e.kind)) out += fmt::format(R"(,"admin_up":{},"carrier":{})", e.adminUp, e.carrier);
  else out += fmt::format(R"(,"address":{})", jsonString(e.address));
  return out + "}";
}

std::string toText(const Event& e) {
  if (isLinkKind(e.kind))
    return fmt::format("{} {} {} {} (ifindex {}, admin {}, {})", timeText(e.time, false), e.netns, kindName(e.kind), e.ifname,
                       e.index, e.adminUp ? "up" : "down", e.carrier ? "carrier" : "no carrier");
  return fmt::format("{} {} {} {} {} (ifindex {})", timeText(e.time, false), e.netns, kindName(e.kind), e.ifname, e.address,
                     e.index);
}

Monitor::Monitor(UniqueFd epoll, UniqueFd stop) : epoll_(std::move(epoll)), stop_(std::move(stop)) {}
Monitor::Monitor(Monitor&&) noexcept = default;
Monitor& Monitor::operator=(Monitor&&) noexcept = default;
Monitor::~Monitor() = default;

Result<Monitor> Monitor::create() {
  UniqueFd ep(::epoll_create1(EPOLL_CLOEXEC));
  if (!ep.valid()) return errnoError("creating an epoll instance for the event monitor");
  UniqueFd ev(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!ev.valid()) return errnoError("creating the event monitor's stop eventfd");
  epoll_event e{};
  e.events = EPOLLIN;
  e.data.u64 = kStopTag;
  if (::epoll_ctl(ep.get(), EPOLL_CTL_ADD, ev.get(), &e) != 0) return errnoError("watching the stop eventfd");
  return Monitor(std::move(ep), std::move(ev));
}

namespace {

// The links and addresses of a netns now, through a request socket of its own.
Result<void> snapshot(const netns::Handle& ns, std::map<int, LinkState>& links, std::set<AddrKey>& addrs) {
  auto s = NETCTL_TRY(nl::Socket::openIn(ns));
  auto infos = NETCTL_TRY(link::list(s));
  auto entries = NETCTL_TRY(addr::list(s));
  links.clear();
  addrs.clear();
  for (const auto& i : infos)
    links[i.index] = LinkState{i.name, (i.flags & IFF_UP) != 0, (i.flags & IFF_LOWER_UP) != 0};
  for (const auto& a : entries) addrs.insert({a.index, a.prefix.str()});
  return {};
}

}  // namespace

Result<void> Monitor::add(const netns::Handle& ns, std::string name) {
  auto src = std::make_unique<Source>();
  src->name = std::move(name);
  src->ns = NETCTL_TRYC(ns.dup(), "watching netns {}", src->name);
  // Subscribe first, then read the current state: a change in between shows in both, and the
  // state makes the event a no-op, instead of being lost.
  auto fd = netns::runIn(ns, [&]() -> Result<UniqueFd> {
    UniqueFd f(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE));
    if (!f.valid()) return errnoError("opening a netlink socket");
    return f;
  });
  if (!fd) return std::unexpected(std::move(fd).error().context(fmt::format("watching netns {}", src->name)));
  src->fd = std::move(*fd);
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  if (::bind(src->fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
    return withContext(errnoError("binding a netlink socket"), fmt::format("watching netns {}", src->name));
  for (int group : {RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR})
    if (::setsockopt(src->fd.get(), SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) != 0)
      return withContext(errnoError(fmt::format("joining rtnetlink group {}", group)), fmt::format("watching netns {}", src->name));
  // A burst of changes (a lab coming up) must not overflow the queue between two next() calls.
  int size = 4 << 20;
  if (::setsockopt(src->fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
    (void)::setsockopt(src->fd.get(), SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  NETCTL_TRYC(snapshot(ns, src->links, src->addrs), "watching netns {}", src->name);
  epoll_event e{};
  e.events = EPOLLIN;
  e.data.u64 = sources_.size();
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, src->fd.get(), &e) != 0)
    return withContext(errnoError("adding a netlink socket to epoll"), fmt::format("watching netns {}", src->name));
  sources_.push_back(std::move(src));
  return {};
}

Result<void> Monitor::readSource(Source& src) {
  std::unique_ptr<char[]> buf(new char[kRecvSize]);
  auto now = std::chrono::system_clock::now();
  auto emit = [&](Kind k, int index, const std::string& ifname, std::string address, const LinkState* st) {
    Event e;
    e.netns = src.name;
    e.kind = k;
    e.index = index;
    e.ifname = ifname;
    e.address = std::move(address);
    if (st) {
      e.adminUp = st->adminUp;
      e.carrier = st->carrier;
    }
    e.time = now;
    queue_.push_back(std::move(e));
  };
  auto nameOf = [&](int index) {
    auto it = src.links.find(index);
    return it == src.links.end() ? std::string() : it->second.name;
  };
  for (;;) {
    ssize_t n = ::recv(src.fd.get(), buf.get(), kRecvSize, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return {};
      if (errno != ENOBUFS) return withContext(errnoError("reading netlink events"), fmt::format("netns {}", src.name));
      // The kernel dropped events: compare a fresh snapshot with what we knew and report the
      // difference, so the stream stays true even if it lost the steps in between.
      std::map<int, LinkState> links;
      std::set<AddrKey> addrs;
      NETCTL_TRYC(snapshot(src.ns, links, addrs), "resynchronising netns {} after lost events", src.name);
      for (const auto& key : src.addrs)
        if (!addrs.contains(key)) emit(Kind::kAddressRemoved, key.first, nameOf(key.first), key.second, nullptr);
      for (const auto& [index, st] : src.links)
        if (!links.contains(index)) emit(Kind::kLinkRemoved, index, st.name, "", &st);
      for (const auto& [index, st] : links) {
        auto it = src.links.find(index);
        if (it == src.links.end()) emit(Kind::kLinkAdded, index, st.name, "", &st);
        else if (it->second.up() != st.up()) emit(st.up() ? Kind::kLinkUp : Kind::kLinkDown, index, st.name, "", &st);
      }
      src.links = std::move(links);
      for (const auto& key : addrs)
        if (!src.addrs.contains(key)) emit(Kind::kAddressAdded, key.first, nameOf(key.first), key.second, nullptr);
      src.addrs = std::move(addrs);
      continue;
    }
    int len = static_cast<int>(n);
    for (auto* nlh = reinterpret_cast<const nlmsghdr*>(buf.get()); mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
      switch (nlh->nlmsg_type) {
        case RTM_NEWLINK:
        case RTM_DELLINK: {
          auto* ifi = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
          if (ifi->ifi_family != AF_UNSPEC) break;  // AF_BRIDGE port notices repeat the device's
          rtattr::Table<IFLA_MAX> tb(nlh, sizeof(ifinfomsg));
          LinkState st{tb.str(IFLA_IFNAME), (ifi->ifi_flags & IFF_UP) != 0, (ifi->ifi_flags & IFF_LOWER_UP) != 0};
          auto it = src.links.find(ifi->ifi_index);
          if (nlh->nlmsg_type == RTM_DELLINK) {
            if (it == src.links.end()) break;
            if (st.name.empty()) st.name = it->second.name;
            src.links.erase(it);
            emit(Kind::kLinkRemoved, ifi->ifi_index, st.name, "", &st);
          } else if (it == src.links.end()) {
            src.links[ifi->ifi_index] = st;
            emit(Kind::kLinkAdded, ifi->ifi_index, st.name, "", &st);
          } else {
            bool wasUp = it->second.up();
            if (st.name.empty()) st.name = it->second.name;
            it->second = st;
            if (wasUp != st.up()) emit(st.up() ? Kind::kLinkUp : Kind::kLinkDown, ifi->ifi_index, st.name, "", &st);
          }
          break;
        }
        case RTM_NEWADDR:
        case RTM_DELADDR: {
          auto* ifa = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(nlh));
          rtattr::Table<IFA_MAX> tb(nlh, sizeof(ifaddrmsg));
          const nlattr* a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
          if (!a) break;
          auto address = ip::Address::fromBytes(ifa->ifa_family, mnl_attr_get_payload(a), mnl_attr_get_payload_len(a));
          if (!address) break;
          auto prefix = ip::Prefix::make(*address, ifa->ifa_prefixlen);
          if (!prefix) break;
          int index = static_cast<int>(ifa->ifa_index);
          AddrKey key{index, prefix->str()};
          std::string ifname = nameOf(index);
          if (ifname.empty()) ifname = tb.str(IFA_LABEL);
          if (nlh->nlmsg_type == RTM_NEWADDR) {
            if (src.addrs.insert(key).second) emit(Kind::kAddressAdded, index, ifname, key.second, nullptr);
          } else if (src.addrs.erase(key)) {
            emit(Kind::kAddressRemoved, index, ifname, key.second, nullptr);
          }
          break;
        }
        default: break;
      }
    }
  }
}

Result<std::optional<Event>> Monitor::next(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (stopped_) return std::nullopt;
    if (!queue_.empty()) {
      Event e = std::move(queue_.front());
      queue_.pop_front();
      return e;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() < 0) return std::nullopt;
    std::array<epoll_event, 16> ready{};
    int n = ::epoll_wait(epoll_.get(), ready.data(), static_cast<int>(ready.size()), static_cast<int>(left.count()));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errnoError("waiting for netlink events");
    }
    if (n == 0) return std::nullopt;
    for (int i = 0; i < n; ++i) {
      if (ready[i].data.u64 == kStopTag) {
        stopped_ = true;  // the eventfd stays readable: every later next() stops too
        continue;
      }
      NETCTL_TRY(readSource(*sources_[ready[i].data.u64]));
    }
  }
}

void Monitor::stop() {
  uint64_t one = 1;
  // Only a full counter could refuse the write, and then it is already readable.
  [[maybe_unused]] ssize_t n = ::write(stop_.get(), &one, sizeof one);
}

}  // namespace netctl::monitor
